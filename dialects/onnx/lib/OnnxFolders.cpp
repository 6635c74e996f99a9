//===- OnnxFolders.cpp - Constant folding of shape arithmetic -------------===//
//
// Exported graphs compute shapes at run time (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape). Once dims are bound these chains are constant: the
// folders here evaluate them on small constant tensors so that shape
// inference sees every shape. Results above kMaxFoldElements (other than
// splats) are left alone: folding is for shapes, not for weights.
//
//===----------------------------------------------------------------------===//

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;

namespace {
// Shapes are small; masks and tables stay computations (raising reads them).
constexpr int64_t kMaxFoldElements = 1024;

/// A small constant tensor with its values widened to int64 or double.
struct Const {
  SmallVector<int64_t> shape;
  Type elem;
  SmallVector<int64_t> ints;
  SmallVector<double> floats;
  bool isFloat() const { return isa<FloatType>(elem); }
  int64_t size() const { return isFloat() ? floats.size() : ints.size(); }
  double f(int64_t i) const { return isFloat() ? floats[i] : (double)ints[i]; }
};

std::optional<Const> toConst(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || (!dense.isSplat() && dense.getNumElements() > kMaxFoldElements))
    return std::nullopt;
  Const c;
  auto type = dense.getType();
  c.shape.assign(type.getShape().begin(), type.getShape().end());
  c.elem = type.getElementType();
  int64_t n = type.getNumElements();
  if (n > kMaxFoldElements)
    return std::nullopt;
  if (auto it = dyn_cast<IntegerType>(c.elem)) {
    bool zext = it.isUnsigned() || it.getWidth() == 1;
    for (const APInt &v : dense.getValues<APInt>()) {
      // uint64 values past INT64_MAX do not fit the int64 evaluator.
      if (zext && v.getActiveBits() > 63)
        return std::nullopt;
      c.ints.push_back(zext ? (int64_t)v.getZExtValue() : v.getSExtValue());
    }
  } else if (isa<FloatType>(c.elem)) {
    for (const APFloat &v : dense.getValues<APFloat>())
      c.floats.push_back(v.convertToDouble());
  } else {
    return std::nullopt;
  }
  return c;
}

