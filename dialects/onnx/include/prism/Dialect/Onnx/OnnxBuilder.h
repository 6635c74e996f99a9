//===- OnnxBuilder.h - Building onnx ops on static tensors ------*- C++ -*-===//
//
// Decompositions and raising rewrite composite operators as the simpler
// onnx ops they are made of (plus a little tensor/linalg); this builder
// creates those ops with their result types.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECT_ONNX_ONNXBUILDER_H
#define PRISM_DIALECT_ONNX_ONNXBUILDER_H

#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace prism::onnx {

/// Whether `v` is an absent optional operand or result (None).
inline bool isNone(mlir::Value v) {
  return !v || llvm::isa<mlir::NoneType>(v.getType());
}

/// `v`'s ranked tensor type (it must have one).
inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}

/// `x` as `shape` (tensor.reshape with a constant shape), or `x` itself.
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      llvm::ArrayRef<int64_t> shape);

/// `x` with its dims permuted (linalg.transpose).
mlir::Value transposeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        llvm::ArrayRef<int64_t> perm);

/// `v`'s type when it is a statically shaped ranked tensor, else null.
mlir::RankedTensorType staticType(mlir::Value v);

/// Whether every operand and result (None aside) is a static tensor.
bool allStatic(mlir::Operation *op);

/// The values of a constant integer tensor, or nullopt.
std::optional<llvm::SmallVector<int64_t>> constInts(mlir::Value v);

/// The lowest finite value of float type `elem` (masks use it rather than
/// -inf, so that a fully masked row stays finite).
double lowestFloat(mlir::Type elem);


using namespace mlir;

/// Builds onnx ops (and a few tensor/linalg ones) on static tensors,
/// computing each result type.
class OnnxBuilder {
public:
  OnnxBuilder(PatternRewriter &rw, Location loc) : rw(rw), loc(loc) {}

  static SmallVector<int64_t> broadcastShape(RankedTensorType a,
                                             RankedTensorType b) {
    SmallVector<int64_t> shape;
    (void)OpTrait::util::getBroadcastedShape(a.getShape(), b.getShape(), shape);
    return shape;
  }

  template <typename OpTy> Value binary(Value a, Value b) {
    auto ta = tensorType(a), tb = tensorType(b);
    auto type = RankedTensorType::get(broadcastShape(ta, tb), ta.getElementType());
    return OpTy::create(rw, loc, type, a, b);
  }
  Value add(Value a, Value b) { return binary<ONNXAddOp>(a, b); }
  Value sub(Value a, Value b) { return binary<ONNXSubOp>(a, b); }
  Value mul(Value a, Value b) { return binary<ONNXMulOp>(a, b); }
  Value div(Value a, Value b) { return binary<ONNXDivOp>(a, b); }

  template <typename OpTy> Value unary(Value x) {
    return OpTy::create(rw, loc, x.getType(), x);
  }

  /// A 0-d constant of `elem`.
  Value scalar(Type elem, double value) {
    auto type = RankedTensorType::get({}, elem);
    Attribute attr = isa<FloatType>(elem)
                         ? Attribute(rw.getFloatAttr(elem, value))
                         : Attribute(rw.getIntegerAttr(elem, (int64_t)value));
    return arith::ConstantOp::create(rw, loc,
                                     DenseElementsAttr::get(type, attr));
  }
  /// A constant of `shape` and element type `elem` from double values (an
  /// f64 constant, cast as ONNX casts: rounded to floats, truncated to ints).
  Value constant(ArrayRef<int64_t> shape, Type elem, ArrayRef<double> values) {
    auto type = RankedTensorType::get(shape, rw.getF64Type());
    Value c = arith::ConstantOp::create(rw, loc, DenseElementsAttr::get(type, values));
    return castTo(c, elem);
  }
  Value scalarLike(Value x, double value) {
    return scalar(tensorType(x).getElementType(), value);
  }

  Value castTo(Value x, Type elem) {
    auto t = tensorType(x);
    if (t.getElementType() == elem)
      return x;
    return ONNXCastOp::create(rw, loc, t.clone(elem), x,
                              (uint64_t)getOnnxDataType(elem));
  }

  Value reshape(Value x, ArrayRef<int64_t> shape) {
    return reshapeTo(rw, loc, x, shape);
  }

  Value transpose(Value x, ArrayRef<int64_t> perm) {
    return transposeTo(rw, loc, x, perm);
  }

