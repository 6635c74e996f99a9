//===- GroupQueryAttention.cpp - KV-cache attention and rotary embeddings -===//
//
// com.microsoft GroupQueryAttention and RotaryEmbedding, with ONNX Runtime's
// CPU semantics and run-time sequence lengths: seqlens_k[b] + 1 keys are
// valid in batch b, the new tokens go into the cache right after the
// past_seqlen[b] = seqlens_k[b] + 1 - S ones already there, query i sees
// the keys up to past_seqlen[b] + i (with a local window, only the last
// local_window_size of them, as ONNX Runtime 1.30 does), and K/V heads are
// shared by num_heads / kv_num_heads
// query heads each. The static shapes are the buffers'; the lengths inside
// them are values.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

Value indexConst(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}

/// Rotary embedding of `x` [B, S, N, H] in place of its first `rotaryDim`
/// channels: channel pairs (h, h + rotaryDim/2), or (2i, 2i+1) when
/// interleaved, rotated by cos/sin_cache[position[b, s], pair]. `position`
/// is an index tensor [B, S].
Value rotate(OpBuilder &b, Location loc, Value x, Value position, Value cosCache,
             Value sinCache, int64_t rotaryDim, bool interleaved) {
  auto t = tensorType(x);
  int64_t half = rotaryDim / 2;
  return broadcastGeneric(
      b, loc, t, ValueRange{x, position},
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value h = linalg::IndexOp::create(nb, l, 3);
        Value pos = a[1];
        // pair index, partner channel and whether h is the first of its pair
        Value pair, partner, first;
        if (interleaved) {
          pair = arith::DivUIOp::create(nb, l, h, indexConst(nb, l, 2));
          Value odd = arith::RemUIOp::create(nb, l, h, indexConst(nb, l, 2));
          first = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, odd,
                                        indexConst(nb, l, 0));
          partner = arith::SelectOp::create(
              nb, l, first, arith::AddIOp::create(nb, l, h, indexConst(nb, l, 1)),
              arith::SubIOp::create(nb, l, h, indexConst(nb, l, 1)));
        } else {
          first = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, h,
                                        indexConst(nb, l, half));
          pair = arith::SelectOp::create(
              nb, l, first, h, arith::SubIOp::create(nb, l, h, indexConst(nb, l, half)));
          partner = arith::SelectOp::create(
              nb, l, first, arith::AddIOp::create(nb, l, h, indexConst(nb, l, half)),
              pair);
        }
        Value inRotary = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, h,
                                               indexConst(nb, l, rotaryDim));
        // Outside the rotary channels the reads below stay in bounds and
        // their result is discarded.
        pair = arith::SelectOp::create(nb, l, inRotary, pair, indexConst(nb, l, 0));
        partner = arith::SelectOp::create(nb, l, inRotary, partner, h);
        Value bIdx = linalg::IndexOp::create(nb, l, 0);
        Value sIdx = linalg::IndexOp::create(nb, l, 1);
        Value nIdx = linalg::IndexOp::create(nb, l, 2);
        Value other = tensor::ExtractOp::create(nb, l, x, ValueRange{bIdx, sIdx, nIdx, partner});
        Value c = tensor::ExtractOp::create(nb, l, cosCache, ValueRange{pos, pair});
        Value s = tensor::ExtractOp::create(nb, l, sinCache, ValueRange{pos, pair});
        // first: x*cos - other*sin; second: x*cos + other*sin
        Value xs = arith::MulFOp::create(nb, l, other, s);
        Value rotated = arith::SelectOp::create(
            nb, l, first,
            arith::SubFOp::create(nb, l, arith::MulFOp::create(nb, l, a[0], c), xs),
            arith::AddFOp::create(nb, l, arith::MulFOp::create(nb, l, a[0], c), xs));
        return arith::SelectOp::create(nb, l, inRotary, rotated, a[0]);
      });
}