Attribute fromConst(const Const &c) {
  auto type = RankedTensorType::get(c.shape, c.elem);
  if (auto ft = dyn_cast<FloatType>(c.elem)) {
    SmallVector<APFloat> values;
    for (double d : c.floats) {
      APFloat v(d);
      bool lost;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(v);
    }
    return DenseElementsAttr::get(type, values);
  }
  unsigned width = cast<IntegerType>(c.elem).getWidth();
  SmallVector<APInt> values;
  for (int64_t i : c.ints)
    values.push_back(APInt(width, (uint64_t)i, /*isSigned=*/true,
                           /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, values);
}

std::optional<Const> operand(ArrayRef<Attribute> operands, unsigned i) {
  return i < operands.size() ? toConst(operands[i]) : std::nullopt;
}

std::optional<SmallVector<int64_t>> intsOf(Attribute attr) {
  auto c = toConst(attr);
  if (!c || c->isFloat())
    return std::nullopt;
  return c->ints;
}

int64_t product(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

SmallVector<int64_t> strides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// NumPy broadcasting of two shapes.
std::optional<SmallVector<int64_t>> broadcast(ArrayRef<int64_t> a,
                                              ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[i] = x == 1 ? y : x;
  }
  return out;
}

/// Linear index in `shape` of the element at `index` of the broadcast shape.
int64_t broadcastIndex(ArrayRef<int64_t> shape, ArrayRef<int64_t> outShape,
                       int64_t linear) {
  SmallVector<int64_t> outStrides = strides(outShape);
  SmallVector<int64_t> inStrides = strides(shape);
  int64_t offset = outShape.size() - shape.size(), result = 0;
  for (size_t d = 0; d < outShape.size(); ++d) {
    int64_t idx = linear / outStrides[d] % outShape[d];
    if ((int64_t)d >= offset && shape[d - offset] != 1)
      result += idx * inStrides[d - offset];
  }
  return result;
}

/// Elementwise `fn` over broadcast operands: `fn(indices, out)` appends the
/// element at the broadcast position (`indices` into each operand) to `out`,
/// keeping integers exact, or returns false to give up.
template <typename Fn>
Attribute elementwise(ArrayRef<Const> in, Type resultElem, Fn fn) {
  SmallVector<int64_t> shape = in[0].shape;
  for (const Const &c : in.drop_front()) {
    auto b = broadcast(shape, c.shape);
    if (!b)
      return nullptr;
    shape = *b;
  }
  int64_t n = product(shape);
  if (n > kMaxFoldElements)
    return nullptr;
  Const out;
  out.shape = shape;
  out.elem = resultElem;
  for (int64_t i = 0; i < n; ++i) {
    SmallVector<int64_t> idx;
    for (const Const &c : in)
      idx.push_back(broadcastIndex(c.shape, shape, i));
    if (!fn(idx, out))
      return nullptr;
  }
  return fromConst(out);
}

/// Appends element `i` of `c` to `out`, converting between int and float.
void append(Const &out, const Const &c, int64_t i) {
  if (out.isFloat())
    out.floats.push_back(c.f(i));
  else if (c.isFloat())
    out.ints.push_back((int64_t)c.floats[i]);
  else
    out.ints.push_back(c.ints[i]);
}

/// Integer binary ops stay exact in int64; float ones use double.
template <typename IntFn, typename FloatFn>
Attribute binary(ArrayRef<Attribute> operands, Type resultElem, IntFn intFn,
                 FloatFn floatFn) {
  auto a = operand(operands, 0), b = operand(operands, 1);
  if (!a || !b)
    return nullptr;
  if (a->isFloat() || b->isFloat())
    return elementwise({*a, *b}, resultElem,
                       [&](ArrayRef<int64_t> i, Const &out) {
                         double v = floatFn(a->f(i[0]), b->f(i[1]));
                         if (out.isFloat())
                           out.floats.push_back(v);
                         else
                           out.ints.push_back(v != 0); // comparisons
                         return true;
                       });
  SmallVector<int64_t> shape = a->shape;
  auto bs = broadcast(a->shape, b->shape);
  if (!bs || product(*bs) > kMaxFoldElements)
    return nullptr;
  Const out;
  out.shape = *bs;
  out.elem = resultElem;
  for (int64_t i = 0, e = product(*bs); i < e; ++i) {
    std::optional<int64_t> v =
        intFn(a->ints[broadcastIndex(a->shape, *bs, i)],
              b->ints[broadcastIndex(b->shape, *bs, i)]);
    if (!v)
      return nullptr;
    out.ints.push_back(*v);
  }
  return fromConst(out);
}

/// The element type of a static int or float result; null otherwise (string
/// and complex results are not folded).
Type resultElem(Operation *op) {
  auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!t || !t.hasStaticShape() ||
      !isa<IntegerType, FloatType>(t.getElementType()))
    return Type();
  return t.getElementType();
}

/// Keeps only folds whose type matches the op's declared (static) type.
OpFoldResult checked(Operation *op, Attribute attr) {
  auto typed = dyn_cast_or_null<TypedAttr>(attr);
  if (!typed || typed.getType() != op->getResult(0).getType())
    return {};
  return attr;
}

int64_t normalise(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}
} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Neg (every value) and Abs (the negative ones): INT64_MIN has no
/// negation in int64 and is not folded.
template <typename OpTy>
static OpFoldResult foldSignFlip(OpTy op, ArrayRef<Attribute> operands,
                                 bool onlyNegative) {
  auto a = operand(operands, 0);
  Type elem = resultElem(op);
  if (!a || !elem)
    return {};
  for (auto &v : a->ints) {
    if (onlyNegative && v >= 0)
      continue;
    if (v == INT64_MIN)
      return {};
    v = -v;
  }
  for (auto &v : a->floats)
    v = onlyNegative ? std::fabs(v) : -v;
  return checked(op, fromConst(*a));
}


