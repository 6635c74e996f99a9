//===- Decompositions.cpp - Composite onnx ops as simpler ones ------------===//
//
// Normalisations, GELUs, Gemm and the com.microsoft attention and embedding
// operators, rewritten for the host as the onnx ops they are made of (whose
// own patterns then lower them) plus a little tensor/linalg. All on
// statically shaped tensors; the semantics follow ONNX and, for the
// com.microsoft operators, ONNX Runtime's CPU kernels.
//
//===----------------------------------------------------------------------===//

#include "prism/Conversion/OnnxToLinalg/OnnxToLinalg.h"

#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"

#include "LoweringUtils.h"
#include "prism/Dialect/Onnx/MsAttentionForms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

struct LayerNormalizationDecomposition
    : public OpRewritePattern<ONNXLayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXLayerNormalizationOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    int64_t rank = tensorType(op.getX()).getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    OnnxBuilder::Normalized n = b.normalize(op.getX(), op.getScale(), op.getB(), axis,
                             op.getEpsilon().convertToDouble(), /*rms=*/false,
                             op.getStashType() == 1);
    return replaceWithOptional(rw, op, {n.y, n.mean, n.invStdDev});
  }
};

/// RMSNormalization (ai.onnx 23) and com.microsoft's
/// SimplifiedLayerNormalization.
template <typename OpTy>
struct RmsNormalizationDecomposition : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    int64_t rank = tensorType(op.getX()).getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    OnnxBuilder::Normalized n = b.normalize(op.getX(), op.getScale(), Value(), axis,
                             op.getEpsilon().convertToDouble(), /*rms=*/true,
                             op.getStashType() == 1);
    SmallVector<Value> values = {n.y, n.invStdDev};
    values.resize(op->getNumResults());
    return replaceWithOptional(rw, op, values);
  }
};

/// SkipLayerNormalization and SkipSimplifiedLayerNormalization: normalise
/// input + skip (+ bias) over the last axis.
template <typename OpTy, bool rms>
struct SkipNormalizationDecomposition : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value sum = b.add(op.getInput(), op.getSkip());
    if (!isNone(op.getBias()))
      sum = b.add(sum, op.getBias());
    Value beta;
    if constexpr (!rms)
      beta = op.getBeta();
    int64_t rank = tensorType(sum).getRank();
    // ONNX Runtime computes these in f32 whatever the input type.
    OnnxBuilder::Normalized n = b.normalize(sum, op.getGamma(), beta, rank - 1,
                             op.getEpsilon().convertToDouble(), rms,
                             /*stashF32=*/true);
    return replaceWithOptional(rw, op, {n.y, n.mean, n.invStdDev, sum});
  }
};




/// Gemm: alpha * A' B' + beta * C.
struct GemmDecomposition : public OpRewritePattern<ONNXGemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXGemmOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value a = op.getA(), bm = op.getB();
    if (op.getTransA())
      a = b.transpose(a, {1, 0});
    if (op.getTransB())
      bm = b.transpose(bm, {1, 0});
    Value y = b.matmul(a, bm);
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    if (alpha != 1.0)
      y = b.mul(y, b.scalarLike(y, alpha));
    if (!isNone(op.getC()) && beta != 0.0) {
      Value c = op.getC();
      if (beta != 1.0)
        c = b.mul(c, b.scalarLike(c, beta));
      y = b.add(y, c);
    }
    rw.replaceOp(op, y);
    return success();
  }
};

/// Split: one extract_slice per output, the sizes read from the results.
struct SplitToSlices : public OpRewritePattern<ONNXSplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXSplitOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    int64_t rank = tensorType(op.getInput()).getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    SmallVector<Value> parts;
    int64_t offset = 0;
    for (Value r : op.getOutputs()) {
      int64_t size = tensorType(r).getDimSize(axis);
      parts.push_back(b.slice(op.getInput(), axis, offset, size));
      offset += size;
    }
    rw.replaceOp(op, parts);
    return success();
  }
};

/// ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum and ReduceLogSumExp
/// as ReduceSum (and ReduceMax) with the same axes and elementwise ops;
/// LogSumExp subtracts the maximum first so that exp cannot overflow.
struct ReduceFamilyDecomposition : public RewritePattern {
  ReduceFamilyDecomposition(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    if (!isa<ONNXReduceL1Op, ONNXReduceL2Op, ONNXReduceSumSquareOp,
             ONNXReduceLogSumOp, ONNXReduceLogSumExpOp>(op) ||
        !allStatic(op))
      return failure();
    OnnxBuilder b(rw, op->getLoc());
    Value x = op->getOperand(0), axes = op->getOperand(1);
    auto result = tensorType(op->getResult(0));
    auto keepAttr = op->getAttrOfType<IntegerAttr>("keepdims");
    auto noopAttr = op->getAttrOfType<IntegerAttr>("noop_with_empty_axes");
    uint64_t keepdims = keepAttr ? keepAttr.getInt() : 1;
    uint64_t noop = noopAttr ? noopAttr.getInt() : 0;
    auto sum = [&](Value v) -> Value {
      return ONNXReduceSumOp::create(rw, op->getLoc(),
                                     result.clone(tensorType(v).getElementType()),
                                     v, axes, keepdims, noop);
    };
    Value r;
    if (isa<ONNXReduceL1Op>(op))
      r = sum(b.unary<ONNXAbsOp>(x));
    else if (isa<ONNXReduceL2Op>(op))
      r = b.unary<ONNXSqrtOp>(sum(b.mul(x, x)));
    else if (isa<ONNXReduceSumSquareOp>(op))
      r = sum(b.mul(x, x));
    else if (isa<ONNXReduceLogSumOp>(op))
      r = b.unary<ONNXLogOp>(sum(x));
    else {
      // The maximum with the reduced dims kept, to broadcast against x.
      auto t = tensorType(x);
      SmallVector<int64_t> kept(t.getShape());
      std::optional<SmallVector<int64_t>> list;
      if (!isNone(axes))
        list = constInts(axes);
      if (!isNone(axes) && !list)
        return failure(); // run-time axes
      bool all = !list || list->empty();
      if (all && noop) { // no axes and noop_with_empty_axes: the input
        rw.replaceOp(op, x);
        return success();
      }
      for (int64_t d = 0; d < t.getRank(); ++d)
        if (all || llvm::is_contained(*list, d) ||
            llvm::is_contained(*list, d - t.getRank()))
          kept[d] = 1;
      Value max = ONNXReduceMaxOp::create(rw, op->getLoc(), t.clone(kept), x,
                                          axes, (uint64_t)1, noop);
      Value shifted = b.unary<ONNXExpOp>(b.sub(x, max));
      r = b.add(b.unary<ONNXLogOp>(sum(shifted)), b.reshape(max, result.getShape()));
    }
    rw.replaceOp(op, r);
    return success();
  }
};

/// ReduceSum over every dim, not kept: a 0-d tensor.
Value sumAll(OnnxBuilder &b, Value x) {
  auto t = tensorType(x);
  Value none = ONNXNoValueOp::create(b.rw, b.loc, b.rw.getNoneType());
  return ONNXReduceSumOp::create(b.rw, b.loc,
                                 RankedTensorType::get({}, t.getElementType()),
                                 x, none, (uint64_t)0, (uint64_t)0);
}

/// NegativeLogLikelihoodLoss of log-probabilities `x` [N, C, d...] at
/// `target` [N, d...]: -x[n, target, d...] times the class weight, 0 where
/// the target is ignore_index; summed, or averaged over the weights.
Value negativeLogLikelihood(OnnxBuilder &b, Value x, Value target, Value weight,
                            std::optional<int64_t> ignoreIndex,
                            StringRef reduction) {
  auto xt = tensorType(x);
  auto tt = tensorType(target);
  Type elem = xt.getElementType();
  Value t64 = b.castTo(target, b.rw.getI64Type());
  SmallVector<int64_t> withClass(tt.getShape());
  withClass.insert(withClass.begin() + 1, 1);
  Value picked = ONNXGatherElementsOp::create(
      b.rw, b.loc, xt.clone(withClass), x, b.reshape(t64, withClass), (uint64_t)1);
  picked = b.reshape(picked, tt.getShape());
  Value w = isNone(weight) ? Value() : b.gather(weight, t64);
  if (ignoreIndex) {
    auto boolType = tt.clone(b.rw.getI1Type());
    Value ignored = ONNXEqualOp::create(b.rw, b.loc, boolType, t64,
                                        b.scalar(b.rw.getI64Type(), (double)*ignoreIndex));
    w = ONNXWhereOp::create(b.rw, b.loc, tt.clone(elem), ignored,
                            b.scalar(elem, 0.0), w ? w : b.scalar(elem, 1.0));
  }
  Value loss = b.unary<ONNXNegOp>(picked);
  if (w)
    loss = b.mul(loss, w);
  if (reduction == "none")
    return loss;
  Value total = sumAll(b, loss);
  if (reduction == "sum")
    return total;
  if (!w) // mean over the elements
    return b.div(total, b.scalar(elem, (double)tt.getNumElements()));
  return b.div(total, sumAll(b, w));
}

