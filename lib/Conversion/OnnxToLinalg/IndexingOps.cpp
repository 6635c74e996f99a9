//===- IndexingOps.cpp - onnx ops that compute or follow indices ----------===//
//
// ArgMax/ArgMin (a reduction carrying the value and its index), Trilu and
// EyeLike (selects on the row and column index), GatherElements, Tile and
// OneHot (generics reading at computed coordinates) and CumSum (a reduction
// over the axis under a triangular mask) and TopK (ranking generics).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// ArgMax/ArgMin along `axis`: one reduction generic with two results, the
/// best value so far and its index. Ties keep the first index (the last
/// with select_last_index). The first element seeds the search; after it,
/// a NaN never replaces a number (comparisons with NaN are false).
template <typename OpTy, bool isMax>
struct ArgExtremumToGeneric : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = data.getElementType();
    bool isFloat = isa<FloatType>(elem), isUnsigned = elem.isUnsignedInteger();
    if (!isFloat && !isa<IntegerType>(elem))
      return failure();
    int64_t rank = data.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    bool last = op.getSelectLastIndex() != 0;
    Location loc = op.getLoc();
    SmallVector<int64_t> kept;
    SmallVector<AffineExpr> keptExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (d != axis) {
        kept.push_back(data.getDimSize(d));
        keptExprs.push_back(rewriter.getAffineDimExpr(d));
      }
    }
    Type signless = signlessOf(elem);
    // The first element along the axis seeds the value: no identity needed.
    TypedAttr seedAttr =
        isFloat ? TypedAttr(rewriter.getFloatAttr(elem, isMax ? -INFINITY : INFINITY))
                : TypedAttr(rewriter.getIntegerAttr(signless, 0));
    Value seed = arith::ConstantOp::create(rewriter, loc, seedAttr);
    Value seedIndex = arith::ConstantOp::create(rewriter, loc,
                                                rewriter.getI64IntegerAttr(-1));
    auto valueType = RankedTensorType::get(kept, signless);
    auto indexType = RankedTensorType::get(kept, rewriter.getI64Type());
    Value values = linalg::FillOp::create(
                       rewriter, loc, ValueRange{seed},
                       ValueRange{tensor::EmptyOp::create(rewriter, loc, kept, signless)})
                       .getResult(0);
    Value indices =
        linalg::FillOp::create(
            rewriter, loc, ValueRange{seedIndex},
            ValueRange{tensor::EmptyOp::create(rewriter, loc, kept,
                                               rewriter.getI64Type())})
            .getResult(0);
    Value input = op.getData();
    if (signless != elem) // unsigned data: compare signless bits unsigned
      input = tensor::BitcastOp::create(rewriter, loc, data.clone(signless), input);
    AffineMap keptMap = AffineMap::get(rank, 0, keptExprs, rewriter.getContext());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valueType, indexType}, ValueRange{input},
        ValueRange{values, indices},
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank), keptMap, keptMap},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], best = args[1], bestIndex = args[2];
          using F = arith::CmpFPredicate;
          using I = arith::CmpIPredicate;
          Value better;
          if (isFloat)
            better = arith::CmpFOp::create(
                b, l, isMax ? (last ? F::OGE : F::OGT) : (last ? F::OLE : F::OLT),
                x, best);
          else
            better = arith::CmpIOp::create(
                b, l,
                isMax ? (isUnsigned ? (last ? I::uge : I::ugt) : (last ? I::sge : I::sgt))
                      : (isUnsigned ? (last ? I::ule : I::ult) : (last ? I::sle : I::slt)),
                x, best);
          Value first = arith::CmpIOp::create(
              b, l, I::slt, bestIndex,
              arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0)));
          Value take = arith::OrIOp::create(b, l, better, first);
          Value i = arith::IndexCastOp::create(b, l, b.getI64Type(),
                                               linalg::IndexOp::create(b, l, axis));
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, take, x, best),
                         arith::SelectOp::create(b, l, take, i, bestIndex)});
        });
    Value r = generic.getResult(1);
    if (indexType != result) { // keepdims
      auto shapeType = RankedTensorType::get({result.getRank()}, rewriter.getI64Type());
      Value shape = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(shapeType, result.getShape()));
      r = tensor::ReshapeOp::create(rewriter, loc, result, r, shape);
    }
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Trilu: keep x[..., i, j] where j - i >= k (upper) or <= k (lower), else 0.
struct TriluToGeneric : public OpRewritePattern<ONNXTriluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXTriluOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = result.getElementType();
    if (!isa<FloatType, IntegerType>(elem) || result.getRank() < 2)
      return failure();
    Location loc = op.getLoc();
    Value k = arith::ConstantIndexOp::create(rewriter, loc, 0);
    if (!isa<NoneType>(op.getK().getType())) {
      Value v = tensor::ExtractOp::create(rewriter, loc, op.getK(), ValueRange{});
      k = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), v);
    }
    bool upper = op.getUpper() != 0;
    int64_t rank = result.getRank();
    Value r = broadcastGeneric(
        rewriter, loc, result, op.getInput(),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value i = linalg::IndexOp::create(b, l, rank - 2);
          Value j = linalg::IndexOp::create(b, l, rank - 1);
          Value diagonal = arith::SubIOp::create(b, l, j, i);
          Value keep = arith::CmpIOp::create(
              b, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
              diagonal, k);
          Type t = a[0].getType();
          Value zero = arith::ConstantOp::create(b, l, t, b.getZeroAttr(t));
          return arith::SelectOp::create(b, l, keep, a[0], zero);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// GatherElements: out[p] = data[p with p[axis] = indices[p]], negative
/// indices counted from the end; out-of-range ones are clamped (ONNX leaves
/// them undefined; clamping keeps the read in bounds).
struct GatherElementsToGeneric : public OpRewritePattern<ONNXGatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXGatherElementsOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto result = cast<RankedTensorType>(op.getType());
    int64_t rank = data.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    int64_t size = data.getDimSize(axis);
    Value source = op.getData();
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), result, op.getIndices(),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value idx = arith::IndexCastOp::create(b, l, b.getIndexType(), a[0]);
          Value n = arith::ConstantIndexOp::create(b, l, size);
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value negative =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, idx, zero);
          idx = arith::SelectOp::create(b, l, negative,
                                        arith::AddIOp::create(b, l, idx, n), idx);
          idx = arith::MaxSIOp::create(
              b, l, zero,
              arith::MinSIOp::create(b, l, idx,
                                     arith::ConstantIndexOp::create(b, l, size - 1)));
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d)
            coords.push_back(d == axis ? idx : Value(linalg::IndexOp::create(b, l, d)));
          Value v = tensor::ExtractOp::create(b, l, source, coords);
          return castScalar(b, l, v, signlessOf(v.getType()));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Tile: out[p] = input[p mod input's shape] (the repeats are in the static
/// result shape).
struct TileToGeneric : public OpRewritePattern<ONNXTileOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXTileOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto result = cast<RankedTensorType>(op.getType());
    Value source = op.getInput();
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), result, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < input.getRank(); ++d)
            coords.push_back(arith::RemUIOp::create(
                b, l, linalg::IndexOp::create(b, l, d),
                arith::ConstantIndexOp::create(b, l, input.getDimSize(d))));
          Value v = tensor::ExtractOp::create(b, l, source, coords);
          return castScalar(b, l, v, signlessOf(v.getType()));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// CumSum along `axis`: a generic with one extra reduction loop j over the
