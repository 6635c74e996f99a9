//===- QuantizedOps.cpp - Quantized onnx ops, exactly ---------------------===//
//
// DequantizeLinear, QuantizeLinear, MatMulInteger, QLinearMatMul,
// QLinearConv and com.microsoft's MatMulNBits with ONNX's integer
// semantics: zero points subtracted in int32, round-half-to-even and
// saturation when quantizing, int32 accumulation for MatMulInteger and the
// QLinear ops (then requantized), 4-bit (or 2- to 8-bit) blocks unpacked
// from their bytes for MatMulNBits.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <climits>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// `v` (an integer scalar of ONNX type `t`) widened to i32 with its sign.
Value toI32(OpBuilder &b, Location l, Value v, Type t) {
  Type i32 = b.getI32Type();
  unsigned width = t.getIntOrFloatBitWidth();
  if (width == 32)
    return v;
  return t.isUnsignedInteger() ? Value(arith::ExtUIOp::create(b, l, i32, v))
                               : Value(arith::ExtSIOp::create(b, l, i32, v));
}

/// The map from a rank-`rank` iteration space to a scale or zero point of
/// type `t`: none for a scalar (per tensor), the axis for a 1-D one (per
/// axis), the same dims with the axis divided by the block for a blocked one.
AffineMap parameterMap(RankedTensorType t, int64_t rank, int64_t axis,
                       int64_t block, MLIRContext *ctx) {
  if (t.getRank() == 0 || t.getNumElements() == 1)
    return AffineMap::get(rank, 0, ArrayRef<AffineExpr>(
                                       SmallVector<AffineExpr>(t.getRank(),
                                                               getAffineConstantExpr(0, ctx))),
                          ctx);
  if (t.getRank() == 1)
    return AffineMap::get(rank, 0, {getAffineDimExpr(axis, ctx)}, ctx);
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    exprs.push_back(d == axis ? getAffineDimExpr(d, ctx).floorDiv(block)
                              : getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// One generic over `result` reading x at the identity and the scale and
/// zero point (when present) through parameterMap.
template <typename BodyFn>
Value quantizationGeneric(PatternRewriter &rw, Location loc,
                          RankedTensorType result, Value x, Value scale,
                          Value zeroPoint, int64_t axis, int64_t block,
                          BodyFn body) {
  int64_t rank = result.getRank();
  MLIRContext *ctx = rw.getContext();
  SmallVector<Value> inputs = {x, scale};
  SmallVector<AffineMap> maps = {
      rw.getMultiDimIdentityMap(rank),
      parameterMap(cast<RankedTensorType>(scale.getType()), rank, axis, block, ctx)};
  if (!isNone(zeroPoint)) {
    inputs.push_back(zeroPoint);
    maps.push_back(parameterMap(cast<RankedTensorType>(zeroPoint.getType()),
                                rank, axis, block, ctx));
  }
  maps.push_back(rw.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(rw, loc, result.getShape(),
                                       result.getElementType());
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             rw, loc, TypeRange{result}, inputs, ValueRange{init}, maps,
             iterators,
             [&](OpBuilder &b, Location l, ValueRange args) {
               SmallVector<Value> signless;
               for (Value a : args.drop_back())
                 signless.push_back(castScalar(b, l, a, signlessOf(a.getType())));
               Value r = body(b, l, signless);
               linalg::YieldOp::create(
                   b, l, castScalar(b, l, r, result.getElementType()));
             })
      .getResult(0);
}

int64_t normalizedAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// y = (x - zero_point) * scale, the difference in int32.
struct DequantizeLinearToGeneric
    : public OpRewritePattern<ONNXDequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXDequantizeLinearOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type xType = getElementTypeOrSelf(op.getX().getType());
    Type zpType = isNone(op.getXZeroPoint())
                      ? xType
                      : getElementTypeOrSelf(op.getXZeroPoint().getType());
    Type out = result.getElementType();
    int64_t axis = normalizedAxis((int64_t)op.getAxis(), result.getRank());
    bool hasZp = !isNone(op.getXZeroPoint());
    Value r = quantizationGeneric(
        rw, op.getLoc(), result, op.getX(), op.getXScale(), op.getXZeroPoint(),
        axis, std::max<int64_t>((int64_t)op.getBlockSize(), 1),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value x = toI32(b, l, a[0], xType);
          if (hasZp)
            x = arith::SubIOp::create(b, l, x, toI32(b, l, a[2], zpType));
          Value f = arith::SIToFPOp::create(b, l, out, x);
          return arith::MulFOp::create(b, l, f, a[1]);
        });
    rw.replaceOp(op, r);
    return success();
  }
};