#define BINARY_FOLD(OP, INTEXPR, FLOATEXPR)                                    \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    Type elem = resultElem(*this);                                             \
    if (!elem)                                                                 \
      return {};                                                               \
    return checked(*this,                                                      \
                   binary(                                                     \
                       adaptor.getOperands(), elem,                            \
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {    \
                         return INTEXPR;                                       \
                       },                                                      \
                       [](double x, double y) -> double { return FLOATEXPR; })); \
  }

/// Integer results that overflow int64 are not folded.
template <typename Fn>
std::optional<int64_t> checkedInt(int64_t x, int64_t y, Fn fn) {
  int64_t r;
  if (fn(x, y, r))
    return std::nullopt;
  return r;
}

BINARY_FOLD(ONNXAddOp, checkedInt(x, y, llvm::AddOverflow<int64_t>), x + y)
BINARY_FOLD(ONNXSubOp, checkedInt(x, y, llvm::SubOverflow<int64_t>), x - y)
BINARY_FOLD(ONNXMulOp, checkedInt(x, y, llvm::MulOverflow<int64_t>), x * y)
// Integer division truncates, as ONNX Runtime does; by zero (and the one
// overflowing quotient) is not folded.
BINARY_FOLD(ONNXDivOp,
            y == 0 || (x == INT64_MIN && y == -1)
                ? std::nullopt
                : std::optional<int64_t>(x / y),
            x / y)
BINARY_FOLD(ONNXEqualOp, x == y, x == y)
BINARY_FOLD(ONNXLessOp, x < y, x < y)
BINARY_FOLD(ONNXGreaterOp, x > y, x > y)
BINARY_FOLD(ONNXLessOrEqualOp, x <= y, x <= y)
BINARY_FOLD(ONNXGreaterOrEqualOp, x >= y, x >= y)
BINARY_FOLD(ONNXAndOp, x && y, x != 0 && y != 0)
BINARY_FOLD(ONNXOrOp, x || y, x != 0 || y != 0)
#undef BINARY_FOLD

// Mod: the divisor's sign (Python's %) for integers unless fmod = 1 (C's
// fmod, the only form for floats); by zero is not folded.
OpFoldResult ONNXModOp::fold(FoldAdaptor adaptor) {
  Type elem = resultElem(*this);
  if (!elem)
    return {};
  bool cMod = getFmod() != 0;
  if (isa<FloatType>(elem) && !cMod)
    return {};
  return checked(
      *this,
      binary(
          adaptor.getOperands(), elem,
          [cMod](int64_t x, int64_t y) -> std::optional<int64_t> {
            if (y == 0 || (x == INT64_MIN && y == -1))
              return std::nullopt;
            int64_t r = x % y;
            if (!cMod && r != 0 && ((r < 0) != (y < 0)))
              r += y;
            return r;
          },
          [](double x, double y) -> double { return std::fmod(x, y); }));
}

OpFoldResult ONNXAbsOp::fold(FoldAdaptor adaptor) {
  return foldSignFlip(*this, adaptor.getOperands(), /*onlyNegative=*/true);
}

//===----------------------------------------------------------------------===//
// Integer reductions (shape arithmetic: the product of a Shape's dims)
//===----------------------------------------------------------------------===//

