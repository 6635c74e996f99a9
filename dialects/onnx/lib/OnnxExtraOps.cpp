//===- OnnxExtraOps.cpp - Type inference of the hand-written onnx ops -----===//
//
// ONNX's schema registry (opset <= 17) cannot type the opset 18+ ops and the
// com.microsoft ops, so they infer their result types here, with the type and
// rank rules of ONNX (ai.onnx) and of ONNX Runtime's contrib schemas.
//
//===----------------------------------------------------------------------===//

#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

RankedTensorType ranked(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

Type elementType(Value v) { return cast<TensorType>(v.getType()).getElementType(); }

bool isAbsent(Value v) { return isa<NoneType>(v.getType()); }

/// A dim of `v`, or dynamic when `v` is unranked or the dim unknown.
int64_t dim(Value v, int64_t i) {
  auto t = ranked(v);
  if (!t || i < 0 || i >= t.getRank())
    return kDyn;
  return t.getDimSize(i);
}

int64_t add(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) ? kDyn : a + b;
}
int64_t mul(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) ? kDyn : a * b;
}
int64_t divide(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || b == 0 ? kDyn
                                                                        : a / b;
}

Type tensorOf(ArrayRef<int64_t> dims, Type elem) {
  return RankedTensorType::get(dims, elem);
}

/// The values of a constant int tensor operand, if it is one.
std::optional<SmallVector<int64_t>> constantInts(Value v) {
  DenseIntElementsAttr attr;
  if (isAbsent(v) || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &x : attr.getValues<APInt>())
    values.push_back(x.getSExtValue());
  return values;
}

LogicalResult expectRank(Operation *op, Value v, StringRef name,
                         ArrayRef<int64_t> ranks) {
  auto t = ranked(v);
  if (!t || llvm::is_contained(ranks, t.getRank()))
    return success();
  auto diag = op->emitOpError("input '") << name << "' must have rank ";
  llvm::interleave(ranks, diag, " or ");
  return diag << ", got " << t.getRank();
}

/// Results that keep the shape of `like`; absent optional results stay none.
void sameAs(Operation *op, Value like, SmallVectorImpl<Type> &types) {
  types.push_back(like.getType());
  for (Type t : llvm::drop_begin(op->getResultTypes()))
    types.push_back(t);
}

/// The normalised axis in [0, rank), or failure with an error.
FailureOr<int64_t> normaliseAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return op->emitOpError("axis ") << axis << " is out of range for rank "
                                    << rank;
  return axis < 0 ? axis + rank : axis;
}

/// Statistics outputs of the layer norms: the input's shape with the
/// normalised axes set to 1, in float32.
Type statsType(Value x, int64_t axis, Type resultType) {
  auto t = ranked(x);
  if (isa<NoneType>(resultType) || !t)
    return resultType;
  SmallVector<int64_t> dims(t.getShape());
  int64_t a = axis < 0 ? axis + t.getRank() : axis;
  for (int64_t i = std::max<int64_t>(a, 0); i < t.getRank(); ++i)
    dims[i] = 1;
  return tensorOf(dims, Float32Type::get(x.getContext()));
}
} // namespace

//===----------------------------------------------------------------------===//
// Reductions, Split, Pad
//===----------------------------------------------------------------------===//

static LogicalResult inferReduce(Operation *op, Value data, Value axesValue,
                                 bool keepdims, bool noopWithEmptyAxes,
                                 SmallVectorImpl<Type> &types) {
  Type elem = elementType(data);
  auto t = ranked(data);
  if (!t) {
    types.push_back(UnrankedTensorType::get(elem));
    return success();
  }
  int64_t rank = t.getRank();
  SmallVector<bool> reduced(rank, false);
  if (isAbsent(axesValue)) {
    if (noopWithEmptyAxes) {
      types.push_back(t);
      return success();
    }
    reduced.assign(rank, true);
  } else if (auto axes = constantInts(axesValue)) {
    if (axes->empty() && noopWithEmptyAxes) {
      types.push_back(t);
      return success();
    }
    if (axes->empty())
      reduced.assign(rank, true);
    for (int64_t a : *axes) {
      auto axis = normaliseAxis(op, a, rank);
      if (failed(axis))
        return failure();
      reduced[*axis] = true;
    }
  } else {
    // Axes known only at run time: the rank is known only with keepdims.
    types.push_back(keepdims ? tensorOf(SmallVector<int64_t>(rank, kDyn), elem)
                             : Type(UnrankedTensorType::get(elem)));
    return success();
  }
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      dims.push_back(t.getDimSize(i));
    else if (keepdims)
      dims.push_back(1);
  }
  types.push_back(tensorOf(dims, elem));
  return success();
}

#define REDUCE_INFERENCE(OP)                                                   \
  LogicalResult OP::inferOnnxTypes(SmallVectorImpl<Type> &types) {             \
    if (elementType(getData()).isInteger(1) &&                                 \
        !isa<ONNXReduceMaxOp, ONNXReduceMinOp>(getOperation()))                \
      return emitOpError("does not take bool tensors");                        \
    return inferReduce(*this, getData(), getAxes(), getKeepdims() != 0,        \
                       getNoopWithEmptyAxes() != 0, types);                    \
  }