/// y = saturate(round_half_even(x / scale) + zero_point).
struct QuantizeLinearToGeneric : public OpRewritePattern<ONNXQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXQuantizeLinearOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type out = result.getElementType();
    Type xType = getElementTypeOrSelf(op.getX().getType());
    auto scaleType = cast<FloatType>(getElementTypeOrSelf(op.getYScale().getType()));
    unsigned width = out.getIntOrFloatBitWidth();
    bool isUnsigned = out.isUnsignedInteger();
    double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, width - 1);
    double hi = isUnsigned ? std::ldexp(1.0, width) - 1 : std::ldexp(1.0, width - 1) - 1;
    bool hasZp = !isNone(op.getYZeroPoint());
    int64_t axis = normalizedAxis((int64_t)op.getAxis(), result.getRank());
    Value r = quantizationGeneric(
        rw, op.getLoc(), result, op.getX(), op.getYScale(), op.getYZeroPoint(),
        axis, std::max<int64_t>((int64_t)op.getBlockSize(), 1),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          // Computed in f32 at least, as ONNX Runtime does.
          FloatType f = scaleType.getWidth() < 32 ? b.getF32Type() : scaleType;
          auto toF = [&](Value v, Type t) -> Value {
            if (auto ft = dyn_cast<FloatType>(t))
              return ft == f ? v : Value(arith::ExtFOp::create(b, l, f, v));
            return arith::SIToFPOp::create(b, l, f, v);
          };
          Value q = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, toF(a[0], xType), toF(a[1], scaleType)));
          if (hasZp) {
            Type zpType = getElementTypeOrSelf(op.getYZeroPoint().getType());
            q = arith::AddFOp::create(
                b, l, q,
                zpType.isUnsignedInteger()
                    ? Value(arith::UIToFPOp::create(b, l, f, a[2]))
                    : Value(arith::SIToFPOp::create(b, l, f, a[2])));
          }
          auto c = [&](double v) {
            return arith::ConstantOp::create(b, l, f, b.getFloatAttr(f, v));
          };
          q = arith::MaximumFOp::create(b, l, c(lo),
                                        arith::MinimumFOp::create(b, l, q, c(hi)));
          Type s = signlessOf(out);
          return isUnsigned ? Value(arith::FPToUIOp::create(b, l, s, q))
                            : Value(arith::FPToSIOp::create(b, l, s, q));
        });
    rw.replaceOp(op, r);
    return success();
  }
};

/// MatMulInteger: (A - a_zero_point) x (B - b_zero_point) in int32, the
/// per-row zero point of A applied along rows.
struct MatMulIntegerDecomposition : public OpRewritePattern<ONNXMatMulIntegerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMatMulIntegerOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    // A's zero point may be one per row ([M] -> [M, 1]); B's one per
    // column, which is already how it broadcasts.
    Value a = minusZeroPoint(rw, op.getLoc(), op.getA(), op.getAZeroPoint(),
                             /*spannedDims=*/2);
    Value b = minusZeroPoint(rw, op.getLoc(), op.getB(), op.getBZeroPoint(),
                             /*spannedDims=*/1);
    rw.replaceOpWithNewOp<ONNXMatMulOp>(op, op.getType(), a, b);
    return success();
  }
};

/// Whether `v` is one value (per tensor) or a 1-D tensor of `size` values.
bool isPerTensorOrAxis(Value v, int64_t size) {
  auto t = tensorType(v);
  return t.getNumElements() == 1 ? t.getRank() <= 1
                                 : t.getRank() == 1 && t.getDimSize(0) == size;
}

