//===- SignalOps.cpp - Windows, DFT and STFT as onnx ops ------------------===//
//
// The window functions with a constant size are constants, and so is
// MelWeightMatrix with constant inputs. DFT is two
// matrix products with constant cosine and sine matrices (real and
// imaginary parts); STFT gathers the frames, applies the window and is a
// DFT over each frame. Quadratic in the transform length: these serve
// conformance and small spectra, not long FFTs.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// The generalized cosine windows: a0 - a1 cos(2πn/N) + a2 cos(4πn/N), with
/// N the size (periodic) or the size - 1 (symmetric).
template <typename OpTy>
struct WindowToConstant : public OpRewritePattern<OpTy> {
  WindowToConstant(MLIRContext *ctx, double a0, double a1, double a2)
      : OpRewritePattern<OpTy>(ctx), a0(a0), a1(a1), a2(a2) {}

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    auto size = constInts(op.getSize());
    if (!allStatic(op) || !size || size->size() != 1)
      return failure();
    int64_t n = (*size)[0];
    double period = op.getPeriodic() ? n : n - 1;
    SmallVector<double> values;
    for (int64_t i = 0; i < n; ++i) {
      double t = period > 0 ? 2 * M_PI * i / period : 0;
      values.push_back(a0 - a1 * std::cos(t) + a2 * std::cos(2 * t));
    }
    OnnxBuilder b(rw, op.getLoc());
    auto type = tensorType(op.getOutput());
    rw.replaceOp(op, b.constant(type.getShape(), type.getElementType(), values));
    return success();
  }

  double a0, a1, a2;
};

/// The one value of a constant float scalar, or nullopt.
std::optional<double> constFloat(Value v) {
  DenseFPElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.getValues<APFloat>().begin()).convertToDouble();
}

/// NumPy's float floor division (npy_divmod): floor((a - fmod(a, b)) / b),
/// which differs from floor(a / b) where the quotient rounds up.
double floorDivide(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0))
    div -= 1.0;
  if (div == 0)
    return 0.0;
  double floored = std::floor(div);
  return div - floored > 0.5 ? floored + 1.0 : floored;
}

/// MelWeightMatrix with constant inputs: the [dft_length / 2 + 1,
/// num_mel_bins] matrix of triangular filters, computed as ONNX's reference
/// computes it (in f64, as NumPy 1.x promotes its scalars; the bin edges by
/// NumPy's floor division), so that the filters' integer edges match it.
struct MelWeightMatrixToConstant : public OpRewritePattern<ONNXMelWeightMatrixOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMelWeightMatrixOp op,
                                PatternRewriter &rw) const override {
    auto melBins = constInts(op.getNumMelBins());
    auto dftLength = constInts(op.getDftLength());
    auto sampleRate = constInts(op.getSampleRate());
    std::optional<double> lower = constFloat(op.getLowerEdgeHertz());
    std::optional<double> upper = constFloat(op.getUpperEdgeHertz());
    if (!allStatic(op) || !melBins || melBins->size() != 1 || !dftLength ||
        dftLength->size() != 1 || !sampleRate || sampleRate->size() != 1 ||
        !lower || !upper)
      return failure();
    int64_t mels = (*melBins)[0], length = (*dftLength)[0], rate = (*sampleRate)[0];
    int64_t bins = length / 2 + 1;
    auto type = tensorType(op.getOutput());
    if (mels <= 0 || rate <= 0 || type.getShape() != ArrayRef<int64_t>{bins, mels})
      return failure();
    // The mels + 2 edges evenly spaced in mel, as spectrum bins.
    auto mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
    double lowMel = mel(*lower);
    double melStep = (mel(*upper) - lowMel) / double(mels + 2);
    SmallVector<int64_t> edges;
    for (int64_t i = 0; i < mels + 2; ++i) {
      double hz = 700.0 * (std::pow(10.0, (double(i) * melStep + lowMel) / 2595.0) - 1.0);
      edges.push_back((int64_t)floorDivide(double(length + 1) * hz, double(rate)));
    }
    SmallVector<double> values(bins * mels, 0.0);
    auto set = [&](int64_t j, int64_t i, double v) -> bool {
      if (j < 0 || j >= bins)
        return false;
      values[j * mels + i] = v;
      return true;
    };
    for (int64_t i = 0; i < mels; ++i) {
      int64_t left = edges[i], center = edges[i + 1], right = edges[i + 2];
      // Edges outside the spectrum (upper_edge_hertz above the Nyquist
      // frequency) index outside the matrix in the reference: rejected.
      if (center == left) {
        if (!set(center, i, 1.0))
          return failure();
      } else {
        for (int64_t j = left; j <= center; ++j)
          if (!set(j, i, double(j - left) / double(center - left)))
            return failure();
      }
      for (int64_t j = center; j < right; ++j)
        if (!set(j, i, double(right - j) / double(right - center)))
          return failure();
    }
    OnnxBuilder b(rw, op.getLoc());
    rw.replaceOp(op, b.constant(type.getShape(), type.getElementType(), values));
    return success();
  }
};

