//===- WindowOps.cpp - Conv, pooling and Pad ------------------------------===//
//
// Conv (any spatial rank, groups, dilations, strides, explicit or automatic
// padding; ConvInteger through it), ConvTranspose, and MaxPool/AveragePool
// as linalg.generic windows over a padded
// input, the window read through affine maps (o * stride + k * dilation);
// Pad (constant, edge, reflect; run-time pads) as a generic computing each
// output's source coordinate.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

SmallVector<int64_t> intsOr(std::optional<ArrayAttr> attr, size_t n,
                            int64_t value) {
  SmallVector<int64_t> out;
  if (attr)
    for (Attribute a : *attr)
      out.push_back(cast<IntegerAttr>(a).getInt());
  if (out.empty())
    out.assign(n, value);
  return out;
}

/// The window of one spatial dim: kernel, stride, dilation, padding before
/// and after (the after part including ceil_mode's extra cells, which
/// `extra` counts).
struct WindowDim {
  int64_t kernel, stride, dilation, before, after, extra;
};

/// The windows of an op from its attributes and its static input and output
/// spatial sizes; nullopt when the sizes do not fit.
std::optional<SmallVector<WindowDim>>
windows(ArrayRef<int64_t> in, ArrayRef<int64_t> out, ArrayRef<int64_t> kernel,
        std::optional<ArrayAttr> stridesAttr, std::optional<ArrayAttr> dilationsAttr,
        std::optional<ArrayAttr> padsAttr, StringRef autoPad) {
  size_t r = in.size();
  SmallVector<int64_t> strides = intsOr(stridesAttr, r, 1);
  SmallVector<int64_t> dilations = intsOr(dilationsAttr, r, 1);
  SmallVector<int64_t> pads = intsOr(padsAttr, 2 * r, 0);
  if (kernel.size() != r || strides.size() != r || dilations.size() != r ||
      pads.size() != 2 * r)
    return std::nullopt;
  SmallVector<WindowDim> dims;
  for (size_t i = 0; i < r; ++i) {
    int64_t span = (kernel[i] - 1) * dilations[i] + 1;
    // The padded length every output position needs.
    int64_t needed = (out[i] - 1) * strides[i] + span;
    int64_t total = std::max<int64_t>(needed - in[i], 0);
    int64_t before = pads[i], after = pads[i + r];
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      before = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      after = total - before;
    } else if (autoPad == "VALID") {
      before = after = 0;
    }
    int64_t extra = std::max<int64_t>(needed - (in[i] + before + after), 0);
    dims.push_back({kernel[i], strides[i], dilations[i], before, after + extra, extra});
  }
  return dims;
}

/// `x` [N, C, spatial...] padded with `value` by the windows (before/after).
Value padInput(OpBuilder &b, Location loc, Value x, ArrayRef<WindowDim> dims,
               Value value) {
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> low(2, 0), high(2, 0);
  bool any = false;
  for (const WindowDim &d : dims) {
    low.push_back(d.before);
    high.push_back(d.after);
    any |= d.before || d.after;
  }
  if (!any)
    return x;
  SmallVector<int64_t> shape(t.getShape());
  for (size_t i = 0; i < dims.size(); ++i)
    shape[i + 2] += low[i + 2] + high[i + 2];
  SmallVector<OpFoldResult> lowFold, highFold;
  for (auto [l, h] : llvm::zip(low, high)) {
    lowFold.push_back(b.getIndexAttr(l));
    highFold.push_back(b.getIndexAttr(h));
  }
  return tensor::PadOp::create(b, loc, t.clone(shape), x, lowFold, highFold, value);
}

/// y [N, M, spatial...] plus a float bias [M] along the channel dim.
Value addChannelBias(OpBuilder &b, Location loc, Value y, Value bias) {
  auto yt = cast<RankedTensorType>(y.getType());
  SmallVector<int64_t> shape(yt.getRank(), 1);
  shape[1] = yt.getDimSize(1);
  auto shapeType = RankedTensorType::get({yt.getRank()}, b.getI64Type());
  Value s = arith::ConstantOp::create(b, loc,
                                      DenseElementsAttr::get(shapeType, ArrayRef(shape)));
  Value column = tensor::ReshapeOp::create(
      b, loc, RankedTensorType::get(shape, yt.getElementType()), bias, s);
  return broadcastGeneric(b, loc, yt, ValueRange{y, column},
                          [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                            return arith::AddFOp::create(nb, l, a[0], a[1]);
                          });
}

