//===- Resize.cpp - ONNX Resize on the host -------------------------------===//
//
// Resize (nearest, linear, cubic) as one generic over the output: each
// resized dim maps its output coordinate back to the input by the
// coordinate transformation mode, then reads one (nearest), two (linear)
// or four (cubic) input cells along it; a multi-dim resize reads the
// product of the taps. tf_crop_and_resize maps the output onto the roi's
// crop box and gives extrapolation_value outside the input.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// The constant float values of `v`, or nullopt.
std::optional<SmallVector<double>> constFloats(Value v) {
  DenseFPElementsAttr attr;
  if (!v || isa<NoneType>(v.getType()) || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> out;
  for (const APFloat &x : attr.getValues<APFloat>())
    out.push_back(x.convertToDouble());
  return out;
}

struct ResizeToGeneric : public OpRewritePattern<ONNXResizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXResizeOp op, PatternRewriter &rw) const override {
    if (!allStatic(op) || prism::getUnsupportedReason(op))
      return failure();
    auto xt = cast<RankedTensorType>(op.getX().getType());
    auto yt = cast<RankedTensorType>(op.getType());
    Type elem = yt.getElementType();
    if (!isa<FloatType>(elem))
      return failure();
    int64_t rank = xt.getRank();
    // Scales: constant, read at run time, or output / input (sizes).
    FloatType f32 = rw.getF32Type();
    Location loc = op.getLoc();
    SmallVector<double> scales(rank, 0.0);
    SmallVector<Value> runtimeScales(rank);
    bool hasScales = !isa<NoneType>(op.getScales().getType()) &&
                     cast<RankedTensorType>(op.getScales().getType()).getNumElements() == rank;
    if (auto s = constFloats(op.getScales()); s && (int64_t)s->size() == rank) {
      scales = *s;
    } else if (hasScales) {
      for (int64_t d = 0; d < rank; ++d) {
        Value i = arith::ConstantIndexOp::create(rw, loc, d);
        Value v = tensor::ExtractOp::create(rw, loc, op.getScales(), ValueRange{i});
        if (v.getType() != f32)
          v = arith::ExtFOp::create(rw, loc, f32, v);
        runtimeScales[d] = v;
      }
    } else {
      for (int64_t d = 0; d < rank; ++d)
        scales[d] = (double)yt.getDimSize(d) / xt.getDimSize(d);
    }
    StringRef mode = op.getMode(), transform = op.getCoordinateTransformationMode();
    StringRef nearest = op.getNearestMode();
    double a = op.getCubicCoeffA().convertToDouble();
    bool excludeOutside = op.getExcludeOutside() != 0;
    Value source = op.getX();
    // tf_crop_and_resize's box per dim (start, end), constant or read at run
    // time.
    bool crop = transform == "tf_crop_and_resize";
    SmallVector<double> roi;
    SmallVector<Value> runtimeRoi;
    if (crop) {
      if (auto v = constFloats(op.getRoi()); v && (int64_t)v->size() == 2 * rank) {
        roi = *v;
      } else {
        for (int64_t i = 0; i < 2 * rank; ++i) {
          Value at = arith::ConstantIndexOp::create(rw, loc, i);
          Value v = tensor::ExtractOp::create(rw, loc, op.getRoi(), ValueRange{at});
          if (v.getType().getIntOrFloatBitWidth() < 32)
            v = arith::ExtFOp::create(rw, loc, f32, v);
          else if (v.getType() != f32)
            v = arith::TruncFOp::create(rw, loc, f32, v);
          runtimeRoi.push_back(v);
        }
      }
    }
    double extrapolation = op.getExtrapolationValue().convertToDouble();
    Value r = broadcastGeneric(
        rw, loc, yt, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          auto c = [&](double v) {
            return arith::ConstantOp::create(b, l, f32, b.getFloatAttr(f32, v)).getResult();
          };
          auto idx = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          auto toF = [&](Value i) -> Value {
            return arith::SIToFPOp::create(
                b, l, f32, arith::IndexCastOp::create(b, l, b.getI64Type(), i));
          };
          auto toIndex = [&](Value x) -> Value {
            return arith::IndexCastOp::create(
                b, l, b.getIndexType(), arith::FPToSIOp::create(b, l, b.getI64Type(), x));
          };
          auto clampIndex = [&](Value i, int64_t size) -> Value {
            return arith::MaxSIOp::create(b, l, idx(0),
                                          arith::MinSIOp::create(b, l, i, idx(size - 1)));
          };
          // Per dim: the taps (input index, weight).
          SmallVector<SmallVector<std::pair<Value, Value>>> taps;
          // Whether a crop coordinate falls outside the input.
          Value outside;
          for (int64_t d = 0; d < rank; ++d) {
            Value out = linalg::IndexOp::create(b, l, d);
            int64_t in = xt.getDimSize(d), outLen = yt.getDimSize(d);
            // (A crop maps every output of a dim of 1 to its one input.)
            if ((!crop || in == 1) && in == outLen && !runtimeScales[d] &&
                scales[d] == 1.0) {
              taps.push_back({{out, c(1.0)}});
              continue;
            }
            Value xo = toF(out), x;
            Value scale = runtimeScales[d] ? runtimeScales[d] : c(scales[d]);
            if (transform == "align_corners") {
              // x * (in - 1) / (in * scale - 1): the resized length is the
              // unrounded in * scale (= out when sizes are given).
              Value den = arith::SubFOp::create(
                  b, l, arith::MulFOp::create(b, l, c((double)in), scale), c(1.0));
              Value zeroLen = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, den, c(0.0));
              Value v = arith::DivFOp::create(
                  b, l, arith::MulFOp::create(b, l, xo, c((double)(in - 1))), den);
              x = arith::SelectOp::create(b, l, zeroLen, c(0.0), v);
            } else if (crop) {
              // x * (end - start) * (in - 1) / (len - 1) + start * (in - 1)
              // (the box's middle when len = 1), len = in * scale unrounded,
              // in ONNX's order of operations.
              Value start = runtimeRoi.empty() ? c(roi[d]) : runtimeRoi[d];
              Value end = runtimeRoi.empty() ? c(roi[rank + d]) : runtimeRoi[rank + d];
              Value width = arith::SubFOp::create(b, l, end, start);
              Value len = arith::MulFOp::create(b, l, c((double)in), scale);
              Value single = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, len, c(1.0));
              Value v = arith::DivFOp::create(
                  b, l,
                  arith::MulFOp::create(b, l, arith::MulFOp::create(b, l, xo, width),
                                        c((double)(in - 1))),
                  arith::SubFOp::create(b, l, len, c(1.0)));
              Value middle = arith::DivFOp::create(
                  b, l, arith::MulFOp::create(b, l, width, c((double)(in - 1))), c(2.0));
              x = arith::SelectOp::create(b, l, single, middle, v);
              x = arith::AddFOp::create(
                  b, l, x, arith::MulFOp::create(b, l, start, c((double)(in - 1))));
              Value beyond = arith::OrIOp::create(
                  b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, c(0.0)),
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x,
                                        c((double)(in - 1))));
              outside = outside ? Value(arith::OrIOp::create(b, l, outside, beyond)) : beyond;
            } else if (transform == "asymmetric")
              x = arith::DivFOp::create(b, l, xo, scale);
            else if (transform == "tf_half_pixel_for_nn")
              x = arith::DivFOp::create(b, l, arith::AddFOp::create(b, l, xo, c(0.5)), scale);
            else if (transform == "pytorch_half_pixel" && outLen == 1)
              x = c(0.0);
            else // half_pixel, pytorch_half_pixel
              x = arith::SubFOp::create(
                  b, l,
                  arith::DivFOp::create(b, l, arith::AddFOp::create(b, l, xo, c(0.5)), scale),
                  c(0.5));
            SmallVector<std::pair<Value, Value>> dimTaps;
            if (mode == "nearest") {
              Value r;
              if (nearest == "floor")
                r = math::FloorOp::create(b, l, x);
              else if (nearest == "ceil")
                r = math::CeilOp::create(b, l, x);
              else {
                // Halves go down (round_prefer_floor) or up (round_prefer_ceil).
                Value fl = math::FloorOp::create(b, l, x);
                Value half = arith::CmpFOp::create(
                    b, l, arith::CmpFPredicate::OEQ, arith::SubFOp::create(b, l, x, fl), c(0.5));
                Value rounded = math::RoundOp::create(b, l, x);
                r = arith::SelectOp::create(
                    b, l, half,
                    nearest == "round_prefer_ceil"
                        ? Value(math::CeilOp::create(b, l, x))
                        : fl,
                    rounded);
              }
              dimTaps.push_back({clampIndex(toIndex(r), in), c(1.0)});
            } else if (mode == "linear") {
              x = arith::MaximumFOp::create(b, l, c(0.0),
                                            arith::MinimumFOp::create(b, l, x, c(in - 1)));
              Value fl = math::FloorOp::create(b, l, x);
              Value w1 = arith::SubFOp::create(b, l, x, fl);
              Value i0 = toIndex(fl);
              dimTaps.push_back({clampIndex(i0, in), arith::SubFOp::create(b, l, c(1.0), w1)});
              dimTaps.push_back(
                  {clampIndex(arith::AddIOp::create(b, l, i0, idx(1)), in), w1});
            } else { // cubic
              Value fl = math::FloorOp::create(b, l, x);
              Value t = arith::SubFOp::create(b, l, x, fl);
              Value i0 = toIndex(fl);
              auto mul = [&](Value p, Value q) { return arith::MulFOp::create(b, l, p, q).getResult(); };
              auto add = [&](Value p, Value q) { return arith::AddFOp::create(b, l, p, q).getResult(); };
              auto sub = [&](Value p, Value q) { return arith::SubFOp::create(b, l, p, q).getResult(); };
              // Keys's kernel at distance s (1 < s < 2 and s <= 1 branches).
              auto far = [&](Value s) { // a s^3 - 5a s^2 + 8a s - 4a
                return sub(mul(add(mul(sub(mul(c(a), s), c(5 * a)), s), c(8 * a)), s), c(4 * a));
              };
              auto near = [&](Value s) { // (a+2) s^3 - (a+3) s^2 + 1
                return add(mul(mul(sub(mul(c(a + 2), s), c(a + 3)), s), s), c(1.0));
              };
              Value one = c(1.0);
              SmallVector<Value> weights = {far(add(t, one)), near(t), near(sub(one, t)),
                                            far(sub(c(2.0), t))};
              Value total = c(0.0);
              SmallVector<Value> indices;
              for (int64_t k = -1; k <= 2; ++k) {
                Value i = arith::AddIOp::create(b, l, i0, idx(k));
                if (excludeOutside) {
                  Value inside = arith::AndIOp::create(
                      b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, idx(0)),
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, idx(in)));
                  weights[k + 1] = arith::SelectOp::create(b, l, inside, weights[k + 1], c(0.0));
                }
                total = add(total, weights[k + 1]);
                indices.push_back(clampIndex(i, in));
              }
              for (int64_t k = 0; k < 4; ++k)
                dimTaps.push_back({indices[k],
                                   excludeOutside
                                       ? Value(arith::DivFOp::create(b, l, weights[k], total))
                                       : weights[k]});
            }
            taps.push_back(dimTaps);
          }
          // Sum over the product of the taps.
          Value sum = c(0.0);
          SmallVector<int64_t> choice(rank, 0);
          while (true) {
            SmallVector<Value> coords;
            Value w = c(1.0);
            for (int64_t d = 0; d < rank; ++d) {
              coords.push_back(taps[d][choice[d]].first);
              w = arith::MulFOp::create(b, l, w, taps[d][choice[d]].second);
            }
            Value v = tensor::ExtractOp::create(b, l, source, coords);
            if (v.getType() != f32)
              v = arith::ExtFOp::create(b, l, f32, v);
            sum = arith::AddFOp::create(b, l, sum, arith::MulFOp::create(b, l, w, v));
            int64_t d = rank - 1;
            while (d >= 0 && ++choice[d] == (int64_t)taps[d].size())
              choice[d--] = 0;
            if (d < 0)
              break;
          }
          if (outside)
            sum = arith::SelectOp::create(b, l, outside, c(extrapolation), sum);
          return elem == f32 ? sum : Value(arith::TruncFOp::create(b, l, elem, sum));
        });
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void prism::lowering::populateResizePatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeToGeneric>(patterns.getContext());
}
