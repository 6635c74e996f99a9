//===- PoolingExtras.cpp - MaxUnpool and RoiAlign -------------------------===//
//
// MaxUnpool scatters its input into a zero output at MaxPool's flat
// indices: an scf.for over the input elements inserting into the flattened
// output (a linalg.generic cannot write to computed positions). RoiAlign
// is one generic over its output [num_rois, C, oh, ow] whose body reads the
// box with tensor.extract and loops over the bin's sample points; its
// arithmetic follows ONNX Runtime's CPU kernel, from which ONNX's test data
// comes.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// MaxUnpool as onnx.reference computes it, which ONNX's test data follows:
/// y = zeros of the inferred shape ((in - 1) * stride + kernel - pads, the
/// pads ignored when output_shape is given), then y.flat[I[i]] = X[i] for
/// every input element, the last write winning; a larger output_shape (the
/// result type's, static once output_shape is a constant) holds that block
/// at its origin, zeros around. Out-of-range indices write nothing.
struct MaxUnpoolToScatter : public OpRewritePattern<ONNXMaxUnpoolOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMaxUnpoolOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = result.getElementType();
    if (!isa<FloatType>(elem))
      return failure();
    auto xt = tensorType(op.getX());
    if (xt.getRank() < 3 || result.getRank() != xt.getRank())
      return failure();
    int64_t r = xt.getRank() - 2;
    auto ints = [](std::optional<ArrayAttr> attr, int64_t n, int64_t value) {
      SmallVector<int64_t> out(n, value);
      if (attr && (int64_t)attr->size() == n)
        for (auto [i, a] : llvm::enumerate(*attr))
          out[i] = cast<IntegerAttr>(a).getInt();
      return out;
    };
    SmallVector<int64_t> kernel = ints(op.getKernelShape(), r, 1);
    SmallVector<int64_t> strides = ints(op.getStrides(), r, 1);
    SmallVector<int64_t> pads = ints(op.getPads(), 2 * r, 0);
    if (!isNone(op.getOutputShape()))
      pads.assign(2 * r, 0);
    SmallVector<int64_t> inferred(xt.getShape().take_front(2));
    for (int64_t i = 0; i < r; ++i) {
      inferred.push_back((xt.getDimSize(2 + i) - 1) * strides[i] + kernel[i] -
                         pads[i] - pads[r + i]);
      if (inferred.back() < 1 || inferred.back() > result.getDimSize(2 + i))
        return failure();
    }
    if (result.getShape().take_front(2) != ArrayRef(inferred).take_front(2))
      return failure();
    Location loc = op.getLoc();
    int64_t total = ShapedType::getNumElements(inferred);
    int64_t count = xt.getNumElements();
    Value x = reshapeTo(rw, loc, op.getX(), {count});
    Value indices = reshapeTo(rw, loc, op.getI(), {count});
    Value zero = arith::ConstantOp::create(rw, loc, elem, rw.getZeroAttr(elem));
    Value init = linalg::FillOp::create(
                     rw, loc, ValueRange{zero},
                     ValueRange{tensor::EmptyOp::create(rw, loc, {total}, elem)})
                     .getResult(0);
    auto idx = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rw, loc, v).getResult();
    };
    auto loop = scf::ForOp::create(
        rw, loc, idx(0), idx(count), idx(1), ValueRange{init},
        [&](OpBuilder &b, Location l, Value i, ValueRange args) {
          Value out = args[0];
          Value v = tensor::ExtractOp::create(b, l, x, ValueRange{i});
          Value to = tensor::ExtractOp::create(b, l, indices, ValueRange{i});
          Value zeroI64 = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0));
          Value end = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(total));
          Value inside = arith::AndIOp::create(
              b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, to, zeroI64),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, to, end));
          // Outside: rewrite some cell with the value it holds.
          Value at = arith::IndexCastOp::create(
              b, l, b.getIndexType(), arith::SelectOp::create(b, l, inside, to, zeroI64));
          Value old = tensor::ExtractOp::create(b, l, out, ValueRange{at});
          Value written = tensor::InsertOp::create(
              b, l, arith::SelectOp::create(b, l, inside, v, old), out, ValueRange{at});
          scf::YieldOp::create(b, l, written);
        });
    Value y = reshapeTo(rw, loc, loop.getResult(0), inferred);
    if (result.getShape() != ArrayRef(inferred)) {
      SmallVector<OpFoldResult> low(inferred.size(), rw.getIndexAttr(0)), high;
      for (auto [size, block] : llvm::zip(result.getShape(), inferred))
        high.push_back(rw.getIndexAttr(size - block));
      y = tensor::PadOp::create(rw, loc, result, y, low, high, zero);
    }
    rw.replaceOp(op, y);
    return success();
  }
};

