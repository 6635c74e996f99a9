//===- GridSample.cpp - GridSample as a gathering linalg.generic ----------===//
//
// GridSample (opset 16, 4-D) as one generic over the output: each output
// point reads its grid coordinates through the indexing maps, computes the
// source position and reads its taps with tensor.extract. The arithmetic
// follows PyTorch's grid_sampler_2d, from which ONNX's test data comes:
// bilinear and nearest apply the padding mode to the position, bicubic to
// each tap.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// Scalar arithmetic of one output point, in the element type.
class Sampler {
public:
  Sampler(OpBuilder &b, Location l, ONNXGridSampleOp op, Value n, Value c)
      : b(b), l(l), op(op), n(n), c(c),
        elem(tensorType(op.getX()).getElementType()),
        align(op.getAlignCorners() != 0), padding(op.getPaddingMode()) {}

  Value cst(double v) { return arith::ConstantOp::create(b, l, b.getFloatAttr(elem, v)); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
  Value floor(Value x) { return math::FloorOp::create(b, l, x); }

  /// Grid coordinate in [-1, 1] to a pixel position.
  Value unnormalize(Value g, int64_t size) {
    Value shifted = add(g, cst(1));
    if (align)
      return mul(shifted, cst((size - 1) / 2.0));
    return sub(mul(shifted, cst(size / 2.0)), cst(0.5));
  }

  Value clip(Value x, int64_t size) {
    return arith::MinimumFOp::create(
        b, l, arith::MaximumFOp::create(b, l, x, cst(0)), cst(size - 1));
  }

  /// Reflects x into [twiceLow / 2, twiceHigh / 2].
  Value reflect(Value x, int64_t twiceLow, int64_t twiceHigh) {
    if (twiceLow == twiceHigh)
      return cst(0);
    double low = twiceLow / 2.0, span = (twiceHigh - twiceLow) / 2.0;
    Value in = math::AbsFOp::create(b, l, sub(x, cst(low)));
    Value extra = arith::RemFOp::create(b, l, in, cst(span));
    Value flips = floor(arith::DivFOp::create(b, l, in, cst(span)));
    Value even = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                       arith::RemFOp::create(b, l, flips, cst(2)),
                                       cst(0));
    return arith::SelectOp::create(b, l, even, add(extra, cst(low)),
                                   add(sub(cst(span), extra), cst(low)));
  }

  /// The padding mode applied to a position.
  Value pad(Value x, int64_t size) {
    if (padding == "border")
      return clip(x, size);
    if (padding == "reflection")
      return clip(align ? reflect(x, 0, 2 * (size - 1)) : reflect(x, -1, 2 * size - 1),
                  size);
    return x;
  }