/// Conv as one generic over (n, m, o..., ci, k...).
struct ConvToGeneric : public OpRewritePattern<ONNXConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXConvOp op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto wt = cast<RankedTensorType>(op.getW().getType());
    auto yt = cast<RankedTensorType>(op.getType());
    Type elem = yt.getElementType();
    bool isFloat = isa<FloatType>(elem);
    if ((!isFloat && !elem.isSignlessInteger()) || xt.getRank() < 3)
      return failure();
    int64_t r = xt.getRank() - 2;
    int64_t group = (int64_t)op.getGroup();
    int64_t cg = wt.getDimSize(1), mg = yt.getDimSize(1) / group;
    SmallVector<int64_t> kernel(wt.getShape().drop_front(2));
    auto dims = windows(xt.getShape().drop_front(2), yt.getShape().drop_front(2),
                        kernel, op.getStrides(), op.getDilations(), op.getPads(),
                        op.getAutoPad());
    if (!dims)
      return failure();
    Location loc = op.getLoc();
    Value zero = arith::ConstantOp::create(rw, loc, elem, rw.getZeroAttr(elem));
    Value x = padInput(rw, loc, op.getX(), *dims, zero);
    MLIRContext *ctx = rw.getContext();
    int64_t loops = 2 + r + 1 + r; // n, m, o..., ci, k...
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> xExprs = {d(0), d(1).floorDiv(mg) * cg + d(2 + r)};
    SmallVector<AffineExpr> wExprs = {d(1), d(2 + r)};
    SmallVector<AffineExpr> yExprs = {d(0), d(1)};
    for (int64_t i = 0; i < r; ++i) {
      xExprs.push_back(d(2 + i) * (*dims)[i].stride + d(3 + r + i) * (*dims)[i].dilation);
      wExprs.push_back(d(3 + r + i));
      yExprs.push_back(d(2 + i));
    }
    SmallVector<utils::IteratorType> iterators(2 + r, utils::IteratorType::parallel);
    iterators.append(1 + r, utils::IteratorType::reduction);
    Value acc = linalg::FillOp::create(
                    rw, loc, ValueRange{zero},
                    ValueRange{tensor::EmptyOp::create(rw, loc, yt.getShape(), elem)})
                    .getResult(0);
    Value y = linalg::GenericOp::create(
                  rw, loc, TypeRange{yt}, ValueRange{x, op.getW()}, ValueRange{acc},
                  ArrayRef<AffineMap>{AffineMap::get(loops, 0, xExprs, ctx),
                                      AffineMap::get(loops, 0, wExprs, ctx),
                                      AffineMap::get(loops, 0, yExprs, ctx)},
                  iterators,
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    Value p = isFloat ? Value(arith::MulFOp::create(b, l, a[0], a[1]))
                                      : Value(arith::MulIOp::create(b, l, a[0], a[1]));
                    linalg::YieldOp::create(
                        b, l, isFloat ? Value(arith::AddFOp::create(b, l, a[2], p))
                                      : Value(arith::AddIOp::create(b, l, a[2], p)));
                  })
                  .getResult(0);
    if (!isa<NoneType>(op.getB().getType()))
      y = addChannelBias(rw, loc, y, op.getB());
    rw.replaceOp(op, y);
    return success();
  }
};

