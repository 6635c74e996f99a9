//===- RaiseToXfmr.cpp - The xfmr-raise pass ------------------------------===//

#include "prism/Transforms/Passes.h"

#include "Raise/RaiseUtils.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_XFMRRAISE
#include "prism/Transforms/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

struct XfmrRaise : public prism::impl::XfmrRaiseBase<XfmrRaise> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    prism::raise::populateRaiseFusedPatterns(patterns);
    prism::raise::populateRaiseGroupQueryAttentionPatterns(patterns);
    prism::raise::populateRaiseAttentionPatterns(patterns);
    prism::raise::populateRaiseNormPatterns(patterns);
    prism::raise::populateRaiseActivationPatterns(patterns);
    // Raising must not fold: folding constants here would read weights.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config))) {
      // A pattern that builds ops and then fails makes the driver loop:
      // a bug of Prism's, said as one rather than a silent exit.
      getOperation().emitError()
          << "xfmr-raise did not converge after "
          << config.getMaxIterations()
          << " rounds (a raising pattern keeps rewriting; please report it "
             "with the model); --prism-debug-only=xfmr-raise shows the "
             "patterns' reasoning";
      return signalPassFailure();
    }
    // A pattern builds its op where its inputs are; a graph imported in
    // another order (ONNX Runtime accepts any order) may use the replaced
    // values before that point. The graphs are acyclic: reorder them.
    getOperation().walk([&](func::FuncOp fn) {
      for (Block &block : fn.getBody())
        if (!sortTopologically(&block)) {
          fn.emitError("xfmr-raise left a cycle in @") << fn.getSymName();
          signalPassFailure();
        }
    });
    getOperation().walk([&](Operation *op) {
      if (isa<prism::xfmr::AttentionOp>(op))
        ++numAttention;
      else if (isa<prism::xfmr::RmsNormOp, prism::xfmr::LayerNormOp>(op))
        ++numNorms;
    });
  }
};

} // namespace
