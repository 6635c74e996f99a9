//===- Pipelines.h - The GPU target's pipeline ------------------*- C++ -*-===//
//
// Phases (xfmr, onnx, linalg on tensors) to PTX for NVIDIA GPUs through
// upstream MLIR: the host path's lowering to linalg, one-shot
// bufferization, each linalg op's parallel loops as a kernel (outer loops
// on blocks, the next on threads), kernel outlining, NVVM and the NVPTX
// backend (`gpu.binary` ops holding PTX). This is the first stage of the
// GPU target: kernels are plain SIMT loops, without tiling for shared
// memory or tensor cores (see docs/gpu-target.md for what is missing).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_GPU_PIPELINES_H
#define PRISM_TARGET_GPU_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>

namespace prism {

struct GpuPipelineOptions {
  /// The SM the PTX is for, and the PTX ISA version (sm_90 needs 7.8+).
  std::string chip = "sm_90";
  std::string ptxFeatures = "+ptx80";
  /// The device kind (or .json description) the kernels are tiled for, the
  /// folder of descriptions (empty: Prism's), and the weights' dtype.
  std::string device = "h100-sxm";
  std::string hardwareDir;
  std::string weights = "bf16";
};

/// The options for a GPU of the device library: tiled for it, PTX for its
/// SM (`gpu.compute_capability`); or an error when it is no GPU.
llvm::Expected<GpuPipelineOptions> gpuPipelineOptionsFor(llvm::StringRef device,
                                                        llvm::StringRef hardwareDir);

/// xfmr/onnx phases to gpu.binary ops holding PTX (the `prism-lower-gpu`
/// pipeline).
void buildLowerToGpuPipeline(mlir::OpPassManager &pm, const GpuPipelineOptions &options);
void registerGpuPipelines();

/// `prism-translate --gpu-to-ptx`: the PTX the pipeline's gpu.binary ops
/// hold. `dialects` registers Prism's dialects.
void registerGpuTranslations(std::function<void(mlir::DialectRegistry &)> dialects);

} // namespace prism

#endif // PRISM_TARGET_GPU_PIPELINES_H
