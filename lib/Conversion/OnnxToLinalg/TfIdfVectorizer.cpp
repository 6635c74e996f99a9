//===- TfIdfVectorizer.cpp - TfIdfVectorizer on integer tokens ------------===//
//
// The pool is an attribute, so it becomes constant tensors laid out by output
// coordinate: slot (o, j) holds the j-th pool n-gram counted into Y[o] (its
// length, 0 for an empty slot, and one tensor per token position). One
// linalg.generic over (row, o, j, skip, start) counts the matches, reducing
// over the last three; a second applies the mode.
//
// The counting follows ONNX Runtime, whose results ONNX's test data holds:
// only the pool n-grams with a length in [min_gram_length, max_gram_length]
// are counted, unigrams once, longer n-grams once per skip in
// [0, max_skip_count] (a match at several skips counts several times), and a
// repeated pool n-gram only under its first index. The weights are indexed by
// output coordinate, as ONNX Runtime and ONNX's reference implementation do.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <set>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// The pool n-grams counted, grouped by the output coordinate they count into.
struct Pool {
  /// slots[o]: the n-grams counted into Y[o].
  SmallVector<SmallVector<SmallVector<int64_t>>> slots;
  int64_t maxSlots = 0;
  int64_t maxLength = 0;
};

/// The pool of `op` for `outputSize` coordinates; nullopt if the attributes
/// are inconsistent.
std::optional<Pool> buildPool(ONNXTfIdfVectorizerOp op, int64_t outputSize) {
  ArrayAttr poolAttr = op.getPoolInt64sAttr();
  if (!poolAttr)
    return std::nullopt;
  SmallVector<int64_t> pool, counts, indexes;
  for (Attribute a : poolAttr)
    pool.push_back(cast<IntegerAttr>(a).getInt());
  for (Attribute a : op.getNgramCounts())
    counts.push_back(cast<IntegerAttr>(a).getInt());
  for (Attribute a : op.getNgramIndexes())
    indexes.push_back(cast<IntegerAttr>(a).getInt());
  int64_t minLength = op.getMinGramLengthAttr().getInt();
  int64_t maxLength = op.getMaxGramLengthAttr().getInt();
  if (minLength < 1 || maxLength < minLength ||
      op.getMaxSkipCountAttr().getInt() < 0)
    return std::nullopt;

  Pool result;
  result.slots.resize(outputSize);
  std::set<SmallVector<int64_t>> seen;
  int64_t id = 0;
  for (auto [i, begin] : llvm::enumerate(counts)) {
    int64_t length = i + 1;
    int64_t end = i + 1 < counts.size() ? counts[i + 1] : (int64_t)pool.size();
    if (begin < 0 || end < begin || end > (int64_t)pool.size() ||
        (end - begin) % length)
      return std::nullopt;
    for (int64_t p = begin; p < end; p += length, ++id) {
      if (length < minLength || length > maxLength)
        continue;
      if (id >= (int64_t)indexes.size() || indexes[id] < 0 ||
          indexes[id] >= outputSize)
        return std::nullopt;
      SmallVector<int64_t> gram(pool.begin() + p, pool.begin() + p + length);
      if (!seen.insert(gram).second)
        continue;
      auto &slot = result.slots[indexes[id]];
      slot.push_back(gram);
      result.maxSlots = std::max<int64_t>(result.maxSlots, slot.size());
      result.maxLength = std::max(result.maxLength, length);
    }
  }
  return result;
}