/// The int32 accumulator `acc` (plus an int32 `bias` along dim 1 when given)
/// requantized to `result`: saturate(round_half_even(acc * (s0 * s1 /
/// y_scale)) + y_zero_point), the factor in f32 and the product in f64 as
/// ONNX's reference computes them (f32 would round sums above 2^24).
/// Each of `scales` is per tensor or along the dim given with it.
Value requantize(PatternRewriter &rw, Location loc, RankedTensorType result,
                 Value acc, Value bias,
                 ArrayRef<std::pair<Value, int64_t>> scales, Value yScale,
                 Value yZeroPoint) {
  int64_t rank = result.getRank();
  MLIRContext *ctx = rw.getContext();
  auto map = [&](Value v, int64_t axis) {
    return parameterMap(tensorType(v), rank, axis, /*block=*/1, ctx);
  };
  SmallVector<Value> inputs = {acc, scales[0].first, scales[1].first, yScale,
                               yZeroPoint};
  SmallVector<AffineMap> maps = {rw.getMultiDimIdentityMap(rank),
                                 map(scales[0].first, scales[0].second),
                                 map(scales[1].first, scales[1].second),
                                 map(yScale, 0), map(yZeroPoint, 0)};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(map(bias, 1));
  }
  maps.push_back(rw.getMultiDimIdentityMap(rank));
  Type out = result.getElementType();
  Type zpType = getElementTypeOrSelf(yZeroPoint.getType());
  unsigned width = out.getIntOrFloatBitWidth();
  bool isUnsigned = out.isUnsignedInteger();
  double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, width - 1);
  double hi = isUnsigned ? std::ldexp(1.0, width) - 1 : std::ldexp(1.0, width - 1) - 1;
  Value init = tensor::EmptyOp::create(rw, loc, result.getShape(), out);
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             rw, loc, TypeRange{result}, inputs, ValueRange{init}, maps,
             iterators,
             [&](OpBuilder &b, Location l, ValueRange args) {
               FloatType f64 = b.getF64Type();
               auto c = [&](double v) {
                 return arith::ConstantOp::create(b, l, f64, b.getFloatAttr(f64, v));
               };
               Value sum = args[0];
               if (bias)
                 sum = arith::AddIOp::create(b, l, sum, args[5]);
               Value factor = arith::DivFOp::create(
                   b, l, arith::MulFOp::create(b, l, args[1], args[2]), args[3]);
               Value q = math::RoundEvenOp::create(
                   b, l,
                   arith::MulFOp::create(b, l, arith::SIToFPOp::create(b, l, f64, sum),
                                         arith::ExtFOp::create(b, l, f64, factor)));
               Value zp = castScalar(b, l, args[4], signlessOf(zpType));
               q = arith::AddFOp::create(
                   b, l, q,
                   zpType.isUnsignedInteger()
                       ? Value(arith::UIToFPOp::create(b, l, f64, zp))
                       : Value(arith::SIToFPOp::create(b, l, f64, zp)));
               q = arith::MaximumFOp::create(
                   b, l, c(lo), arith::MinimumFOp::create(b, l, q, c(hi)));
               Type s = signlessOf(out);
               Value y = isUnsigned ? Value(arith::FPToUIOp::create(b, l, s, q))
                                    : Value(arith::FPToSIOp::create(b, l, s, q));
               linalg::YieldOp::create(b, l, castScalar(b, l, y, out));
             })
      .getResult(0);
}

/// QLinearMatMul: MatMulInteger's int32 product, requantized; A's scale may
/// be one per row, B's one per column.
struct QLinearMatMulDecomposition : public OpRewritePattern<ONNXQLinearMatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXQLinearMatMulOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto result = tensorType(op.getY());
    int64_t rank = result.getRank();
    // Per-row parameters need rows: A and the result at least 2-D.
    int64_t rows = tensorType(op.getA()).getRank() >= 2 && rank >= 2
                       ? result.getDimSize(rank - 2)
                       : 1;
    int64_t columns = result.getDimSize(rank - 1);
    if (!isPerTensorOrAxis(op.getAScale(), rows) ||
        !isPerTensorOrAxis(op.getAZeroPoint(), rows) ||
        !isPerTensorOrAxis(op.getBScale(), columns) ||
        !isPerTensorOrAxis(op.getBZeroPoint(), columns) ||
        !isPerTensorOrAxis(op.getYScale(), 1) ||
        !isPerTensorOrAxis(op.getYZeroPoint(), 1))
      return failure();
    Location loc = op.getLoc();
    Value acc = ONNXMatMulIntegerOp::create(
        rw, loc, result.clone(rw.getI32Type()), op.getA(), op.getB(),
        op.getAZeroPoint(), op.getBZeroPoint());
    rw.replaceOp(op, requantize(rw, loc, result, acc, /*bias=*/nullptr,
                                {{op.getAScale(), std::max<int64_t>(rank - 2, 0)},
                                 {op.getBScale(), rank - 1}},
                                op.getYScale(), op.getYZeroPoint()));
    return success();
  }
};