struct NegativeLogLikelihoodLossDecomposition
    : public OpRewritePattern<ONNXNegativeLogLikelihoodLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXNegativeLogLikelihoodLossOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    std::optional<int64_t> ignore;
    if (auto i = op.getIgnoreIndex())
      ignore = (int64_t)*i;
    Value r = negativeLogLikelihood(b, op.getInput(), op.getTarget(),
                                    op.getWeight(), ignore, op.getReduction());
    rw.replaceOp(op, b.match(r, op.getType()));
    return success();
  }
};

/// SoftmaxCrossEntropyLoss: the NLL loss of LogSoftmax(scores) over axis 1.
struct SoftmaxCrossEntropyLossDecomposition
    : public OpRewritePattern<ONNXSoftmaxCrossEntropyLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXSoftmaxCrossEntropyLossOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value logProb = ONNXLogSoftmaxOp::create(rw, op.getLoc(), op.getScores().getType(),
                                             op.getScores(), (uint64_t)1);
    std::optional<int64_t> ignore;
    if (auto i = op.getIgnoreIndex())
      ignore = (int64_t)*i;
    Value r = negativeLogLikelihood(b, logProb, op.getLabels(), op.getWeights(),
                                    ignore, op.getReduction());
    return replaceWithOptional(rw, op, {r, logProb});
  }
};

/// [C] -> [C, 1, ...]: per-channel parameters against [N, C, spatial...].
Value perChannel(OnnxBuilder &b, Value v, int64_t rank) {
  SmallVector<int64_t> shape(rank - 1, 1);
  shape[0] = tensorType(v).getDimSize(0);
  return b.reshape(v, shape);
}

/// BatchNormalization: (x - mean) / sqrt(var + eps) * scale + B with the
/// given statistics, or in training mode with the batch's (population)
/// mean and variance over N and the spatial dims, and the running ones
/// updated with the momentum.
struct BatchNormalizationDecomposition
    : public OpRewritePattern<ONNXBatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXBatchNormalizationOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    auto xt = tensorType(op.getX());
    int64_t rank = xt.getRank();
    Value x = op.getX();
    Value mean = perChannel(b, op.getInputMean(), rank);
    Value var = perChannel(b, op.getInputVar(), rank);
    Value runningMean, runningVar;
    if (op.getTrainingMode()) {
      SmallVector<int64_t> axes = {0}, kept(xt.getShape());
      kept[0] = 1;
      for (int64_t d = 2; d < rank; ++d) {
        axes.push_back(d);
        kept[d] = 1;
      }
      auto axesType = RankedTensorType::get({(int64_t)axes.size()}, rw.getI64Type());
      Value axesValue = arith::ConstantOp::create(
          rw, op.getLoc(), DenseElementsAttr::get(axesType, ArrayRef(axes)));
      auto reduceMean = [&](Value v) -> Value {
        return ONNXReduceMeanOp::create(rw, op.getLoc(), xt.clone(kept), v,
                                        axesValue, (uint64_t)1, (uint64_t)0);
      };
      Value batchMean = reduceMean(x);
      Value centred = b.sub(x, batchMean);
      Value batchVar = reduceMean(b.mul(centred, centred));
      double momentum = op.getMomentum().convertToDouble();
      auto blend = [&](Value running, Value batch) {
        return b.add(b.mul(running, b.scalarLike(running, momentum)),
                     b.mul(b.reshape(batch, tensorType(running).getShape()),
                           b.scalarLike(running, 1.0 - momentum)));
      };
      runningMean = blend(op.getInputMean(), batchMean);
      runningVar = blend(op.getInputVar(), batchVar);
      mean = b.reshape(batchMean, tensorType(mean).getShape());
      var = b.reshape(batchVar, tensorType(var).getShape());
    }
    var = b.add(var, b.scalarLike(x, op.getEpsilon().convertToDouble()));
    Value y = b.div(b.sub(x, mean), b.unary<ONNXSqrtOp>(var));
    y = b.add(b.mul(y, perChannel(b, op.getScale(), rank)),
              perChannel(b, op.getB(), rank));
    return replaceWithOptional(rw, op, {y, runningMean, runningVar});
  }
};

/// InstanceNormalization: each (n, c) normalised over its spatial dims.
struct InstanceNormalizationDecomposition
    : public OpRewritePattern<ONNXInstanceNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXInstanceNormalizationOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    int64_t rank = tensorType(op.getInput()).getRank();
    OnnxBuilder::Normalized n = b.normalize(op.getInput(), perChannel(b, op.getScale(), rank),
                             perChannel(b, op.getB(), rank), 2,
                             op.getEpsilon().convertToDouble(), false, false);
    rw.replaceOp(op, n.y);
    return success();
  }
};

/// GlobalAveragePool / GlobalMaxPool: ReduceMean / ReduceMax over the
/// spatial dims, kept.
template <typename OpTy, typename ReduceTy>
struct GlobalPoolDecomposition : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    rw.replaceOp(op, b.reduceFrom<ReduceTy>(op.getX(), 2));
    return success();
  }
};

