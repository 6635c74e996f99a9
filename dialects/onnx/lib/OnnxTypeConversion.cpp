//===- OnnxTypeConversion.cpp - MLIR types <-> ONNX protobuf --------------===//

#include "prism/Dialect/Onnx/OnnxTypeConversion.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using TP = ::onnx::TensorProto;

Type prism::onnx::getElementType(MLIRContext *ctx, int32_t dataType) {
  Builder b(ctx);
  switch (dataType) {
  case TP::FLOAT: return b.getF32Type();
  case TP::DOUBLE: return b.getF64Type();
  case TP::FLOAT16: return b.getF16Type();
  case TP::BFLOAT16: return b.getBF16Type();
  case TP::INT8: return b.getIntegerType(8);
  case TP::INT16: return b.getIntegerType(16);
  case TP::INT32: return b.getIntegerType(32);
  case TP::INT64: return b.getIntegerType(64);
  case TP::UINT8: return b.getIntegerType(8, /*isSigned=*/false);
  case TP::UINT16: return b.getIntegerType(16, false);
  case TP::UINT32: return b.getIntegerType(32, false);
  case TP::UINT64: return b.getIntegerType(64, false);
  case TP::BOOL: return b.getI1Type();
  case TP::STRING: return StringType::get(ctx);
  case TP::COMPLEX64: return ComplexType::get(b.getF32Type());
  case TP::COMPLEX128: return ComplexType::get(b.getF64Type());
  default: return nullptr;
  }
}

int32_t prism::onnx::getOnnxDataType(Type t) {
  if (t.isF32()) return TP::FLOAT;
  if (t.isF64()) return TP::DOUBLE;
  if (t.isF16()) return TP::FLOAT16;
  if (t.isBF16()) return TP::BFLOAT16;
  if (t.isInteger(1)) return TP::BOOL;
  if (isa<StringType>(t)) return TP::STRING;
  if (auto c = dyn_cast<ComplexType>(t))
    return c.getElementType().isF32() ? TP::COMPLEX64 : TP::COMPLEX128;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8: return u ? TP::UINT8 : TP::INT8;
    case 16: return u ? TP::UINT16 : TP::INT16;
    case 32: return u ? TP::UINT32 : TP::INT32;
    case 64: return u ? TP::UINT64 : TP::INT64;
    default: return TP::UNDEFINED;
    }
  }
  return TP::UNDEFINED;
}

int64_t prism::onnx::getOnnxDataTypeSize(int32_t dataType) {
  switch (dataType) {
  case TP::BOOL: case TP::INT8: case TP::UINT8: return 1;
  case TP::FLOAT16: case TP::BFLOAT16: case TP::INT16: case TP::UINT16: return 2;
  case TP::FLOAT: case TP::INT32: case TP::UINT32: return 4;
  case TP::DOUBLE: case TP::INT64: case TP::UINT64: case TP::COMPLEX64: return 8;
  case TP::COMPLEX128: return 16;
  default: return 0;
  }
}

void prism::onnx::toTypeProto(Type type, ::onnx::TypeProto &proto) {
  if (auto seq = dyn_cast<SeqType>(type))
    return toTypeProto(seq.getElementType(),
                       *proto.mutable_sequence_type()->mutable_elem_type());
  if (auto opt = dyn_cast<OptType>(type))
    return toTypeProto(opt.getElementType(),
                       *proto.mutable_optional_type()->mutable_elem_type());
  auto tensor = dyn_cast<TensorType>(type);
  if (!tensor)
    return;
  auto *tt = proto.mutable_tensor_type();
  tt->set_elem_type(getOnnxDataType(tensor.getElementType()));
  if (!tensor.hasRank())
    return;
  auto *shape = tt->mutable_shape();
  for (int64_t d : tensor.getShape()) {
    auto *dim = shape->add_dim();
    if (!ShapedType::isDynamic(d))
      dim->set_dim_value(d);
  }
}

