//===- RaiseToXfmr.cpp - The xfmr-raise pass ------------------------------===//

#include "prism/Transforms/Passes.h"

#include "Raise/RaiseUtils.h"

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
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    getOperation().walk([&](Operation *op) {
      if (isa<prism::xfmr::AttentionOp>(op))
        ++numAttention;
      else if (isa<prism::xfmr::RmsNormOp, prism::xfmr::LayerNormOp>(op))
        ++numNorms;
    });
  }
};

} // namespace