REDUCE_INFERENCE(ONNXReduceL1Op)
REDUCE_INFERENCE(ONNXReduceL2Op)
REDUCE_INFERENCE(ONNXReduceLogSumOp)
REDUCE_INFERENCE(ONNXReduceLogSumExpOp)
REDUCE_INFERENCE(ONNXReduceMaxOp)
REDUCE_INFERENCE(ONNXReduceMeanOp)
REDUCE_INFERENCE(ONNXReduceMinOp)
REDUCE_INFERENCE(ONNXReduceProdOp)
REDUCE_INFERENCE(ONNXReduceSumOp)
REDUCE_INFERENCE(ONNXReduceSumSquareOp)
#undef REDUCE_INFERENCE

LogicalResult ONNXSplitOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  Type elem = elementType(getInput());
  auto t = ranked(getInput());
  int64_t n = getNumResults();
  if (n == 0)
    return emitOpError("needs at least one output");
  if (!t) {
    types.assign(n, UnrankedTensorType::get(elem));
    return success();
  }
  auto axis = normaliseAxis(*this, getAxis(), t.getRank());
  if (failed(axis))
    return failure();
  int64_t size = t.getDimSize(*axis);
  SmallVector<int64_t> sizes;
  if (!isAbsent(getSplit())) {
    if (getNumOutputs())
      return emitOpError("takes either 'split' or 'num_outputs', not both");
    if (auto split = constantInts(getSplit())) {
      if ((int64_t)split->size() != n)
        return emitOpError("'split' has ") << split->size()
                                           << " sizes for " << n << " outputs";
      int64_t total = 0;
      for (int64_t s : *split) {
        if (s < 0)
          return emitOpError("'split' has a negative size ") << s;
        if (llvm::AddOverflow(total, s, total))
          return emitOpError("'split' sizes overflow int64");
      }
      if (!ShapedType::isDynamic(size) && total != size)
        return emitOpError("'split' sizes add up to ")
               << total << " but the axis has " << size;
      sizes.assign(split->begin(), split->end());
    } else {
      sizes.assign(n, kDyn);
    }
  } else {
    int64_t parts = getNumOutputs() ? *getNumOutputs() : n;
    if (parts != n)
      return emitOpError("'num_outputs' is ")
             << parts << " but the op has " << n << " results";
    int64_t chunk = ShapedType::isDynamic(size) ? kDyn : size / n + (size % n != 0);
    if (!ShapedType::isDynamic(size) && chunk * (n - 1) > size)
      return emitOpError("cannot split ") << size << " into " << n
                                          << " parts with num_outputs";
    for (int64_t i = 0; i < n; ++i) {
      if (ShapedType::isDynamic(size))
        sizes.push_back(kDyn);
      else
        sizes.push_back(i + 1 < n ? chunk : size - chunk * (n - 1));
    }
  }
  for (int64_t s : sizes) {
    SmallVector<int64_t> dims(t.getShape());
    dims[*axis] = s;
    types.push_back(tensorOf(dims, elem));
  }
  return success();
}

LogicalResult ONNXPadOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  Type elem = elementType(getData());
  auto t = ranked(getData());
  if (!t) {
    types.push_back(UnrankedTensorType::get(elem));
    return success();
  }
  int64_t rank = t.getRank();
  SmallVector<int64_t> dims(t.getShape());
  auto pads = constantInts(getPads());
  SmallVector<int64_t> axes;
  if (isAbsent(getAxes())) {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  } else if (auto a = constantInts(getAxes())) {
    for (int64_t x : *a) {
      auto axis = normaliseAxis(*this, x, rank);
      if (failed(axis))
        return failure();
      axes.push_back(*axis);
    }
  } else {
    pads.reset();
  }
  if (!pads) {
    types.push_back(tensorOf(SmallVector<int64_t>(rank, kDyn), elem));
    return success();
  }
  if (pads->size() != 2 * axes.size())
    return emitOpError("'pads' has ") << pads->size() << " values for "
                                      << axes.size() << " axes";
  for (auto [i, axis] : llvm::enumerate(axes)) {
    int64_t before = (*pads)[i], after = (*pads)[i + axes.size()];
    if (ShapedType::isDynamic(dims[axis]))
      continue;
    int64_t size;
    if (llvm::AddOverflow(dims[axis], before, size) ||
        llvm::AddOverflow(size, after, size) || size < 0)
      return emitOpError("pads ")
             << before << ", " << after << " make axis " << axis << " of size "
             << dims[axis] << " negative or too large";
    dims[axis] = size;
  }
  types.push_back(tensorOf(dims, elem));
  return success();
}