/// com.microsoft RotaryEmbedding of [B, S, N*H] or [B, N, S, H] input at
/// position_ids [B, S] (or one offset [1]).
struct RotaryEmbeddingToGeneric : public OpRewritePattern<ONNXMsRotaryEmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMsRotaryEmbeddingOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op) || op.getIsPackedBatching())
      return failure();
    Location loc = op.getLoc();
    auto t = tensorType(op.getInput());
    int64_t rotaryDim = 2 * tensorType(op.getCosCache()).getDimSize(1);
    if (op.getRotaryEmbeddingDim())
      rotaryDim = (int64_t)op.getRotaryEmbeddingDim();
    int64_t batch = t.getDimSize(0);
    Value x = op.getInput();
    int64_t seq, heads, head;
    bool bnsh = t.getRank() == 4;
    if (bnsh) {
      heads = t.getDimSize(1), seq = t.getDimSize(2), head = t.getDimSize(3);
      x = transposeTo(rw, loc, x, {0, 2, 1, 3});
    } else {
      seq = t.getDimSize(1);
      heads = op.getNumHeads() ? (int64_t)op.getNumHeads()
                               : t.getDimSize(2) / rotaryDim;
      head = t.getDimSize(2) / heads;
      x = reshapeTo(rw, loc, x, {batch, seq, heads, head});
    }
    // Positions as an index tensor [B, S, 1, 1].
    auto posType = RankedTensorType::get({batch, seq, 1, 1}, rw.getIndexType());
    Value ids = op.getPositionIds();
    auto idsType = tensorType(ids);
    Value position = broadcastGeneric(
        rw, loc, posType, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value bIdx = linalg::IndexOp::create(b, l, 0);
          Value sIdx = linalg::IndexOp::create(b, l, 1);
          if (idsType.getRank() == 1) { // an offset: position = offset + s
            Value offset = tensor::ExtractOp::create(b, l, ids, ValueRange{indexConst(b, l, 0)});
            offset = arith::IndexCastOp::create(b, l, b.getIndexType(), offset);
            return arith::AddIOp::create(b, l, offset, sIdx);
          }
          Value p = tensor::ExtractOp::create(b, l, ids, ValueRange{bIdx, sIdx});
          return arith::IndexCastOp::create(b, l, b.getIndexType(), p);
        });
    Value r = rotate(rw, loc, x, position, op.getCosCache(), op.getSinCache(),
                     rotaryDim, op.getInterleaved() != 0);
    r = bnsh ? transposeTo(rw, loc, r, {0, 2, 1, 3})
             : reshapeTo(rw, loc, r, t.getShape());
    rw.replaceOp(op, r);
    return success();
  }
};