/// axis, adding x[.., j, ..] where j <= i (j < i when exclusive; the other
/// way round when reverse).
Value cumulativeSum(OpBuilder &rewriter, Location loc, Value x,
                    RankedTensorType result, int64_t axis, bool exclusive,
                    bool reverse) {
  Type elem = result.getElementType();
  int64_t rank = result.getRank();
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<AffineExpr> inExprs, outExprs;
  for (int64_t d = 0; d < rank; ++d) {
    inExprs.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
    outExprs.push_back(getAffineDimExpr(d, ctx));
  }
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value zero = arith::ConstantOp::create(rewriter, loc, elem, rewriter.getZeroAttr(elem));
  Value acc = linalg::FillOp::create(
                  rewriter, loc, ValueRange{zero},
                  ValueRange{tensor::EmptyOp::create(rewriter, loc, result.getShape(), elem)})
                  .getResult(0);
  return linalg::GenericOp::create(
             rewriter, loc, TypeRange{result}, ValueRange{x}, ValueRange{acc},
             ArrayRef<AffineMap>{AffineMap::get(rank + 1, 0, inExprs, ctx),
                                 AffineMap::get(rank + 1, 0, outExprs, ctx)},
             iterators,
             [&](OpBuilder &b, Location l, ValueRange args) {
               using P = arith::CmpIPredicate;
               Value i = linalg::IndexOp::create(b, l, axis);
               Value j = linalg::IndexOp::create(b, l, rank);
               P p = reverse ? (exclusive ? P::ugt : P::uge)
                             : (exclusive ? P::ult : P::ule);
               Value in = arith::CmpIOp::create(b, l, p, j, i);
               Value add = isa<FloatType>(elem)
                               ? Value(arith::AddFOp::create(b, l, args[1], args[0]))
                               : Value(arith::AddIOp::create(b, l, args[1], args[0]));
               linalg::YieldOp::create(
                   b, l, Value(arith::SelectOp::create(b, l, in, add, args[1])));
             })
      .getResult(0);
}