/// Reduces integer `data` over constant `axes` (all when absent, unless
/// noop_with_empty_axes); float data is a value, not a shape: not folded.
template <typename OpTy, typename Fn>
static OpFoldResult foldIntReduce(OpTy op, ArrayRef<Attribute> operands,
                                  Fn combine) {
  Type elem = resultElem(op);
  auto data = operand(operands, 0);
  if (!elem || !data || data->isFloat() || !isa<IntegerType>(elem))
    return {};
  int64_t rank = data->shape.size();
  SmallVector<bool> reduced(rank, false);
  bool hasAxes = !isa<NoneType>(op->getOperand(1).getType());
  if (hasAxes) {
    auto axes = operands.size() > 1 ? intsOf(operands[1]) : std::nullopt;
    if (!axes)
      return {};
    if (axes->empty() && op.getNoopWithEmptyAxes())
      return {}; // the identity: left to the Identity-like lowering
    for (int64_t a : *axes) {
      a = normalise(a, rank);
      if (a < 0 || a >= rank)
        return {};
      reduced[a] = true;
    }
    if (axes->empty())
      reduced.assign(rank, true);
  } else {
    if (op.getNoopWithEmptyAxes())
      return {};
    reduced.assign(rank, true);
  }
  if (data->size() == 0)
    return {}; // the empty reduction's identity differs per op
  SmallVector<int64_t> outShape;
  for (int64_t d = 0; d < rank; ++d)
    outShape.push_back(reduced[d] ? 1 : data->shape[d]);
  SmallVector<int64_t> inStrides = strides(data->shape),
                       outStrides = strides(outShape);
  SmallVector<std::optional<int64_t>> acc(product(outShape));
  for (int64_t i = 0; i < data->size(); ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced[d])
        o += (i / inStrides[d] % data->shape[d]) * outStrides[d];
    int64_t v = data->ints[i];
    if (!acc[o]) {
      acc[o] = v;
    } else {
      std::optional<int64_t> r = combine(*acc[o], v);
      if (!r)
        return {};
      acc[o] = *r;
    }
  }
  Const out;
  out.elem = elem;
  auto rt = cast<RankedTensorType>(op->getResult(0).getType());
  out.shape.assign(rt.getShape().begin(), rt.getShape().end());
  for (auto &a : acc)
    out.ints.push_back(*a);
  if ((int64_t)out.ints.size() != product(out.shape))
    return {};
  return checked(op, fromConst(out));
}

OpFoldResult ONNXReduceProdOp::fold(FoldAdaptor adaptor) {
  return foldIntReduce(*this, adaptor.getOperands(), [](int64_t x, int64_t y) {
    return checkedInt(x, y, llvm::MulOverflow<int64_t>);
  });
}
OpFoldResult ONNXReduceSumOp::fold(FoldAdaptor adaptor) {
  return foldIntReduce(*this, adaptor.getOperands(), [](int64_t x, int64_t y) {
    return checkedInt(x, y, llvm::AddOverflow<int64_t>);
  });
}
OpFoldResult ONNXReduceMaxOp::fold(FoldAdaptor adaptor) {
  return foldIntReduce(*this, adaptor.getOperands(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {
                         return std::max(x, y);
                       });
}
OpFoldResult ONNXReduceMinOp::fold(FoldAdaptor adaptor) {
  return foldIntReduce(*this, adaptor.getOperands(),
                       [](int64_t x, int64_t y) -> std::optional<int64_t> {
                         return std::min(x, y);
                       });
}

OpFoldResult ONNXNegOp::fold(FoldAdaptor adaptor) {
  return foldSignFlip(*this, adaptor.getOperands(), /*onlyNegative=*/false);
}

OpFoldResult ONNXNotOp::fold(FoldAdaptor adaptor) {
  auto a = operand(adaptor.getOperands(), 0);
  if (!a || !resultElem(*this))
    return {};
  for (auto &v : a->ints)
    v = !v;
  return checked(*this, fromConst(*a));
}

/// Float-only unary functions (the scalar arithmetic of a Loop's trip
/// count, as exporters write Range).
#define FLOAT_UNARY_FOLD(OP, EXPR)                                             \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    auto a = operand(adaptor.getOperands(), 0);                                \
    if (!a || !a->isFloat() || !resultElem(*this))                             \
      return {};                                                               \
    for (auto &x : a->floats)                                                  \
      x = EXPR;                                                                \
    return checked(*this, fromConst(*a));                                      \
  }