/// QLinearConv: ConvInteger's int32 sums plus the int32 bias, requantized;
/// W's scale and zero point may be one per output channel.
struct QLinearConvDecomposition : public OpRewritePattern<ONNXQLinearConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXQLinearConvOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto result = tensorType(op.getY());
    if (result.getRank() < 3)
      return failure();
    int64_t channels = result.getDimSize(1);
    if (!isPerTensorOrAxis(op.getXScale(), 1) ||
        !isPerTensorOrAxis(op.getXZeroPoint(), 1) ||
        !isPerTensorOrAxis(op.getWScale(), channels) ||
        !isPerTensorOrAxis(op.getWZeroPoint(), channels) ||
        !isPerTensorOrAxis(op.getYScale(), 1) ||
        !isPerTensorOrAxis(op.getYZeroPoint(), 1) ||
        (!isNone(op.getB()) && !isPerTensorOrAxis(op.getB(), channels)))
      return failure();
    Location loc = op.getLoc();
    Value acc = ONNXConvIntegerOp::create(
        rw, loc, result.clone(rw.getI32Type()), op.getX(), op.getW(),
        op.getXZeroPoint(), op.getWZeroPoint(), op.getAutoPadAttr(),
        op.getDilationsAttr(), op.getGroupAttr(), op.getKernelShapeAttr(),
        op.getPadsAttr(), op.getStridesAttr());
    Value bias = isNone(op.getB()) ? Value() : op.getB();
    rw.replaceOp(op, requantize(rw, loc, result, acc, bias,
                                {{op.getXScale(), 0}, {op.getWScale(), 1}},
                                op.getYScale(), op.getYZeroPoint()));
    return success();
  }
};

