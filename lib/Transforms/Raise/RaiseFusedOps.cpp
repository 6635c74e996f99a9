//===- RaiseFusedOps.cpp - Fused ONNX Runtime operators as xfmr ops -------===//
//
// The com.microsoft transformer operators (and their ai.onnx counterparts)
// already name the block they compute; raising unpacks their operand forms
// (packed QKV projections, mask_index variants, the 5-D past state) into
// onnx ops around one xfmr op. Semantics follow ONNX Runtime's CPU kernels;
// its norms compute in f32 for 16-bit inputs.
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

/// The scale attribute, or 1/sqrt(head size) when absent or 0.
double scaleOr(std::optional<APFloat> scale, int64_t headSize) {
  if (scale && !scale->isZero())
    return scale->convertToDouble();
  return 1.0 / std::sqrt((double)headSize);
}

double filterOr(std::optional<APFloat> filter) {
  return filter ? filter->convertToDouble() : -10000.0;
}

/// com.microsoft Attention: the QKV projection, split into heads; the 5-D
/// past [2, B, N, P, H] read as key and value, present built back from the
/// attention's.
struct RaiseMsAttention : public OpRewritePattern<ONNXMsAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXMsAttentionOp op,
                                PatternRewriter &rw) const override {
    const char *name = "ms.Attention";
    if (!allStatic(op))
      return nearMiss(op, name, "a shape is not static");
    if (op.getDoRotary() || op.getPastPresentShareBuffer())
      return nearMiss(op, name, "do_rotary and past_present_share_buffer are "
                                "not raised");
    if (!isNone(op.getPastSequenceLength()))
      return nearMiss(op, name, "past_sequence_length is not raised");
    auto in = tensorType(op.getInput());
    int64_t batch = in.getDimSize(0), seq = in.getDimSize(1);
    int64_t past = isNone(op.getPast()) ? 0 : tensorType(op.getPast()).getDimSize(3);
    if (!isSupportedMask(op.getMaskIndex(), batch, seq, past + seq))
      return nearMiss(op, name, Twine("mask_index is not one of ") + kMaskForms);
    OnnxBuilder b(rw, op.getLoc());
    int64_t heads = (int64_t)op.getNumHeads();
    int64_t width = tensorType(op.getWeights()).getDimSize(1);
    SmallVector<int64_t> sizes = {width / 3, width / 3, width / 3};
    if (auto qkv = op.getQkvHiddenSizes())
      for (auto [i, a] : llvm::enumerate(*qkv))
        sizes[i] = cast<IntegerAttr>(a).getInt();
    Value qkv = b.matmul(op.getInput(), op.getWeights());
    if (!isNone(op.getBias()))
      qkv = b.add(qkv, op.getBias());
    Value q = splitHeads(b, b.slice(qkv, 2, 0, sizes[0]), heads);
    Value k = splitHeads(b, b.slice(qkv, 2, sizes[0], sizes[1]), heads);
    Value v = splitHeads(b, b.slice(qkv, 2, sizes[0] + sizes[1], sizes[2]),
                         heads);
    Value pastKey, pastValue;
    // An empty past (a prefill with the cache input bound to 0 positions)
    // is no past: the present is this step's keys and values.
    if (!isNone(op.getPast()) && tensorType(op.getPast()).getDimSize(3) != 0) {
      auto pt = tensorType(op.getPast());
      SmallVector<int64_t> one(pt.getShape().drop_front());
      pastKey = b.reshape(b.slice(op.getPast(), 0, 0, 1), one);
      pastValue = b.reshape(b.slice(op.getPast(), 0, 1, 1), one);
    }
    Type elem = in.getElementType();
    double filter = filterOr(op.getMaskFilterValue());
    Value mask;
    if (!isNone(op.getMaskIndex())) {
      auto m = additiveMask(b, op.getMaskIndex(), batch, seq, past + seq,
                            elem, filter);
      if (failed(m))
        return failure();
      mask = *m;
    }
    if (!isNone(op.getAttentionBias()))
      mask = mask ? b.add(mask, op.getAttentionBias()) : op.getAttentionBias();
    double scale = scaleOr(op.getScale(), sizes[0] / heads);
    auto attention = buildAttention(b, q, k, v, pastKey, pastValue, mask, scale,
                                    op.getUnidirectional() != 0);
    Value out = mergeHeads(b, attention.getOutput());
    Value present;
    if (!isNone(op.getPresent())) {
      Value pk = attention.getPresentKey() ? attention.getPresentKey() : k;
      Value pv = attention.getPresentValue() ? attention.getPresentValue() : v;
      SmallVector<int64_t> one = {1};
      llvm::append_range(one, tensorType(pk).getShape());
      present = b.concat({b.reshape(pk, one), b.reshape(pv, one)}, 0);
    }
    return replaceWithOptional(rw, op, {out, present});
  }
};