/// RoiAlign (opset 16): each output (r, c, ph, pw) averages or takes the
/// maximum of grid_h x grid_w samples of bin (ph, pw) of box r on image
/// batch_indices[r], channel c. The grid is sampling_ratio, or adaptive
/// (ceil(box / output), decided per box at run time). Each sample is
/// bilinear over its four neighbours, positions clamped into the image and
/// those beyond a one-pixel border contributing zero; the maximum is over
/// the four weighted taps, not their sum, as in ONNX Runtime.
struct RoiAlignToGeneric : public OpRewritePattern<ONNXRoiAlignOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXRoiAlignOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    auto xt = tensorType(op.getX());
    Type elem = result.getElementType();
    StringRef mode = op.getMode(), transform = op.getCoordinateTransformationMode();
    if (xt.getRank() != 4 || result.getRank() != 4 || !isa<FloatType>(elem) ||
        tensorType(op.getRois()).getElementType() != elem ||
        (mode != "avg" && mode != "max") ||
        (transform != "half_pixel" && transform != "output_half_pixel"))
      return failure();
    bool halfPixel = transform == "half_pixel", isMax = mode == "max";
    int64_t batches = xt.getDimSize(0), height = xt.getDimSize(2),
            width = xt.getDimSize(3);
    int64_t outH = result.getDimSize(2), outW = result.getDimSize(3);
    int64_t ratio = op.getSamplingRatio();
    double scale = op.getSpatialScale().convertToDouble();
    Value x = op.getX(), rois = op.getRois(), batchIndices = op.getBatchIndices();
    Location loc = op.getLoc();
    Value y = broadcastGeneric(
        rw, loc, result, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          auto cst = [&](double v) {
            return arith::ConstantOp::create(b, l, b.getFloatAttr(elem, v)).getResult();
          };
          auto idx = [&](int64_t v) {
            return arith::ConstantIndexOp::create(b, l, v).getResult();
          };
          auto add = [&](Value p, Value q) { return arith::AddFOp::create(b, l, p, q); };
          auto sub = [&](Value p, Value q) { return arith::SubFOp::create(b, l, p, q); };
          auto mul = [&](Value p, Value q) { return arith::MulFOp::create(b, l, p, q); };
          auto div = [&](Value p, Value q) { return arith::DivFOp::create(b, l, p, q); };
          auto toFloat = [&](Value i) { // index -> elem
            return arith::SIToFPOp::create(
                b, l, elem, arith::IndexCastOp::create(b, l, b.getI64Type(), i));
          };
          Value r = linalg::IndexOp::create(b, l, 0);
          Value c = linalg::IndexOp::create(b, l, 1);
          Value ph = linalg::IndexOp::create(b, l, 2);
          Value pw = linalg::IndexOp::create(b, l, 3);
          Value batch = wrapIndex(
              b, l, tensor::ExtractOp::create(b, l, batchIndices, ValueRange{r}), batches);
          // The box in input pixels: x1, y1, x2, y2.
          SmallVector<Value> box;
          for (int64_t k = 0; k < 4; ++k) {
            Value v = tensor::ExtractOp::create(b, l, rois, ValueRange{r, idx(k)});
            box.push_back(sub(mul(v, cst(scale)), cst(halfPixel ? 0.5 : 0.0)));
          }
          Value roiW = sub(box[2], box[0]), roiH = sub(box[3], box[1]);
          if (!halfPixel) { // malformed boxes are 1x1
            roiW = arith::MaximumFOp::create(b, l, roiW, cst(1));
            roiH = arith::MaximumFOp::create(b, l, roiH, cst(1));
          }
          Value binH = div(roiH, cst(outH)), binW = div(roiW, cst(outW));
          auto grid = [&](Value bin) -> Value {
            if (ratio > 0)
              return idx(ratio);
            Value n = arith::FPToSIOp::create(b, l, b.getI64Type(),
                                              math::CeilOp::create(b, l, bin));
            return arith::IndexCastOp::create(b, l, b.getIndexType(), n);
          };
          Value gridH = grid(binH), gridW = grid(binW);
          Value gridHf = toFloat(gridH), gridWf = toFloat(gridW);
          Value startH = add(box[1], mul(toFloat(ph), binH));
          Value startW = add(box[0], mul(toFloat(pw), binW));
          // One sample at (yy, xx): the four weighted taps, combined.
          auto sample = [&](Value yy, Value xx) -> Value {
            auto cmp = [&](arith::CmpFPredicate p, Value u, double v) {
              return arith::CmpFOp::create(b, l, p, u, cst(v));
            };
            Value outside = arith::OrIOp::create(
                b, l,
                arith::OrIOp::create(b, l, cmp(arith::CmpFPredicate::OLT, yy, -1.0),
                                     cmp(arith::CmpFPredicate::OGT, yy, height)),
                arith::OrIOp::create(b, l, cmp(arith::CmpFPredicate::OLT, xx, -1.0),
                                     cmp(arith::CmpFPredicate::OGT, xx, width)));
            // Clamped into [0, size - 1]: at the last row or column both taps
            // are that one with the weight on it.
            auto taps = [&](Value v, int64_t size) {
              v = arith::MinNumFOp::create(
                  b, l, arith::MaxNumFOp::create(b, l, v, cst(0)), cst(size - 1));
              Value low = arith::IndexCastOp::create(
                  b, l, b.getIndexType(), arith::FPToSIOp::create(b, l, b.getI64Type(), v));
              Value high = arith::MinSIOp::create(
                  b, l, arith::AddIOp::create(b, l, low, idx(1)), idx(size - 1));
              Value frac = sub(v, toFloat(low));
              return std::make_tuple(low, high, frac);
            };
            auto [yLow, yHigh, ly] = taps(yy, height);
            auto [xLow, xHigh, lx] = taps(xx, width);
            Value hy = sub(cst(1), ly), hx = sub(cst(1), lx);
            auto tap = [&](Value weight, Value row, Value col) -> Value {
              weight = arith::SelectOp::create(b, l, outside, cst(0), weight);
              Value v = tensor::ExtractOp::create(b, l, x, ValueRange{batch, c, row, col});
              return mul(weight, v);
            };
            Value t1 = tap(mul(hy, hx), yLow, xLow), t2 = tap(mul(hy, lx), yLow, xHigh);
            Value t3 = tap(mul(ly, hx), yHigh, xLow), t4 = tap(mul(ly, lx), yHigh, xHigh);
            if (isMax) {
              auto max = [&](Value p, Value q) { return arith::MaximumFOp::create(b, l, p, q); };
              return max(max(max(t1, t2), t3), t4);
            }
            return add(add(add(t1, t2), t3), t4);
          };
          auto combine = [&](Value acc, Value v) -> Value {
            return isMax ? Value(arith::MaximumFOp::create(b, l, acc, v))
                         : Value(arith::AddFOp::create(b, l, acc, v));
          };
          // The sample position in a bin: start + (i + 0.5) * bin / grid.
          auto position = [&](Value start, Value i, Value bin, Value gridF) {
            return add(start, div(mul(add(toFloat(i), cst(0.5)), bin), gridF));
          };
          // The loops' bodies are built with `b` itself (scf.for hands its
          // builder on), so the helpers above insert there.
          Value seed = cst(isMax ? -INFINITY : 0.0);
          auto rows = scf::ForOp::create(
              b, l, idx(0), gridH, idx(1), ValueRange{seed},
              [&](OpBuilder &, Location, Value iy, ValueRange rowArgs) {
                Value yy = position(startH, iy, binH, gridHf);
                auto cols = scf::ForOp::create(
                    b, l, idx(0), gridW, idx(1), ValueRange{rowArgs[0]},
                    [&](OpBuilder &, Location, Value ix, ValueRange colArgs) {
                      Value xx = position(startW, ix, binW, gridWf);
                      scf::YieldOp::create(b, l, combine(colArgs[0], sample(yy, xx)));
                    });
                scf::YieldOp::create(b, l, cols.getResult(0));
              });
          Value acc = rows.getResult(0);
          if (isMax) { // no samples (an empty adaptive grid): 0
            Value any = arith::AndIOp::create(
                b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, gridH, idx(0)),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, gridW, idx(0)));
            return arith::SelectOp::create(b, l, any, acc, cst(0));
          }
          Value count = arith::MaxSIOp::create(
              b, l, arith::MulIOp::create(b, l, gridH, gridW), idx(1));
          return div(acc, toFloat(count));
        });
    rw.replaceOp(op, y);
    return success();
  }
};

} // namespace

void prism::lowering::populatePoolingExtrasPatterns(RewritePatternSet &patterns) {
  patterns.add<MaxUnpoolToScatter, RoiAlignToGeneric>(patterns.getContext());
}