/// DepthToSpace (DCR or CRD) and SpaceToDepth: a reshape, a transpose and
/// a reshape.
struct DepthToSpaceDecomposition : public OpRewritePattern<ONNXDepthToSpaceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXDepthToSpaceOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op) || tensorType(op.getInput()).getRank() != 4)
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    ArrayRef<int64_t> s = tensorType(op.getInput()).getShape();
    int64_t n = s[0], c = s[1], h = s[2], w = s[3], k = (int64_t)op.getBlocksize();
    bool crd = op.getMode() == "CRD";
    Value r = crd ? b.reshape(op.getInput(), {n, c / (k * k), k, k, h, w})
                  : b.reshape(op.getInput(), {n, k, k, c / (k * k), h, w});
    r = crd ? b.transpose(r, {0, 1, 4, 2, 5, 3}) : b.transpose(r, {0, 3, 4, 1, 5, 2});
    rw.replaceOp(op, b.reshape(r, {n, c / (k * k), h * k, w * k}));
    return success();
  }
};

struct SpaceToDepthDecomposition : public OpRewritePattern<ONNXSpaceToDepthOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXSpaceToDepthOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op) || tensorType(op.getInput()).getRank() != 4)
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    ArrayRef<int64_t> s = tensorType(op.getInput()).getShape();
    int64_t n = s[0], c = s[1], h = s[2], w = s[3], k = (int64_t)op.getBlocksize();
    Value r = b.reshape(op.getInput(), {n, c, h / k, k, w / k, k});
    r = b.transpose(r, {0, 3, 5, 1, 2, 4});
    rw.replaceOp(op, b.reshape(r, {n, c * k * k, h / k, w / k}));
    return success();
  }
};

/// Hardmax: 1 where the index along the axis is the (first) ArgMax, else 0.
struct HardmaxDecomposition : public OpRewritePattern<ONNXHardmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXHardmaxOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    auto t = tensorType(op.getInput());
    int64_t rank = t.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    SmallVector<int64_t> kept(t.getShape());
    kept[axis] = 1;
    auto i64 = rw.getI64Type();
    Value arg = ONNXArgMaxOp::create(rw, op.getLoc(), RankedTensorType::get(kept, i64),
                                     op.getInput(), (uint64_t)axis, (uint64_t)1,
                                     (uint64_t)0);
    SmallVector<int64_t> rangeShape(rank, 1), values;
    rangeShape[axis] = t.getDimSize(axis);
    for (int64_t i = 0; i < t.getDimSize(axis); ++i)
      values.push_back(i);
    auto rangeType = RankedTensorType::get(rangeShape, i64);
    Value range = arith::ConstantOp::create(
        rw, op.getLoc(), DenseElementsAttr::get(rangeType, ArrayRef(values)));
    Value hit = ONNXEqualOp::create(rw, op.getLoc(), t.clone(rw.getI1Type()), range, arg);
    rw.replaceOp(op, b.castTo(hit, t.getElementType()));
    return success();
  }
};

/// DynamicQuantizeLinear: uint8 quantization with the scale and zero point
/// of x's range (extended to include 0), as ONNX defines it.
struct DynamicQuantizeLinearDecomposition
    : public OpRewritePattern<ONNXDynamicQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXDynamicQuantizeLinearOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value x = op.getX();
    Type f = tensorType(x).getElementType();
    auto scalarType = RankedTensorType::get({}, f);
    Value none = ONNXNoValueOp::create(rw, op.getLoc(), rw.getNoneType());
    Value mx = ONNXReduceMaxOp::create(rw, op.getLoc(), scalarType, x, none,
                                       (uint64_t)0, (uint64_t)0);
    Value mn = ONNXReduceMinOp::create(rw, op.getLoc(), scalarType, x, none,
                                       (uint64_t)0, (uint64_t)0);
    mx = ONNXMaxOp::create(rw, op.getLoc(), scalarType, ValueRange{mx, b.scalar(f, 0.0)});
    mn = ONNXMinOp::create(rw, op.getLoc(), scalarType, ValueRange{mn, b.scalar(f, 0.0)});
    Value scale = b.div(b.sub(mx, mn), b.scalar(f, 255.0));
    Value zp = b.unary<ONNXRoundOp>(b.sub(b.scalar(f, 0.0), b.div(mn, scale)));
    zp = ONNXClipOp::create(rw, op.getLoc(), scalarType, zp, b.scalar(f, 0.0),
                            b.scalar(f, 255.0));
    Value zpU8 = b.castTo(zp, op.getYZeroPoint().getType().getElementType());
    Value y = ONNXQuantizeLinearOp::create(rw, op.getLoc(), op.getY().getType(), x,
                                           scale, zpU8, (uint64_t)1, (uint64_t)0,
                                           (uint64_t)0, (uint64_t)1);
    rw.replaceOp(op, {y, scale, zpU8});
    return success();
  }
};