/// com.microsoft MultiHeadAttention with projected Q/K/V ([B, S, D]; K and V
/// may be [B, N, L, H] already, as cross-attention caches are), the packed
/// bias, key padding mask, attention bias and past_key/past_value.
struct RaiseMsMultiHeadAttention
    : public OpRewritePattern<ONNXMsMultiHeadAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXMsMultiHeadAttentionOp op,
                                PatternRewriter &rw) const override {
    const char *name = "ms.MultiHeadAttention";
    if (!allStatic(op))
      return nearMiss(op, name, "a shape is not static");
    auto qt = tensorType(op.getQuery());
    if (qt.getRank() != 3 || isNone(op.getKey()) || isNone(op.getValue()) ||
        tensorType(op.getKey()).getRank() == 5)
      return nearMiss(op, name, "packed Q/K/V is not raised");
    if (!isNone(op.getCacheIndirection()) || !op.getQk().use_empty() ||
        !isNone(op.getPastSequenceLength()))
      return nearMiss(op, name, "cache_indirection, past_sequence_length and "
                                "the qk output are not raised");
    int64_t heads = (int64_t)op.getNumHeads();
    int64_t batch = qt.getDimSize(0), seq = qt.getDimSize(1);
    int64_t dq = qt.getDimSize(2);
    auto kt = tensorType(op.getKey());
    bool kvProjected = kt.getRank() == 3;
    int64_t kvLen = kvProjected ? kt.getDimSize(1) : kt.getDimSize(2);
    int64_t past = isNone(op.getPastKey()) ? 0 : tensorType(op.getPastKey()).getDimSize(2);
    if (!isSupportedMask(op.getKeyPaddingMask(), batch, seq, past + kvLen))
      return nearMiss(op, name, Twine("key_padding_mask is not one of ") +
                                    kMaskForms);
    OnnxBuilder b(rw, op.getLoc());
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    int64_t dk = kvProjected ? kt.getDimSize(2) : dq;
    if (!isNone(op.getBias())) {
      q = b.add(q, b.slice(op.getBias(), 0, 0, dq));
      // Keys and values given per head take no bias, as in ONNX Runtime.
      if (kvProjected) {
        int64_t dv = tensorType(v).getDimSize(2);
        k = b.add(k, b.slice(op.getBias(), 0, dq, dk));
        v = b.add(v, b.slice(op.getBias(), 0, dq + dk, dv));
      }
    }
    q = splitHeads(b, q, heads);
    if (kvProjected) {
      k = splitHeads(b, k, heads);
      v = splitHeads(b, v, heads);
    }
    Value pastKey, pastValue;
    if (!isNone(op.getPastKey()) && !isNone(op.getPastValue())) {
      pastKey = op.getPastKey();
      pastValue = op.getPastValue();
    }
    Type elem = qt.getElementType();
    Value mask;
    if (!isNone(op.getKeyPaddingMask())) {
      auto m = additiveMask(b, op.getKeyPaddingMask(), batch, seq, past + kvLen,
                            elem, filterOr(op.getMaskFilterValue()));
      if (failed(m))
        return failure();
      mask = *m;
    }
    if (!isNone(op.getAttentionBias()))
      mask = mask ? b.add(mask, op.getAttentionBias()) : op.getAttentionBias();
    double scale = scaleOr(op.getScale(), tensorType(q).getDimSize(3));
    auto attention = buildAttention(b, q, k, v, pastKey, pastValue, mask, scale,
                                    op.getUnidirectional() != 0);
    Value out = mergeHeads(b, attention.getOutput());
    Value pk = attention.getPresentKey() ? attention.getPresentKey() : k;
    Value pv = attention.getPresentValue() ? attention.getPresentValue() : v;
    return replaceWithOptional(rw, op, {out, pk, pv, Value()});
  }
};

