//===- Pipelines.h - The GPU target's pipeline ------------------*- C++ -*-===//
//
// Phases (xfmr, onnx, linalg on tensors) to PTX for NVIDIA GPUs: Prism's
// own kernels for attention, norms, rotary and the matmuls (tensor-core
// GEMM, weight-streaming GEMV, fused epilogues), the host path's lowering
// of the rest to linalg, one-shot bufferization, each remaining linalg
// op's parallel loops as a SIMT kernel, NVVM and the NVPTX backend
// (`gpu.binary` ops holding PTX). docs/gpu-target.md has the details and
// what is missing.
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
  /// The SM the PTX is for, and the PTX ISA version (sm_90 needs 7.8+);
  /// empty: the least the kernels need, +ptx80, or +ptx84 with fp8
  /// weights (e4m3 mma.sync).
  std::string chip = "sm_90";
  std::string ptxFeatures;
  /// The device kind (or .json description) the kernels are tiled for, the
  /// folder of descriptions (empty: Prism's), and the weights' dtype
  /// (bf16, f32 or fp8).
  std::string device = "h100-sxm";
  std::string hardwareDir;
  std::string weights = "bf16";
  /// What the gpu.binary ops hold: `isa` (PTX, which the driver compiles
  /// when it loads it) or `bin` (a cubin, from CUDA's ptxas, which must be
  /// installed).
  std::string format = "isa";
};

/// The options for a GPU of the device library: tiled for it, PTX for its
/// SM (`gpu.compute_capability`); or an error when it is no GPU.
llvm::Expected<GpuPipelineOptions> gpuPipelineOptionsFor(llvm::StringRef device,
                                                        llvm::StringRef hardwareDir);

/// An error naming the first option the pipeline cannot take (weights
/// other than bf16, f32 and fp8; a format other than isa and bin), for the
/// tools to say before they compile.
llvm::Error checkGpuPipelineOptions(const GpuPipelineOptions &options);

/// xfmr/onnx phases to gpu.binary ops holding PTX (the `prism-lower-gpu`
/// pipeline).
void buildLowerToGpuPipeline(mlir::OpPassManager &pm, const GpuPipelineOptions &options);
void registerGpuPipelines();

/// `prism-translate --gpu-to-ptx`: the PTX the pipeline's gpu.binary ops
/// hold. `dialects` registers Prism's dialects.
void registerGpuTranslations(std::function<void(mlir::DialectRegistry &)> dialects);

} // namespace prism

#endif // PRISM_TARGET_GPU_PIPELINES_H