/// Checks the scale (and zero point) of QuantizeLinear/DequantizeLinear
/// against `x`: a scalar, a 1-D tensor along `axis`, or blocks along `axis`.
static LogicalResult verifyQuantParams(Operation *op, Value x, Value scale,
                                       Value zeroPoint, int64_t axis,
                                       int64_t blockSize) {
  auto xt = ranked(x), st = ranked(scale);
  if (!isAbsent(zeroPoint)) {
    auto zt = ranked(zeroPoint);
    if (zt && st && zt.getShape() != st.getShape())
      return op->emitOpError("zero point of shape ")
             << zt << " does not match the scale " << st;
  }
  if (!xt || !st || st.getRank() == 0 ||
      (st.getRank() == 1 && st.getDimSize(0) == 1))
    return success();
  auto a = normaliseAxis(op, axis, xt.getRank());
  if (failed(a))
    return failure();
  if (blockSize == 0) {
    if (st.getRank() != 1)
      return op->emitOpError("per-axis scale must be 1-D, got ") << st;
    int64_t n = xt.getDimSize(*a), s = st.getDimSize(0);
    if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(s) && n != s)
      return op->emitOpError("scale has ")
             << s << " values but axis " << *a << " has " << n;
    return success();
  }
  if (st.getRank() != xt.getRank())
    return op->emitOpError("blocked scale must have the rank of x");
  for (int64_t d = 0; d < xt.getRank(); ++d) {
    int64_t n = xt.getDimSize(d), s = st.getDimSize(d);
    if (ShapedType::isDynamic(n) || ShapedType::isDynamic(s))
      continue;
    int64_t want = d == *a ? (n + blockSize - 1) / blockSize : n;
    if (s != want)
      return op->emitOpError("blocked scale dim ")
             << d << " is " << s << ", expected " << want;
  }
  return success();
}

LogicalResult
ONNXQuantizeLinearOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(verifyQuantParams(*this, getX(), getYScale(), getYZeroPoint(),
                               getAxis(), getBlockSize())))
    return failure();
  Type elem;
  if (!isAbsent(getYZeroPoint()))
    elem = elementType(getYZeroPoint());
  else if (getOutputDtype() == 0)
    elem = IntegerType::get(getContext(), 8, IntegerType::Unsigned);
  else
    elem = getElementType(getContext(), getOutputDtype());
  if (!elem || !isa<IntegerType>(elem))
    return emitOpError("unsupported output_dtype ") << getOutputDtype();
  if (auto t = ranked(getX()))
    types.push_back(tensorOf(t.getShape(), elem));
  else
    types.push_back(UnrankedTensorType::get(elem));
  return success();
}

LogicalResult
ONNXDequantizeLinearOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(verifyQuantParams(*this, getX(), getXScale(), getXZeroPoint(),
                               getAxis(), getBlockSize())))
    return failure();
  Type elem = elementType(getXScale());
  if (auto t = ranked(getX()))
    types.push_back(tensorOf(t.getShape(), elem));
  else
    types.push_back(UnrankedTensorType::get(elem));
  return success();
}

LogicalResult ONNXGeluOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("'approximate' must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  types.push_back(getX().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Attention (ai.onnx 23)
//===----------------------------------------------------------------------===//

LogicalResult ONNXAttentionOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  for (auto [v, name] : {std::pair{getQ(), "Q"}, {getK(), "K"}, {getV(), "V"}})
    if (failed(expectRank(*this, v, name, {3, 4})))
      return failure();
  Type elem = elementType(getQ()), vElem = elementType(getV());
  auto q = ranked(getQ());
  for (Value v : {getK(), getV()})
    if (q && ranked(v) && ranked(v).getRank() != q.getRank())
      return emitOpError("Q, K and V must have the same rank");
  if (!q) {
    types.push_back(UnrankedTensorType::get(elem));
    llvm::append_range(types, llvm::drop_begin(getResultTypes()));
    return success();
  }
  int64_t batch = q.getDimSize(0), qHeads, qSeq, kvHeads, kvSeq, vHead, kHead;
  if (q.getRank() == 4) {
    qHeads = q.getDimSize(1);
    qSeq = q.getDimSize(2);
    kvHeads = dim(getK(), 1);
    kvSeq = dim(getK(), 2);
    kHead = dim(getK(), 3);
    vHead = dim(getV(), 3);
  } else {
    if (!getQNumHeads() || !getKvNumHeads())
      return emitOpError("with 3-D inputs needs 'q_num_heads' and "
                         "'kv_num_heads'");
    qHeads = *getQNumHeads();
    kvHeads = *getKvNumHeads();
    qSeq = q.getDimSize(1);
    kvSeq = dim(getK(), 1);
    kHead = divide(dim(getK(), 2), kvHeads);
    vHead = divide(dim(getV(), 2), kvHeads);
  }
  if (!ShapedType::isDynamic(qHeads) && !ShapedType::isDynamic(kvHeads) &&
      (kvHeads == 0 || qHeads % kvHeads != 0))
    return emitOpError("query heads (")
           << qHeads << ") must be a multiple of key/value heads (" << kvHeads
           << ")";
  int64_t past = isAbsent(getPastKey()) ? 0 : dim(getPastKey(), 2);
  int64_t total = add(past, kvSeq);
  types.push_back(q.getRank() == 4
                      ? tensorOf({batch, qHeads, qSeq, vHead}, elem)
                      : tensorOf({batch, qSeq, mul(qHeads, vHead)}, elem));
  auto opt = [&](unsigned i, Type t) {
    types.push_back(isa<NoneType>(getResult(i).getType()) ? getResult(i).getType()
                                                         : t);
  };
  opt(1, tensorOf({batch, kvHeads, total, kHead}, elem));
  opt(2, tensorOf({batch, kvHeads, total, vHead}, vElem));
  opt(3, tensorOf({batch, qHeads, qSeq, total}, elem));
  return success();
}