/// ConvTranspose: out[n, m, o] sums x[n, c, i] w[c, m, k] over the input
/// positions i and taps k with o = i * stride + k * dilation - pad_begin;
/// one generic over (n, m, o..., c, k...) reading x where that i exists.
struct ConvTransposeToGeneric : public OpRewritePattern<ONNXConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXConvTransposeOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto wt = cast<RankedTensorType>(op.getW().getType());
    auto yt = cast<RankedTensorType>(op.getType());
    Type elem = yt.getElementType();
    if (!isa<FloatType>(elem) || xt.getRank() < 3)
      return failure();
    int64_t r = xt.getRank() - 2;
    int64_t group = (int64_t)op.getGroup();
    int64_t cg = xt.getDimSize(1) / group, mg = wt.getDimSize(1);
    SmallVector<int64_t> kernel(wt.getShape().drop_front(2));
    SmallVector<int64_t> strides = intsOr(op.getStrides(), r, 1);
    SmallVector<int64_t> dilations = intsOr(op.getDilations(), r, 1);
    SmallVector<int64_t> pads = intsOr(op.getPads(), 2 * r, 0);
    SmallVector<int64_t> outputPadding = intsOr(op.getOutputPadding(), r, 0);
    if (strides.size() != (size_t)r || dilations.size() != (size_t)r ||
        pads.size() != (size_t)(2 * r) || outputPadding.size() != (size_t)r)
      return failure();
    StringRef autoPad = op.getAutoPad();
    bool computed = op.getOutputShape().has_value() || autoPad == "SAME_UPPER" ||
                    autoPad == "SAME_LOWER";
    SmallVector<int64_t> begin;
    for (int64_t i = 0; i < r; ++i) {
      if (!computed) {
        begin.push_back(autoPad == "VALID" ? 0 : pads[i]);
        continue;
      }
      int64_t total = strides[i] * (xt.getDimSize(2 + i) - 1) + outputPadding[i] +
                      (kernel[i] - 1) * dilations[i] + 1 - yt.getDimSize(2 + i);
      begin.push_back(autoPad == "SAME_LOWER" ? total - total / 2 : total / 2);
    }
    Location loc = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    int64_t loops = 2 + r + 1 + r; // n, m, o..., c, k...
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> tapExprs = {d(2 + r)}, yExprs = {d(0), d(1)};
    SmallVector<int64_t> tapShape = {cg};
    for (int64_t i = 0; i < r; ++i) {
      tapExprs.push_back(d(3 + r + i));
      tapShape.push_back(kernel[i]);
      yExprs.push_back(d(2 + i));
    }
    // The (c, k...) extents, as the pooling window operand gives them.
    Value taps = tensor::EmptyOp::create(rw, loc, tapShape, elem);
    SmallVector<utils::IteratorType> iterators(2 + r, utils::IteratorType::parallel);
    iterators.append(1 + r, utils::IteratorType::reduction);
    Value zero = arith::ConstantOp::create(rw, loc, elem, rw.getZeroAttr(elem));
    Value acc = linalg::FillOp::create(
                    rw, loc, ValueRange{zero},
                    ValueRange{tensor::EmptyOp::create(rw, loc, yt.getShape(), elem)})
                    .getResult(0);
    Value x = op.getX(), w = op.getW();
    Value y = linalg::GenericOp::create(
                  rw, loc, TypeRange{yt}, ValueRange{taps}, ValueRange{acc},
                  ArrayRef<AffineMap>{AffineMap::get(loops, 0, tapExprs, ctx),
                                      AffineMap::get(loops, 0, yExprs, ctx)},
                  iterators,
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    auto idx = [&](int64_t v) {
                      return arith::ConstantIndexOp::create(b, l, v).getResult();
                    };
                    Value n = linalg::IndexOp::create(b, l, 0);
                    Value m = linalg::IndexOp::create(b, l, 1);
                    Value c = linalg::IndexOp::create(b, l, 2 + r);
                    Value g = arith::DivUIOp::create(b, l, m, idx(mg));
                    Value channel = arith::AddIOp::create(
                        b, l, arith::MulIOp::create(b, l, g, idx(cg)), c);
                    Value valid = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
                    SmallVector<Value> xCoords = {n, channel};
                    SmallVector<Value> wCoords = {channel, arith::RemUIOp::create(b, l, m, idx(mg))};
                    for (int64_t i = 0; i < r; ++i) {
                      Value o = linalg::IndexOp::create(b, l, 2 + i);
                      Value k = linalg::IndexOp::create(b, l, 3 + r + i);
                      // s * i = o + pad_begin - k * dilation
                      Value num = arith::SubIOp::create(
                          b, l, arith::AddIOp::create(b, l, o, idx(begin[i])),
                          arith::MulIOp::create(b, l, k, idx(dilations[i])));
                      Value pos = arith::DivSIOp::create(b, l, num, idx(strides[i]));
                      Value ok = arith::AndIOp::create(
                          b, l,
                          arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, num, idx(0)),
                          arith::CmpIOp::create(
                              b, l, arith::CmpIPredicate::eq,
                              arith::RemSIOp::create(b, l, num, idx(strides[i])), idx(0)));
                      ok = arith::AndIOp::create(
                          b, l, ok,
                          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, pos,
                                                idx(xt.getDimSize(2 + i))));
                      valid = arith::AndIOp::create(b, l, valid, ok);
                      xCoords.push_back(arith::MaxSIOp::create(
                          b, l, idx(0),
                          arith::MinSIOp::create(b, l, pos, idx(xt.getDimSize(2 + i) - 1))));
                      wCoords.push_back(k);
                    }
                    Value xv = tensor::ExtractOp::create(b, l, x, xCoords);
                    Value wv = tensor::ExtractOp::create(b, l, w, wCoords);
                    Value p = arith::MulFOp::create(b, l, xv, wv);
                    Value sum = arith::AddFOp::create(b, l, a[1], p);
                    linalg::YieldOp::create(
                        b, l, Value(arith::SelectOp::create(b, l, valid, sum, a[1])));
                  })
                  .getResult(0);
    if (!isa<NoneType>(op.getB().getType()))
      y = addChannelBias(rw, loc, y, op.getB());
    rw.replaceOp(op, y);
    return success();
  }
};