/// Shrink: x + bias below -lambd, x - bias above lambd, 0 between.
struct ShrinkDecomposition : public OpRewritePattern<ONNXShrinkOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXShrinkOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value x = op.getInput();
    double lambd = op.getLambd().convertToDouble();
    double bias = op.getBias().convertToDouble();
    Value above = b.where(b.compare<ONNXGreaterOp>(x, b.scalarLike(x, lambd)),
                          b.sub(x, b.scalarLike(x, bias)), b.scalarLike(x, 0));
    rw.replaceOp(op, b.where(b.compare<ONNXLessOp>(x, b.scalarLike(x, -lambd)),
                             b.add(x, b.scalarLike(x, bias)), above));
    return success();
  }
};

/// PRelu: slope * x where x < 0, else x (slope broadcast to x).
struct PReluDecomposition : public OpRewritePattern<ONNXPReluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXPReluOp op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value x = op.getX();
    rw.replaceOp(op, b.where(b.compare<ONNXLessOp>(x, b.scalarLike(x, 0)),
                             b.mul(x, op.getSlope()), x));
    return success();
  }
};

/// MeanVarianceNormalization as ONNX's reference computes it:
/// (x - E[x]) / (sqrt(E[x²] - E[x]²) + 1e-9) over `axes`.
struct MeanVarianceNormalizationDecomposition
    : public OpRewritePattern<ONNXMeanVarianceNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXMeanVarianceNormalizationOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value x = op.getX();
    int64_t rank = tensorType(x).getRank();
    SmallVector<int64_t> axes;
    for (Attribute a : op.getAxes()) {
      int64_t v = cast<IntegerAttr>(a).getInt();
      axes.push_back(v < 0 ? v + rank : v);
    }
    Value mean = b.reduce<ONNXReduceMeanOp>(x, axes);
    Value meanOfSquares = b.reduce<ONNXReduceMeanOp>(b.mul(x, x), axes);
    Value std = b.unary<ONNXSqrtOp>(b.sub(meanOfSquares, b.mul(mean, mean)));
    rw.replaceOp(op, b.div(b.sub(x, mean), b.add(std, b.scalarLike(x, 1e-9))));
    return success();
  }
};

/// LRN: x / (bias + alpha / size * Σ x²)^beta, the sum over the channels
/// from c - floor((size-1)/2) to c + ceil((size-1)/2): the squares padded
/// with zero channels, summed over `size` shifted slices.
struct LrnDecomposition : public OpRewritePattern<ONNXLRNOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXLRNOp op, PatternRewriter &rw) const override {
    if (!allStatic(op) || op.getSize() < 1)
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    Value x = op.getX();
    auto t = tensorType(x);
    int64_t size = op.getSize(), channels = t.getDimSize(1);
    int64_t before = (size - 1) / 2, after = size - 1 - before;
    Value squares = b.mul(x, x);
    SmallVector<Value> parts;
    auto zeros = [&](int64_t count) {
      SmallVector<int64_t> shape(t.getShape());
      shape[1] = count;
      return b.splat(shape, t.getElementType(), 0);
    };
    if (before)
      parts.push_back(zeros(before));
    parts.push_back(squares);
    if (after)
      parts.push_back(zeros(after));
    Value padded = parts.size() == 1 ? squares : b.concat(parts, 1);
    Value sum = b.slice(padded, 1, 0, channels);
    for (int64_t i = 1; i < size; ++i)
      sum = b.add(sum, b.slice(padded, 1, i, channels));
    double alpha = op.getAlpha().convertToDouble();
    Value base = b.add(b.scalarLike(x, op.getBias().convertToDouble()),
                       b.mul(b.scalarLike(x, alpha / size), sum));
    rw.replaceOp(op, b.div(x, b.binary<ONNXPowOp>(
                                  base, b.scalarLike(x, op.getBeta().convertToDouble()))));
    return success();
  }
};