/// com.microsoft EmbedLayerNormalization: word + position (+ segment)
/// embeddings, layer-normalised; mask_index counts each row's ones.
struct RaiseMsEmbedLayerNormalization
    : public OpRewritePattern<ONNXMsEmbedLayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXMsEmbedLayerNormalizationOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return nearMiss(op, "ms.EmbedLayerNormalization", "a shape is not static");
    OnnxBuilder b(rw, op.getLoc());
    auto ids = tensorType(op.getInputIds());
    int64_t batch = ids.getDimSize(0), seq = ids.getDimSize(1);
    auto embed = [&](Value table, Value indices) -> Value {
      auto t = tensorType(table);
      SmallVector<int64_t> shape(tensorType(indices).getShape());
      shape.push_back(t.getDimSize(1));
      return xfmr::EmbeddingOp::create(rw, op.getLoc(), t.clone(shape), table,
                                       indices);
    };
    Value emb = embed(op.getWordEmbedding(), op.getInputIds());
    Value positions = op.getPositionIds();
    if (isNone(positions)) {
      SmallVector<int32_t> range;
      for (int64_t s = 0; s < seq; ++s)
        range.push_back((int32_t)s);
      auto type = RankedTensorType::get({1, seq}, rw.getI32Type());
      positions = arith::ConstantOp::create(
          rw, op.getLoc(), DenseElementsAttr::get(type, ArrayRef(range)));
    }
    emb = b.add(emb, embed(op.getPositionEmbedding(), positions));
    if (!isNone(op.getSegmentIds()) && !isNone(op.getSegmentEmbedding()))
      emb = b.add(emb, embed(op.getSegmentEmbedding(), op.getSegmentIds()));
    Type elem = tensorType(emb).getElementType();
    Value wide = widenTo32(b, emb);
    Value y = xfmr::LayerNormOp::create(
                  rw, op.getLoc(), TypeRange{wide.getType()}, wide, Value(),
                  b.castTo(op.getGamma(), tensorType(wide).getElementType()),
                  b.castTo(op.getBeta(), tensorType(wide).getElementType()),
                  rw.getF64FloatAttr(op.getEpsilon().convertToDouble()))
                  .getOutput();
    y = b.castTo(y, elem);
    Value maskIndex;
    auto i32 = rw.getI32Type();
    if (!isNone(op.getMask())) {
      Value m = b.castTo(op.getMask(), i32);
      auto boolType = RankedTensorType::get({batch, seq}, rw.getI1Type());
      Value ones = ONNXEqualOp::create(rw, op.getLoc(), boolType, m,
                                       b.scalar(i32, 1));
      maskIndex = b.reshape(
          b.reduceFrom<ONNXReduceSumOp>(b.castTo(ones, i32), 1), {batch});
    } else {
      auto type = RankedTensorType::get({batch}, i32);
      maskIndex = arith::ConstantOp::create(
          rw, op.getLoc(), DenseElementsAttr::get(type, rw.getI32IntegerAttr(0)));
    }
    return replaceWithOptional(rw, op, {y, maskIndex, emb});
  }
};

/// Builds a norm over the last dim of `x` (+ `residual`), in f32 for 16-bit
/// inputs when `widen`; returns the output and the residual sum.
std::pair<Value, Value> buildNorm(OnnxBuilder &b, bool rms, Value x,
                                  Value residual, Value scale, Value bias,
                                  double epsilon, bool widen) {
  Type elem = tensorType(x).getElementType();
  Value xw = widen ? widenTo32(b, x) : x;
  Type compute = tensorType(xw).getElementType();
  Value rw = residual ? b.castTo(residual, compute) : Value();
  SmallVector<Type> types = {xw.getType()};
  if (residual)
    types.push_back(xw.getType());
  Operation *norm;
  if (rms)
    norm = xfmr::RmsNormOp::create(b.rw, b.loc, types, xw, rw,
                                   b.castTo(scale, compute),
                                   b.rw.getF64FloatAttr(epsilon));
  else
    norm = xfmr::LayerNormOp::create(b.rw, b.loc, types, xw, rw,
                                     b.castTo(scale, compute),
                                     bias ? b.castTo(bias, compute) : Value(),
                                     b.rw.getF64FloatAttr(epsilon));
  Value sum = residual ? b.castTo(norm->getResult(1), elem) : Value();
  return {b.castTo(norm->getResult(0), elem), sum};
}