FLOAT_UNARY_FOLD(ONNXSqrtOp, std::sqrt(x))
FLOAT_UNARY_FOLD(ONNXCeilOp, std::ceil(x))
FLOAT_UNARY_FOLD(ONNXFloorOp, std::floor(x))
FLOAT_UNARY_FOLD(ONNXReluOp, (std::isnan(x) || x > 0) ? x : 0.0)
#undef FLOAT_UNARY_FOLD

OpFoldResult ONNXCastOp::fold(FoldAdaptor adaptor) {
  auto a = operand(adaptor.getOperands(), 0);
  Type elem = resultElem(*this);
  if (!a || !elem)
    return {};
  Const out;
  out.shape = a->shape;
  out.elem = elem;
  for (int64_t i = 0; i < a->size(); ++i) {
    if (out.isFloat()) {
      out.floats.push_back(a->f(i));
      continue;
    }
    double v = a->f(i);
    if (elem.isInteger(1)) { // any nonzero value is true
      out.ints.push_back(a->isFloat() ? v != 0.0 : a->ints[i] != 0);
      continue;
    }
    if (a->isFloat() && (!std::isfinite(v) || std::fabs(v) > 9.2e18))
      return {}; // out of range: implementation-defined, leave to run time
    out.ints.push_back(a->isFloat() ? (int64_t)v : a->ints[i]);
  }
  return checked(*this, fromConst(out));
}