struct GroupQueryAttentionToLinalg
    : public OpRewritePattern<ONNXMsGroupQueryAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMsGroupQueryAttentionOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op) || prism::getUnsupportedReason(op))
      return failure();
    Location loc = op.getLoc();
    auto qt = tensorType(op.getQuery());
    Type elem = qt.getElementType();
    int64_t batch = qt.getDimSize(0), seq = qt.getDimSize(1);
    int64_t heads = (int64_t)op.getNumHeads(), kvHeads = (int64_t)op.getKvNumHeads();
    int64_t group = heads / kvHeads;
    auto presentType = tensorType(op.getPresentKey());
    int64_t head = presentType.getDimSize(3), total = presentType.getDimSize(2);
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    if (isNone(k)) { // packed [B, S, (N + 2 KVN) H]
      auto slice = [&](int64_t begin, int64_t size) -> Value {
        SmallVector<OpFoldResult> offsets = {rw.getIndexAttr(0), rw.getIndexAttr(0),
                                             rw.getIndexAttr(begin)};
        SmallVector<OpFoldResult> sizes = {rw.getIndexAttr(batch), rw.getIndexAttr(seq),
                                           rw.getIndexAttr(size)};
        SmallVector<OpFoldResult> strides(3, rw.getIndexAttr(1));
        return tensor::ExtractSliceOp::create(
            rw, loc, RankedTensorType::get({batch, seq, size}, elem), op.getQuery(),
            offsets, sizes, strides);
      };
      q = slice(0, heads * head);
      k = slice(heads * head, kvHeads * head);
      v = slice((heads + kvHeads) * head, kvHeads * head);
    }
    // [B, S, N, H] views.
    q = reshapeTo(rw, loc, q, {batch, seq, heads, head});
    k = reshapeTo(rw, loc, k, {batch, seq, kvHeads, head});
    v = reshapeTo(rw, loc, v, {batch, seq, kvHeads, head});

    // past_seqlen[b] = max(seqlens_k[b] + 1 - S, 0) and total[b], as index
    // tensors [B, 1, 1, 1].
    auto lengthType = RankedTensorType::get({batch, 1, 1, 1}, rw.getIndexType());
    Value seqlens = op.getSeqlensK();
    Value pastLen = broadcastGeneric(
        rw, loc, lengthType, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value bIdx = linalg::IndexOp::create(b, l, 0);
          Value s = tensor::ExtractOp::create(b, l, seqlens, ValueRange{bIdx});
          Value total = arith::AddIOp::create(
              b, l, arith::IndexCastOp::create(b, l, b.getIndexType(), s),
              indexConst(b, l, 1));
          Value p = arith::SubIOp::create(b, l, total, indexConst(b, l, seq));
          return arith::MaxSIOp::create(b, l, p, indexConst(b, l, 0));
        });

    if (op.getDoRotary()) {
      auto posType = RankedTensorType::get({batch, seq, 1, 1}, rw.getIndexType());
      Value ids = op.getPositionIds();
      Value position = broadcastGeneric(
          rw, loc, posType, ValueRange{pastLen},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value sIdx = linalg::IndexOp::create(b, l, 1);
            if (isNone(ids))
              return arith::AddIOp::create(b, l, a[0], sIdx);
            Value p = tensor::ExtractOp::create(
                b, l, ids, ValueRange{linalg::IndexOp::create(b, l, 0), sIdx});
            return arith::IndexCastOp::create(b, l, b.getIndexType(), p);
          });
      int64_t rotaryDim = 2 * tensorType(op.getCosCache()).getDimSize(1);
      bool interleaved = op.getRotaryInterleaved() != 0;
      q = rotate(rw, loc, q, position, op.getCosCache(), op.getSinCache(), rotaryDim,
                 interleaved);
      k = rotate(rw, loc, k, position, op.getCosCache(), op.getSinCache(), rotaryDim,
                 interleaved);
    }

    // present[b, n, t, h] = past[b, n, t, h] for t < past_seqlen[b],
    // new[b, t - past_seqlen[b], n, h] for the S positions after, else 0.
    auto present = [&](Value past, Value fresh) {
      int64_t pastBuffer = isNone(past) ? 0 : tensorType(past).getDimSize(2);
      return broadcastGeneric(
          rw, loc, presentType, ValueRange{},
          [&](OpBuilder &b, Location l, ValueRange) -> Value {
            Value bIdx = linalg::IndexOp::create(b, l, 0);
            Value nIdx = linalg::IndexOp::create(b, l, 1);
            Value tIdx = linalg::IndexOp::create(b, l, 2);
            Value hIdx = linalg::IndexOp::create(b, l, 3);
            Value zero = indexConst(b, l, 0);
            Value p = tensor::ExtractOp::create(b, l, pastLen,
                                                ValueRange{bIdx, zero, zero, zero});
            Value rel = arith::SubIOp::create(b, l, tIdx, p);
            Value isPast = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, tIdx, p);
            Value isNew = arith::AndIOp::create(
                b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, rel, zero),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, rel,
                                      indexConst(b, l, seq)));
            Value newPos = arith::MaxSIOp::create(
                b, l, zero,
                arith::MinSIOp::create(b, l, rel, indexConst(b, l, seq - 1)));
            Value fromNew = tensor::ExtractOp::create(b, l, fresh,
                                                      ValueRange{bIdx, newPos, nIdx, hIdx});
            Value zeroValue = arith::ConstantOp::create(b, l, elem, b.getZeroAttr(elem));
            Value fromPast = zeroValue;
            if (pastBuffer > 0) {
              Value pastPos = arith::MinSIOp::create(b, l, tIdx,
                                                     indexConst(b, l, pastBuffer - 1));
              Value inBuffer = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, tIdx,
                                                     indexConst(b, l, pastBuffer));
              Value read = tensor::ExtractOp::create(b, l, past,
                                                     ValueRange{bIdx, nIdx, pastPos, hIdx});
              fromPast = arith::SelectOp::create(b, l, inBuffer, read, zeroValue);
            }
            return arith::SelectOp::create(
                b, l, isPast, fromPast,
                arith::SelectOp::create(b, l, isNew, fromNew, zeroValue));
          });
    };
    Value presentKey = present(op.getPastKey(), k);
    Value presentValue = present(op.getPastValue(), v);

    // scores[b, n, i, t] = scale * q[b, i, n, :] . K[b, n / group, t, :]
    MLIRContext *ctx = rw.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    double scale = op.getScale() && op.getScale()->convertToDouble() != 0.0
                       ? op.getScale()->convertToDouble()
                       : 1.0 / std::sqrt((double)head);
    auto scoresType = RankedTensorType::get({batch, heads, seq, total}, elem);
    Value zero = arith::ConstantOp::create(rw, loc, elem, rw.getZeroAttr(elem));
    auto filled = [&](RankedTensorType t) {
      return linalg::FillOp::create(
                 rw, loc, ValueRange{zero},
                 ValueRange{tensor::EmptyOp::create(rw, loc, t.getShape(), elem)})
          .getResult(0);
    };
    using IT = utils::IteratorType;
    // loops (b, n, i, t, h); the kv head is n floordiv group.
    Value scores =
        linalg::GenericOp::create(
            rw, loc, TypeRange{scoresType}, ValueRange{q, presentKey},
            ValueRange{filled(scoresType)},
            ArrayRef<AffineMap>{
                AffineMap::get(5, 0, {d(0), d(2), d(1), d(4)}, ctx),
                AffineMap::get(5, 0, {d(0), d(1).floorDiv(group), d(3), d(4)}, ctx),
                AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
            ArrayRef<IT>{IT::parallel, IT::parallel, IT::parallel, IT::parallel,
                         IT::reduction},
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value p = arith::MulFOp::create(b, l, a[0], a[1]);
              linalg::YieldOp::create(b, l, Value(arith::AddFOp::create(b, l, a[2], p)));
            })
            .getResult(0);
    // Scale, soft cap, and -inf outside [window start, past_seqlen + i].
    double softcap = op.getSoftcap().convertToDouble();
    int64_t window = (int64_t)op.getLocalWindowSize();
    scores = broadcastGeneric(
        rw, loc, scoresType, ValueRange{scores, pastLen},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto c = [&](double v) {
            return arith::ConstantOp::create(b, l, elem, b.getFloatAttr(elem, v)).getResult();
          };
          Value s = arith::MulFOp::create(b, l, a[0], c(scale));
          if (softcap > 0.0)
            s = arith::MulFOp::create(
                b, l, math::TanhOp::create(b, l, arith::DivFOp::create(b, l, s, c(softcap))),
                c(softcap));
          Value i = linalg::IndexOp::create(b, l, 2);
          Value t = linalg::IndexOp::create(b, l, 3);
          Value last = arith::AddIOp::create(b, l, a[1], i); // past_seqlen + i
          Value keep = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, t, last);
          if (window > 0) { // the last `window` keys, this one included
            Value first = arith::SubIOp::create(b, l, last, indexConst(b, l, window - 1));
            keep = arith::AndIOp::create(
                b, l, keep, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, t, first));
          }
          return arith::SelectOp::create(b, l, keep, s, c(-INFINITY));
        });
    Value probs = ONNXSoftmaxOp::create(rw, loc, scoresType, scores, (uint64_t)-1);
    // out[b, i, n, h] = sum_t probs[b, n, i, t] V[b, n / group, t, h]
    auto outType = RankedTensorType::get({batch, seq, heads, head}, elem);
    Value out =
        linalg::GenericOp::create(
            rw, loc, TypeRange{outType}, ValueRange{probs, presentValue},
            ValueRange{filled(outType)},
            ArrayRef<AffineMap>{
                AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx),
                AffineMap::get(5, 0, {d(0), d(1).floorDiv(group), d(4), d(3)}, ctx),
                AffineMap::get(5, 0, {d(0), d(2), d(1), d(3)}, ctx)},
            ArrayRef<IT>{IT::parallel, IT::parallel, IT::parallel, IT::parallel,
                         IT::reduction},
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value p = arith::MulFOp::create(b, l, a[0], a[1]);
              linalg::YieldOp::create(b, l, Value(arith::AddFOp::create(b, l, a[2], p)));
            })
            .getResult(0);
    out = reshapeTo(rw, loc, out, {batch, seq, heads * head});
    SmallVector<Value> results = {out, presentKey, presentValue};
    if (op->getNumResults() > 3)
      results.push_back(ONNXNoValueOp::create(rw, loc, op->getResult(3).getType()));
    rw.replaceOp(op, results);
    return success();
  }
};

} // namespace

void prism::lowering::populateGroupQueryAttentionPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RotaryEmbeddingToGeneric, GroupQueryAttentionToLinalg>(
      patterns.getContext());
}
