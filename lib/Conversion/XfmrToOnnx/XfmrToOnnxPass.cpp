//===- XfmrToOnnxPass.cpp - The convert-xfmr-to-onnx pass ------------------===//

#include "prism/Conversion/Passes.h"
#include "prism/Conversion/XfmrToOnnx/XfmrToOnnx.h"

#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_CONVERTXFMRTOONNX
#include "prism/Conversion/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

struct ConvertXfmrToOnnx
    : public prism::impl::ConvertXfmrToOnnxBase<ConvertXfmrToOnnx> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    prism::populateXfmrToOnnxPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    bool left = false;
    getOperation().walk([&](Operation *op) {
      if (isa<prism::xfmr::XfmrDialect>(op->getDialect())) {
        op->emitError() << "'" << op->getName()
                        << "' is not rewritten for the host (its shapes must "
                           "be static)";
        left = true;
      }
    });
    if (left)
      signalPassFailure();
  }
};

} // namespace