/// SkipLayerNormalization and SkipSimplifiedLayerNormalization: the norm of
/// input + skip (+ bias) with its residual sum, when mean and inv_std_var
/// are unused.
template <typename OpTy, bool rms>
struct RaiseSkipNormalization : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    StringRef name = op->getName().getStringRef();
    if (!allStatic(op))
      return nearMiss(op, name, "a shape is not static");
    if (!op.getMean().use_empty() || !op.getInvStdVar().use_empty())
      return nearMiss(op, name, "its mean or inv_std_var output is used");
    if (tensorType(op.getSkip()) != tensorType(op.getInput()))
      return nearMiss(op, name, "skip is broadcast");
    OnnxBuilder b(rw, op.getLoc());
    Value x = op.getInput();
    if (!isNone(op.getBias()))
      x = b.add(x, op.getBias());
    Value beta;
    if constexpr (!rms)
      beta = isNone(op.getBeta()) ? Value() : op.getBeta();
    auto [y, sum] = buildNorm(b, rms, x, op.getSkip(), op.getGamma(), beta,
                              op.getEpsilon().convertToDouble(), /*widen=*/true);
    return replaceWithOptional(rw, op, {y, Value(), Value(), sum});
  }
};

/// LayerNormalization, RMSNormalization and SimplifiedLayerNormalization
/// over the last axis, when only the normalized output is used.
template <typename OpTy, bool rms>
struct RaiseNormalization : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    StringRef name = op->getName().getStringRef();
    if (!allStatic(op))
      return nearMiss(op, name, "a shape is not static");
    int64_t rank = tensorType(op.getX()).getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis != -1 && axis != rank - 1)
      return nearMiss(op, name, "it normalizes over more than the last axis");
    for (Value r : op->getResults().drop_front())
      if (!r.use_empty())
        return nearMiss(op, name, "its mean or inv_std_dev output is used");
    auto scale = tensorType(op.getScale());
    if (scale.getRank() != 1)
      return nearMiss(op, name, "its scale is not 1-D");
    Value bias;
    if constexpr (!rms) {
      bias = isNone(op.getB()) ? Value() : op.getB();
      if (bias && tensorType(bias).getRank() != 1)
        return nearMiss(op, name, "its bias is not 1-D");
    }
    OnnxBuilder b(rw, op.getLoc());
    Value y = buildNorm(b, rms, op.getX(), Value(), op.getScale(), bias,
                        op.getEpsilon().convertToDouble(),
                        op.getStashType() == 1)
                  .first;
    SmallVector<Value> values(op->getNumResults());
    values[0] = y;
    return replaceWithOptional(rw, op, values);
  }
};

/// The GELUs: ai.onnx Gelu, com.microsoft Gelu, BiasGelu, FastGelu and
/// QuickGelu.
struct RaiseGelu : public RewritePattern {
  RaiseGelu(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    if (!isa<ONNXGeluOp, ONNXMsGeluOp, ONNXMsBiasGeluOp, ONNXMsFastGeluOp,
             ONNXMsQuickGeluOp>(op))
      return failure();
    if (!allStatic(op))
      return nearMiss(op, "gelu", "a shape is not static");
    OnnxBuilder b(rw, op->getLoc());
    Value x = op->getOperand(0);
    StringRef approximate = "none";
    double alpha = 1.702;
    if (auto g = dyn_cast<ONNXGeluOp>(op)) {
      approximate = g.getApproximate();
      if (approximate != "none" && approximate != "tanh")
        return nearMiss(op, "gelu", "approximate is not none or tanh");
    } else if (isa<ONNXMsBiasGeluOp>(op)) {
      x = b.add(x, op->getOperand(1));
    } else if (isa<ONNXMsFastGeluOp>(op)) {
      if (!isNone(op->getOperand(1)))
        x = b.add(x, op->getOperand(1));
      approximate = "tanh";
    } else if (auto q = dyn_cast<ONNXMsQuickGeluOp>(op)) {
      approximate = "sigmoid";
      alpha = q.getAlpha().convertToDouble();
    }
    rw.replaceOpWithNewOp<xfmr::GeluOp>(op, x.getType(), x,
                                        rw.getStringAttr(approximate),
                                        rw.getF64FloatAttr(alpha));
    return success();
  }
};