OpFoldResult ONNXWhereOp::fold(FoldAdaptor adaptor) {
  auto c = operand(adaptor.getOperands(), 0);
  auto x = operand(adaptor.getOperands(), 1);
  auto y = operand(adaptor.getOperands(), 2);
  Type elem = resultElem(*this);
  if (!c || !x || !y || !elem)
    return {};
  return checked(*this, elementwise({*c, *x, *y}, elem,
                                    [&](ArrayRef<int64_t> i, Const &out) {
                                      if (c->ints[i[0]])
                                        append(out, *x, i[1]);
                                      else
                                        append(out, *y, i[2]);
                                      return true;
                                    }));
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

/// The tensor a Constant holds, whichever attribute gives it. A ConstantLike
/// op must always fold: when none is set (the verifier reports that) the
/// result is a unit attribute that no caller takes for a tensor.
OpFoldResult ONNXConstantOp::fold(FoldAdaptor) {
  if (auto value = getValueAttr())
    return value;
  Builder b(getContext());
  auto tensor = [&](ArrayRef<int64_t> shape, Type elem) {
    return RankedTensorType::get(shape, elem);
  };
  if (auto f = getValueFloatAttr())
    return DenseElementsAttr::get(tensor({}, b.getF32Type()), f.getValue());
  if (auto i = getValueIntAttr())
    return DenseElementsAttr::get(tensor({}, b.getI64Type()), i.getValue());
  if (auto fs = getValueFloatsAttr()) {
    SmallVector<float> values;
    for (Attribute a : fs)
      values.push_back(cast<FloatAttr>(a).getValueAsDouble());
    return DenseElementsAttr::get(tensor({(int64_t)values.size()}, b.getF32Type()),
                                  ArrayRef<float>(values));
  }
  if (auto is = getValueIntsAttr()) {
    SmallVector<int64_t> values;
    for (Attribute a : is)
      values.push_back(cast<IntegerAttr>(a).getInt());
    return DenseElementsAttr::get(tensor({(int64_t)values.size()}, b.getI64Type()),
                                  ArrayRef<int64_t>(values));
  }
  auto stringType = StringType::get(getContext());
  if (auto str = getValueStringAttr())
    return DenseStringElementsAttr::get(tensor({}, stringType), {str.getValue()});
  if (auto strs = getValueStringsAttr()) {
    SmallVector<StringRef> values;
    for (Attribute a : strs)
      values.push_back(cast<StringAttr>(a).getValue());
    return DenseStringElementsAttr::get(
        tensor({(int64_t)values.size()}, stringType), values);
  }
  return b.getUnitAttr();
}

OpFoldResult ONNXIdentityOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult ONNXShapeOp::fold(FoldAdaptor) {
  auto t = dyn_cast<RankedTensorType>(getData().getType());
  if (!t)
    return {};
  int64_t rank = t.getRank();
  int64_t start = std::clamp<int64_t>(normalise(getStart(), rank), 0, rank);
  int64_t end = getEnd() ? std::clamp<int64_t>(normalise(*getEnd(), rank), 0, rank)
                         : rank;
  Const out;
  out.elem = IntegerType::get(getContext(), 64);
  for (int64_t i = start; i < end; ++i) {
    if (t.isDynamicDim(i))
      return {};
    out.ints.push_back(t.getDimSize(i));
  }
  out.shape = {(int64_t)out.ints.size()};
  return checked(*this, fromConst(out));
}

OpFoldResult ONNXSizeOp::fold(FoldAdaptor) {
  auto t = dyn_cast<RankedTensorType>(getData().getType());
  if (!t || !t.hasStaticShape())
    return {};
  Const out;
  out.elem = IntegerType::get(getContext(), 64);
  out.ints = {t.getNumElements()};
  return checked(*this, fromConst(out));
}

OpFoldResult ONNXConcatOp::fold(FoldAdaptor adaptor) {
  Type elem = resultElem(*this);
  if (!elem)
    return {};
  SmallVector<Const> in;
  for (Attribute a : adaptor.getOperands()) {
    auto c = toConst(a);
    if (!c)
      return {};
    in.push_back(*c);
  }
  if (in.empty())
    return {};
  int64_t rank = in[0].shape.size();
  int64_t axis = normalise(getAxis(), rank);
  if (axis < 0 || axis >= rank ||
      llvm::any_of(in, [&](const Const &c) { return (int64_t)c.shape.size() != rank; }))
    return {};
  SmallVector<int64_t> shape = in[0].shape;
  shape[axis] = 0;
  for (const Const &c : in)
    shape[axis] += c.shape[axis];
  Const out;
  out.shape = shape;
  out.elem = elem;
  int64_t outer = product(ArrayRef<int64_t>(shape).take_front(axis));
  for (int64_t o = 0; o < outer; ++o)
    for (const Const &c : in) {
      int64_t chunk = product(ArrayRef<int64_t>(c.shape).drop_front(axis));
      for (int64_t i = o * chunk; i < (o + 1) * chunk; ++i) {
        if (out.isFloat())
          out.floats.push_back(c.f(i));
        else
          out.ints.push_back(c.ints[i]);
      }
    }
  return checked(*this, fromConst(out));
}

OpFoldResult ONNXGatherOp::fold(FoldAdaptor adaptor) {
  auto data = operand(adaptor.getOperands(), 0);
  auto indices = operand(adaptor.getOperands(), 1);
  Type elem = resultElem(*this);
  if (!data || !indices || !elem || data->shape.empty())
    return {};
  int64_t rank = data->shape.size();
  int64_t axis = normalise(getAxis(), rank);
  if (axis < 0 || axis >= rank || indices->isFloat())
    return {};
  int64_t outer = product(ArrayRef<int64_t>(data->shape).take_front(axis));
  int64_t inner = product(ArrayRef<int64_t>(data->shape).drop_front(axis + 1));
  int64_t n = data->shape[axis];
  Const out;
  out.elem = elem;
  out.shape.append(data->shape.begin(), data->shape.begin() + axis);
  out.shape.append(indices->shape.begin(), indices->shape.end());
  out.shape.append(data->shape.begin() + axis + 1, data->shape.end());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t idx : indices->ints) {
      if (idx < -n || idx >= n)
        return {}; // out of bounds: an error at run time, not a fold
      int64_t k = idx < 0 ? idx + n : idx;
      for (int64_t i = 0; i < inner; ++i) {
        int64_t src = (o * n + k) * inner + i;
        if (out.isFloat())
          out.floats.push_back(data->floats[src]);
        else
          out.ints.push_back(data->ints[src]);
      }
    }
  return checked(*this, fromConst(out));
}

