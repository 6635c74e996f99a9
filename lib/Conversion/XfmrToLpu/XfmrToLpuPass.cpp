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
    auto device = loadDevice();
    if (!device) {
      module.emitError() << "convert-xfmr-to-lpu: " << llvm::toString(device.takeError());
      return signalPassFailure();
    }
    if (device->deviceClass != "sram-lpu") {
      module.emitError() << "convert-xfmr-to-lpu: device '" << device->kind
                         << "' is a " << device->deviceClass << ", not an sram-lpu";
      return signalPassFailure();
    }
    prism::lpu::LpuOptions options = prism::lpu::lpuOptionsFor(*device, chips);
    options.tensorParallel = tensorParallel;
    options.weightDtype = weightDtype;
    if (failed(prism::lpu::convertPhaseToLpu(fn, options)))
      signalPassFailure();
  }

  llvm::Expected<prism::cost::DeviceKind> loadDevice() {
    if (StringRef(device).ends_with(".json")) {
      auto buffer = llvm::MemoryBuffer::getFile(device);
      if (!buffer)
        return llvm::createStringError("cannot read '" + device + "': " +
                                       buffer.getError().message());
      return prism::cost::parseDeviceKind((*buffer)->getBuffer(), device);
    }
    auto library = prism::cost::DeviceLibrary::load(
        hardwareDir.empty() ? prism::cost::defaultHardwareDir() : StringRef(hardwareDir));
    if (!library)
      return library.takeError();
    const prism::cost::DeviceKind *kind = library->lookup(device);
    if (!kind)
      return llvm::createStringError("no device description '" + device + "'");
    return *kind;
  }
};

} // namespace