/// Replaces `op` by the rotary embedding of `x` ([B, N, S, H], or [B, S,
/// N * H] of `heads` heads) with caches of R/2 channels gathered at
/// `positions` ([B or 1, S]; null: the caches are [B, S, R/2]).
LogicalResult rewriteRotary(PatternRewriter &rw, Operation *op, Value x,
                            Value cosCache, Value sinCache, Value positions,
                            int64_t heads, int64_t rotaryDim, bool interleaved) {
  OnnxBuilder b(rw, op->getLoc());
  auto t = tensorType(x);
  bool bnsh = t.getRank() == 4;
  int64_t batch = t.getDimSize(0), seq = bnsh ? t.getDimSize(2) : t.getDimSize(1);
  int64_t half = tensorType(cosCache).getShape().back();
  Value in = x;
  if (!bnsh) {
    if (heads <= 0)
      heads = t.getDimSize(2) / (2 * half);
    in = b.reshape(x, {batch, seq, heads, t.getDimSize(2) / heads});
  }
  int64_t head = tensorType(in).getShape().back();
  if ((rotaryDim ? rotaryDim : head) != 2 * half)
    return nearMiss(op, op->getName().getStringRef(),
                    "rotary_embedding_dim differs from the caches'");
  if (positions && tensorType(positions).getRank() == 1) {
    // One offset: positions offset + s.
    SmallVector<double> range;
    for (int64_t s = 0; s < seq; ++s)
      range.push_back((double)s);
    positions = b.add(b.reshape(positions, {1, 1}),
                      b.constant({1, seq}, rw.getI64Type(), range));
  }
  Value cos = widenCache(b, cosCache, positions, seq, interleaved, bnsh);
  Value sin = widenCache(b, sinCache, positions, seq, interleaved, bnsh);
  Value y = xfmr::RotaryOp::create(rw, op->getLoc(), in.getType(), in, cos, sin,
                                   rw.getBoolAttr(interleaved));
  rw.replaceOp(op, b.reshape(y, t.getShape()));
  return success();
}

/// com.microsoft RotaryEmbedding: caches [max, R/2] at position_ids.
struct RaiseMsRotaryEmbedding : public OpRewritePattern<ONNXMsRotaryEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXMsRotaryEmbeddingOp op,
                                PatternRewriter &rw) const override {
    const char *name = "ms.RotaryEmbedding";
    if (!allStatic(op))
      return nearMiss(op, name, "a shape is not static");
    if (op.getIsPackedBatching())
      return nearMiss(op, name, "is_packed_batching is not raised");
    if (op.getScale().convertToDouble() != 1.0)
      return nearMiss(op, name, "a scale other than 1 is not raised");
    return rewriteRotary(rw, op, op.getInput(), op.getCosCache(),
                         op.getSinCache(), op.getPositionIds(),
                         (int64_t)op.getNumHeads(),
                         (int64_t)op.getRotaryEmbeddingDim(),
                         op.getInterleaved() != 0);
  }
};