/// Reshape-like folds: same values, the op's (static) result shape.
static OpFoldResult reshapeFold(Operation *op, Attribute input) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(input);
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!dense || !type || !type.hasStaticShape() ||
      dense.getType().getNumElements() != type.getNumElements())
    return {};
  return dense.reshape(type);
}

OpFoldResult ONNXReshapeOp::fold(FoldAdaptor adaptor) {
  return reshapeFold(*this, adaptor.getData());
}
OpFoldResult ONNXSqueezeOp::fold(FoldAdaptor adaptor) {
  return reshapeFold(*this, adaptor.getData());
}
OpFoldResult ONNXUnsqueezeOp::fold(FoldAdaptor adaptor) {
  return reshapeFold(*this, adaptor.getData());
}

OpFoldResult ONNXExpandOp::fold(FoldAdaptor adaptor) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  auto type = dyn_cast<RankedTensorType>(getType());
  if (!dense || !type || !type.hasStaticShape())
    return {};
  if (dense.isSplat())
    return DenseElementsAttr::get(type, dense.getSplatValue<Attribute>());
  auto in = toConst(dense);
  if (!in)
    return {};
  // Broadcast against the target shape (only its shape is read).
  Const target;
  target.shape.assign(type.getShape().begin(), type.getShape().end());
  target.elem = in->elem;
  return checked(*this, elementwise({*in, target}, type.getElementType(),
                                    [&](ArrayRef<int64_t> i, Const &out) {
                                      append(out, *in, i[0]);
                                      return true;
                                    }));
}

OpFoldResult ONNXConstantOfShapeOp::fold(FoldAdaptor) {
  auto type = dyn_cast<RankedTensorType>(getType());
  if (!type || !type.hasStaticShape())
    return {};
  auto value = dyn_cast_or_null<DenseElementsAttr>(getValueAttr());
  if (!value)
    return DenseElementsAttr::get(
        type, FloatAttr::get(type.getElementType(), 0.0));
  if (value.getNumElements() != 1 ||
      value.getElementType() != type.getElementType())
    return {};
  return DenseElementsAttr::get(type, value.getValues<Attribute>()[0]);
}

OpFoldResult ONNXRangeOp::fold(FoldAdaptor adaptor) {
  auto start = operand(adaptor.getOperands(), 0);
  auto limit = operand(adaptor.getOperands(), 1);
  auto delta = operand(adaptor.getOperands(), 2);
  Type elem = resultElem(*this);
  if (!start || !limit || !delta || !elem || start->size() != 1 ||
      limit->size() != 1 || delta->size() != 1 || delta->f(0) == 0)
    return {};
  double s = start->f(0), l = limit->f(0), d = delta->f(0);
  double count = std::ceil((l - s) / d);
  if (!std::isfinite(count) || count > kMaxFoldElements)
    return {};
  int64_t n = std::max<int64_t>(0, (int64_t)count);
  if (std::fabs(s) + n * std::fabs(d) > 9.0e18)
    return {}; // int64 elements would overflow
  Const out;
  out.elem = elem;
  out.shape = {n};
  for (int64_t i = 0; i < n; ++i) {
    if (out.isFloat())
      out.floats.push_back(s + i * d);
    else
      out.ints.push_back(start->ints[0] + i * delta->ints[0]);
  }
  return checked(*this, fromConst(out));
}

SliceAxis prism::onnx::clampSliceAxis(int64_t dim, int64_t start, int64_t end,
                                      int64_t step) {
  // Clamp before adding dim: starts/ends may be INT64_MIN/MAX.
  int64_t s = std::clamp<int64_t>(start, -dim - 1, dim + 1);
  int64_t e = std::clamp<int64_t>(end, -dim - 1, dim + 1);
  s = s < 0 ? s + dim : s;
  e = e < 0 ? e + dim : e;
  if (step > 0) {
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    return {s, e > s ? (e - s - 1) / step + 1 : 0};
  }
  if (dim == 0)
    return {0, 0};
  s = std::clamp<int64_t>(s, 0, dim - 1);
  e = std::clamp<int64_t>(e, -1, dim - 1);
  if (step == INT64_MIN) // -step overflows; one element at most
    return {s, s > e ? 1 : 0};
  return {s, s > e ? (s - e - 1) / -step + 1 : 0};
}

