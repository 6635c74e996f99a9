//===- RaiseActivations.cpp - GELU, SiLU, gated MLPs, rotary, embedding ---===//
//
// The decomposed forms exporters write: GELU with Erf (BERT) or Tanh
// (GPT-2's "new GELU"), SiLU as x * Sigmoid(x) and the gated MLP's product,
// rotary embedding as x * cos + rotate_half(x) * sin with rotate_half as
// Slice/Neg/Concat, and embedding lookups as Gather of a weight table.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::raise;
namespace xfmr = prism::xfmr;

namespace {

/// x * c (either order) for a constant c near `expected`: x, or null.
Value mulByConst(Value v, double expected) {
  auto mul = v.getDefiningOp<ONNXMulOp>();
  if (!mul)
    return Value();
  for (int i = 0; i < 2; ++i)
    if (isConstNear(mul->getOperand(i), expected))
      return mul->getOperand(1 - i);
  return Value();
}

/// From `onePlus` = 1 + f(x): the op computing 0.5 * x * onePlus in any of
/// the orders exporters write, or null.
Operation *halfXTimes(Value onePlus, Value x) {
  auto m1 = soleUser<ONNXMulOp>(onePlus);
  if (!m1)
    return nullptr;
  Value o = otherOperand(m1, onePlus);
  if (o == x) { // (x * (1 + f)) * 0.5
    auto m2 = soleUser<ONNXMulOp>(m1.getResult());
    return m2 && isConstNear(otherOperand(m2, m1.getResult()), 0.5) ? m2
                                                                    : nullptr;
  }
  if (isConstNear(o, 0.5)) { // ((1 + f) * 0.5) * x
    auto m2 = soleUser<ONNXMulOp>(m1.getResult());
    return m2 && otherOperand(m2, m1.getResult()) == x ? m2 : nullptr;
  }
  if (mulByConst(o, 0.5) == x) // (x * 0.5) * (1 + f)
    return m1;
  return nullptr;
}

/// 1 + t for the sole user of `t` (Add with a constant 1).
Value onePlus(Value t) {
  auto add = soleUser<ONNXAddOp>(t);
  if (add && isConstNear(otherOperand(add, t), 1.0))
    return add.getResult();
  return Value();
}

/// x / 2 * (1 + erf(x / sqrt(2))).
struct RaiseErfGelu : public OpRewritePattern<ONNXErfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXErfOp erf, PatternRewriter &rw) const override {
    Value in = erf->getOperand(0), x;
    if (auto div = in.getDefiningOp<ONNXDivOp>();
        div && isConstNear(div->getOperand(1), M_SQRT2))
      x = div->getOperand(0);
    else
      x = mulByConst(in, M_SQRT1_2);
    if (!x)
      return nearMiss(erf, "gelu", "the Erf's input is not x / sqrt(2)");
    Value sum = onePlus(erf.getResult());
    Operation *out = sum ? halfXTimes(sum, x) : nullptr;
    if (!out)
      return nearMiss(erf, "gelu", "the Erf is not in 0.5 * x * (1 + erf)");
    rw.replaceOpWithNewOp<xfmr::GeluOp>(out, x.getType(), x,
                                        rw.getStringAttr("none"),
                                        rw.getF64FloatAttr(1.702));
    return success();
  }
};

/// x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))).
struct RaiseTanhGelu : public OpRewritePattern<ONNXTanhOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXTanhOp tanh, PatternRewriter &rw) const override {
    Value inner = mulByConst(tanh->getOperand(0), std::sqrt(2.0 / M_PI));
    auto add = inner ? inner.getDefiningOp<ONNXAddOp>() : ONNXAddOp();
    if (!add)
      return nearMiss(tanh, "gelu", "the Tanh's input is not sqrt(2/pi) * (x + ...)");
    Value x;
    for (int i = 0; i < 2 && !x; ++i) {
      Value cube = mulByConst(add->getOperand(1 - i), 0.044715);
      if (!cube)
        continue;
      Value candidate = add->getOperand(i);
      auto pow = cube.getDefiningOp<ONNXPowOp>();
      if (pow && pow->getOperand(0) == candidate && isConstNear(pow->getOperand(1), 3.0))
        x = candidate;
      auto mul = cube.getDefiningOp<ONNXMulOp>();
      if (mul) {
        Value sq = otherOperand(mul, candidate);
        auto sqMul = sq.getDefiningOp<ONNXMulOp>();
        if (sqMul && sqMul->getOperand(0) == candidate &&
            sqMul->getOperand(1) == candidate &&
            (mul->getOperand(0) == candidate || mul->getOperand(1) == candidate))
          x = candidate;
      }
    }
    if (!x)
      return nearMiss(tanh, "gelu", "no x + 0.044715 x^3 inside the Tanh");
    Value sum = onePlus(tanh.getResult());
    Operation *out = sum ? halfXTimes(sum, x) : nullptr;
    if (!out)
      return nearMiss(tanh, "gelu", "the Tanh is not in 0.5 * x * (1 + tanh)");
    rw.replaceOpWithNewOp<xfmr::GeluOp>(out, x.getType(), x,
                                        rw.getStringAttr("tanh"),
                                        rw.getF64FloatAttr(1.702));
    return success();
  }
};

/// x * Sigmoid(x).
struct RaiseSilu : public OpRewritePattern<ONNXSigmoidOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXSigmoidOp sigmoid,
                                PatternRewriter &rw) const override {
    Value x = sigmoid->getOperand(0);
    auto mul = soleUser<ONNXMulOp>(sigmoid.getResult());
    if (!mul || otherOperand(mul, sigmoid.getResult()) != x)
      return failure(); // A plain sigmoid.
    rw.replaceOpWithNewOp<xfmr::SiluOp>(mul, x.getType(), x);
    return success();
  }
};