/// CumSum: along a constant axis directly; along a run-time one, one
/// generic per possible axis behind an scf.index_switch (an axis out of
/// range stops the program).
struct CumSumToGeneric : public OpRewritePattern<ONNXCumSumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXCumSumOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = result.getElementType();
    if (!isa<FloatType>(elem) && !elem.isSignlessInteger())
      return failure();
    int64_t rank = result.getRank();
    bool exclusive = op.getExclusive() != 0, reverse = op.getReverse() != 0;
    Location loc = op.getLoc();
    if (auto axisValues = constInts(op.getAxis())) {
      if (axisValues->size() != 1)
        return failure();
      int64_t axis = (*axisValues)[0] < 0 ? (*axisValues)[0] + rank : (*axisValues)[0];
      rewriter.replaceOp(op, cumulativeSum(rewriter, loc, op.getX(), result, axis,
                                           exclusive, reverse));
      return success();
    }
    auto axisType = cast<RankedTensorType>(op.getAxis().getType());
    SmallVector<Value> zeros(axisType.getRank(),
                             arith::ConstantIndexOp::create(rewriter, loc, 0));
    Value axis = tensor::ExtractOp::create(rewriter, loc, op.getAxis(), zeros);
    axis = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), axis);
    Value negative = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::slt, axis,
        arith::ConstantIndexOp::create(rewriter, loc, 0));
    axis = arith::SelectOp::create(
        rewriter, loc, negative,
        arith::AddIOp::create(rewriter, loc, axis,
                              arith::ConstantIndexOp::create(rewriter, loc, rank)),
        axis);
    SmallVector<int64_t> cases = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    auto sw = scf::IndexSwitchOp::create(rewriter, loc, TypeRange{result}, axis,
                                         cases, cases.size());
    for (auto [i, region] : llvm::enumerate(sw.getCaseRegions())) {
      Block *block = rewriter.createBlock(&region);
      rewriter.setInsertionPointToStart(block);
      scf::YieldOp::create(rewriter, loc,
                           cumulativeSum(rewriter, loc, op.getX(), result, i,
                                         exclusive, reverse));
    }
    Block *fallback = rewriter.createBlock(&sw.getDefaultRegion());
    rewriter.setInsertionPointToStart(fallback);
    cf::AssertOp::create(rewriter, loc,
                         arith::ConstantOp::create(rewriter, loc, rewriter.getBoolAttr(false)),
                         "CumSum: the axis is out of range");
    scf::YieldOp::create(rewriter, loc,
                         tensor::EmptyOp::create(rewriter, loc, result.getShape(), elem)
                             .getResult());
    rewriter.setInsertionPointAfter(sw);
    rewriter.replaceOp(op, sw.getResults());
    return success();
  }
};

/// OneHot: values[1] where the index along the new axis equals the
/// (wrapped) index, values[0] elsewhere.
struct OneHotToGeneric : public OpRewritePattern<ONNXOneHotOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXOneHotOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = result.getElementType();
    if (!isa<FloatType>(elem) && !isa<IntegerType>(elem))
      return failure();
    int64_t rank = result.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    int64_t depth = result.getDimSize(axis);
    Location loc = op.getLoc();
    auto at = [&](int64_t k) -> Value {
      Value i = arith::ConstantIndexOp::create(rewriter, loc, k);
      Value v = tensor::ExtractOp::create(rewriter, loc, op.getValues(), ValueRange{i});
      return castScalar(rewriter, loc, v, signlessOf(v.getType()));
    };
    Value off = at(0), on = at(1);
    Value indices = op.getIndices();
    Type indexElem = getElementTypeOrSelf(indices.getType());
    Value r = broadcastGeneric(
        rewriter, loc, result, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d)
            if (d != axis)
              coords.push_back(linalg::IndexOp::create(b, l, d));
          Value idx = tensor::ExtractOp::create(b, l, indices, coords);
          // Float indices are truncated, as ONNX Runtime casts them.
          if (isa<FloatType>(indexElem))
            idx = arith::FPToSIOp::create(b, l, b.getI64Type(), idx);
          else
            idx = castScalar(b, l, idx, signlessOf(indexElem));
          idx = arith::IndexCastOp::create(b, l, b.getIndexType(), idx);
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value n = arith::ConstantIndexOp::create(b, l, depth);
          Value negative = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, idx, zero);
          idx = arith::SelectOp::create(b, l, negative, arith::AddIOp::create(b, l, idx, n), idx);
          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx,
                                            linalg::IndexOp::create(b, l, axis));
          return arith::SelectOp::create(b, l, hit, on, off);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// EyeLike: ones on the k-th diagonal.