/// ConvInteger: Conv of the int32 differences from the zero points.
struct ConvIntegerToConv : public OpRewritePattern<ONNXConvIntegerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXConvIntegerOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    Location loc = op.getLoc();
    Value x = minusZeroPoint(rw, loc, op.getX(), op.getXZeroPoint(),
                             /*spannedDims=*/1);
    // W's zero point may be one per output channel (its leading dim).
    int64_t wRank = cast<RankedTensorType>(op.getW().getType()).getRank();
    Value w = minusZeroPoint(rw, loc, op.getW(), op.getWZeroPoint(),
                             /*spannedDims=*/wRank);
    Value none = ONNXNoValueOp::create(rw, loc, rw.getNoneType());
    Value conv = ONNXConvOp::create(
        rw, loc, op.getType(), x, w, none, op.getAutoPadAttr(), op.getDilationsAttr(),
        op.getGroupAttr(), op.getKernelShapeAttr(), op.getPadsAttr(), op.getStridesAttr());
    rw.replaceOp(op, conv);
    return success();
  }
};

/// MaxPool with its Indices: one reduction with two results, the maximum
/// and the flat index (row-major over N, C and the input's spatial dims)
/// of the cell holding it. ONNX Runtime keeps the first maximum in window
/// order, which is the lowest such index: taking the lower index among
/// equal values keeps that whatever order the loops run in. Padding cells
/// hold the seed, never exceed it, and are never taken. storage_order = 1
/// then renumbers the spatial part column-major.
std::pair<Value, Value> maxWithIndices(PatternRewriter &rw, Location loc,
                                       ONNXMaxPoolOp op, Value padded, Value window,
                                       Value low, ArrayRef<WindowDim> dims,
                                       ArrayRef<AffineMap> maps,
                                       ArrayRef<utils::IteratorType> iterators) {
  auto xt = tensorType(op.getX());
  auto yt = tensorType(op.getY());
  auto it = tensorType(op.getIndices());
  Type elem = yt.getElementType(), i64 = rw.getI64Type();
  bool isFloat = isa<FloatType>(elem), isUnsigned = elem.isUnsignedInteger();
  int64_t r = dims.size();
  auto fill = [&](Value v, RankedTensorType t) {
    Value empty = tensor::EmptyOp::create(rw, loc, t.getShape(), t.getElementType());
    return linalg::FillOp::create(rw, loc, ValueRange{v}, ValueRange{empty}).getResult(0);
  };
  Value noCell = arith::ConstantOp::create(
      rw, loc, rw.getI64IntegerAttr(std::numeric_limits<int64_t>::max()));
  auto generic = linalg::GenericOp::create(
      rw, loc, TypeRange{yt, it}, ValueRange{padded, window},
      ValueRange{fill(low, yt), fill(noCell, it)}, maps, iterators,
      [&](OpBuilder &b, Location l, ValueRange a) {
        auto idx = [&](int64_t v) {
          return arith::ConstantIndexOp::create(b, l, v).getResult();
        };
        Value x = castScalar(b, l, a[0], signlessOf(elem));
        Value y = castScalar(b, l, a[2], signlessOf(elem));
        // The input cell: its flat index and whether it is not padding.
        Value flat = arith::AddIOp::create(
            b, l,
            arith::MulIOp::create(b, l, linalg::IndexOp::create(b, l, 0),
                                  idx(xt.getDimSize(1))),
            linalg::IndexOp::create(b, l, 1));
        Value valid = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
        for (int64_t i = 0; i < r; ++i) {
          int64_t size = xt.getDimSize(2 + i);
          Value o = linalg::IndexOp::create(b, l, 2 + i);
          Value k = linalg::IndexOp::create(b, l, 2 + r + i);
          Value pos = arith::SubIOp::create(
              b, l,
              arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, o, idx(dims[i].stride)),
                                    arith::MulIOp::create(b, l, k, idx(dims[i].dilation))),
              idx(dims[i].before));
          Value inside = arith::AndIOp::create(
              b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, pos, idx(0)),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, pos, idx(size)));
          valid = arith::AndIOp::create(b, l, valid, inside);
          flat = arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, flat, idx(size)),
                                       pos);
        }
        Value cell = arith::IndexCastOp::create(b, l, i64, flat);
        Value greater, equal, max;
        if (isFloat) {
          greater = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, y);
          equal = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, y);
          max = arith::MaximumFOp::create(b, l, x, y);
        } else {
          greater = arith::CmpIOp::create(
              b, l, isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt, x, y);
          equal = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, x, y);
          max = isUnsigned ? Value(arith::MaxUIOp::create(b, l, x, y))
                           : Value(arith::MaxSIOp::create(b, l, x, y));
        }
        Value earlier = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, cell, a[3]);
        Value take = arith::AndIOp::create(
            b, l, valid,
            arith::OrIOp::create(b, l, greater, arith::AndIOp::create(b, l, equal, earlier)));
        linalg::YieldOp::create(
            b, l, ValueRange{castScalar(b, l, max, elem),
                             arith::SelectOp::create(b, l, take, cell, a[3])});
      });
  Value indices = generic.getResult(1);
  if (op.getStorageOrder()) {
    ArrayRef<int64_t> spatial = xt.getShape().drop_front(2);
    int64_t total = 1;
    SmallVector<int64_t> weights; // column-major: the first dim fastest
    for (int64_t size : spatial) {
      weights.push_back(total);
      total *= size;
    }
    indices = broadcastGeneric(
        rw, loc, it, ValueRange{indices}, [&](OpBuilder &b, Location l, ValueRange a) {
          auto c = [&](int64_t v) {
            return arith::ConstantOp::create(b, l, b.getI64IntegerAttr(v)).getResult();
          };
          Value channels = arith::MulIOp::create(
              b, l, arith::DivSIOp::create(b, l, a[0], c(total)), c(total));
          Value rest = arith::RemSIOp::create(b, l, a[0], c(total));
          Value column = channels;
          for (int64_t i = r - 1; i >= 0; --i) {
            Value digit = arith::RemSIOp::create(b, l, rest, c(spatial[i]));
            rest = arith::DivSIOp::create(b, l, rest, c(spatial[i]));
            column = arith::AddIOp::create(
                b, l, column, arith::MulIOp::create(b, l, digit, c(weights[i])));
          }
          return column;
        });
  }
  return {generic.getResult(0), indices};
}

