//===- FuseElementwise.cpp - The gpu-fuse-elementwise pass ----------------===//

#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_GPUFUSEELEMENTWISE
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

bool elementwise(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  return generic && generic.getNumLoops() == generic.getNumParallelLoops();
}

struct GpuFuseElementwisePass : prism::impl::GpuFuseElementwiseBase<GpuFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Only generic into generic, both elementwise: no reshape propagation,
    // no contraction turned generic.
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *operand) {
      return elementwise(operand->get().getDefiningOp()) && elementwise(operand->getOwner());
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