struct EyeLikeToGeneric : public OpRewritePattern<ONNXEyeLikeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXEyeLikeOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = signlessOf(result.getElementType());
    if (result.getRank() != 2 || (!isa<FloatType>(elem) && !isa<IntegerType>(elem)))
      return failure();
    int64_t k = (int64_t)op.getK();
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), result, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value j = linalg::IndexOp::create(b, l, 1);
          Value diagonal = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq, arith::SubIOp::create(b, l, j, i),
              arith::ConstantIndexOp::create(b, l, k));
          Value one = arith::ConstantOp::create(b, l, elem, b.getOneAttr(elem));
          Value zero = arith::ConstantOp::create(b, l, elem, b.getZeroAttr(elem));
          return arith::SelectOp::create(b, l, diagonal, one, zero);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// GatherND: out[b..., i..., j...] = data[b..., indices[b..., i..., :], j...].
struct GatherNDToGeneric : public OpRewritePattern<ONNXGatherNDOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXGatherNDOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    auto result = cast<RankedTensorType>(op.getType());
    int64_t batch = (int64_t)op.getBatchDims();
    int64_t q = indices.getRank(), k = indices.getDimSize(q - 1);
    Value source = op.getData(), idx = op.getIndices();
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), result, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          // Output dims: indices' first q - 1, then data's after batch + k.
          SmallVector<Value> outer;
          for (int64_t d = 0; d < q - 1; ++d)
            outer.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<Value> coords(outer.begin(), outer.begin() + batch);
          for (int64_t c = 0; c < k; ++c) {
            SmallVector<Value> at = outer;
            at.push_back(arith::ConstantIndexOp::create(b, l, c));
            Value v = tensor::ExtractOp::create(b, l, idx, at);
            coords.push_back(wrapIndex(b, l, v, data.getDimSize(batch + c)));
          }
          for (int64_t d = batch + k; d < data.getRank(); ++d)
            coords.push_back(linalg::IndexOp::create(b, l, q - 1 + d - batch - k));
          Value v = tensor::ExtractOp::create(b, l, source, coords);
          return castScalar(b, l, v, signlessOf(v.getType()));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Combines an update into the value by Scatter's reduction attribute.
Value combineUpdate(OpBuilder &b, Location l, StringRef reduction, Value acc,
                    Value update, bool isUnsigned) {
  bool isFloat = isa<FloatType>(acc.getType());
  if (reduction == "add")
    return isFloat ? Value(arith::AddFOp::create(b, l, acc, update))
                   : Value(arith::AddIOp::create(b, l, acc, update));
  if (reduction == "mul")
    return isFloat ? Value(arith::MulFOp::create(b, l, acc, update))
                   : Value(arith::MulIOp::create(b, l, acc, update));
  if (reduction == "max")
    return isFloat      ? Value(arith::MaximumFOp::create(b, l, acc, update))
           : isUnsigned ? Value(arith::MaxUIOp::create(b, l, acc, update))
                        : Value(arith::MaxSIOp::create(b, l, acc, update));
  if (reduction == "min")
    return isFloat      ? Value(arith::MinimumFOp::create(b, l, acc, update))
           : isUnsigned ? Value(arith::MinUIOp::create(b, l, acc, update))
                        : Value(arith::MinSIOp::create(b, l, acc, update));
  return update; // none: the (last) update
}

