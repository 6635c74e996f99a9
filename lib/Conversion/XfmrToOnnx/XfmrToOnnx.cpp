//===- XfmrToOnnx.cpp - xfmr ops as the onnx ops they compute -------------===//
//
// The reference semantics of each xfmr op, written with the onnx ops the
// host lowers. Attention scores and softmax of 16-bit types are computed in
// f32, as the exporters' graphs do.
//
//===----------------------------------------------------------------------===//

#include "prism/Conversion/XfmrToOnnx/XfmrToOnnx.h"

#include "prism/Dialect/Onnx/OnnxBuilder.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;
namespace xfmr = prism::xfmr;

namespace {

/// Sets scores [.., S, T] to the lowest float where key j is after query
/// i's position (offset + i) or, with a window, more than `window - 1`
/// positions before it.
Value maskByPosition(OnnxBuilder &b, Value scores, int64_t offset,
                     bool causal, int64_t window) {
  auto t = tensorType(scores);
  int64_t rank = t.getRank();
  Type elem = t.getElementType();
  Value init = tensor::EmptyOp::create(b.rw, b.loc, t.getShape(), elem);
  SmallVector<AffineMap> maps(2, b.rw.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  double lowest = lowestFloat(elem);
  return linalg::GenericOp::create(
             b.rw, b.loc, TypeRange{t}, ValueRange{scores}, ValueRange{init},
             maps, iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value i = linalg::IndexOp::create(nb, l, rank - 2);
               Value j = linalg::IndexOp::create(nb, l, rank - 1);
               Value position = arith::AddIOp::create(
                   nb, l, i, arith::ConstantIndexOp::create(nb, l, offset));
               Value masked = arith::ConstantIntOp::create(nb, l, 0, 1);
               if (causal)
                 masked = arith::CmpIOp::create(
                     nb, l, arith::CmpIPredicate::sgt, j, position);
               if (window > 0) {
                 Value first = arith::SubIOp::create(
                     nb, l, position,
                     arith::ConstantIndexOp::create(nb, l, window - 1));
                 Value before = arith::CmpIOp::create(
                     nb, l, arith::CmpIPredicate::slt, j, first);
                 masked = arith::OrIOp::create(nb, l, masked, before);
               }
               Value low = arith::ConstantOp::create(
                   nb, l, elem, nb.getFloatAttr(elem, lowest));
               linalg::YieldOp::create(
                   nb, l,
                   Value(arith::SelectOp::create(nb, l, masked, low, args[0])));
             })
      .getResult(0);
}

/// [B, Hkv, T, D] with each head repeated `groups` times: [B, Hkv*groups, T, D]
/// (query head h reads key head h / groups).
Value repeatHeads(OnnxBuilder &b, Value x, int64_t groups) {
  if (groups == 1)
    return x;
  auto t = tensorType(x);
  int64_t batch = t.getDimSize(0), heads = t.getDimSize(1),
          len = t.getDimSize(2), d = t.getDimSize(3);
  Value x5 = b.reshape(x, {batch, heads, 1, len, d});
  SmallVector<Value> copies(groups, x5);
  return b.reshape(b.concat(copies, 2), {batch, heads * groups, len, d});
}

struct AttentionToOnnx : public OpRewritePattern<xfmr::AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(xfmr::AttentionOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return rw.notifyMatchFailure(op, "dynamic shapes");
    OnnxBuilder b(rw, op.getLoc());
    Value k = op.getKey(), v = op.getValue();
    if (op.getPastKey()) {
      k = b.concat({op.getPastKey(), k}, 2);
      v = b.concat({op.getPastValue(), v}, 2);
    }
    SmallVector<Value> results = {Value()};
    if (op.getPastKey())
      results.append({k, v});
    int64_t groups = op.getNumQueryHeads() / op.getNumKvHeads();
    Type elem = op.getQuery().getType().getElementType();
    Type compute = elem.getIntOrFloatBitWidth() < 32 ? rw.getF32Type() : elem;
    Value q = b.castTo(op.getQuery(), compute);
    Value kr = b.castTo(repeatHeads(b, k, groups), compute);
    Value vr = b.castTo(repeatHeads(b, v, groups), compute);
    Value scores = b.matmul(q, b.transpose(kr, {0, 1, 3, 2}));
    scores = b.mul(scores, b.scalarLike(scores, op.getScale().convertToDouble()));
    if (double cap = op.getSoftcap().convertToDouble(); cap > 0)
      scores = b.mul(b.unary<ONNXTanhOp>(b.div(scores, b.scalarLike(scores, cap))),
                     b.scalarLike(scores, cap));
    if (op.getMask()) {
      // Clamped as exporters clamp: a sum of two lowest-float masks stays
      // finite, so a fully masked row is uniform instead of NaN.
      scores = b.add(scores, b.castTo(op.getMask(), compute));
      scores = ONNXMaxOp::create(
          rw, op.getLoc(), scores.getType(),
          ValueRange{scores, b.scalarLike(scores, lowestFloat(compute))});
    }
    auto st = tensorType(scores);
    int64_t seq = st.getDimSize(2), total = st.getDimSize(3);
    if (op.getCausal() || op.getWindow() > 0)
      scores = maskByPosition(b, scores, total - seq, op.getCausal(),
                              (int64_t)op.getWindow());
    results[0] = b.castTo(b.matmul(b.softmaxLast(scores), vr), elem);
    rw.replaceOp(op, results);
    return success();
  }
};