LogicalResult
ONNXRMSNormalizationOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (auto t = ranked(getX()))
    if (failed(normaliseAxis(*this, getAxis(), t.getRank())))
      return failure();
  types.push_back(getX().getType());
  return success();
}

LogicalResult
ONNXRotaryEmbeddingOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(expectRank(*this, getX(), "X", {3, 4})))
    return failure();
  if (auto t = ranked(getX()); t && t.getRank() == 3 && !getNumHeads())
    return emitOpError("with a 3-D input needs 'num_heads'");
  types.push_back(getX().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// com.microsoft
//===----------------------------------------------------------------------===//

LogicalResult ONNXMsAttentionOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(expectRank(*this, getInput(), "input", {3})) ||
      failed(expectRank(*this, getWeights(), "weights", {2})))
    return failure();
  Type elem = elementType(getInput());
  int64_t heads = getNumHeads();
  if (heads <= 0)
    return emitOpError("'num_heads' must be positive");
  int64_t in = dim(getInput(), 2), w = dim(getWeights(), 1);
  if (!ShapedType::isDynamic(in) && !ShapedType::isDynamic(dim(getWeights(), 0)) &&
      in != dim(getWeights(), 0))
    return emitOpError("input hidden size ")
           << in << " does not match weights rows " << dim(getWeights(), 0);
  int64_t qHidden, kHidden, vHidden;
  if (auto sizes = getQkvHiddenSizes()) {
    if (sizes->size() != 3)
      return emitOpError("'qkv_hidden_sizes' must have 3 values");
    auto at = [&](int i) { return cast<IntegerAttr>((*sizes)[i]).getInt(); };
    qHidden = at(0), kHidden = at(1), vHidden = at(2);
  } else {
    qHidden = kHidden = vHidden = divide(w, 3);
  }
  if (!ShapedType::isDynamic(qHidden) && qHidden % heads != 0)
    return emitOpError("hidden size ") << qHidden
                                       << " is not divisible by num_heads "
                                       << heads;
  int64_t batch = dim(getInput(), 0), seq = dim(getInput(), 1);
  types.push_back(tensorOf({batch, seq, vHidden}, elem));
  Type present = getResult(1).getType();
  if (!isa<NoneType>(present)) {
    int64_t past = isAbsent(getPast()) ? 0 : dim(getPast(), 3);
    present = tensorOf({2, batch, heads, add(past, seq), divide(kHidden, heads)},
                       elem);
  }
  types.push_back(present);
  return success();
}

LogicalResult
ONNXMsMultiHeadAttentionOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(expectRank(*this, getQuery(), "query", {3, 5})))
    return failure();
  Type elem = elementType(getQuery());
  int64_t heads = getNumHeads();
  if (heads <= 0)
    return emitOpError("'num_heads' must be positive, got ") << heads;
  int64_t qHidden = dim(getQuery(), 2);
  if (ranked(getQuery()) && ranked(getQuery()).getRank() == 3 &&
      !ShapedType::isDynamic(qHidden) && qHidden % heads != 0)
    return emitOpError("query hidden size ")
           << qHidden << " is not divisible by num_heads " << heads;
  int64_t batch = dim(getQuery(), 0), seq = dim(getQuery(), 1);
  int64_t vHidden, kvSeq, kHead, vHead;
  auto q = ranked(getQuery());
  if (q && q.getRank() == 5) { // packed [B, S, N, 3, H]
    kHead = vHead = q.getDimSize(4);
    kvSeq = seq;
  } else if (isAbsent(getValue())) {
    // Packed K/V in `key`: [B, L, N, 2, H].
    kHead = vHead = dim(getKey(), 4);
    kvSeq = dim(getKey(), 1);
  } else {
    // key/value are [B, L, hidden] or [B, N, L, head].
    auto k = ranked(getKey()), v = ranked(getValue());
    bool bnsh = v && v.getRank() == 4;
    kvSeq = bnsh ? dim(getValue(), 2) : dim(getValue(), 1);
    vHead = bnsh ? dim(getValue(), 3) : divide(dim(getValue(), 2), heads);
    kHead = k && k.getRank() == 4 ? dim(getKey(), 3)
                                  : divide(dim(getKey(), 2), heads);
  }
  vHidden = mul(heads, vHead);
  types.push_back(tensorOf({batch, seq, vHidden}, elem));
  int64_t past = isAbsent(getPastKey()) ? 0 : dim(getPastKey(), 2);
  int64_t total = add(past, kvSeq);
  auto opt = [&](unsigned i, Type t) {
    types.push_back(isa<NoneType>(getResult(i).getType()) ? getResult(i).getType()
                                                         : t);
  };
  opt(1, tensorOf({batch, heads, total, kHead}, elem));
  opt(2, tensorOf({batch, heads, total, vHead}, elem));
  opt(3, tensorOf({batch, heads, seq, total}, elem));
  return success();
}