/// Det of 1x1, 2x2 and 3x3 matrices (batched over leading dims), by the
/// closed forms; larger ones are reported by getUnsupportedReason.
struct DetDecomposition : public OpRewritePattern<ONNXDetOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXDetOp op, PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    auto t = tensorType(op.getX());
    int64_t rank = t.getRank(), n = t.getDimSize(rank - 1);
    if (n > 3 || n != t.getDimSize(rank - 2))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    auto resultShape = tensorType(op.getY()).getShape();
    // a(i, j): the batch of entries [i][j], shaped as the result.
    auto a = [&](int64_t i, int64_t j) {
      return b.reshape(b.slice(b.slice(op.getX(), rank - 2, i, 1), rank - 1, j, 1),
                       resultShape);
    };
    auto det2 = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      return b.sub(b.mul(a(r0, c0), a(r1, c1)), b.mul(a(r0, c1), a(r1, c0)));
    };
    Value det;
    if (n == 1)
      det = a(0, 0);
    else if (n == 2)
      det = det2(0, 1, 0, 1);
    else
      det = b.add(b.sub(b.mul(a(0, 0), det2(1, 2, 1, 2)),
                        b.mul(a(0, 1), det2(1, 2, 0, 2))),
                  b.mul(a(0, 2), det2(1, 2, 0, 1)));
    rw.replaceOp(op, det);
    return success();
  }
};

/// Compress with a constant condition: a Gather of the selected indices
/// (of the flattened input without an axis).
struct CompressToGather : public OpRewritePattern<ONNXCompressOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXCompressOp op, PatternRewriter &rw) const override {
    DenseElementsAttr condition;
    if (!allStatic(op) || !matchPattern(op.getCondition(), m_Constant(&condition)))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    auto data = tensorType(op.getInput());
    Value x = op.getInput();
    int64_t axis = 0;
    if (auto a = op.getAxis())
      axis = (int64_t)*a < 0 ? (int64_t)*a + data.getRank() : (int64_t)*a;
    else
      x = b.reshape(x, {data.getNumElements()});
    int64_t length = tensorType(x).getDimSize(axis);
    SmallVector<int64_t> selected;
    for (auto [i, c] : llvm::enumerate(condition.getValues<bool>()))
      if ((int64_t)i < length && c)
        selected.push_back(i);
    auto indexType = RankedTensorType::get({(int64_t)selected.size()}, rw.getI64Type());
    Value indices = arith::ConstantOp::create(
        rw, op.getLoc(), DenseElementsAttr::get(indexType, ArrayRef(selected)));
    rw.replaceOpWithNewOp<ONNXGatherOp>(op, op.getType(), x, indices, (uint64_t)axis);
    return success();
  }
};

/// NonZero of a constant is a constant: the coordinates of the non-zero
/// elements in row-major order, one row per dim.
struct NonZeroToConstant : public OpRewritePattern<ONNXNonZeroOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXNonZeroOp op, PatternRewriter &rw) const override {
    DenseElementsAttr x;
    if (!allStatic(op) || !matchPattern(op.getX(), m_Constant(&x)))
      return failure();
    auto shape = x.getType().getShape();
    int64_t rank = shape.size();
    SmallVector<bool> nonZero;
    if (isa<FloatType>(x.getElementType()))
      for (const APFloat &v : x.getValues<APFloat>())
        nonZero.push_back(!v.isZero());
    else
      for (const APInt &v : x.getValues<APInt>())
        nonZero.push_back(!v.isZero());
    int64_t count = llvm::count(nonZero, true);
    SmallVector<int64_t> coords(rank * count);
    int64_t k = 0;
    for (auto [flat, nz] : llvm::enumerate(nonZero)) {
      if (!nz)
        continue;
      int64_t rest = flat;
      for (int64_t d = rank - 1; d >= 0; --d) {
        coords[d * count + k] = rest % shape[d];
        rest /= shape[d];
      }
      ++k;
    }
    rw.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(tensorType(op.getY()), ArrayRef(coords)));
    return success();
  }
};

/// CastLike: a Cast to the element type of `target_type`.
struct CastLikeToCast : public OpRewritePattern<ONNXCastLikeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXCastLikeOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op))
      return failure();
    OnnxBuilder b(rw, op.getLoc());
    rw.replaceOp(op, b.castTo(op.getInput(),
                              tensorType(op.getTargetType()).getElementType()));
    return success();
  }
};

/// Dropout for inference (no training_mode, or a constant false one), or
/// with a constant ratio of 0: the input unchanged, and an all-true mask.
struct DropoutToIdentity : public OpRewritePattern<ONNXDropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXDropoutOp op,
                                PatternRewriter &rw) const override {
    if (!allStatic(op) || prism::getUnsupportedReason(op))
      return failure();
    Value mask;
    if (!isNone(op.getMask())) {
      auto type = tensorType(op.getMask());
      mask = arith::ConstantOp::create(
          rw, op.getLoc(), DenseElementsAttr::get(type, rw.getBoolAttr(true)));
    }
    rw.replaceOp(op, {op.getData(), mask ? mask : op.getMask()});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//











} // namespace