/// A generic over the output's dims plus one reduction loop of `count`
/// steps, starting from `data`; `body(b, l, acc, step)` returns the new
/// value of the output element.
Value scatterGeneric(
    PatternRewriter &rewriter, Location loc, Value data, int64_t count,
    function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  auto t = cast<RankedTensorType>(data.getType());
  int64_t rank = t.getRank();
  MLIRContext *ctx = rewriter.getContext();
  Value steps = tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{count},
                                        rewriter.getI1Type());
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  // The output starts as a copy of data (the outs operand is updated).
  Value init = linalg::CopyOp::create(
                   rewriter, loc, data,
                   tensor::EmptyOp::create(rewriter, loc, t.getShape(), t.getElementType()).getResult())
                   .getResult(0);
  return linalg::GenericOp::create(
             rewriter, loc, TypeRange{t}, ValueRange{steps}, ValueRange{init},
             ArrayRef<AffineMap>{AffineMap::get(rank + 1, 0, {getAffineDimExpr(rank, ctx)}, ctx),
                                 AffineMap::getMultiDimIdentityMap(rank + 1, ctx)
                                     .getSubMap(llvm::to_vector(llvm::seq<unsigned>(0, rank)))},
             iterators,
             [&](OpBuilder &b, Location l, ValueRange a) {
               Value acc = castScalar(b, l, a[1], signlessOf(a[1].getType()));
               Value step = linalg::IndexOp::create(b, l, rank);
               Value r = body(b, l, acc, step);
               linalg::YieldOp::create(b, l, castScalar(b, l, r, t.getElementType()));
             })
      .getResult(0);
}