  /// X[n, c, y, x] at integral float positions, 0 outside.
  Value at(Value x, Value y) {
    auto t = tensorType(op.getX());
    Type i64 = b.getI64Type();
    auto inside = [&](Value v, int64_t size) {
      Value i = arith::FPToSIOp::create(b, l, i64, v);
      Value zero = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0));
      Value hi = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(size - 1));
      Value ok = arith::AndIOp::create(
          b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, zero),
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, i, hi));
      Value clamped = arith::MinSIOp::create(b, l, arith::MaxSIOp::create(b, l, i, zero), hi);
      return std::make_pair(ok, arith::IndexCastOp::create(b, l, b.getIndexType(), clamped)
                                    .getResult());
    };
    auto [okX, ix] = inside(x, t.getDimSize(3));
    auto [okY, iy] = inside(y, t.getDimSize(2));
    Value v = tensor::ExtractOp::create(b, l, op.getX(), ValueRange{n, c, iy, ix});
    return arith::SelectOp::create(b, l, arith::AndIOp::create(b, l, okX, okY), v, cst(0));
  }

  Value sample(Value gx, Value gy) {
    auto t = tensorType(op.getX());
    int64_t h = t.getDimSize(2), w = t.getDimSize(3);
    StringRef mode = op.getMode();
    if (mode == "nearest") {
      Value x = math::RoundEvenOp::create(b, l, pad(unnormalize(gx, w), w));
      Value y = math::RoundEvenOp::create(b, l, pad(unnormalize(gy, h), h));
      return at(x, y);
    }
    if (mode == "bilinear") {
      Value x = pad(unnormalize(gx, w), w), y = pad(unnormalize(gy, h), h);
      Value x0 = floor(x), y0 = floor(y);
      Value tx = sub(x, x0), ty = sub(y, y0);
      Value x1 = add(x0, cst(1)), y1 = add(y0, cst(1));
      Value sx = sub(cst(1), tx), sy = sub(cst(1), ty);
      Value top = add(mul(at(x0, y0), sx), mul(at(x1, y0), tx));
      Value bottom = add(mul(at(x0, y1), sx), mul(at(x1, y1), tx));
      return add(mul(top, sy), mul(bottom, ty));
    }
    // Bicubic: 4x4 taps around the position, each tap padded.
    Value x = unnormalize(gx, w), y = unnormalize(gy, h);
    Value x0 = floor(x), y0 = floor(y);
    auto wx = coefficients(sub(x, x0)), wy = coefficients(sub(y, y0));
    Value sum = cst(0);
    for (int i = 0; i < 4; ++i) {
      Value row = cst(0);
      Value yi = pad(add(y0, cst(i - 1)), h);
      for (int j = 0; j < 4; ++j)
        row = add(row, mul(wx[j], at(pad(add(x0, cst(j - 1)), w), yi)));
      sum = add(sum, mul(wy[i], row));
    }
    return sum;
  }

private:
  /// The cubic convolution weights (A = -0.75) of the taps at -1, 0, 1, 2
  /// from a position t in [0, 1).
  std::array<Value, 4> coefficients(Value t) {
    const double a = -0.75;
    auto near = [&](Value x) { // |x| <= 1
      return add(mul(mul(sub(mul(cst(a + 2), x), cst(a + 3)), x), x), cst(1));
    };
    auto far = [&](Value x) { // 1 < |x| < 2
      return sub(mul(add(mul(sub(mul(cst(a), x), cst(5 * a)), x), cst(8 * a)), x),
                 cst(4 * a));
    };
    return {far(add(t, cst(1))), near(t), near(sub(cst(1), t)),
            far(sub(cst(2), t))};
  }

  OpBuilder &b;
  Location l;
  ONNXGridSampleOp op;
  Value n, c;
  Type elem;
  bool align;
  StringRef padding;
};

struct GridSampleToGeneric : public OpRewritePattern<ONNXGridSampleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXGridSampleOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op) || prism::getUnsupportedReason(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    auto grid = tensorType(op.getGrid());
    if (result.getRank() != 4 || !isa<FloatType>(result.getElementType()) ||
        grid.getElementType() != result.getElementType())
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    // Output (n, c, h, w) reads grid[n, h, w, 0] and grid[n, h, w, 1].
    auto gridMap = [&](int64_t k) {
      return AffineMap::get(4, 0, {d(0), d(2), d(3), getAffineConstantExpr(k, ctx)}, ctx);
    };
    Value init = tensor::EmptyOp::create(rewriter, loc, result.getShape(),
                                         result.getElementType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{result}, ValueRange{op.getGrid(), op.getGrid()},
        ValueRange{init},
        ArrayRef<AffineMap>{gridMap(0), gridMap(1), rewriter.getMultiDimIdentityMap(4)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Sampler s(b, l, op, linalg::IndexOp::create(b, l, 0),
                    linalg::IndexOp::create(b, l, 1));
          linalg::YieldOp::create(b, l, s.sample(args[0], args[1]));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void prism::lowering::populateGridSamplePatterns(RewritePatternSet &patterns) {
  patterns.add<GridSampleToGeneric>(patterns.getContext());
}
