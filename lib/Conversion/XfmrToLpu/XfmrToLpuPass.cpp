//===- XfmrToLpuPass.cpp - The convert-xfmr-to-lpu pass --------------------===//

#include "prism/Conversion/Passes.h"
#include "prism/Conversion/XfmrToLpu/XfmrToLpu.h"

#include "llvm/Support/MemoryBuffer.h"

namespace prism {
#define GEN_PASS_DEF_CONVERTXFMRTOLPU
#include "prism/Conversion/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

struct ConvertXfmrToLpuPass
    : prism::impl::ConvertXfmrToLpuBase<ConvertXfmrToLpuPass> {
  using Base::Base;
  ConvertXfmrToLpuPass(llvm::StringRef fn, const prism::lpu::LpuOptions &options)
      : preset(options) {
    function = fn.str();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(function);
    if (!fn) {
      module.emitError() << "convert-xfmr-to-lpu: no function @" << function;
      return signalPassFailure();
    }
    if (preset) {
      if (failed(prism::lpu::convertPhaseToLpu(fn, *preset)))
        signalPassFailure();
      return;
    }
    auto kind = prism::cost::loadDeviceKind(device, hardwareDir);
    if (!kind) {
      module.emitError() << "convert-xfmr-to-lpu: " << llvm::toString(kind.takeError());
      return signalPassFailure();
    }
    if (kind->deviceClass != "sram-lpu") {
      module.emitError() << "convert-xfmr-to-lpu: device '" << kind->kind
                         << "' is a " << kind->deviceClass << ", not an sram-lpu";
      return signalPassFailure();
    }
    prism::lpu::LpuOptions options = prism::lpu::lpuOptionsFor(*kind, chips);
    options.tensorParallel = tensorParallel;
    // The tools' spelling (--weight-dtype fp16, int8) is the lowering's f16, i8.
    options.weightDtype = weightDtype == "fp16" ? std::string("f16")
                          : weightDtype == "int8" ? std::string("i8")
                                                  : weightDtype.getValue();
    if (failed(prism::lpu::convertPhaseToLpu(fn, options)))
      signalPassFailure();
  }

  /// Set by the C++ constructor: the options as given, no device file read.
  std::optional<prism::lpu::LpuOptions> preset;
};

} // namespace

std::unique_ptr<Pass> prism::createConvertXfmrToLpu(llvm::StringRef function,
                                                    const lpu::LpuOptions &options) {
  return std::make_unique<ConvertXfmrToLpuPass>(function, options);
}