/// ScatterND: each index tuple of indices [M..., k] selects a slice of the
/// output that combines with its update; one reduction over the tuples.
struct ScatterNDToGeneric : public OpRewritePattern<ONNXScatterNDOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXScatterNDOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    int64_t q = indices.getRank(), k = indices.getDimSize(q - 1);
    int64_t count = 1;
    for (int64_t d = 0; d < q - 1; ++d)
      count *= indices.getDimSize(d);
    if (!isa<FloatType, IntegerType>(data.getElementType()))
      return failure();
    bool isUnsigned = data.getElementType().isUnsignedInteger();
    Location loc = op.getLoc();
    // Indices as [count, k] and updates as [count, rest...].
    auto flat = [&](Value v, SmallVector<int64_t> shape) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      auto shapeType = RankedTensorType::get({(int64_t)shape.size()}, rewriter.getI64Type());
      Value s = arith::ConstantOp::create(rewriter, loc,
                                          DenseElementsAttr::get(shapeType, ArrayRef(shape)));
      return tensor::ReshapeOp::create(rewriter, loc, t.clone(shape), v, s);
    };
    Value idx = flat(op.getIndices(), {count, k});
    SmallVector<int64_t> updateShape = {count};
    for (int64_t d = k; d < data.getRank(); ++d)
      updateShape.push_back(data.getDimSize(d));
    Value updates = flat(op.getUpdates(), updateShape);
    StringRef reduction = op.getReduction();
    int64_t rank = data.getRank();
    Value r = scatterGeneric(
        rewriter, loc, op.getData(), count,
        [&](OpBuilder &b, Location l, Value acc, Value step) -> Value {
          Value match = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          for (int64_t c = 0; c < k; ++c) {
            Value v = tensor::ExtractOp::create(
                b, l, idx, ValueRange{step, arith::ConstantIndexOp::create(b, l, c)});
            Value i = wrapIndex(b, l, v, data.getDimSize(c));
            match = arith::AndIOp::create(
                b, l, match,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i,
                                      linalg::IndexOp::create(b, l, c)));
          }
          SmallVector<Value> at = {step};
          for (int64_t d = k; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          Value u = tensor::ExtractOp::create(b, l, updates, at);
          u = castScalar(b, l, u, signlessOf(u.getType()));
          return arith::SelectOp::create(
              b, l, match, combineUpdate(b, l, reduction, acc, u, isUnsigned), acc);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// ScatterElements: output[p] combines updates[q] for every q whose index
/// along `axis` points at p (q equals p on the other dims).
struct ScatterElementsToGeneric : public OpRewritePattern<ONNXScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXScatterElementsOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    if (!isa<FloatType, IntegerType>(data.getElementType()))
      return failure();
    bool isUnsigned = data.getElementType().isUnsignedInteger();
    int64_t rank = data.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    Value idx = op.getIndices(), updates = op.getUpdates();
    StringRef reduction = op.getReduction();
    Value r = scatterGeneric(
        rewriter, op.getLoc(), op.getData(), indices.getDimSize(axis),
        [&](OpBuilder &b, Location l, Value acc, Value step) -> Value {
          // q = p with q[axis] = step, inside the indices' shape.
          Value inside = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          SmallVector<Value> q;
          for (int64_t d = 0; d < rank; ++d) {
            if (d == axis) {
              q.push_back(step);
              continue;
            }
            Value p = linalg::IndexOp::create(b, l, d);
            inside = arith::AndIOp::create(
                b, l, inside,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, p,
                                      arith::ConstantIndexOp::create(b, l, indices.getDimSize(d))));
            q.push_back(arith::MinUIOp::create(
                b, l, p, arith::ConstantIndexOp::create(b, l, indices.getDimSize(d) - 1)));
          }
          Value target = wrapIndex(b, l, tensor::ExtractOp::create(b, l, idx, q),
                                   data.getDimSize(axis));
          Value match = arith::AndIOp::create(
              b, l, inside,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, target,
                                    linalg::IndexOp::create(b, l, axis)));
          Value u = tensor::ExtractOp::create(b, l, updates, q);
          u = castScalar(b, l, u, signlessOf(u.getType()));
          return arith::SelectOp::create(
              b, l, match, combineUpdate(b, l, reduction, acc, u, isUnsigned), acc);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// TopK with a constant k, by ranking: element i's rank along the axis is
/// the number of elements that come before it (larger, or smaller with
/// largest = 0; equal ones by lower index, as ONNX's reference), and the
/// output at position r is the element of rank r. Both steps are generics
/// over the axis moved last; ranking is quadratic in the axis length.
struct TopKToGeneric : public OpRewritePattern<ONNXTopKOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXTopKOp op,
                                PatternRewriter &rewriter) const override {
    auto k = constInts(op.getK());
    if (!allStatic(op) || !k || k->size() != 1)
      return failure();
    auto data = cast<RankedTensorType>(op.getX().getType());
    Type elem = data.getElementType();
    bool isFloat = isa<FloatType>(elem), isUnsigned = elem.isUnsignedInteger();
    if (!isFloat && !isa<IntegerType>(elem))
      return failure();
    int64_t rank = data.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    bool largest = op.getLargest() != 0;
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();

    // The axis last: x[p..., i].
    SmallVector<int64_t> perm, inverse(rank);
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        perm.push_back(d);
    perm.push_back(axis);
    for (int64_t d = 0; d < rank; ++d)
      inverse[perm[d]] = d;
    Type signless = signlessOf(elem);
    Value x = op.getX();
    if (signless != elem)
      x = tensor::BitcastOp::create(rewriter, loc, data.clone(signless), x);
    x = transposeTo(rewriter, loc, x, perm);
    auto xType = cast<RankedTensorType>(x.getType());

    auto dims = [&](int64_t count) {
      SmallVector<AffineExpr> exprs;
      for (int64_t d = 0; d < count; ++d)
        exprs.push_back(rewriter.getAffineDimExpr(d));
      return exprs;
    };
    auto rowAnd = [&](ArrayRef<int64_t> lastDims) {
      SmallVector<AffineExpr> exprs = dims(rank - 1);
      for (int64_t d : lastDims)
        exprs.push_back(rewriter.getAffineDimExpr(d));
      return AffineMap::get(rank + 1, 0, exprs, ctx);
    };
    SmallVector<utils::IteratorType> iterators(rank - 1,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Type i64 = rewriter.getI64Type();
    auto zeros = [&](ArrayRef<int64_t> shape, Type type) {
      Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(type));
      Value empty = tensor::EmptyOp::create(rewriter, loc, shape, type);
      return linalg::FillOp::create(rewriter, loc, ValueRange{zero}, ValueRange{empty})
          .getResult(0);
    };

    // rank[p, i] = #{j : x[p, j] comes before x[p, i]}, dims (p..., i, j).
    int64_t iDim = rank - 1, jDim = rank;
    auto ranks = linalg::GenericOp::create(
        rewriter, loc, TypeRange{xType.clone(i64)}, ValueRange{x, x},
        ValueRange{zeros(xType.getShape(), i64)},
        ArrayRef<AffineMap>{rowAnd({iDim}), rowAnd({jDim}), rowAnd({iDim})},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value xi = args[0], xj = args[1];
          using F = arith::CmpFPredicate;
          using I = arith::CmpIPredicate;
          Value beats, ties;
          if (isFloat) {
            beats = arith::CmpFOp::create(b, l, largest ? F::OGT : F::OLT, xj, xi);
            ties = arith::CmpFOp::create(b, l, F::OEQ, xj, xi);
          } else {
            beats = arith::CmpIOp::create(
                b, l,
                largest ? (isUnsigned ? I::ugt : I::sgt) : (isUnsigned ? I::ult : I::slt),
                xj, xi);
            ties = arith::CmpIOp::create(b, l, I::eq, xj, xi);
          }
          Value earlier = arith::CmpIOp::create(
              b, l, I::ult, linalg::IndexOp::create(b, l, jDim),
              linalg::IndexOp::create(b, l, iDim));
          Value before = arith::OrIOp::create(
              b, l, beats, arith::AndIOp::create(b, l, ties, earlier));
          Value one = arith::ExtUIOp::create(b, l, i64, before);
          linalg::YieldOp::create(b, l, ValueRange{arith::AddIOp::create(b, l, args[2], one)});
        }).getResult(0);

    // out[p, r] = the x[p, i] (and i) with rank[p, i] == r, dims (p..., r, i).
    SmallVector<int64_t> outShape(xType.getShape());
    outShape.back() = (*k)[0];
    int64_t rDim = rank - 1, kDim = rank;
    auto select = linalg::GenericOp::create(
        rewriter, loc, TypeRange{xType.clone(outShape), xType.clone(outShape).clone(i64)},
        ValueRange{x, ranks},
        ValueRange{zeros(outShape, signless), zeros(outShape, i64)},
        ArrayRef<AffineMap>{rowAnd({kDim}), rowAnd({kDim}), rowAnd({rDim}),
                            rowAnd({rDim})},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value r = arith::IndexCastOp::create(b, l, i64,
                                               linalg::IndexOp::create(b, l, rDim));
          Value i = arith::IndexCastOp::create(b, l, i64,
                                               linalg::IndexOp::create(b, l, kDim));
          Value match = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              args[1], r);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, match, args[0], args[2]),
                         arith::SelectOp::create(b, l, match, i, args[3])});
        });
    Value values = transposeTo(rewriter, loc, select.getResult(0), inverse);
    Value indices = transposeTo(rewriter, loc, select.getResult(1), inverse);
    if (signless != elem)
      values = tensor::BitcastOp::create(rewriter, loc, op.getValues().getType(), values);
    rewriter.replaceOp(op, {values, indices});
    return success();
  }
};