LogicalResult
ONNXMsGroupQueryAttentionOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(expectRank(*this, getQuery(), "query", {3})))
    return failure();
  int64_t heads = getNumHeads(), kvHeads = getKvNumHeads();
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
    return emitOpError("num_heads (")
           << heads << ") must be a positive multiple of kv_num_heads ("
           << kvHeads << ")";
  Type elem = elementType(getQuery());
  int64_t batch = dim(getQuery(), 0), seq = dim(getQuery(), 1);
  int64_t hidden = dim(getQuery(), 2);
  int64_t parts = isAbsent(getKey()) ? heads + 2 * kvHeads : heads;
  if (!ShapedType::isDynamic(hidden) && hidden % parts != 0)
    return emitOpError("query hidden size ")
           << hidden << " is not divisible into " << parts << " heads";
  int64_t head = divide(hidden, parts);
  types.push_back(tensorOf({batch, seq, mul(heads, head)}, elem));
  // The cache keeps its buffer length when it is shared with `past`;
  // otherwise it holds the total sequence.
  int64_t past = isAbsent(getPastKey()) ? 0 : dim(getPastKey(), 2);
  int64_t total = kDyn;
  if (auto t = constantInts(getTotalSequenceLength()); t && t->size() == 1)
    total = ShapedType::isDynamic(past) ? kDyn : std::max(past, (*t)[0]);
  types.push_back(tensorOf({batch, kvHeads, total, head}, elem));
  types.push_back(tensorOf({batch, kvHeads, total, head}, elem));
  Type qk = getResult(3).getType();
  types.push_back(isa<NoneType>(qk) ? qk
                                    : tensorOf({batch, heads, seq, total}, elem));
  return success();
}

template <typename OpTy>
static LogicalResult inferSkipNorm(OpTy op, SmallVectorImpl<Type> &types) {
  if (failed(expectRank(op, op.getInput(), "input", {2, 3})))
    return failure();
  Type inputType = op.getInput().getType();
  types.push_back(inputType);
  types.push_back(statsType(op.getInput(), -1, op.getResult(1).getType()));
  types.push_back(statsType(op.getInput(), -1, op.getResult(2).getType()));
  types.push_back(isa<NoneType>(op.getResult(3).getType())
                      ? op.getResult(3).getType()
                      : inputType);
  return success();
}

LogicalResult
ONNXMsSkipLayerNormalizationOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  return inferSkipNorm(*this, types);
}

LogicalResult ONNXMsSkipSimplifiedLayerNormalizationOp::inferOnnxTypes(
    SmallVectorImpl<Type> &types) {
  return inferSkipNorm(*this, types);
}

LogicalResult ONNXMsSimplifiedLayerNormalizationOp::inferOnnxTypes(
    SmallVectorImpl<Type> &types) {
  if (auto t = ranked(getX()))
    if (failed(normaliseAxis(*this, getAxis(), t.getRank())))
      return failure();
  types.push_back(getX().getType());
  types.push_back(statsType(getX(), getAxis(), getResult(1).getType()));
  return success();
}

LogicalResult ONNXMsFastGeluOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  sameAs(*this, getX(), types);
  return success();
}

LogicalResult ONNXMsBiasGeluOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  sameAs(*this, getA(), types);
  return success();
}

LogicalResult ONNXMsGeluOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  sameAs(*this, getX(), types);
  return success();
}

LogicalResult ONNXMsQuickGeluOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  sameAs(*this, getX(), types);
  return success();
}

LogicalResult
ONNXMsEmbedLayerNormalizationOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(expectRank(*this, getInputIds(), "input_ids", {2})) ||
      failed(expectRank(*this, getWordEmbedding(), "word_embedding", {2})))
    return failure();
  Type elem = elementType(getWordEmbedding());
  int64_t batch = dim(getInputIds(), 0), seq = dim(getInputIds(), 1);
  int64_t hidden = dim(getWordEmbedding(), 1);
  types.push_back(tensorOf({batch, seq, hidden}, elem));
  Type mask = getResult(1).getType();
  types.push_back(isa<NoneType>(mask)
                      ? mask
                      : tensorOf({batch}, IntegerType::get(getContext(), 32)));
  Type sum = getResult(2).getType();
  types.push_back(isa<NoneType>(sum) ? sum : tensorOf({batch, seq, hidden}, elem));
  return success();
}

LogicalResult
ONNXMsRotaryEmbeddingOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  if (failed(expectRank(*this, getInput(), "input", {3, 4})))
    return failure();
  types.push_back(getInput().getType());
  return success();
}