  /// x[..., begin:begin+size, ...] along `axis`.
  Value slice(Value x, int64_t axis, int64_t begin, int64_t size) {
    auto t = tensorType(x);
    SmallVector<OpFoldResult> offsets(t.getRank(), rw.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(t.getRank(), rw.getIndexAttr(1));
    for (int64_t d : t.getShape())
      sizes.push_back(rw.getIndexAttr(d));
    offsets[axis] = rw.getIndexAttr(begin);
    sizes[axis] = rw.getIndexAttr(size);
    SmallVector<int64_t> shape(t.getShape());
    shape[axis] = size;
    return tensor::ExtractSliceOp::create(rw, loc, t.clone(shape), x, offsets,
                                          sizes, strides);
  }

  Value concat(ValueRange xs, int64_t axis) {
    auto t = tensorType(xs[0]);
    SmallVector<int64_t> shape(t.getShape());
    shape[axis] = 0;
    for (Value v : xs)
      shape[axis] += tensorType(v).getDimSize(axis);
    return ONNXConcatOp::create(rw, loc, t.clone(shape), xs, (uint64_t)axis);
  }

  Value unsqueezeLast(Value x) {
    SmallVector<int64_t> shape(tensorType(x).getShape());
    shape.push_back(1);
    return reshape(x, shape);
  }

  Value matmul(Value a, Value b) {
    auto ta = tensorType(a), tb = tensorType(b);
    SmallVector<int64_t> batch = broadcastShape(
        ta.clone(ta.getShape().drop_back(2)), tb.clone(tb.getShape().drop_back(2)));
    batch.push_back(ta.getDimSize(ta.getRank() - 2));
    batch.push_back(tb.getDimSize(tb.getRank() - 1));
    return ONNXMatMulOp::create(rw, loc, ta.clone(batch), a, b);
  }

  Value softmaxLast(Value x) {
    return ONNXSoftmaxOp::create(rw, loc, x.getType(), x, (uint64_t)-1);
  }

  /// A reduction (ReduceMean, ReduceSum, ...) over `axes`, keeping dims.
  template <typename OpTy> Value reduce(Value x, ArrayRef<int64_t> axes) {
    auto t = tensorType(x);
    SmallVector<int64_t> shape(t.getShape());
    for (int64_t a : axes)
      shape[a] = 1;
    auto axesType = RankedTensorType::get({(int64_t)axes.size()}, rw.getI64Type());
    Value a = arith::ConstantOp::create(rw, loc, DenseElementsAttr::get(axesType, axes));
    return OpTy::create(rw, loc, t.clone(shape), x, a, (uint64_t)1, (uint64_t)0);
  }

  /// `x < y` (or another comparison) elementwise, as i1.
  template <typename OpTy> Value compare(Value a, Value b) {
    auto ta = tensorType(a), tb = tensorType(b);
    return OpTy::create(rw, loc,
                        RankedTensorType::get(broadcastShape(ta, tb), rw.getI1Type()),
                        a, b);
  }

  Value where(Value cond, Value a, Value b) {
    auto shape = broadcastShape(tensorType(cond), tensorType(a));
    shape = broadcastShape(RankedTensorType::get(shape, rw.getI1Type()), tensorType(b));
    return ONNXWhereOp::create(rw, loc,
                               RankedTensorType::get(shape, tensorType(a).getElementType()),
                               cond, a, b);
  }

  /// A tensor of `shape` filled with `value`.
  Value splat(ArrayRef<int64_t> shape, Type elem, double value) {
    auto type = RankedTensorType::get(shape, elem);
    Attribute attr = isa<FloatType>(elem)
                         ? Attribute(rw.getFloatAttr(elem, value))
                         : Attribute(rw.getIntegerAttr(elem, (int64_t)value));
    return arith::ConstantOp::create(rw, loc, DenseElementsAttr::get(type, attr));
  }

  /// ReduceMean (or ReduceSum) over the axes from `fromAxis`, keeping dims.
  template <typename OpTy> Value reduceFrom(Value x, int64_t fromAxis) {
    auto t = tensorType(x);
    SmallVector<int64_t> axes, shape(t.getShape());
    for (int64_t d = fromAxis; d < t.getRank(); ++d) {
      axes.push_back(d);
      shape[d] = 1;
    }
    auto axesType = RankedTensorType::get({(int64_t)axes.size()}, rw.getI64Type());
    Value a = arith::ConstantOp::create(rw, loc,
                                        DenseElementsAttr::get(axesType, ArrayRef(axes)));
    return OpTy::create(rw, loc, t.clone(shape), x, a, (uint64_t)1, (uint64_t)0);
  }

  Value gather(Value data, Value indices) {
    auto td = tensorType(data), ti = tensorType(indices);
    SmallVector<int64_t> shape(ti.getShape());
    shape.append(td.getShape().begin() + 1, td.getShape().end());
    return ONNXGatherOp::create(rw, loc, td.clone(shape), data, indices,
                                (uint64_t)0);
  }

  /// `x` shaped and typed as `type` (optional outputs such as a mean kept
  /// with or without its reduced dims).
  Value match(Value x, Type type) {
    auto t = cast<RankedTensorType>(type);
    return reshape(castTo(x, t.getElementType()), t.getShape());
  }

  /// The normalized value of a LayerNorm (or RMS norm when `rms`) of `x`
  /// over the axes from `axis`, and its mean (null for RMS) and inverse
  /// standard deviation; computed in f32 for f16/bf16 inputs when
  /// `stashF32`. `bias` may be null.
  struct Normalized {
    Value y, mean, invStdDev;
  };
  Normalized normalize(Value x, Value scale, Value bias, int64_t axis,
                       double epsilon, bool rms, bool stashF32) {
    Type elem = tensorType(x).getElementType();
    Type compute = elem;
    if (stashF32 && (elem.isF16() || elem.isBF16()))
      compute = rw.getF32Type();
    Value xc = castTo(x, compute);
    Value mean, centred = xc;
    if (!rms) {
      mean = reduceFrom<ONNXReduceMeanOp>(xc, axis);
      centred = sub(xc, mean);
    }
    Value var = reduceFrom<ONNXReduceMeanOp>(mul(centred, centred), axis);
    Value inv = unary<ONNXReciprocalOp>(
        unary<ONNXSqrtOp>(add(var, scalar(compute, epsilon))));
    Value y = mul(mul(centred, inv), castTo(scale, compute));
    if (!isNone(bias))
      y = add(y, castTo(bias, compute));
    return {castTo(y, elem), mean, inv};
  }

  PatternRewriter &rw;
  Location loc;
};

} // namespace prism::onnx

#endif // PRISM_DIALECT_ONNX_ONNXBUILDER_H