/// MaxPool and AveragePool: a reduction generic over (n, c, o..., k...) on
/// the input padded with -inf or 0; the average divides by the window's
/// count of input cells (and explicit padding when count_include_pad),
/// counted the same way on a padded mask. MaxPool's Indices come from a
/// second result of the same reduction (see maxWithIndices).
template <typename OpTy, bool isMax>
struct PoolToGeneric : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto yt = cast<RankedTensorType>(op.getY().getType());
    Type elem = yt.getElementType();
    if ((!isa<FloatType>(elem) && !(isMax && isa<IntegerType>(elem))) ||
        xt.getRank() < 3)
      return failure();
    int64_t r = xt.getRank() - 2;
    SmallVector<int64_t> kernel = intsOr(op.getKernelShape(), r, 1);
    std::optional<ArrayAttr> dilations;
    if constexpr (isMax)
      dilations = op.getDilations();
    auto dims = windows(xt.getShape().drop_front(2), yt.getShape().drop_front(2),
                        kernel, op.getStrides(), dilations, op.getPads(),
                        op.getAutoPad());
    if (!dims)
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rw.getContext();
    int64_t loops = 2 + 2 * r;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> xExprs = {d(0), d(1)}, yExprs = {d(0), d(1)};
    for (int64_t i = 0; i < r; ++i) {
      xExprs.push_back(d(2 + i) * (*dims)[i].stride + d(2 + r + i) * (*dims)[i].dilation);
      yExprs.push_back(d(2 + i));
    }
    SmallVector<utils::IteratorType> iterators(2 + r, utils::IteratorType::parallel);
    iterators.append(r, utils::IteratorType::reduction);
    AffineMap xMap = AffineMap::get(loops, 0, xExprs, ctx);
    AffineMap yMap = AffineMap::get(loops, 0, yExprs, ctx);
    // A kernel-shaped operand gives the window loops their extent, as the
    // named pooling ops' window operand does.
    SmallVector<AffineExpr> kExprs;
    for (int64_t i = 0; i < r; ++i)
      kExprs.push_back(d(2 + r + i));
    AffineMap kMap = AffineMap::get(loops, 0, kExprs, ctx);
    Value window = tensor::EmptyOp::create(rw, loc, kernel, elem);
    bool isFloat = isa<FloatType>(elem), isUnsigned = elem.isUnsignedInteger();
    // One window reduction: `seed` fills the output, `max` or a sum combines.
    auto pool = [&](Value input, Value seed, bool max) {
      Value acc = linalg::FillOp::create(
                      rw, loc, ValueRange{seed},
                      ValueRange{tensor::EmptyOp::create(rw, loc, yt.getShape(), elem)})
                      .getResult(0);
      return linalg::GenericOp::create(
                 rw, loc, TypeRange{yt}, ValueRange{input, window}, ValueRange{acc},
                 ArrayRef<AffineMap>{xMap, kMap, yMap}, iterators,
                 [&](OpBuilder &b, Location l, ValueRange a) {
                   Value x = castScalar(b, l, a[0], signlessOf(elem));
                   Value y = castScalar(b, l, a[2], signlessOf(elem));
                   Value v = !max        ? Value(arith::AddFOp::create(b, l, x, y))
                             : isFloat    ? Value(arith::MaximumFOp::create(b, l, x, y))
                             : isUnsigned ? Value(arith::MaxUIOp::create(b, l, x, y))
                                          : Value(arith::MaxSIOp::create(b, l, x, y));
                   linalg::YieldOp::create(b, l, castScalar(b, l, v, elem));
                 })
          .getResult(0);
    };
    if constexpr (isMax) {
      // The lowest value of the type pads and seeds the maximum.
      TypedAttr lowest;
      if (isFloat) {
        lowest = rw.getFloatAttr(elem, -INFINITY);
      } else {
        unsigned width = elem.getIntOrFloatBitWidth();
        lowest = rw.getIntegerAttr(signlessOf(elem),
                                   isUnsigned ? APInt::getMinValue(width)
                                              : APInt::getSignedMinValue(width));
      }
      Value low = arith::ConstantOp::create(rw, loc, lowest);
      if (!isFloat) // tensor.pad and linalg.fill take the element type itself
        low = castScalar(rw, loc, low, elem);
      Value padded = padInput(rw, loc, op.getX(), *dims, low);
      if (op.getIndices().use_empty()) {
        rw.replaceOp(op, {pool(padded, low, true), Value()});
        return success();
      }
      auto [y, indices] = maxWithIndices(rw, loc, op, padded, window, low, *dims,
                                         {xMap, kMap, yMap, yMap}, iterators);
      rw.replaceOp(op, {y, indices});
      return success();
    } else {
      Value zero = arith::ConstantOp::create(rw, loc, elem, rw.getZeroAttr(elem));
      Value sum = pool(padInput(rw, loc, op.getX(), *dims, zero), zero, false);
      // The count: ones over the input, explicit padding counted when
      // count_include_pad, ceil_mode's extra cells never.
      Value one = arith::ConstantOp::create(rw, loc, elem, rw.getFloatAttr(elem, 1.0));
      Value ones = linalg::FillOp::create(
                       rw, loc, ValueRange{one},
                       ValueRange{tensor::EmptyOp::create(rw, loc, xt.getShape(), elem)})
                       .getResult(0);
      SmallVector<WindowDim> explicitOnly = *dims, extraOnly = *dims;
      for (size_t i = 0; i < dims->size(); ++i) {
        explicitOnly[i].after -= (*dims)[i].extra;
        extraOnly[i].before = 0;
        extraOnly[i].after = (*dims)[i].extra;
      }
      Value mask = op.getCountIncludePad()
                       ? padInput(rw, loc, padInput(rw, loc, ones, explicitOnly, one),
                                  extraOnly, zero)
                       : padInput(rw, loc, ones, *dims, zero);
      Value count = pool(mask, zero, false);
      rw.replaceOp(op, broadcastGeneric(rw, loc, yt, ValueRange{sum, count},
                                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                          return arith::DivFOp::create(b, l, a[0], a[1]);
                                        }));
      return success();
    }
  }
};

