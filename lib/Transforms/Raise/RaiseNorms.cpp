//===- RaiseNorms.cpp - Decomposed LayerNorm and RMSNorm as xfmr ops ------===//
//
// BERT and GPT-2 exports spell LayerNorm as ReduceMean, Sub, Pow, ReduceMean,
// Add(eps), Sqrt, Div, Mul(gamma), Add(beta); Llama exports spell RMSNorm as
// Pow, ReduceMean, Add(eps), Sqrt, Div(1, .) or Reciprocal, Mul, Mul(weight)
// (in f32 between Casts for 16-bit models). The pattern anchors on the
// variance's ReduceMean over the last axis and walks out from it.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace prism::onnx;
using namespace prism::raise;
namespace xfmr = prism::xfmr;

namespace {

constexpr const char *kName = "norm";

/// Whether `op` (a ReduceMean) averages over the last axis only, keeping it.
bool meansLastAxis(ONNXReduceMeanOp op) {
  auto axes = constInts(op->getOperand(1));
  int64_t rank = tensorType(op->getOperand(0)).getRank();
  return op.getKeepdims() == 1 && axes && axes->size() == 1 &&
         ((*axes)[0] == -1 || (*axes)[0] == rank - 1);
}

/// x for x^2 written as Pow(x, 2) or Mul(x, x).
Value squared(Value v) {
  if (auto pow = v.getDefiningOp<ONNXPowOp>())
    if (isConstNear(pow->getOperand(1), 2.0))
      return pow->getOperand(0);
  if (auto mul = v.getDefiningOp<ONNXMulOp>())
    if (mul->getOperand(0) == mul->getOperand(1))
      return mul->getOperand(0);
  return Value();
}

/// Whether `a` and `b` are the same value, or results of identical ops
/// (exporters repeat `x - mean` for the variance and for the numerator).
bool sameValue(Value a, Value b) {
  if (a == b)
    return true;
  Operation *da = a.getDefiningOp(), *db = b.getDefiningOp();
  return da && db &&
         OperationEquivalence::isEquivalentTo(
             da, db, OperationEquivalence::IgnoreLocations);
}


/// A 1-D weight of `width` elements (a constant or global, through casts).
bool isVectorOf(Value v, int64_t width) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() == 1 && t.getDimSize(0) == width &&
         prism::xfmr::isWeight(v);
}

struct RaiseDecomposedNorm : public OpRewritePattern<ONNXReduceMeanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXReduceMeanOp variance,
                                PatternRewriter &rw) const override {
    Value centred = squared(variance->getOperand(0));
    if (!centred)
      return failure(); // Not a variance: not even close.
    if (!allStatic(variance) || !meansLastAxis(variance))
      return nearMiss(variance, kName, "the mean of squares is not over the "
                                       "last axis with keepdims");
    // Layer norm: centred = x - mean(x); RMS norm: centred = x.
    Value x = centred;
    bool rms = true;
    if (auto sub = centred.getDefiningOp<ONNXSubOp>()) {
      auto mean = sub->getOperand(1).getDefiningOp<ONNXReduceMeanOp>();
      if (mean && mean->getOperand(0) == sub->getOperand(0) && meansLastAxis(mean)) {
        x = sub->getOperand(0);
        rms = false;
      }
    }
    auto xt = tensorType(x);
    if (!isa<FloatType>(xt.getElementType()) || tensorType(centred) != xt)
      return nearMiss(variance, kName, "the normalized value is not a float "
                                       "tensor of the input's shape");
    int64_t width = xt.getShape().back();

    // var + eps -> sqrt -> (c / s | c * (1 / s) | c * reciprocal(s))
    auto addEps = soleUser<ONNXAddOp>(variance.getResult());
    if (!addEps)
      return nearMiss(variance, kName, "the variance does not only feed an Add");
    auto eps = constFloat(otherOperand(addEps, variance.getResult()));
    if (!eps)
      return nearMiss(variance, kName, "epsilon is not a constant");
    auto sqrt = soleUser<ONNXSqrtOp>(addEps.getResult());
    if (!sqrt)
      return nearMiss(variance, kName, "variance + epsilon does not only feed a Sqrt");
    Operation *normalized = nullptr;
    if (auto div = soleUser<ONNXDivOp>(sqrt.getResult())) {
      if (div->getOperand(1) != sqrt.getResult())
        return nearMiss(variance, kName, "the Sqrt is a numerator");
      if (sameValue(div->getOperand(0), centred)) {
        normalized = div;
      } else if (isConstNear(div->getOperand(0), 1.0)) {
        auto mul = soleUser<ONNXMulOp>(div.getResult());
        if (mul && sameValue(otherOperand(mul, div.getResult()), centred))
          normalized = mul;
      }
    } else if (auto recip = soleUser<ONNXReciprocalOp>(sqrt.getResult())) {
      auto mul = soleUser<ONNXMulOp>(recip.getResult());
      if (mul && sameValue(otherOperand(mul, recip.getResult()), centred))
        normalized = mul;
    }
    if (!normalized)
      return nearMiss(variance, kName, "the input is not divided by the root "
                                       "of variance + epsilon");
    // [Cast] -> Mul(weight) -> [Add(bias)] (layer norm)
    Operation *last = normalized;
    Value y = normalized->getResult(0);
    Type castTo;
    if (auto cast = soleUser<ONNXCastOp>(y)) {
      castTo = tensorType(cast.getResult()).getElementType();
      y = cast.getResult();
      last = cast;
    }
    Value scale, bias;
    if (auto mul = soleUser<ONNXMulOp>(y);
        mul && isVectorOf(otherOperand(mul, y), width)) {
      scale = otherOperand(mul, y);
      y = mul.getResult();
      last = mul;
      if (!rms)
        if (auto add = soleUser<ONNXAddOp>(y);
            add && isVectorOf(otherOperand(add, y), width)) {
          bias = otherOperand(add, y);
          last = add;
        }
    }
    if (castTo && !scale)
      return nearMiss(variance, kName, "a Cast follows the norm but no weight");
    // Built at the last op of the form, where the weights are defined too.
    rw.setInsertionPoint(last);
    OnnxBuilder b(rw, last->getLoc());
    Type elem = xt.getElementType();
    if (!scale)
      scale = b.splat({width}, elem, 1.0);
    scale = b.castTo(scale, elem);
    if (bias)
      bias = b.castTo(bias, elem);
    auto epsilon = rw.getF64FloatAttr(*eps);
    Value result =
        rms ? xfmr::RmsNormOp::create(rw, b.loc, TypeRange{xt}, x, Value(),
                                      scale, epsilon)
                  .getOutput()
            : xfmr::LayerNormOp::create(rw, b.loc, TypeRange{xt}, x, Value(),
                                        scale, bias, epsilon)
                  .getOutput();
    rw.replaceOp(last, b.match(result, last->getResult(0).getType()));
    return success();
  }
};

} // namespace

void prism::raise::populateRaiseNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseDecomposedNorm>(patterns.getContext());
}