std::optional<std::string>
prism::getUnsupportedReason(Operation *op) {
  auto shapeStr = [](Value v) {
    std::string str;
    llvm::raw_string_ostream os(str);
    os << v.getType();
    return str;
  };
  if (auto a = dyn_cast<ONNXMsAttentionOp>(op)) {
    if (a.getDoRotary())
      return std::string("do_rotary is not supported");
    if (a.getPastPresentShareBuffer())
      return std::string("past_present_share_buffer is not supported");
    if (!allStatic(op))
      return std::nullopt;
    auto in = tensorType(a.getInput());
    int64_t past = isNone(a.getPast()) ? 0 : tensorType(a.getPast()).getDimSize(3);
    if (!isSupportedMask(a.getMaskIndex(), in.getDimSize(0), in.getDimSize(1),
                         past + in.getDimSize(1)))
      return "mask_index of type " + shapeStr(a.getMaskIndex()) +
             " is not supported (" + kMaskForms + ")";
  }
  if (auto m = dyn_cast<ONNXMsMultiHeadAttentionOp>(op)) {
    auto q = dyn_cast<RankedTensorType>(m.getQuery().getType());
    if (!q || q.getRank() != 3 || isNone(m.getKey()) || isNone(m.getValue()) ||
        cast<ShapedType>(m.getKey().getType()).getRank() == 5)
      return std::string("packed Q/K/V is not supported");
    if (!isNone(m.getCacheIndirection()))
      return std::string("cache_indirection is not supported");
    if (!m.getQk().use_empty())
      return std::string("the qk output is not supported");
    if (!allStatic(op))
      return std::nullopt;
    auto k = tensorType(m.getKey());
    int64_t kv = k.getRank() == 3 ? k.getDimSize(1) : k.getDimSize(2);
    int64_t past =
        isNone(m.getPastKey()) ? 0 : tensorType(m.getPastKey()).getDimSize(2);
    if (!isSupportedMask(m.getKeyPaddingMask(), q.getDimSize(0),
                         q.getDimSize(1), past + kv))
      return "key_padding_mask of type " + shapeStr(m.getKeyPaddingMask()) +
             " is not supported (" + kMaskForms + ")";
  }
  if (auto g = dyn_cast<ONNXMsGroupQueryAttentionOp>(op)) {
    if (!isNone(g.getAttentionBias()) || !isNone(g.getHeadSink()))
      return std::string("attention_bias and head_sink are not supported");
    if (g.getSmoothSoftmax())
      return std::string("smooth_softmax is not supported");
    if (!g.getOutputQk().use_empty())
      return std::string("the output_qk output is not supported");
    if (g.getDoRotary() && (isNone(g.getCosCache()) || isNone(g.getSinCache())))
      return std::string("do_rotary needs cos_cache and sin_cache");
  }
  if (auto r = dyn_cast<ONNXResizeOp>(op)) {
    StringRef t = r.getCoordinateTransformationMode();
    if (!llvm::is_contained({"half_pixel", "pytorch_half_pixel", "align_corners",
                             "asymmetric", "tf_half_pixel_for_nn",
                             "tf_crop_and_resize"}, t))
      return "coordinate_transformation_mode = \"" + t.str() + "\" is not supported";
    // The crop box: a start and an end per dim.
    auto xType = dyn_cast<RankedTensorType>(r.getX().getType());
    auto roiType = dyn_cast<RankedTensorType>(r.getRoi().getType());
    if (t == "tf_crop_and_resize" && xType &&
        (!roiType || !roiType.hasStaticShape() ||
         roiType.getNumElements() != 2 * xType.getRank()))
      return std::string("tf_crop_and_resize needs an roi of 2 * rank values");
    if (!llvm::is_contained({"nearest", "linear", "cubic"}, r.getMode()))
      return "mode = \"" + r.getMode().str() + "\" is not supported";
  }
  if (auto r = dyn_cast<ONNXMsRotaryEmbeddingOp>(op))
    if (r.getIsPackedBatching())
      return std::string("is_packed_batching is not supported");
  if (auto d = dyn_cast<ONNXDropoutOp>(op)) {
    // Training with a ratio of 0 drops nothing.
    Value training = d.getTrainingMode(), ratio = d.getRatio();
    DenseElementsAttr mode, ratioValue;
    bool inference = isNone(training) || (matchPattern(training, m_Constant(&mode)) &&
                                          !mode.getSplatValue<bool>());
    bool dropsNothing = !isNone(ratio) && matchPattern(ratio, m_Constant(&ratioValue)) &&
                        ratioValue.getSplatValue<APFloat>().isZero();
    if (!inference && !dropsNothing)
      return std::string("training mode (random dropout) is not supported");
  }
  if (auto d = dyn_cast<ONNXDetOp>(op)) {
    auto t = dyn_cast<RankedTensorType>(d.getX().getType());
    if (t && t.hasStaticShape() && t.getShape().back() > 3)
      return std::string("matrices larger than 3x3 are not supported");
  }
  if (auto d = dyn_cast<ONNXDetOp>(op)) {
    auto t = dyn_cast<RankedTensorType>(d.getX().getType());
    if (t && t.hasStaticShape() && t.getShape().back() > 3)
      return std::string("matrices larger than 3x3 are not supported");
  }
  if (auto g = dyn_cast<ONNXGridSampleOp>(op)) {
    if (!llvm::is_contained({"bilinear", "nearest", "bicubic"}, g.getMode()))
      return "mode = \"" + g.getMode().str() + "\" is not supported";
    if (!llvm::is_contained({"zeros", "border", "reflection"}, g.getPaddingMode()))
      return "padding_mode = \"" + g.getPaddingMode().str() + "\" is not supported";
    auto x = dyn_cast<RankedTensorType>(g.getX().getType());
    if (x && x.getRank() != 4)
      return std::string("only 4-D inputs are supported");
  }
  if (auto t = dyn_cast<ONNXTfIdfVectorizerOp>(op)) {
    if (t.getPoolStrings() || isa<StringType>(getElementTypeOrSelf(t.getX().getType())))
      return std::string("string tokens are not supported");
    if (!llvm::is_contained({"TF", "IDF", "TFIDF"}, t.getMode()))
      return "mode = \"" + t.getMode().str() + "\" is not supported";
  }
  if (auto g = dyn_cast<ONNXGeluOp>(op))
    if (g.getApproximate() != "none" && g.getApproximate() != "tanh")
      return "approximate = \"" + g.getApproximate().str() +
             "\" is not an ONNX GELU approximation";
  // RNN, GRU and LSTM (Recurrent.cpp): the activations it has, and every
  // batch entry running the whole sequence.
  auto recurrent = [](Value x, uint64_t layout, Value lens,
                      std::optional<ArrayAttr> activations)
      -> std::optional<std::string> {
    if (activations)
      for (StringRef name : activations->getAsValueRange<StringAttr>())
        if (!llvm::is_contained(
                {"sigmoid", "tanh", "relu", "softsign", "softplus"},
                name.lower()))
          return "activation \"" + name.str() + "\" is not supported";
    if (isNone(lens))
      return std::nullopt;
    auto n = constInts(lens);
    if (!n)
      return std::string("a sequence_lens that is not a constant is not "
                         "supported");
    auto t = dyn_cast<RankedTensorType>(x.getType());
    if (t && t.hasStaticShape() &&
        llvm::any_of(*n, [&](int64_t l) { return l != t.getDimSize(layout); }))
      return std::string("a sequence_lens other than the sequence length is "
                         "not supported");
    return std::nullopt;
  };
  if (auto r = dyn_cast<ONNXRNNOp>(op))
    return recurrent(r.getX(), r.getLayout(), r.getSequenceLens(),
                     r.getActivations());
  if (auto g = dyn_cast<ONNXGRUOp>(op))
    return recurrent(g.getX(), g.getLayout(), g.getSequenceLens(),
                     g.getActivations());
  if (auto l = dyn_cast<ONNXLSTMOp>(op))
    return recurrent(l.getX(), l.getLayout(), l.getSequenceLens(),
                     l.getActivations());
  return std::nullopt;
}