/// Pad: each output reads input[i - pad_begin] when inside, else the
/// constant, the nearest edge, or the reflection; pads may be run-time.
struct PadToGeneric : public OpRewritePattern<ONNXPadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXPadOp op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto xt = cast<RankedTensorType>(op.getData().getType());
    auto yt = cast<RankedTensorType>(op.getType());
    StringRef mode = op.getMode();
    if (mode != "constant" && mode != "edge" && mode != "reflect")
      return failure();
    int64_t rank = xt.getRank();
    Location loc = op.getLoc();
    // Which data axis each pads entry is for.
    SmallVector<int64_t> axes;
    if (!isa<NoneType>(op.getAxes().getType())) {
      auto a = constInts(op.getAxes());
      if (!a)
        return failure();
      for (int64_t v : *a)
        axes.push_back(v < 0 ? v + rank : v);
    } else {
      for (int64_t i = 0; i < rank; ++i)
        axes.push_back(i);
    }
    SmallVector<Value> begin(rank);
    for (auto [k, axis] : llvm::enumerate(axes)) {
      Value idx = arith::ConstantIndexOp::create(rw, loc, k);
      Value v = tensor::ExtractOp::create(rw, loc, op.getPads(), ValueRange{idx});
      begin[axis] = arith::IndexCastOp::create(rw, loc, rw.getIndexType(), v);
    }
    Value fill;
    Type elem = yt.getElementType();
    if (mode == "constant") {
      if (!isa<NoneType>(op.getConstantValue().getType())) {
        auto ct = cast<RankedTensorType>(op.getConstantValue().getType());
        SmallVector<Value> zeros(ct.getRank(), arith::ConstantIndexOp::create(rw, loc, 0));
        fill = tensor::ExtractOp::create(rw, loc, op.getConstantValue(), zeros);
        fill = castScalar(rw, loc, fill, signlessOf(elem));
      } else {
        fill = arith::ConstantOp::create(rw, loc, signlessOf(elem),
                                         rw.getZeroAttr(signlessOf(elem)));
      }
    }
    Value source = op.getData();
    Value r = broadcastGeneric(
        rw, loc, yt, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value inside = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          SmallVector<Value> coords;
          for (int64_t dIdx = 0; dIdx < rank; ++dIdx) {
            Value i = linalg::IndexOp::create(b, l, dIdx);
            if (!begin[dIdx]) {
              coords.push_back(i);
              continue;
            }
            Value n = arith::ConstantIndexOp::create(b, l, xt.getDimSize(dIdx));
            Value zero = arith::ConstantIndexOp::create(b, l, 0);
            Value last = arith::ConstantIndexOp::create(b, l, xt.getDimSize(dIdx) - 1);
            Value c = arith::SubIOp::create(b, l, i, begin[dIdx]);
            Value in = arith::AndIOp::create(
                b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, c, zero),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, c, n));
            inside = arith::AndIOp::create(b, l, inside, in);
            if (mode == "reflect") { // -c, or 2 (n - 1) - c, for one reflection
              c = arith::SelectOp::create(
                  b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, c, zero),
                  arith::SubIOp::create(b, l, zero, c), c);
              Value twice = arith::ConstantIndexOp::create(b, l, 2 * (xt.getDimSize(dIdx) - 1));
              c = arith::SelectOp::create(
                  b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, c, last),
                  arith::SubIOp::create(b, l, twice, c), c);
            }
            coords.push_back(arith::MaxSIOp::create(
                b, l, zero, arith::MinSIOp::create(b, l, c, last)));
          }
          Value v = tensor::ExtractOp::create(b, l, source, coords);
          v = castScalar(b, l, v, signlessOf(v.getType()));
          return mode == "constant" ? Value(arith::SelectOp::create(b, l, inside, v, fill))
                                    : v;
        });
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void prism::lowering::populateWindowPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvToGeneric, ConvTransposeToGeneric, ConvIntegerToConv,
               PoolToGeneric<ONNXMaxPoolOp, true>,
               PoolToGeneric<ONNXAveragePoolOp, false>, PadToGeneric>(
      patterns.getContext());
}