Type prism::onnx::fromTypeProto(MLIRContext *ctx,
                                const ::onnx::TypeProto &proto,
                                Type fallback) {
  if (proto.has_sequence_type() || proto.has_optional_type()) {
    bool isSeq = proto.has_sequence_type();
    const auto &elem = isSeq ? proto.sequence_type().elem_type()
                             : proto.optional_type().elem_type();
    Type fb;
    if (auto s = dyn_cast_or_null<SeqType>(fallback))
      fb = s.getElementType();
    else if (auto o = dyn_cast_or_null<OptType>(fallback))
      fb = o.getElementType();
    Type inner = fromTypeProto(ctx, elem, fb);
    if (!inner)
      return nullptr;
    return isSeq ? Type(SeqType::get(ctx, inner)) : Type(OptType::get(ctx, inner));
  }
  if (!proto.has_tensor_type())
    return nullptr;
  const auto &tt = proto.tensor_type();
  Type elem = getElementType(ctx, tt.elem_type());
  if (!elem) {
    auto fb = dyn_cast_or_null<TensorType>(fallback);
    if (!fb)
      return nullptr;
    elem = fb.getElementType();
  }
  if (!tt.has_shape())
    return UnrankedTensorType::get(elem);
  SmallVector<int64_t> dims;
  for (const auto &dim : tt.shape().dim())
    dims.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                       ? dim.dim_value()
                       : ShapedType::kDynamic);
  return RankedTensorType::get(dims, elem);
}

LogicalResult prism::onnx::toTensorProto(DenseElementsAttr attr,
                                         ::onnx::TensorProto &proto) {
  auto type = attr.getType();
  Type elem = type.getElementType();
  int32_t dt = getOnnxDataType(elem);
  if (dt == TP::UNDEFINED || dt == TP::STRING || isa<ComplexType>(elem))
    return failure();
  proto.set_data_type(dt);
  for (int64_t d : type.getShape())
    proto.add_dims(d);
  if (auto intTy = dyn_cast<IntegerType>(elem)) {
    for (const APInt &v : attr.getValues<APInt>()) {
      int64_t x = intTy.isUnsigned() || intTy.getWidth() == 1
                      ? (int64_t)v.getZExtValue()
                      : v.getSExtValue();
      switch (dt) {
      case TP::INT64: proto.add_int64_data(x); break;
      case TP::UINT32: case TP::UINT64: proto.add_uint64_data(x); break;
      default: proto.add_int32_data((int32_t)x); break;
      }
    }
    return success();
  }
  for (const APFloat &v : attr.getValues<APFloat>()) {
    double x = v.convertToDouble();
    if (dt == TP::DOUBLE)
      proto.add_double_data(x);
    else if (dt == TP::FLOAT)
      proto.add_float_data((float)x);
    else // FLOAT16/BFLOAT16 are stored as their bits in int32_data.
      proto.add_int32_data((int32_t)v.bitcastToAPInt().getZExtValue());
  }
  return success();
}

LogicalResult prism::onnx::toAttributeProto(Attribute attr,
                                            ::onnx::AttributeProto &proto) {
  using AP = ::onnx::AttributeProto;
  if (auto i = dyn_cast<IntegerAttr>(attr)) {
    proto.set_type(AP::INT);
    proto.set_i(i.getValue().getSExtValue());
  } else if (auto f = dyn_cast<FloatAttr>(attr)) {
    proto.set_type(AP::FLOAT);
    proto.set_f((float)f.getValueAsDouble());
  } else if (auto s = dyn_cast<StringAttr>(attr)) {
    proto.set_type(AP::STRING);
    proto.set_s(s.str());
  } else if (auto t = dyn_cast<TypeAttr>(attr)) {
    proto.set_type(AP::TYPE_PROTO);
    toTypeProto(t.getValue(), *proto.mutable_tp());
  } else if (auto a = dyn_cast<ArrayAttr>(attr)) {
    if (a.empty() || isa<IntegerAttr>(a[0])) {
      proto.set_type(AP::INTS);
      for (Attribute e : a)
        proto.add_ints(cast<IntegerAttr>(e).getValue().getSExtValue());
    } else if (isa<FloatAttr>(a[0])) {
      proto.set_type(AP::FLOATS);
      for (Attribute e : a)
        proto.add_floats((float)cast<FloatAttr>(e).getValueAsDouble());
    } else if (isa<StringAttr>(a[0])) {
      proto.set_type(AP::STRINGS);
      for (Attribute e : a)
        proto.add_strings(cast<StringAttr>(e).str());
    } else {
      return failure();
    }
  } else if (auto typed = dyn_cast<TypedAttr>(attr)) {
    // Tensor attributes: the type is what inference needs; values are
    // copied when they are dense and small.
    auto tensor = dyn_cast<TensorType>(typed.getType());
    if (!tensor || !tensor.hasRank())
      return failure();
    proto.set_type(AP::TENSOR);
    auto *t = proto.mutable_t();
    auto dense = dyn_cast<DenseElementsAttr>(attr);
    if (dense && dense.getNumElements() <= 4096 &&
        succeeded(toTensorProto(dense, *t)))
      return success();
    t->Clear();
    t->set_data_type(getOnnxDataType(tensor.getElementType()));
    for (int64_t d : tensor.getShape())
      t->add_dims(d);
  } else {
    return failure();
  }
  return success();
}
