//===- LeaveOutExternalWeights.cpp - The gpu-leave-out-external-weights pass ===//
//
// Weights an ONNX model keeps in external data stay references
// (#onnx.external_data) through the import, which the host lowering cannot
// take. The GPU target does not load external data yet: this pass makes
// each such global a dense_resource handle without values (as
// --elide-weights leaves inline weights), so the phase compiles, and the
// launch plan marks the buffer as left out. prism-run --device=cuda then
// refuses to run it, except with --elided-weights-as-zeros (for timing).
//
//===----------------------------------------------------------------------===//

#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace prism {
#define GEN_PASS_DEF_GPULEAVEOUTEXTERNALWEIGHTS
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

struct GpuLeaveOutExternalWeightsPass
    : prism::impl::GpuLeaveOutExternalWeightsBase<GpuLeaveOutExternalWeightsPass> {
  void runOnOperation() override {
    auto &resources = DenseResourceElementsHandle::getManagerInterface(&getContext());
    getOperation().walk([&](ml_program::GlobalOp global) {
      auto external = dyn_cast_or_null<prism::onnx::ExternalDataAttr>(global.getValueAttr());
      if (!external)
        return;
      auto type = cast<ShapedType>(global.getType());
      DenseResourceElementsHandle handle =
          resources.insert(global.getSymName());
      global.setValueAttr(DenseResourceElementsAttr::get(type, handle));
      global->setAttr("prism.external_data", external);
    });
  }
};

} // namespace