/// DFT along `axis` of a real ([..., 1]) or complex ([..., 2]) signal:
/// with C[n][k] = cos(2πkn/L) and S[n][k] = sin(2πkn/L),
///   forward: re = xr C + xi S, im = xi C - xr S;
///   inverse: re = (xr C - xi S) / L, im = (xi C + xr S) / L.
/// A signal longer than L is cut, a shorter one zero-padded (fewer rows).
struct DftDecomposition : public OpRewritePattern<ONNXDFTOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXDFTOp op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto in = tensorType(op.getInput());
    int64_t rank = in.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    int64_t n = in.getDimSize(axis);
    int64_t length = n;
    if (!isNone(op.getDftLength())) {
      auto l = constInts(op.getDftLength());
      if (!l || l->size() != 1)
        return failure();
      length = (*l)[0];
    }
    bool inverse = op.getInverse() != 0;
    int64_t bins = op.getOnesided() ? length / 2 + 1 : length;
    OnnxBuilder b(rw, op.getLoc());
    Type elem = in.getElementType();

    // The axis just before the complex dim: x[..., n, 1 or 2].
    SmallVector<int64_t> perm, back(rank);
    for (int64_t d = 0; d < rank - 1; ++d)
      if (d != axis)
        perm.push_back(d);
    perm.push_back(axis);
    perm.push_back(rank - 1);
    for (int64_t d = 0; d < rank; ++d)
      back[perm[d]] = d;
    Value x = b.transpose(op.getInput(), perm);
    int64_t used = std::min(n, length);
    if (used < n)
      x = b.slice(x, rank - 2, 0, used);
    SmallVector<int64_t> rowShape(tensorType(x).getShape().drop_back());
    auto part = [&](int64_t i) { return b.reshape(b.slice(x, rank - 1, i, 1), rowShape); };
    Value xr = part(0);
    Value xi = in.getDimSize(rank - 1) == 2 ? part(1) : Value();

    SmallVector<double> cosines, sines;
    for (int64_t t = 0; t < used; ++t)
      for (int64_t k = 0; k < bins; ++k) {
        // (k * t) mod L keeps the angle exact for long transforms.
        double angle = 2 * M_PI * double((k * t) % length) / double(length);
        cosines.push_back(std::cos(angle));
        sines.push_back(std::sin(angle));
      }
    Value c = b.constant({used, bins}, elem, cosines);
    Value s = b.constant({used, bins}, elem, sines);
    Value re = b.matmul(xr, c), im;
    Value rs = b.matmul(xr, s);
    if (inverse) {
      im = rs;
      if (xi) {
        re = b.sub(re, b.matmul(xi, s));
        im = b.add(b.matmul(xi, c), rs);
      }
      Value scale = b.scalar(elem, 1.0 / double(length));
      re = b.mul(re, scale);
      im = b.mul(im, scale);
    } else {
      im = b.unary<ONNXNegOp>(rs);
      if (xi) {
        re = b.add(re, b.matmul(xi, s));
        im = b.sub(b.matmul(xi, c), rs);
      }
    }
    Value y = b.concat({b.unsqueezeLast(re), b.unsqueezeLast(im)}, rank - 1);
    rw.replaceOp(op, b.transpose(y, back));
    return success();
  }
};

/// STFT: frames [batch, frames, frame_length, 1 or 2] gathered at constant
/// offsets, times the window, then a DFT over each frame.
struct StftDecomposition : public OpRewritePattern<ONNXSTFTOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXSTFTOp op, PatternRewriter &rw) const override {
    auto step = constInts(op.getFrameStep());
    if (!allStatic(op) || !step || step->size() != 1 || (*step)[0] <= 0)
      return failure();
    int64_t frameLength;
    if (!isNone(op.getWindow())) {
      frameLength = tensorType(op.getWindow()).getDimSize(0);
    } else {
      auto l = constInts(op.getFrameLength());
      if (isNone(op.getFrameLength()) || !l || l->size() != 1)
        return failure();
      frameLength = (*l)[0];
    }
    auto signal = tensorType(op.getSignal());
    int64_t frames = (signal.getDimSize(1) - frameLength) / (*step)[0] + 1;
    if (frames <= 0)
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    SmallVector<int64_t> offsets;
    for (int64_t f = 0; f < frames; ++f)
      for (int64_t j = 0; j < frameLength; ++j)
        offsets.push_back(f * (*step)[0] + j);
    auto indexType = RankedTensorType::get({frames, frameLength}, rw.getI64Type());
    Value indices = arith::ConstantOp::create(
        rw, op.getLoc(), DenseElementsAttr::get(indexType, ArrayRef(offsets)));
    auto framedType = signal.clone(
        {signal.getDimSize(0), frames, frameLength, signal.getDimSize(2)});
    Value framed = ONNXGatherOp::create(rw, op.getLoc(), framedType, op.getSignal(),
                                        indices, (uint64_t)1);
    if (!isNone(op.getWindow()))
      framed = b.mul(framed, b.reshape(op.getWindow(), {1, 1, frameLength, 1}));
    Value none = ONNXNoValueOp::create(rw, op.getLoc(), rw.getNoneType());
    rw.replaceOpWithNewOp<ONNXDFTOp>(op, op.getOutput().getType(), framed, none,
                                     (uint64_t)2, (uint64_t)0,
                                     (uint64_t)op.getOnesided());
    return success();
  }
};

} // namespace

void prism::lowering::populateSignalPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<WindowToConstant<ONNXHannWindowOp>>(ctx, 0.5, 0.5, 0.0);
  patterns.add<WindowToConstant<ONNXHammingWindowOp>>(ctx, 25.0 / 46.0,
                                                      21.0 / 46.0, 0.0);
  patterns.add<WindowToConstant<ONNXBlackmanWindowOp>>(ctx, 0.42, 0.5, 0.08);
  patterns.add<MelWeightMatrixToConstant, DftDecomposition, StftDecomposition>(ctx);
}
