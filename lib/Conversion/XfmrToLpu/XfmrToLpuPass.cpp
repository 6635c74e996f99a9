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

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(function);
    if (!fn) {
      module.emitError() << "convert-xfmr-to-lpu: no function @" << function;
      return signalPassFailure();
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
    options.weightDtype = weightDtype;
    if (failed(prism::lpu::convertPhaseToLpu(fn, options)))
      signalPassFailure();
  }
};

} // namespace
