//===- Pipelines.cpp - The prism-lower-lpu pipeline -----------------------===//

#include "prism/Target/Lpu/Passes.h"

#include "prism/Conversion/Passes.h"
#include "prism/Conversion/XfmrToLpu/XfmrToLpu.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {

struct LowerToLpuOptions : public PassPipelineOptions<LowerToLpuOptions> {
  Option<std::string> function{*this, "function", llvm::cl::desc("The phase to lower"),
                               llvm::cl::init("decode")};
  Option<int64_t> chips{*this, "chips", llvm::cl::desc("Chips to lower for"),
                        llvm::cl::init(1)};
  Option<int64_t> tensorParallel{
      *this, "tensor-parallel",
      llvm::cl::desc("Chips per pipeline stage (0: the largest divisor of chips up to the "
                     "device's tensor_parallel_max)"),
      llvm::cl::init(0)};
  Option<std::string> weightDtype{*this, "weight-dtype",
                                  llvm::cl::desc("Weights on the MXM: f16 or i8"),
                                  llvm::cl::init("f16")};
  Option<std::string> device{*this, "device",
                             llvm::cl::desc("The device description: a kind or a .json file"),
                             llvm::cl::init("lpu-v1")};
  Option<std::string> hardwareDir{*this, "hardware-dir",
                                  llvm::cl::desc("The folder of device descriptions"),
                                  llvm::cl::init("")};
};

} // namespace

void prism::lpu::buildLowerToLpuPipeline(OpPassManager &pm, llvm::StringRef function,
                                         const LpuOptions &options) {
  pm.addPass(createConvertXfmrToLpu(function, options));
  pm.nest<ProgramOp>().addPass(createLpuSchedule());
}

void prism::lpu::registerLpuPipelines() {
  PassPipelineRegistration<LowerToLpuOptions>(
      "prism-lower-lpu",
      "A phase to the scheduled lpu dialect: convert-xfmr-to-lpu (tiles, pipeline stages, "
      "SRAM), then lpu-schedule (cycles); prism-translate --lpu-to-program emits it",
      [](OpPassManager &pm, const LowerToLpuOptions &o) {
        ConvertXfmrToLpuOptions options;
        options.function = o.function;
        options.chips = o.chips;
        options.tensorParallel = o.tensorParallel;
        options.weightDtype = o.weightDtype;
        options.device = o.device;
        options.hardwareDir = o.hardwareDir;
        pm.addPass(createConvertXfmrToLpu(options));
        pm.nest<ProgramOp>().addPass(createLpuSchedule());
      });
}