/// silu(gate) * up and gelu(gate) * up: the gated MLP's activation.
struct RaiseGatedActivation : public OpRewritePattern<ONNXMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXMulOp mul, PatternRewriter &rw) const override {
    for (int i = 0; i < 2; ++i) {
      Value act = mul->getOperand(i), up = mul->getOperand(1 - i);
      Operation *def = act.getDefiningOp();
      if (!def || !act.hasOneUse() || up.getType() != act.getType() ||
          mul.getType() != act.getType() || prism::xfmr::isWeight(up))
        continue;
      if (auto silu = dyn_cast<xfmr::SiluOp>(def)) {
        rw.replaceOpWithNewOp<xfmr::SwiGluOp>(mul, act.getType(),
                                              silu.getInput(), up);
        return success();
      }
      if (auto gelu = dyn_cast<xfmr::GeluOp>(def);
          gelu && gelu.getApproximate() != "sigmoid") {
        rw.replaceOpWithNewOp<xfmr::GeGluOp>(mul, act.getType(), gelu.getInput(),
                                             up, gelu.getApproximateAttr());
        return success();
      }
    }
    return failure();
  }
};

/// The range [begin, end) of a Slice over the last axis with step 1, or
/// nullopt.
std::optional<std::pair<int64_t, int64_t>> lastAxisRange(Value v, Value &source) {
  auto slice = v.getDefiningOp<ONNXSliceOp>();
  if (!slice)
    return std::nullopt;
  source = slice->getOperand(0);
  int64_t rank = tensorType(source).getRank(), width = tensorType(source).getShape().back();
  auto starts = constInts(slice->getOperand(1)), ends = constInts(slice->getOperand(2));
  if (!starts || !ends || starts->size() != 1)
    return std::nullopt;
  if (slice->getNumOperands() > 3 && !isNone(slice->getOperand(3))) {
    auto axes = constInts(slice->getOperand(3));
    if (!axes || ((*axes)[0] != -1 && (*axes)[0] != rank - 1))
      return std::nullopt;
  } else if (rank != 1) {
    return std::nullopt;
  }
  if (slice->getNumOperands() > 4 && !isNone(slice->getOperand(4))) {
    auto steps = constInts(slice->getOperand(4));
    if (!steps || (*steps)[0] != 1)
      return std::nullopt;
  }
  auto clampIndex = [&](int64_t i) {
    if (i < 0)
      i += width;
    return std::clamp<int64_t>(i, 0, width);
  };
  return std::make_pair(clampIndex((*starts)[0]), clampIndex((*ends)[0]));
}

/// x * cos + Concat(-x[..., h:], x[..., :h]) * sin.
struct RaiseRotateHalf : public OpRewritePattern<ONNXConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXConcatOp concat,
                                PatternRewriter &rw) const override {
    if (concat.getInputs().size() != 2)
      return failure();
    auto neg = concat.getInputs()[0].getDefiningOp<ONNXNegOp>();
    if (!neg)
      return failure();
    Value x, x2;
    auto hi = lastAxisRange(neg->getOperand(0), x);
    auto lo = lastAxisRange(concat.getInputs()[1], x2);
    if (!hi || !lo || x != x2)
      return nearMiss(concat, "rotary", "the halves are not slices of one tensor");
    int64_t width = tensorType(x).getShape().back();
    if (lo->first != 0 || lo->second != width / 2 || hi->first != width / 2 ||
        hi->second != width || width % 2 != 0)
      return nearMiss(concat, "rotary", "the slices are not the two halves");
    auto mulSin = soleUser<ONNXMulOp>(concat.getResult());
    if (!mulSin)
      return nearMiss(concat, "rotary", "rotate_half(x) does not only feed a Mul");
    Value sin = otherOperand(mulSin, concat.getResult());
    auto add = soleUser<ONNXAddOp>(mulSin.getResult());
    if (!add)
      return nearMiss(concat, "rotary", "rotate_half(x) * sin is not added");
    auto mulCos = otherOperand(add, mulSin.getResult()).getDefiningOp<ONNXMulOp>();
    if (!mulCos || (mulCos->getOperand(0) != x && mulCos->getOperand(1) != x))
      return nearMiss(concat, "rotary", "x * cos is not the other addend");
    Value cos = otherOperand(mulCos, x);
    if (cos.getType() != sin.getType() || add.getType() != x.getType())
      return nearMiss(concat, "rotary", "cos and sin differ in type, or broadcast x");
    auto ct = tensorType(cos);
    if (ct.getShape().back() != width)
      return nearMiss(concat, "rotary", "cos and sin do not span the head");
    rw.replaceOpWithNewOp<xfmr::RotaryOp>(add, x.getType(), x, cos, sin,
                                          rw.getBoolAttr(false));
    return success();
  }
};

/// Gather(table, ids) on axis 0 of a 2-D float weight.
struct RaiseEmbedding : public OpRewritePattern<ONNXGatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXGatherOp gather,
                                PatternRewriter &rw) const override {
    Value table = gather->getOperand(0), ids = gather->getOperand(1);
    auto tt = dyn_cast<RankedTensorType>(table.getType());
    if (!tt || tt.getRank() != 2 || gather.getAxis() != 0 ||
        !isa<FloatType>(tt.getElementType()) || !prism::xfmr::isWeight(table) ||
        !allStatic(gather))
      return failure();
    rw.replaceOpWithNewOp<xfmr::EmbeddingOp>(gather, gather.getType(), table, ids);
    return success();
  }
};

} // namespace

void prism::raise::populateRaiseActivationPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseErfGelu, RaiseTanhGelu, RaiseSilu, RaiseGatedActivation,
               RaiseRotateHalf, RaiseEmbedding>(patterns.getContext());
}