/// (x + residual) normalized over the last dim: RMS or mean/variance.
template <typename OpTy, bool rms>
struct NormToOnnx : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return rw.notifyMatchFailure(op, "dynamic shapes");
    OnnxBuilder b(rw, op.getLoc());
    Value s = op.getInput();
    if (op.getResidual())
      s = b.add(s, op.getResidual());
    Value bias;
    if constexpr (!rms)
      bias = op.getBias();
    Value y = b.normalize(s, op.getScale(), bias, tensorType(s).getRank() - 1,
                          op.getEpsilon().convertToDouble(), rms,
                          /*stashF32=*/false)
                  .y;
    SmallVector<Value> results = {y};
    if (op.getResidual())
      results.push_back(s);
    rw.replaceOp(op, results);
    return success();
  }
};

struct RotaryToOnnx : public OpRewritePattern<xfmr::RotaryOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(xfmr::RotaryOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return rw.notifyMatchFailure(op, "dynamic shapes");
    OnnxBuilder b(rw, op.getLoc());
    Value x = op.getInput();
    auto t = tensorType(x);
    int64_t last = t.getRank() - 1, d = t.getDimSize(last);
    int64_t r = tensorType(op.getCos()).getShape().back();
    Value rotated = r == d ? x : b.slice(x, last, 0, r);
    Value turned;
    if (op.getInterleaved()) {
      // Pairs (x0, x1) -> (-x1, x0).
      SmallVector<int64_t> pairs(tensorType(rotated).getShape());
      pairs.back() = r / 2;
      pairs.push_back(2);
      Value p = b.reshape(rotated, pairs);
      Value even = b.slice(p, last + 1, 0, 1), odd = b.slice(p, last + 1, 1, 1);
      turned = b.reshape(b.concat({b.unary<ONNXNegOp>(odd), even}, last + 1),
                         tensorType(rotated).getShape());
    } else {
      // Halves (x1, x2) -> (-x2, x1).
      Value lo = b.slice(rotated, last, 0, r / 2),
            hi = b.slice(rotated, last, r / 2, r / 2);
      turned = b.concat({b.unary<ONNXNegOp>(hi), lo}, last);
    }
    Value y = b.add(b.mul(rotated, op.getCos()), b.mul(turned, op.getSin()));
    y = b.match(y, tensorType(rotated));
    if (r < d)
      y = b.concat({y, b.slice(x, last, r, d - r)}, last);
    rw.replaceOp(op, y);
    return success();
  }
};

Value gelu(OnnxBuilder &b, Value x, StringRef approximate, double alpha) {
  if (approximate == "tanh") {
    Value x3 = b.mul(b.mul(x, x), x);
    Value inner = b.mul(b.add(x, b.mul(x3, b.scalarLike(x, 0.044715))),
                        b.scalarLike(x, std::sqrt(2.0 / M_PI)));
    return b.mul(b.mul(x, b.scalarLike(x, 0.5)),
                 b.add(b.unary<ONNXTanhOp>(inner), b.scalarLike(x, 1.0)));
  }
  if (approximate == "sigmoid")
    return b.mul(x, b.unary<ONNXSigmoidOp>(b.mul(x, b.scalarLike(x, alpha))));
  Value erf = b.unary<ONNXErfOp>(b.mul(x, b.scalarLike(x, M_SQRT1_2)));
  return b.mul(b.mul(x, b.scalarLike(x, 0.5)), b.add(erf, b.scalarLike(x, 1.0)));
}

Value silu(OnnxBuilder &b, Value x) {
  return b.mul(x, b.unary<ONNXSigmoidOp>(x));
}

struct ActivationToOnnx : public RewritePattern {
  ActivationToOnnx(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    if (!isa<xfmr::GeluOp, xfmr::SiluOp, xfmr::SwiGluOp, xfmr::GeGluOp>(op) ||
        !allStatic(op))
      return failure();
    OnnxBuilder b(rw, op->getLoc());
    Value x = op->getOperand(0), r;
    if (auto g = dyn_cast<xfmr::GeluOp>(op))
      r = gelu(b, x, g.getApproximate(), g.getAlpha().convertToDouble());
    else if (isa<xfmr::SiluOp>(op))
      r = silu(b, x);
    else if (isa<xfmr::SwiGluOp>(op))
      r = b.mul(silu(b, x), op->getOperand(1));
    else
      r = b.mul(gelu(b, x, cast<xfmr::GeGluOp>(op).getApproximate(), 0),
                op->getOperand(1));
    rw.replaceOp(op, r);
    return success();
  }
};

struct EmbeddingToOnnx : public OpRewritePattern<xfmr::EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(xfmr::EmbeddingOp op,
                                PatternRewriter &rw) const override {
    OnnxBuilder b(rw, op.getLoc());
    rw.replaceOp(op, b.gather(op.getTable(), op.getIds()));
    return success();
  }
};

} // namespace

void prism::populateXfmrToOnnxPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionToOnnx, NormToOnnx<xfmr::RmsNormOp, true>,
               NormToOnnx<xfmr::LayerNormOp, false>, RotaryToOnnx,
               ActivationToOnnx, EmbeddingToOnnx>(patterns.getContext());
}