LogicalResult ONNXMsMatMulNBitsOp::inferOnnxTypes(SmallVectorImpl<Type> &types) {
  auto a = ranked(getA());
  Type elem = elementType(getA());
  if (!a) {
    types.push_back(UnrankedTensorType::get(elem));
    return success();
  }
  if (a.getRank() < 1)
    return emitOpError("input 'A' must have rank >= 1");
  int64_t cols = a.getShape().back();
  if (!ShapedType::isDynamic(cols) && cols != (int64_t)getK())
    return emitOpError("input 'A' has ")
           << cols << " columns but K is " << (int64_t)getK();
  // I64Attr accessors are unsigned: read the values as int64.
  int64_t bits = getBits(), block = getBlockSize(), k = getK(), n = getN();
  if (bits < 1 || bits > 8)
    return emitOpError("'bits' must be in [1, 8], got ") << bits;
  if (block < 16 || !llvm::isPowerOf2_64(block))
    return emitOpError("'block_size' must be a power of 2 and at least 16, "
                       "got ")
           << block;
  if (k <= 0 || n <= 0)
    return emitOpError("K and N must be positive");
  // B is [N, ceil(K / block_size), block_size * bits / 8] uint8.
  if (auto b = ranked(getB()); b && b.getRank() == 3 &&
                               elementType(getB()).isUnsignedInteger(8)) {
    int64_t want[] = {n, k / block + (k % block != 0), block * bits / 8};
    for (int i = 0; i < 3; ++i)
      if (!b.isDynamicDim(i) && b.getDimSize(i) != want[i])
        return emitOpError("input 'B' has shape ")
               << b << ", expected [" << want[0] << ", " << want[1] << ", "
               << want[2] << "] for N, K, block_size and bits";
  }
  SmallVector<int64_t> dims(a.getShape());
  dims.back() = getN();
  types.push_back(tensorOf(dims, elem));
  return success();
}

//===----------------------------------------------------------------------===//
// Generated ops whose inference in libonnx 1.12 is missing or rank-only
//===----------------------------------------------------------------------===//

/// NumPy broadcasting of the operands' shapes.
static FailureOr<Type> broadcastShapes(Operation *op, ValueRange operands,
                                       Type elem) {
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    auto t = ranked(v);
    if (!t)
      return Type(UnrankedTensorType::get(elem));
    ArrayRef<int64_t> s = t.getShape();
    if (s.size() > shape.size())
      shape.insert(shape.begin(), s.size() - shape.size(), 1);
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t &d = shape[shape.size() - s.size() + i];
      int64_t x = s[i];
      if (x == 1)
        continue;
      if (d == 1 || ShapedType::isDynamic(d)) {
        d = (d == 1 || ShapedType::isDynamic(x)) ? x : d;
        continue;
      }
      if (!ShapedType::isDynamic(x) && x != d)
        return op->emitOpError("operands of shapes that do not broadcast (")
               << d << " vs " << x << ")";
    }
  }
  return Type(tensorOf(shape, elem));
}

/// Einsum: each letter names one dim; "..." stands for the broadcast dims.
static LogicalResult inferEinsum(ONNXEinsumOp op, SmallVectorImpl<Type> &types) {
  std::string eq;
  for (char c : op.getEquation())
    if (c != ' ')
      eq.push_back(c);
  StringRef equation(eq);
  auto [lhs, rhs] = equation.split("->");
  bool explicitOutput = equation.contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != op->getNumOperands())
    return op.emitOpError("equation '")
           << op.getEquation() << "' has " << terms.size() << " inputs, the op "
           << op->getNumOperands();
  Type elem = elementType(op->getOperand(0));
  llvm::DenseMap<char, int64_t> sizes;
  llvm::DenseMap<char, int> counts;
  SmallVector<int64_t> ellipsis;
  for (auto [term, v] : llvm::zip(terms, op->getOperands())) {
    auto t = ranked(v);
    if (!t) {
      types.push_back(UnrankedTensorType::get(elem));
      return success();
    }
    size_t letters = llvm::count_if(term, [](char c) { return llvm::isAlpha(c); });
    bool hasEllipsis = term.contains("...");
    if (term.count("...") > 1 || term.count('.') != 3 * term.count("..."))
      return op.emitOpError("term '") << term << "' has a malformed ellipsis";
    if ((!hasEllipsis && letters != (size_t)t.getRank()) ||
        (hasEllipsis && letters > (size_t)t.getRank()))
      return op.emitOpError("term '")
             << term << "' does not match an operand of rank " << t.getRank();
    int64_t dim = 0;
    for (size_t i = 0; i < term.size(); ++i) {
      if (term.substr(i).starts_with("...")) {
        int64_t n = t.getRank() - letters;
        SmallVector<int64_t> dims(t.getShape().slice(dim, n));
        // Broadcast this operand's ellipsis dims with the others'.
        if (dims.size() > ellipsis.size())
          ellipsis.insert(ellipsis.begin(), dims.size() - ellipsis.size(), 1);
        for (size_t k = 0; k < dims.size(); ++k) {
          int64_t &e = ellipsis[ellipsis.size() - dims.size() + k];
          if (e == 1 || (ShapedType::isDynamic(e) && dims[k] != 1))
            e = dims[k];
        }
        dim += n;
        i += 2;
        continue;
      }
      char c = term[i];
      if (!llvm::isAlpha(c))
        return op.emitOpError("equation '") << op.getEquation()
                                            << "' has an invalid character";
      int64_t size = t.getDimSize(dim++);
      ++counts[c];
      auto [it, inserted] = sizes.try_emplace(c, size);
      if (!inserted && it->second != size) {
        if (it->second == 1 || ShapedType::isDynamic(it->second))
          it->second = size;
        else if (size != 1 && !ShapedType::isDynamic(size))
          return op.emitOpError("dim '")
                 << c << "' is " << it->second << " in one operand and "
                 << size << " in another";
      }
    }
  }
  SmallVector<int64_t> out;
  if (explicitOutput) {
    for (size_t i = 0; i < rhs.size(); ++i) {
      if (rhs.substr(i).starts_with("...")) {
        llvm::append_range(out, ellipsis);
        i += 2;
        continue;
      }
      auto it = sizes.find(rhs[i]);
      if (it == sizes.end())
        return op.emitOpError("output letter '")
               << rhs[i] << "' is not in any input";
      out.push_back(it->second);
    }
  } else {
    // Implicit output: the broadcast dims, then letters seen once, sorted.
    llvm::append_range(out, ellipsis);
    SmallVector<char> once;
    for (auto &[c, n] : counts)
      if (n == 1)
        once.push_back(c);
    llvm::sort(once);
    for (char c : once)
      out.push_back(sizes[c]);
  }
  types.push_back(tensorOf(out, elem));
  return success();
}

