//===- ExposeEntry.cpp - The host-expose-entry pass -----------------------===//

#include "prism/Target/Host/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace prism {
#define GEN_PASS_DEF_HOSTEXPOSEENTRY
#include "prism/Target/Host/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {
struct HostExposeEntryPass : prism::impl::HostExposeEntryBase<HostExposeEntryPass> {
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      if (f.isExternal())
        continue;
      f->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
      f.removeArgAttrsAttr();
      f.removeResAttrsAttr();
    }
  }
};
} // namespace