/// MatMulNBits: A x dequantize(B)^T (+ bias). B holds N rows of K weights
/// in blocks of block_size, `bits` bits each, packed low bits first into
/// [N, K / block_size, block_size * bits / 8] bytes; scales [N * blocks];
/// zero points packed the same way per block (default 2^(bits-1)) or given
/// as floats. The weight is dequantized into a [N, K] tensor by one generic
/// and read transposed by the matmul.
struct MatMulNBitsDecomposition : public OpRewritePattern<ONNXMsMatMulNBitsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMsMatMulNBitsOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op) || !isNone(op.getGIdx()))
      return failure();
    int64_t bits = (int64_t)op.getBits(), block = (int64_t)op.getBlockSize();
    int64_t n = (int64_t)op.getN(), k = (int64_t)op.getK();
    auto bType = cast<RankedTensorType>(op.getB().getType());
    if (bits < 2 || bits > 8 || 8 % bits != 0 || block <= 0 ||
        !bType.getElementType().isUnsignedInteger(8) || bType.getRank() != 3)
      return failure();
    int64_t blocks = (k + block - 1) / block;
    int64_t perByte = 8 / bits;
    Location loc = op.getLoc();
    auto aType = cast<RankedTensorType>(op.getA().getType());
    Type f = aType.getElementType();
    auto weightType = RankedTensorType::get({n, k}, f);
    Value packed = op.getB(), scales = op.getScales(), zeros = op.getZeroPoints();
    bool floatZeros = !isNone(zeros) && isa<FloatType>(getElementTypeOrSelf(zeros.getType()));
    Value weight = broadcastGeneric(
        rw, loc, weightType, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          auto idx = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          Value row = linalg::IndexOp::create(b, l, 0);
          Value col = linalg::IndexOp::create(b, l, 1);
          Value blk = arith::DivUIOp::create(b, l, col, idx(block));
          Value within = arith::RemUIOp::create(b, l, col, idx(block));
          auto unpack = [&](Value byte, Value position) -> Value {
            // The `position`-th `bits`-bit field of the byte, low bits first.
            Value i8v = castScalar(b, l, byte, b.getI8Type());
            Value shift = arith::IndexCastOp::create(
                b, l, b.getI8Type(),
                arith::MulIOp::create(
                    b, l, arith::RemUIOp::create(b, l, position, idx(perByte)),
                    idx(bits)));
            Value v = arith::ShRUIOp::create(b, l, i8v, shift);
            v = arith::AndIOp::create(
                b, l, v,
                arith::ConstantOp::create(b, l, b.getI8IntegerAttr((1 << bits) - 1)));
            return arith::ExtUIOp::create(b, l, b.getI32Type(), v);
          };
          Value byte = tensor::ExtractOp::create(
              b, l, packed,
              ValueRange{row, blk, arith::DivUIOp::create(b, l, within, idx(perByte))});
          Value q = unpack(byte, within);
          Value scaleIndex = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, row, idx(blocks)), blk);
          Value scale = tensor::ExtractOp::create(b, l, scales, ValueRange{scaleIndex});
          Value value;
          if (floatZeros) {
            Value z = tensor::ExtractOp::create(b, l, zeros, ValueRange{scaleIndex});
            value = arith::SubFOp::create(b, l, arith::SIToFPOp::create(b, l, f, q), z);
          } else {
            Value z = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(1 << (bits - 1)));
            if (!isNone(zeros)) {
              // Packed like B: each row's blocks in ceil(blocks / perByte) bytes.
              int64_t rowBytes = (blocks + perByte - 1) / perByte;
              Value at = arith::AddIOp::create(
                  b, l, arith::MulIOp::create(b, l, row, idx(rowBytes)),
                  arith::DivUIOp::create(b, l, blk, idx(perByte)));
              z = unpack(tensor::ExtractOp::create(b, l, zeros, ValueRange{at}), blk);
            }
            value = arith::SIToFPOp::create(b, l, f, arith::SubIOp::create(b, l, q, z));
          }
          return arith::MulFOp::create(b, l, value, scale);
        });
    // A x weight^T: the transpose is read through the matmul's indexing map.
    auto tType = RankedTensorType::get({k, n}, f);
    Value wt = ONNXTransposeOp::create(rw, loc, tType, weight,
                                       rw.getI64ArrayAttr({1, 0}));
    Value y = ONNXMatMulOp::create(rw, loc, op.getType(), op.getA(), wt);
    if (!isNone(op.getBias()))
      y = ONNXAddOp::create(rw, loc, op.getType(), y, op.getBias());
    rw.replaceOp(op, y);
    return success();
  }
};

} // namespace

Value prism::lowering::minusZeroPoint(PatternRewriter &rw, Location loc, Value v,
                                      Value zeroPoint, int64_t spannedDims) {
  Type i32 = rw.getI32Type();
  auto t = cast<RankedTensorType>(v.getType());
  Value w = ONNXCastOp::create(rw, loc, t.clone(i32), v, (uint64_t)6);
  if (isNone(zeroPoint))
    return w;
  auto zt = cast<RankedTensorType>(zeroPoint.getType());
  Value z = ONNXCastOp::create(rw, loc, zt.clone(i32), zeroPoint, (uint64_t)6);
  if (spannedDims > 1 && zt.getRank() == 1 && zt.getDimSize(0) > 1) {
    // [D] -> [D, 1, ...] (spannedDims dims): one zero point per index of
    // the dim spannedDims from the end.
    SmallVector<int64_t> shape(spannedDims, 1);
    shape[0] = zt.getDimSize(0);
    auto shapeType = RankedTensorType::get({spannedDims}, rw.getI64Type());
    Value s = arith::ConstantOp::create(
        rw, loc, DenseElementsAttr::get(shapeType, ArrayRef(shape)));
    z = tensor::ReshapeOp::create(rw, loc, RankedTensorType::get(shape, i32), z, s);
  }
  return ONNXSubOp::create(rw, loc, t.clone(i32), w, z);
}

void prism::lowering::populateQuantizedPatterns(RewritePatternSet &patterns) {
  patterns.add<DequantizeLinearToGeneric, QuantizeLinearToGeneric,
               MatMulIntegerDecomposition, QLinearMatMulDecomposition,
               QLinearConvDecomposition, MatMulNBitsDecomposition>(
      patterns.getContext());
}