struct TfIdfVectorizerToGeneric
    : public OpRewritePattern<ONNXTfIdfVectorizerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXTfIdfVectorizerOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op) || prism::getUnsupportedReason(op))
      return failure();
    auto xType = tensorType(op.getX());
    auto yType = tensorType(op.getY());
    auto tokenType = dyn_cast<IntegerType>(xType.getElementType());
    int64_t rank = xType.getRank();
    if (!tokenType || !tokenType.isSignless() || (rank != 1 && rank != 2) ||
        yType.getRank() != rank ||
        (rank == 2 && yType.getDimSize(0) != xType.getDimSize(0)))
      return failure();
    int64_t rows = rank == 2 ? xType.getDimSize(0) : 1;
    int64_t length = xType.getShape().back();
    int64_t outputSize = yType.getShape().back();
    std::optional<Pool> pool = buildPool(op, outputSize);
    if (!pool)
      return failure();
    StringRef mode = op.getMode();
    SmallVector<float> weights;
    if (ArrayAttr weightsAttr = op.getWeightsAttr();
        weightsAttr && mode != "TF") {
      for (Attribute a : weightsAttr)
        weights.push_back(cast<FloatAttr>(a).getValueAsDouble());
      if ((int64_t)weights.size() < outputSize)
        return failure();
      weights.resize(outputSize);
    }

    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    Value x = reshapeTo(rewriter, loc, op.getX(), {rows, length});
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getI32IntegerAttr(0));
    Value counts =
        linalg::FillOp::create(
            rewriter, loc, ValueRange{zero},
            ValueRange{tensor::EmptyOp::create(
                rewriter, loc, ArrayRef<int64_t>{rows, outputSize}, i32)})
            .getResult(0);

    // No pool n-gram in range leaves every count 0.
    if (pool->maxSlots > 0) {
      // A skip moves the second token of an n-gram past the row end from
      // s = length - 1 on, and unigrams take no skip.
      int64_t skips = 1;
      if (pool->maxLength > 1)
        skips = std::min<int64_t>(op.getMaxSkipCountAttr().getInt(),
                                  std::max<int64_t>(length - 2, 0)) +
                1;
      int64_t slots = pool->maxSlots, maxLength = pool->maxLength;
      auto slotType = RankedTensorType::get({outputSize, slots}, i64);
      SmallVector<int64_t> lengths(outputSize * slots, 0);
      SmallVector<SmallVector<int64_t>> tokens(maxLength, lengths);
      for (auto [o, grams] : llvm::enumerate(pool->slots))
        for (auto [j, gram] : llvm::enumerate(grams)) {
          lengths[o * slots + j] = gram.size();
          for (auto [k, token] : llvm::enumerate(gram))
            tokens[k][o * slots + j] = token;
        }
      auto constant = [&](RankedTensorType type,
                          ArrayRef<int64_t> values) -> Value {
        return arith::ConstantOp::create(rewriter, loc,
                                         DenseElementsAttr::get(type, values));
      };
      // The distance between the tokens of an n-gram, skip + 1, per skip.
      SmallVector<int64_t> strides =
          llvm::to_vector(llvm::seq<int64_t>(1, skips + 1));
      // Loops (row, o, j, skip, start): X read at (row, start), the strides
      // at skip, the pool at (o, j), the counts at (row, o).
      auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
      AffineMap poolMap = AffineMap::get(5, 0, {d(1), d(2)}, ctx);
      SmallVector<Value> inputs{
          x, constant(RankedTensorType::get({skips}, i64), strides),
          constant(slotType, lengths)};
      SmallVector<AffineMap> maps{AffineMap::get(5, 0, {d(0), d(4)}, ctx),
                                  AffineMap::get(5, 0, {d(3)}, ctx), poolMap};
      for (ArrayRef<int64_t> t : tokens) {
        inputs.push_back(constant(slotType, t));
        maps.push_back(poolMap);
      }
      maps.push_back(AffineMap::get(5, 0, {d(0), d(1)}, ctx));
      SmallVector<utils::IteratorType> iterators(
          3, utils::IteratorType::reduction);
      iterators.insert(iterators.begin(), 2, utils::IteratorType::parallel);
      auto body = [&](OpBuilder &b, Location l, ValueRange args) {
        auto index = [&](int64_t v) -> Value {
          return arith::ConstantIndexOp::create(b, l, v);
        };
        auto cmp = [&](arith::CmpIPredicate p, Value lhs, Value rhs) -> Value {
          return arith::CmpIOp::create(b, l, p, lhs, rhs);
        };
        auto token = [&](Value t) -> Value {
          return t.getType() == i64 ? t : arith::ExtSIOp::create(b, l, i64, t);
        };
        Value row = linalg::IndexOp::create(b, l, 0);
        Value start = linalg::IndexOp::create(b, l, 4);
        Value stride =
            arith::IndexCastOp::create(b, l, b.getIndexType(), args[1]);
        Value n = arith::IndexCastOp::create(b, l, b.getIndexType(), args[2]);
        // An n-gram of length n takes this (skip, start) when the slot holds
        // one, n > 1 or skip = 0, and its last token is in the row.
        Value last = arith::AddIOp::create(
            b, l, start,
            arith::MulIOp::create(
                b, l, arith::SubIOp::create(b, l, n, index(1)), stride));
        Value match = arith::AndIOp::create(
            b, l, cmp(arith::CmpIPredicate::sgt, n, index(0)),
            cmp(arith::CmpIPredicate::slt, last, index(length)));
        match = arith::AndIOp::create(
            b, l, match,
            arith::OrIOp::create(
                b, l, cmp(arith::CmpIPredicate::eq, stride, index(1)),
                cmp(arith::CmpIPredicate::sgt, n, index(1))));
        match = arith::AndIOp::create(
            b, l, match,
            cmp(arith::CmpIPredicate::eq, token(args[0]), args[3]));
        for (int64_t k = 1; k < maxLength; ++k) {
          // Clamped: the token is read whether or not the n-gram fits.
          Value pos = arith::MinSIOp::create(
              b, l,
              arith::AddIOp::create(
                  b, l, start, arith::MulIOp::create(b, l, index(k), stride)),
              index(length - 1));
          Value t =
              token(tensor::ExtractOp::create(b, l, x, ValueRange{row, pos}));
          Value same = arith::OrIOp::create(
              b, l, cmp(arith::CmpIPredicate::eq, t, args[3 + k]),
              cmp(arith::CmpIPredicate::sle, n, index(k)));
          match = arith::AndIOp::create(b, l, match, same);
        }
        Value sum = arith::AddIOp::create(
            b, l, args.back(), arith::ExtUIOp::create(b, l, i32, match));
        linalg::YieldOp::create(b, l, sum);
      };
      counts = linalg::GenericOp::create(
                   rewriter, loc, TypeRange{counts.getType()}, inputs,
                   ValueRange{counts}, maps, iterators, body)
                   .getResult(0);
    }

    // The mode: TF the counts, IDF the weight where the count is not 0 and
    // TFIDF the counts times the weights (the weights are 1 when absent).
    Type f32 = rewriter.getF32Type();
    auto resultType = RankedTensorType::get({rows, outputSize}, f32);
    SmallVector<Value> inputs{counts};
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(2)};
    if (!weights.empty()) {
      inputs.push_back(arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(RankedTensorType::get({outputSize}, f32),
                                 ArrayRef<float>(weights))));
      maps.push_back(AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx));
    }
    maps.push_back(maps.front());
    Value init =
        tensor::EmptyOp::create(rewriter, loc, resultType.getShape(), f32);
    Value y =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init},
            maps,
            SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              auto cst = [&](double v) -> Value {
                return arith::ConstantOp::create(b, l, b.getF32FloatAttr(v));
              };
              Value weight = weights.empty() ? cst(1) : args[1];
              Value v;
              if (mode == "IDF") {
                Value found = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::sgt, args[0],
                    arith::ConstantOp::create(b, l, b.getI32IntegerAttr(0)));
                v = arith::SelectOp::create(b, l, found, weight, cst(0));
              } else {
                v = arith::SIToFPOp::create(b, l, f32, args[0]);
                if (!weights.empty())
                  v = arith::MulFOp::create(b, l, v, weight);
              }
              linalg::YieldOp::create(b, l, v);
            })
            .getResult(0);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, y, yType.getShape()));
    return success();
  }
};

} // namespace

void prism::lowering::populateTfIdfPatterns(RewritePatternSet &patterns) {
  patterns.add<TfIdfVectorizerToGeneric>(patterns.getContext());
}
