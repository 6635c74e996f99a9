//===- RaiseGroupQueryAttention.cpp - GroupQueryAttention as xfmr ops -----===//
//
// com.microsoft GroupQueryAttention with ONNX Runtime's CPU semantics and
// run-time sequence lengths: seqlens_k[b] + 1 keys are valid in batch b,
// the new tokens go into the cache right after the past_seqlen[b] =
// seqlens_k[b] + 1 - S ones already there, query i sees the keys up to
// past_seqlen[b] + i (with a local window, only the last
// local_window_size of them), and K/V heads are shared by num_heads /
// kv_num_heads query heads each. The cache placement and the mask are
// onnx ops on those lengths; the attention itself is one xfmr.attention
// over the present cache, and the fused rotary embedding one xfmr.rotary
// per Q and K.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include "prism/Dialect/Onnx/MsAttentionForms.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::raise;
namespace xfmr = prism::xfmr;

namespace {

constexpr const char *kName = "ms.GroupQueryAttention";

/// 0, 1, ..., n - 1 as an i64 constant of `shape` (n elements).
Value iota(OnnxBuilder &b, ArrayRef<int64_t> shape, int64_t n) {
  SmallVector<double> values;
  for (int64_t i = 0; i < n; ++i)
    values.push_back((double)i);
  return b.constant(shape, b.rw.getI64Type(), values);
}

Value maxOf(OnnxBuilder &b, Value x, Value y) {
  auto type = RankedTensorType::get(
      OnnxBuilder::broadcastShape(tensorType(x), tensorType(y)),
      tensorType(x).getElementType());
  return ONNXMaxOp::create(b.rw, b.loc, type, ValueRange{x, y});
}
Value minOf(OnnxBuilder &b, Value x, Value y) {
  auto type = RankedTensorType::get(
      OnnxBuilder::broadcastShape(tensorType(x), tensorType(y)),
      tensorType(x).getElementType());
  return ONNXMinOp::create(b.rw, b.loc, type, ValueRange{x, y});
}

/// The present cache [B, KV, T, H]: the past buffer's first pastLen[b]
/// positions, then this step's S tokens (`fresh`, [B, KV, S, H]), then
/// zeros.
Value placeInCache(OnnxBuilder &b, Value past, Value fresh, Value pastLen4,
                   RankedTensorType presentType) {
  auto ft = tensorType(fresh);
  int64_t batch = ft.getDimSize(0), heads = ft.getDimSize(1),
          seq = ft.getDimSize(2), head = ft.getDimSize(3);
  int64_t total = presentType.getDimSize(2);
  Type elem = ft.getElementType();
  Value t = iota(b, {1, 1, total, 1}, total);
  Value rel = b.sub(t, pastLen4); // [B, 1, T, 1]
  Value isPast = b.compare<ONNXLessOp>(t, pastLen4);
  Value isNew = ONNXAndOp::create(
      b.rw, b.loc, tensorType(isPast),
      b.compare<ONNXGreaterOrEqualOp>(rel, b.scalar(b.rw.getI64Type(), 0)),
      b.compare<ONNXLessOp>(rel, b.scalar(b.rw.getI64Type(), seq)));
  Value index = maxOf(b, minOf(b, rel, b.scalar(b.rw.getI64Type(), seq - 1)),
                      b.scalar(b.rw.getI64Type(), 0));
  Value shape = b.constant({4}, b.rw.getI64Type(),
                           {(double)batch, (double)heads, (double)total, (double)head});
  auto indexType = RankedTensorType::get({batch, heads, total, head}, b.rw.getI64Type());
  index = ONNXExpandOp::create(b.rw, b.loc, indexType, index, shape);
  Value gathered = ONNXGatherElementsOp::create(b.rw, b.loc, presentType, fresh,
                                                index, (uint64_t)2);
  // The past buffer, cut or zero-padded to T positions.
  Value pastT;
  int64_t buffer = isNone(past) ? 0 : tensorType(past).getDimSize(2);
  if (buffer >= total && buffer > 0)
    pastT = buffer == total ? past : b.slice(past, 2, 0, total);
  else if (buffer == 0)
    pastT = b.splat({batch, heads, total, head}, elem, 0.0);
  else
    pastT = b.concat({past, b.splat({batch, heads, total - buffer, head}, elem, 0.0)}, 2);
  Value zero = b.scalar(elem, 0.0);
  return b.where(isPast, pastT, b.where(isNew, gathered, zero));
}

struct RaiseGroupQueryAttention
    : public OpRewritePattern<ONNXMsGroupQueryAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMsGroupQueryAttentionOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return nearMiss(op, kName, "a shape is not static");
    if (!isNone(op.getAttentionBias()) || !isNone(op.getHeadSink()) ||
        op.getSmoothSoftmax() || !op.getOutputQk().use_empty())
      return nearMiss(op, kName, "attention_bias, head_sink, smooth_softmax "
                                 "and output_qk are not raised");
    if (op.getDoRotary() && (isNone(op.getCosCache()) || isNone(op.getSinCache())))
      return nearMiss(op, kName, "do_rotary needs cos_cache and sin_cache");
    OnnxBuilder b(rw, op.getLoc());
    auto qt = tensorType(op.getQuery());
    Type elem = qt.getElementType();
    int64_t batch = qt.getDimSize(0), seq = qt.getDimSize(1);
    int64_t heads = (int64_t)op.getNumHeads(), kvHeads = (int64_t)op.getKvNumHeads();
    auto presentType = tensorType(op.getPresentKey());
    int64_t head = presentType.getDimSize(3);
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    if (isNone(k)) { // packed [B, S, (N + 2 KVN) H]
      q = b.slice(op.getQuery(), 2, 0, heads * head);
      k = b.slice(op.getQuery(), 2, heads * head, kvHeads * head);
      v = b.slice(op.getQuery(), 2, (heads + kvHeads) * head, kvHeads * head);
    }
    // [B, S, N, H] views.
    q = b.reshape(q, {batch, seq, heads, head});
    k = b.reshape(k, {batch, seq, kvHeads, head});
    v = b.reshape(v, {batch, seq, kvHeads, head});

