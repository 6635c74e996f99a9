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
    // no contraction turned generic. A value some other op reads (a norm,
    // a matmul) is stored anyway: its elementwise readers load it rather
    // than compute it again (else each residual add recomputed the whole
    // residual stream before it, embedding gather included).
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *operand) {
      Value v = operand->get();
      return elementwise(v.getDefiningOp()) && elementwise(operand->getOwner()) &&
             llvm::all_of(v.getUsers(), elementwise);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