/// The elements of a constant scalar (or 1-element) operand, as double.
static std::optional<double> constantScalar(Value v) {
  DenseElementsAttr attr;
  if (isAbsent(v) || !matchPattern(v, m_Constant(&attr)) ||
      attr.getNumElements() != 1)
    return std::nullopt;
  if (auto f = dyn_cast<FloatType>(attr.getElementType()))
    return (*attr.getValues<APFloat>().begin()).convertToDouble();
  APInt i = *attr.getValues<APInt>().begin();
  return attr.getElementType().isUnsignedInteger() ? (double)i.getZExtValue()
                                                   : (double)i.getSExtValue();
}

/// Range: max(ceil((limit - start) / delta), 0) elements, computed without
/// the int64 overflow of libonnx 1.12's inference.
static LogicalResult inferRange(ONNXRangeOp op, SmallVectorImpl<Type> &types) {
  Type elem = elementType(op.getStart());
  auto start = constantScalar(op.getStart());
  auto limit = constantScalar(op.getLimit());
  auto delta = constantScalar(op.getDelta());
  if (!start || !limit || !delta) {
    types.push_back(tensorOf({kDyn}, elem));
    return success();
  }
  if (*delta == 0)
    return op.emitOpError("delta is zero");
  double count = std::max(std::ceil((*limit - *start) / *delta), 0.0);
  if (!std::isfinite(count) || count > 9.0e18)
    return op.emitOpError("has ") << count << " elements, beyond int64";
  types.push_back(tensorOf({(int64_t)count}, elem));
  return success();
}

/// Slice with constant starts/ends/axes/steps: ONNX's clamping, including
/// empty axes with negative steps (libonnx 1.12 gets that one wrong).
static std::optional<LogicalResult> inferSlice(ONNXSliceOp op,
                                               SmallVectorImpl<Type> &types) {
  auto data = ranked(op.getData());
  auto starts = constantInts(op.getStarts());
  auto ends = constantInts(op.getEnds());
  std::optional<SmallVector<int64_t>> axes, steps;
  if (!isAbsent(op.getAxes()) && !(axes = constantInts(op.getAxes())))
    return std::nullopt;
  if (!isAbsent(op.getSteps()) && !(steps = constantInts(op.getSteps())))
    return std::nullopt;
  if (!data || !starts || !ends)
    return std::nullopt;
  int64_t rank = data.getRank();
  size_t n = starts->size();
  if (ends->size() != n || (axes && axes->size() != n) ||
      (steps && steps->size() != n))
    return std::nullopt; // libonnx reports the mismatch
  SmallVector<int64_t> dims(data.getShape());
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < n; ++i) {
    int64_t axis = axes ? (*axes)[i] : (int64_t)i;
    if (axis < -rank || axis >= rank)
      return op.emitOpError("axis ") << axis << " is out of range for rank "
                                     << rank;
    axis = axis < 0 ? axis + rank : axis;
    if (seen[axis])
      return op.emitOpError("axis ") << axis << " is sliced twice";
    seen[axis] = true;
    int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0)
      return op.emitOpError("step is zero");
    int64_t dim = dims[axis];
    if (ShapedType::isDynamic(dim))
      continue;
    dims[axis] = clampSliceAxis(dim, (*starts)[i], (*ends)[i], step).count;
  }
  types.push_back(tensorOf(dims, data.getElementType()));
  return success();
}

