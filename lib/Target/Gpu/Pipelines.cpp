//===- Pipelines.cpp - The prism-lower-gpu pipeline -----------------------===//

#include "prism/Target/Gpu/Pipelines.h"

#include "prism/Conversion/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {

// Upstream passes only, parsed into the pass manager. One-shot
// bufferization turns the phase's tensors into buffers; the matmuls the
// tensor cores take become mma.sync kernels (gpu-matmul-to-mma); each
// other linalg op's parallel loops become one kernel (gpu-map-parallel-loops puts the outer
// loops on blocks, the next ones on threads); the NVVM pipeline lowers the
// kernels and the NVPTX backend writes their PTX.
constexpr const char *kToKernels =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "gpu-matmul-to-mma,"
    "func.func(convert-linalg-to-parallel-loops,gpu-map-parallel-loops,"
    "convert-parallel-loops-to-gpu),"
    "gpu-kernel-outlining,lower-affine,";

struct LowerToGpuOptions : public PassPipelineOptions<LowerToGpuOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("The SM the PTX is for"),
                           llvm::cl::init("sm_90")};
  Option<std::string> ptxFeatures{*this, "ptx-features",
                                  llvm::cl::desc("PTX ISA version (sm_90 needs +ptx78 or later)"),
                                  llvm::cl::init("+ptx80")};
};

} // namespace

void prism::buildLowerToGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options) {
  // The host path's lowering of xfmr and onnx ops to linalg on tensors.
  pm.addPass(createConvertXfmrToOnnx());
  pm.addNestedPass<func::FuncOp>(createConvertOnnxToLinalg());
  std::string text =
      std::string(kToKernels) +
      llvm::formatv("gpu-lower-to-nvvm-pipeline{{cubin-chip={0} cubin-features={1} "
                    "cubin-format=isa}",
                    options.chip, options.ptxFeatures)
          .str();
  if (failed(parsePassPipeline(text, pm)))
    llvm::report_fatal_error("prism-lower-gpu: bad pipeline text");
}

void prism::registerGpuPipelines() {
  PassPipelineRegistration<LowerToGpuOptions>(
      "prism-lower-gpu",
      "xfmr/onnx phases to PTX for NVIDIA GPUs (gpu.binary ops): linalg, "
      "bufferization, one kernel per linalg op's parallel loops, NVVM, NVPTX",
      [](OpPassManager &pm, const LowerToGpuOptions &o) {
        GpuPipelineOptions options;
        options.chip = o.chip;
        options.ptxFeatures = o.ptxFeatures;
        buildLowerToGpuPipeline(pm, options);
      });
}