void prism::populateOnnxDecompositionPatterns(RewritePatternSet &patterns) {
  patterns.add<LayerNormalizationDecomposition,
               RmsNormalizationDecomposition<ONNXRMSNormalizationOp>,
               RmsNormalizationDecomposition<ONNXMsSimplifiedLayerNormalizationOp>,
               SkipNormalizationDecomposition<ONNXMsSkipLayerNormalizationOp, false>,
               SkipNormalizationDecomposition<
                   ONNXMsSkipSimplifiedLayerNormalizationOp, true>,
               GemmDecomposition, SplitToSlices,
               CastLikeToCast, DropoutToIdentity, ReduceFamilyDecomposition,
               NegativeLogLikelihoodLossDecomposition,
               SoftmaxCrossEntropyLossDecomposition,
               BatchNormalizationDecomposition,
               InstanceNormalizationDecomposition,
               GlobalPoolDecomposition<ONNXGlobalAveragePoolOp, ONNXReduceMeanOp>,
               GlobalPoolDecomposition<ONNXGlobalMaxPoolOp, ONNXReduceMaxOp>,
               DepthToSpaceDecomposition, SpaceToDepthDecomposition,
               HardmaxDecomposition, DynamicQuantizeLinearDecomposition,
               ShrinkDecomposition, PReluDecomposition,
               MeanVarianceNormalizationDecomposition, LrnDecomposition,
               DetDecomposition, CompressToGather, NonZeroToConstant>(
      patterns.getContext());
}
