//===- Pipelines.cpp - The prism-lower-gpu pipeline -----------------------===//

#include "prism/Target/Gpu/Pipelines.h"

#include "prism/Conversion/Passes.h"
#include "prism/Target/Gpu/Passes.h"
#include "prism/Target/Gpu/Tiling.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {

struct LowerToGpuOptions : public PassPipelineOptions<LowerToGpuOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("The SM the PTX is for"),
                           llvm::cl::init("sm_90")};
  Option<std::string> ptxFeatures{
      *this, "ptx-features",
      llvm::cl::desc("PTX ISA version (sm_90 needs +ptx78 or later; default: +ptx80, or "
                     "+ptx84 with fp8 weights)"),
      llvm::cl::init("")};
  Option<std::string> device{*this, "device",
                             llvm::cl::desc("Device kind (or .json) the kernels are tiled for"),
                             llvm::cl::init("h100-sxm")};
  Option<std::string> hardwareDir{*this, "hardware-dir",
                                  llvm::cl::desc("Folder of device descriptions"),
                                  llvm::cl::init("")};
  Option<std::string> weights{*this, "weights",
                              llvm::cl::desc("Dtype constant weights are stored in (bf16, f32 "
                                             "or fp32, fp8: e4m3 with a scale per output "
                                             "channel)"),
                              llvm::cl::init("bf16")};
  Option<std::string> format{*this, "format",
                             llvm::cl::desc("What the gpu.binary ops hold: isa (PTX) or bin "
                                            "(cubin, from CUDA's ptxas)"),
                             llvm::cl::init("isa")};
};

} // namespace

llvm::Expected<prism::GpuPipelineOptions>
prism::gpuPipelineOptionsFor(llvm::StringRef device, llvm::StringRef hardwareDir) {
  auto figures = gpu::loadGpuFigures(device, hardwareDir);
  if (!figures)
    return figures.takeError();
  GpuPipelineOptions options;
  options.device = device.str();
  options.hardwareDir = hardwareDir.str();
  options.chip = "sm_" + std::to_string(figures->computeCapability);
  return options;
}

llvm::Error prism::checkGpuPipelineOptions(const GpuPipelineOptions &options) {
  if (options.weights != "bf16" && options.weights != "f32" && options.weights != "fp8")
    return llvm::createStringError("the GPU target stores weights as bf16 (the default), "
                                   "f32 or fp8, not '" + options.weights + "'");
  if (options.format != "isa" && options.format != "bin")
    return llvm::createStringError("the GPU target's kernels are isa (PTX, the default) or "
                                   "bin (cubin), not '" + options.format + "'");
  return llvm::Error::success();
}

void prism::buildLowerToGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options) {
  // Weights in external data are not loaded yet: left out, and said so.
  pm.addPass(createGpuLeaveOutExternalWeights());
  // Attention, norms and rotary as Prism's fused kernels; the rest of xfmr
  // and onnx as the host path lowers them, to linalg on tensors.
  pm.addPass(createGpuFuseAttention(GpuFuseAttentionOptions{options.device, options.hardwareDir}));
  pm.addPass(createGpuFuseNormRotary());
  pm.addPass(createConvertXfmrToOnnx());
  pm.addNestedPass<func::FuncOp>(createConvertOnnxToLinalg());
  // Chains of elementwise ops (bias adds, activations, a decomposed GELU's
  // eight steps) as one linalg op each, hence one kernel.
  pm.addNestedPass<func::FuncOp>(createGpuFuseElementwise());
  // The phase's tensors as buffers.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // The matmuls as Prism's GEMM and GEMV kernels.
  pm.addPass(createGpuMatmulToKernels(
      GpuMatmulToKernelsOptions{options.device, options.hardwareDir, options.weights}));
  // Each other linalg op's parallel loops as one kernel: one linear index
  // over blocks of threads.
  OpPassManager &fn = pm.nest<func::FuncOp>();
  // Copies become kernels too: the host keeps only allocations, views and
  // launches, the launch plan's vocabulary.
  fn.addPass(createGpuCopyToLinalg());
  fn.addPass(createConvertLinalgToParallelLoopsPass());
  fn.addPass(createGpuFlattenParallelLoops());
  fn.addPass(createGpuMapParallelLoopsPass());
  fn.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createLowerAffinePass());
  // The kernels to NVVM and PTX (gpu.binary ops; format=isa needs no CUDA
  // toolkit, format=bin runs its ptxas); the host stays func/memref/gpu.launch_func for the
  // launch plan (LaunchPlan.h).
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  // e4m3 mma.sync is PTX 8.4.
  target.features = !options.ptxFeatures.empty() ? options.ptxFeatures
                    : options.weights == "fp8"  ? "+ptx84"
                                                : "+ptx80";
  target.optLevel = 2;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<mlir::gpu::GPUModuleOp>();
  kernels.addPass(createGpuExpandMath());
  kernels.addPass(createConvertVectorToSCFPass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createConvertNVVMToLLVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void prism::registerGpuPipelines() {
  PassPipelineRegistration<LowerToGpuOptions>(
      "prism-lower-gpu",
      "xfmr/onnx phases to PTX for NVIDIA GPUs (gpu.binary ops): linalg, "
      "bufferization, Prism's GEMM/GEMV kernels for the matmuls, one kernel "
      "per other linalg op's parallel loops, NVVM, NVPTX",
      [](OpPassManager &pm, const LowerToGpuOptions &o) {
        GpuPipelineOptions options;
        options.chip = o.chip;
        options.ptxFeatures = o.ptxFeatures;
        options.device = o.device;
        options.hardwareDir = o.hardwareDir;
        // The tools' spelling (--weight-dtype fp32) is the pipeline's f32.
        options.weights = o.weights == "fp32" ? std::string("f32") : o.weights.getValue();
        options.format = o.format;
        buildLowerToGpuPipeline(pm, options);
      });
}