/// Checks the ranks and attribute lengths of convolutions and pools, which
/// libonnx 1.12's inference assumes (it reads out of bounds otherwise).
static LogicalResult verifyConvLike(Operation *op, bool hasWeights) {
  auto x = ranked(op->getOperand(0));
  if (!x)
    return success();
  int64_t rank = x.getRank();
  if (rank < 3)
    return op->emitOpError("input X must have rank >= 3, got ") << rank;
  if (hasWeights && op->getNumOperands() > 1)
    if (auto w = ranked(op->getOperand(1)); w && w.getRank() != rank)
      return op->emitOpError("weights W have rank ")
             << w.getRank() << " but X has rank " << rank;
  int64_t spatial = rank - 2;
  for (auto [name, want] :
       {std::pair<StringRef, int64_t>{"kernel_shape", spatial},
        {"strides", spatial},
        {"dilations", spatial},
        {"pads", 2 * spatial},
        {"output_padding", spatial},
        {"output_shape", spatial}}) {
    auto list = dyn_cast_or_null<ArrayAttr>(op->getInherentAttr(name).value_or(nullptr));
    if (list && (int64_t)list.size() != want)
      return op->emitOpError("attribute '")
             << name << "' has " << list.size() << " values; " << want
             << " expected for " << spatial << " spatial dims";
  }
  return success();
}

/// Compress with a constant condition: as many elements as it selects
/// (among the first ones, as many as the axis has).
static std::optional<LogicalResult>
inferCompress(ONNXCompressOp op, SmallVectorImpl<Type> &types) {
  auto data = ranked(op.getInput());
  DenseElementsAttr condition;
  if (!data || !data.hasStaticShape() ||
      !matchPattern(op.getCondition(), m_Constant(&condition)))
    return std::nullopt;
  std::optional<int64_t> axis = op.getAxis();
  int64_t rank = data.getRank();
  if (axis && (*axis < -rank || *axis >= rank))
    return op.emitOpError("axis ") << *axis << " is out of range for rank " << rank;
  int64_t length = axis ? data.getDimSize(*axis < 0 ? *axis + rank : *axis)
                        : data.getNumElements();
  int64_t count = 0, i = 0;
  for (bool c : condition.getValues<bool>())
    if (i++ < length && c)
      ++count;
  SmallVector<int64_t> dims(data.getShape());
  if (axis)
    dims[*axis < 0 ? *axis + rank : *axis] = count;
  else
    dims.assign({count});
  types.push_back(tensorOf(dims, data.getElementType()));
  return success();
}

/// NonZero of a constant: [rank, number of non-zero elements].
static std::optional<LogicalResult> inferNonZero(ONNXNonZeroOp op,
                                                 SmallVectorImpl<Type> &types) {
  DenseElementsAttr x;
  if (!matchPattern(op.getX(), m_Constant(&x)))
    return std::nullopt;
  int64_t count = 0;
  if (isa<FloatType>(x.getElementType())) {
    for (const APFloat &v : x.getValues<APFloat>())
      count += !v.isZero();
  } else {
    for (const APInt &v : x.getValues<APInt>())
      count += !v.isZero();
  }
  types.push_back(tensorOf({x.getType().getRank(), count},
                           IntegerType::get(op.getContext(), 64)));
  return success();
}

std::optional<LogicalResult>
prism::onnx::inferOverride(Operation *op, SmallVectorImpl<Type> &types) {
  // Checks only: ONNX's inference then runs.
  if (isa<ONNXConvOp, ONNXConvTransposeOp, ONNXConvIntegerOp>(op) &&
      failed(verifyConvLike(op, /*hasWeights=*/true)))
    return failure();
  if (isa<ONNXMaxPoolOp, ONNXAveragePoolOp, ONNXLpPoolOp>(op) &&
      failed(verifyConvLike(op, /*hasWeights=*/false)))
    return failure();
  if (auto range = dyn_cast<ONNXRangeOp>(op))
    return inferRange(range, types);
  if (auto slice = dyn_cast<ONNXSliceOp>(op))
    return inferSlice(slice, types);
  if (auto compress = dyn_cast<ONNXCompressOp>(op))
    if (auto r = inferCompress(compress, types))
      return r;
  if (auto nonZero = dyn_cast<ONNXNonZeroOp>(op))
    if (auto r = inferNonZero(nonZero, types))
      return r;
  if (isa<ONNXGreaterOrEqualOp, ONNXLessOrEqualOp>(op)) {
    auto t = broadcastShapes(op, op->getOperands(),
                             IntegerType::get(op->getContext(), 1));
    if (failed(t))
      return failure();
    types.push_back(*t);
    return success();
  }
  if (auto einsum = dyn_cast<ONNXEinsumOp>(op))
    return inferEinsum(einsum, types);
  if (auto map = dyn_cast<ONNXSequenceMapOp>(op)) {
    // Each output is the sequence of what the body yields per element.
    Operation *yield = map.getBody().front().getTerminator();
    if (yield->getNumOperands() != op->getNumResults())
      return map.emitOpError("body yields ")
             << yield->getNumOperands() << " values for "
             << op->getNumResults() << " outputs";
    for (Type t : yield->getOperandTypes())
      types.push_back(SeqType::get(op->getContext(), t));
    return success();
  }
  if (isa<ONNXMeanVarianceNormalizationOp>(op)) {
    types.push_back(op->getOperand(0).getType());
    return success();
  }
  return std::nullopt;
}
