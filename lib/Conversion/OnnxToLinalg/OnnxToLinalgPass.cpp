//===- OnnxToLinalgPass.cpp - The convert-onnx-to-linalg pass -------------===//

#include "prism/Conversion/OnnxToLinalg/OnnxToLinalg.h"
#include "prism/Conversion/Passes.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_CONVERTONNXTOLINALG
#include "prism/Conversion/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

struct ConvertOnnxToLinalg
    : public prism::impl::ConvertOnnxToLinalgBase<ConvertOnnxToLinalg> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Forms the patterns do not handle are reported once, before rewriting.
    bool unsupported = false;
    func.walk([&](Operation *op) {
      if (auto reason = prism::getUnsupportedReason(op)) {
        op->emitError() << "'" << op->getName()
                        << "' cannot run on the host: " << *reason;
        unsupported = true;
      }
    });
    if (unsupported)
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    prism::populateOnnxDecompositionPatterns(patterns);
    prism::populateOnnxToLinalgPatterns(patterns);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();
    // No silent half-conversion: every onnx op left is reported.
    bool failedAny = false;
    func.walk([&](Operation *op) {
      if (!isa<prism::onnx::ONNXDialect>(op->getDialect()))
        return;
      if (isa<prism::onnx::ONNXNoValueOp>(op)) {
        // Unused once its users are lowered; a user left is reported itself.
        if (op->use_empty())
          op->erase();
        return;
      }
      bool dynamic = llvm::any_of(op->getResultTypes(), [](Type t) {
        auto r = dyn_cast<RankedTensorType>(t);
        return !isa<NoneType>(t) && (!r || !r.hasStaticShape());
      });
      // The fused transformer operators reach the host as xfmr ops.
      if (isa<prism::onnx::ONNXMsAttentionOp,
              prism::onnx::ONNXMsMultiHeadAttentionOp,
              prism::onnx::ONNXMsEmbedLayerNormalizationOp,
              prism::onnx::ONNXGeluOp, prism::onnx::ONNXMsGeluOp,
              prism::onnx::ONNXMsBiasGeluOp, prism::onnx::ONNXMsFastGeluOp,
              prism::onnx::ONNXMsQuickGeluOp,
              prism::onnx::ONNXMsGroupQueryAttentionOp,
              prism::onnx::ONNXMsRotaryEmbeddingOp, prism::onnx::ONNXAttentionOp,
              prism::onnx::ONNXRotaryEmbeddingOp>(op) &&
          !dynamic) {
        op->emitError() << "'" << op->getName()
                        << "' runs on the host once raised to xfmr: run "
                           "xfmr-raise and convert-xfmr-to-onnx first";
        failedAny = true;
        return;
      }
      op->emitError() << "'" << op->getName() << "' is not lowered to the host yet"
                      << (dynamic ? " (its shape is not static: run "
                                    "onnx-to-static first)"
                                  : "");
      failedAny = true;
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