/// ReverseSequence: out[b, t] = x[b, len[b] - 1 - t] for t < len[b] (batch
/// and time axes as given), else x[b, t]; lengths are read at run time.
struct ReverseSequenceToGeneric : public OpRewritePattern<ONNXReverseSequenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXReverseSequenceOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    if (!type.getElementType().isIntOrIndexOrFloat())
      return failure();
    int64_t rank = type.getRank();
    int64_t batchAxis = (int64_t)op.getBatchAxis(), timeAxis = (int64_t)op.getTimeAxis();
    Location loc = op.getLoc();
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType());
    AffineMap lensMap = AffineMap::get(rank, 0, rewriter.getAffineDimExpr(batchAxis));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{op.getSequenceLens()},
        ValueRange{init},
        ArrayRef<AffineMap>{lensMap, rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          Value len = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          Value t = coords[timeAxis];
          Value one = arith::ConstantIndexOp::create(b, l, 1);
          Value reversed = arith::SubIOp::create(
              b, l, arith::SubIOp::create(b, l, len, one), t);
          Value inside = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, t, len);
          coords[timeAxis] = arith::SelectOp::create(b, l, inside, reversed, t);
          linalg::YieldOp::create(
              b, l, tensor::ExtractOp::create(b, l, op.getInput(), coords).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void prism::lowering::populateIndexingPatterns(RewritePatternSet &patterns) {
  patterns.add<ArgExtremumToGeneric<ONNXArgMaxOp, true>,
               ArgExtremumToGeneric<ONNXArgMinOp, false>, TriluToGeneric,
               GatherElementsToGeneric, TileToGeneric, CumSumToGeneric,
               OneHotToGeneric, EyeLikeToGeneric, GatherNDToGeneric,
               ScatterNDToGeneric, ScatterElementsToGeneric, TopKToGeneric,
               ReverseSequenceToGeneric>(patterns.getContext());
}