OpFoldResult ONNXSliceOp::fold(FoldAdaptor adaptor) {
  auto data = operand(adaptor.getOperands(), 0);
  auto starts = intsOf(adaptor.getStarts());
  auto ends = intsOf(adaptor.getEnds());
  Type elem = resultElem(*this);
  if (!data || !starts || !ends || !elem || starts->size() != ends->size())
    return {};
  int64_t rank = data->shape.size();
  SmallVector<int64_t> axes, steps(starts->size(), 1);
  if (!isa<NoneType>(getAxes().getType())) {
    auto a = intsOf(adaptor.getAxes());
    if (!a)
      return {};
    axes = *a;
  } else {
    for (int64_t i = 0; i < (int64_t)starts->size(); ++i)
      axes.push_back(i);
  }
  if (!isa<NoneType>(getSteps().getType())) {
    auto s = intsOf(adaptor.getSteps());
    if (!s)
      return {};
    steps = *s;
  }
  // Per-axis start and step after ONNX's clamping rules.
  SmallVector<int64_t> begin(rank, 0), step(rank, 1), count(data->shape);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t ax = normalise(axes[i], rank), st = steps[i];
    if (st == 0 || st == INT64_MIN || ax < 0 || ax >= rank)
      return {};
    SliceAxis range =
        clampSliceAxis(data->shape[ax], (*starts)[i], (*ends)[i], st);
    count[ax] = range.count;
    begin[ax] = range.begin;
    step[ax] = st;
  }
  Const out;
  out.elem = elem;
  out.shape = count;
  SmallVector<int64_t> inStrides = strides(data->shape),
                       outStrides = strides(count);
  for (int64_t i = 0, n = product(count); i < n; ++i) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (begin[d] + (i / outStrides[d] % count[d]) * step[d]) * inStrides[d];
    if (out.isFloat())
      out.floats.push_back(data->floats[src]);
    else
      out.ints.push_back(data->ints[src]);
  }
  return checked(*this, fromConst(out));
}

/// Min and Max over any number of broadcast operands; NaN wins, as in ONNX.
template <typename OpTy>
static OpFoldResult foldMinMax(OpTy op, ArrayRef<Attribute> operands,
                               bool isMax) {
  Type elem = resultElem(op);
  if (!elem || operands.empty())
    return {};
  SmallVector<Const> in;
  for (Attribute a : operands) {
    auto c = toConst(a);
    if (!c)
      return {};
    in.push_back(*c);
  }
  return checked(op, elementwise(in, elem, [&](ArrayRef<int64_t> idx,
                                               Const &out) {
                   size_t best = 0;
                   for (size_t k = 1; k < in.size(); ++k) {
                     if (in[best].isFloat() && std::isnan(in[best].f(idx[best])))
                       break;
                     bool better;
                     if (in[k].isFloat()) {
                       double v = in[k].f(idx[k]), b = in[best].f(idx[best]);
                       better = std::isnan(v) || (isMax ? v > b : v < b);
                     } else {
                       int64_t v = in[k].ints[idx[k]], b = in[best].ints[idx[best]];
                       better = isMax ? v > b : v < b;
                     }
                     if (better)
                       best = k;
                   }
                   append(out, in[best], idx[best]);
                   return true;
                 }));
}

OpFoldResult ONNXMinOp::fold(FoldAdaptor adaptor) {
  return foldMinMax(*this, adaptor.getOperands(), /*isMax=*/false);
}

OpFoldResult ONNXMaxOp::fold(FoldAdaptor adaptor) {
  return foldMinMax(*this, adaptor.getOperands(), /*isMax=*/true);
}