    // past_seqlen[b] = max(seqlens_k[b] + 1 - S, 0).
    Type i64 = rw.getI64Type();
    Value lens = b.castTo(op.getSeqlensK(), i64);
    Value pastLen = maxOf(b, b.add(lens, b.scalar(i64, 1.0 - (double)seq)),
                          b.scalar(i64, 0));
    Value pastLen4 = b.reshape(pastLen, {batch, 1, 1, 1});

    if (op.getDoRotary()) {
      Value positions = op.getPositionIds();
      if (isNone(positions))
        positions = b.add(b.reshape(pastLen, {batch, 1}), iota(b, {1, seq}, seq));
      bool interleaved = op.getRotaryInterleaved() != 0;
      Value cos = widenCache(b, op.getCosCache(), positions, seq, interleaved,
                             /*headsFirst=*/false);
      Value sin = widenCache(b, op.getSinCache(), positions, seq, interleaved,
                             /*headsFirst=*/false);
      auto rotate = [&](Value x) {
        return xfmr::RotaryOp::create(rw, op.getLoc(), x.getType(), x, cos, sin,
                                      rw.getBoolAttr(interleaved))
            .getOutput();
      };
      q = rotate(q);
      k = rotate(k);
    }
    auto bnsh = [&](Value x) { return b.transpose(x, {0, 2, 1, 3}); };
    Value presentKey = placeInCache(b, op.getPastKey(), bnsh(k), pastLen4, presentType);
    Value presentValue = placeInCache(b, op.getPastValue(), bnsh(v), pastLen4,
                                      tensorType(op.getPresentValue()));

    // Key t is seen by query i when t <= past_seqlen + i (and, with a
    // window, t > past_seqlen + i - window).
    int64_t total = presentType.getDimSize(2);
    Value last = b.add(pastLen4, iota(b, {1, 1, seq, 1}, seq)); // [B, 1, S, 1]
    Value t = iota(b, {1, 1, 1, total}, total);
    Value keep = b.compare<ONNXLessOrEqualOp>(t, last);
    if (int64_t window = (int64_t)op.getLocalWindowSize(); window > 0) {
      Value first = b.sub(last, b.scalar(i64, (double)(window - 1)));
      keep = ONNXAndOp::create(rw, op.getLoc(), tensorType(keep), keep,
                               b.compare<ONNXGreaterOrEqualOp>(t, first));
    }
    Value mask = b.where(keep, b.scalar(elem, 0.0), b.scalar(elem, lowestFloat(elem)));

    double scale = op.getScale() && !op.getScale()->isZero()
                       ? op.getScale()->convertToDouble()
                       : 1.0 / std::sqrt((double)head);
    auto attention = buildAttention(b, bnsh(q), presentKey, presentValue, Value(),
                                    Value(), mask, scale, /*causal=*/false,
                                    /*window=*/0, op.getSoftcap().convertToDouble());
    Value out = mergeHeads(b, attention.getOutput());
    return replaceWithOptional(rw, op, {out, presentKey, presentValue, Value()});
  }
};

} // namespace

void prism::raise::populateRaiseGroupQueryAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RaiseGroupQueryAttention>(patterns.getContext());
}