/// ai.onnx Attention (opset 23): Q/K/V [B, H, S, D] or [B, S, H*D], a
/// boolean or additive mask, the past and present caches, bottom-right
/// causal masking, softcap before the mask.
struct RaiseOnnxAttention : public OpRewritePattern<ONNXAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXAttentionOp op,
                                PatternRewriter &rw) const override {
    const char *name = "Attention";
    if (!allStatic(op))
      return nearMiss(op, name, "a shape is not static");
    if (!op.getQkMatmulOutput().use_empty())
      return nearMiss(op, name, "its qk_matmul_output is used");
    if (isNone(op.getPastKey()) != isNone(op.getPastValue()))
      return nearMiss(op, name, "past_key and past_value come together");
    OnnxBuilder b(rw, op.getLoc());
    Value q = op.getQ(), k = op.getK(), v = op.getV();
    bool packed = tensorType(q).getRank() == 3;
    if (packed) {
      if (!op.getQNumHeads() || !op.getKvNumHeads())
        return nearMiss(op, name, "3-D inputs need q_num_heads and kv_num_heads");
      q = splitHeads(b, q, (int64_t)*op.getQNumHeads());
      k = splitHeads(b, k, (int64_t)*op.getKvNumHeads());
      v = splitHeads(b, v, (int64_t)*op.getKvNumHeads());
    }
    auto qt = tensorType(q), kt = tensorType(k);
    int64_t seq = qt.getDimSize(2), kvLen = kt.getDimSize(2);
    int64_t past = isNone(op.getPastKey()) ? 0 : tensorType(op.getPastKey()).getDimSize(2);
    if (op.getIsCausal() && seq != kvLen)
      return nearMiss(op, name, "causal with a query length other than the "
                                "new keys' is not raised");
    Value mask;
    if (!isNone(op.getAttnMask())) {
      mask = op.getAttnMask();
      auto mt = tensorType(mask);
      if (mt.getShape().back() != past + kvLen && mt.getShape().back() != 1)
        return nearMiss(op, name, "a mask shorter than the keys is not raised");
      if (mt.getElementType().isInteger(1)) {
        Type elem = qt.getElementType();
        mask = b.where(mask, b.scalar(elem, 0.0), b.scalar(elem, lowestFloat(elem)));
      }
    }
    Value pastKey = isNone(op.getPastKey()) ? Value() : op.getPastKey();
    Value pastValue = isNone(op.getPastValue()) ? Value() : op.getPastValue();
    double scale = scaleOr(op.getScale(), qt.getDimSize(3));
    auto attention = buildAttention(b, q, k, v, pastKey, pastValue, mask, scale,
                                    op.getIsCausal() != 0, /*window=*/0,
                                    op.getSoftcap().convertToDouble());
    Value out = attention.getOutput();
    if (packed)
      out = mergeHeads(b, out);
    Value pk = attention.getPresentKey() ? attention.getPresentKey() : k;
    Value pv = attention.getPresentValue() ? attention.getPresentValue() : v;
    return replaceWithOptional(rw, op, {out, pk, pv, Value()});
  }
};

/// ai.onnx RotaryEmbedding (opset 23): caches [max, R/2] at position_ids,
/// or [B, S, R/2] without them.
struct RaiseOnnxRotaryEmbedding : public OpRewritePattern<ONNXRotaryEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXRotaryEmbeddingOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return nearMiss(op, "RotaryEmbedding", "a shape is not static");
    if (tensorType(op.getX()).getRank() == 3 && !op.getNumHeads())
      return nearMiss(op, "RotaryEmbedding", "a 3-D input needs num_heads");
    Value positions = isNone(op.getPositionIds()) ? Value() : op.getPositionIds();
    return rewriteRotary(rw, op, op.getX(), op.getCosCache(), op.getSinCache(),
                         positions, op.getNumHeads() ? (int64_t)*op.getNumHeads() : 0,
                         (int64_t)op.getRotaryEmbeddingDim(),
                         op.getInterleaved() != 0);
  }
};

} // namespace

void prism::raise::populateRaiseFusedPatterns(RewritePatternSet &patterns) {
  patterns.add<
      RaiseMsAttention, RaiseMsMultiHeadAttention,
      RaiseMsEmbedLayerNormalization,
      RaiseSkipNormalization<ONNXMsSkipLayerNormalizationOp, false>,
      RaiseSkipNormalization<ONNXMsSkipSimplifiedLayerNormalizationOp, true>,
      RaiseNormalization<ONNXLayerNormalizationOp, false>,
      RaiseNormalization<ONNXRMSNormalizationOp, true>,
      RaiseNormalization<ONNXMsSimplifiedLayerNormalizationOp, true>, RaiseGelu,
      RaiseMsRotaryEmbedding, RaiseOnnxAttention, RaiseOnnxRotaryEmbedding>(
      patterns.getContext());
}
