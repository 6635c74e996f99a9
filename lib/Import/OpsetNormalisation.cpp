//===- OpsetNormalisation.cpp - Older ONNX opsets -> the dialect's forms --===//
//
// The onnx dialect has the newest semantics of each operator. Older opsets
// gave some operands as attributes (axes, split, pads, starts/ends, min/max,
// ratio, k) or computed Softmax on a 2-D view; this file rewrites such nodes
// into the dialect's form. An attribute left over is reported by the
// importer as unsupported, never dropped.
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace prism::onnx;

namespace {

Value constI64(OpBuilder &b, Location loc, ArrayRef<int64_t> values,
               bool scalar = false) {
  auto type = RankedTensorType::get(
      scalar ? ArrayRef<int64_t>{} : ArrayRef<int64_t>{(int64_t)values.size()},
      b.getI64Type());
  auto attr = DenseElementsAttr::get(type, values);
  return ONNXConstantOp::create(b, loc, type, nullptr, attr, nullptr, nullptr,
                                nullptr, nullptr, nullptr, nullptr);
}

Value constScalarLike(OpBuilder &b, Location loc, Value like, double v) {
  Type elem = cast<TensorType>(like.getType()).getElementType();
  auto type = RankedTensorType::get({}, elem);
  Attribute attr;
  if (isa<FloatType>(elem))
    attr = DenseElementsAttr::get(type, b.getFloatAttr(elem, v));
  else
    attr = DenseElementsAttr::get(type, b.getIntegerAttr(elem, (int64_t)v));
  return ONNXConstantOp::create(b, loc, type, nullptr, cast<TypedAttr>(attr),
                                nullptr, nullptr, nullptr, nullptr, nullptr,
                                nullptr);
}

/// Removes attribute `name` and returns its int list, if it was there.
std::optional<SmallVector<int64_t>> takeInts(NamedAttrList &attrs,
                                             StringRef name) {
  Attribute a = attrs.erase(name);
  auto array = dyn_cast_or_null<ArrayAttr>(a);
  if (!array)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (Attribute e : array)
    values.push_back(cast<IntegerAttr>(e).getInt());
  return values;
}

/// Moves int-list attribute `name` to operand `index` (an int64 tensor).
void attrToInput(OpBuilder &b, Location loc, NormalisedNode &node,
                 StringRef name, unsigned index, Value noValue) {
  auto values = takeInts(node.attrs, name);
  while (node.operands.size() <= index)
    node.operands.push_back(noValue);
  if (values)
    node.operands[index] = constI64(b, loc, *values);
}

bool isOneOf(StringRef s, std::initializer_list<StringRef> names) {
  return llvm::is_contained(names, s);
}

/// Softmax, LogSoftmax and Hardmax before opset 13 work on the input
/// flattened to 2-D at `axis`: Flatten, apply on the last axis, Reshape back.
LogicalResult normaliseCoercedSoftmax(OpBuilder &b, Location loc,
                                      NormalisedNode &node) {
  Attribute axisAttr = node.attrs.erase("axis");
  int64_t axis = axisAttr ? cast<IntegerAttr>(axisAttr).getInt() : 1;
  Value input = node.operands[0];
  node.attrs.set("axis", b.getI64IntegerAttr(-1));
  // On the last axis the 2-D view changes nothing.
  auto type = dyn_cast<RankedTensorType>(input.getType());
  if (axis == -1 || (type && axis == type.getRank() - 1))
    return success();
  // Build Flatten -> op -> Reshape(Shape(input)) and hand the last two back
  // as the node: the caller creates `op` on the flattened value.
  auto flat = createInferred(b, loc, "onnx.Flatten", {input},
                             {b.getNamedAttr("axis", b.getI64IntegerAttr(axis))});
  if (failed(flat))
    return failure();
  auto inner = createInferred(b, loc, node.name.getStringRef(),
                              {(*flat)->getResult(0)}, node.attrs.getAttrs());
  if (failed(inner))
    return failure();
  // Back to the input's shape: a constant when it is static.
  Value shape;
  if (type && type.hasStaticShape()) {
    shape = constI64(b, loc, type.getShape());
  } else {
    auto shapeOp = createInferred(b, loc, "onnx.Shape", {input});
    if (failed(shapeOp))
      return failure();
    shape = (*shapeOp)->getResult(0);
  }
  node.name = *RegisteredOperationName::lookup("onnx.Reshape", b.getContext());
  node.operands = {(*inner)->getResult(0), shape};
  node.attrs = NamedAttrList();
  return success();
}

} // namespace

LogicalResult prism::onnx::normaliseOpset(OpBuilder &b, Location loc,
                                          StringRef label, StringRef opType,
                                          int64_t opset, Value noValue,
                                          NormalisedNode &node) {
  StringRef name = node.name.getStringRef();
  bool aiOnnx = !name.starts_with("onnx.ms.");
  if (aiOnnx) {
    bool isReduce = opType.starts_with("Reduce");
    if ((isReduce && opType != "ReduceSum" && opset < 18) ||
        (opType == "ReduceSum" && opset < 13))
      attrToInput(b, loc, node, "axes", 1, noValue);
    else if (isOneOf(opType, {"Squeeze", "Unsqueeze"}) && opset < 13)
      attrToInput(b, loc, node, "axes", 1, noValue);
    else if (opType == "Split" && opset < 13)
      attrToInput(b, loc, node, "split", 1, noValue);
    else if (opType == "Slice" && opset < 10) {
      attrToInput(b, loc, node, "starts", 1, noValue);
      attrToInput(b, loc, node, "ends", 2, noValue);
      attrToInput(b, loc, node, "axes", 3, noValue);
    } else if (opType == "TopK" && opset < 10) {
      Attribute k = node.attrs.erase("k");
      if (!k)
        return emitError(loc, "") << label << ": TopK needs attribute 'k'";
      node.operands.push_back(
          constI64(b, loc, {cast<IntegerAttr>(k).getInt()}));
    } else if (opType == "Pad" && opset < 11) {
      auto pads = takeInts(node.attrs, "pads");
      if (!pads)
        return emitError(loc, "") << label << ": Pad needs attribute 'pads'";
      node.operands.push_back(constI64(b, loc, *pads));
      Attribute value = node.attrs.erase("value");
      node.operands.push_back(constScalarLike(
          b, loc, node.operands[0],
          value ? cast<FloatAttr>(value).getValueAsDouble() : 0.0));
    } else if (opType == "Clip" && opset < 11) {
      Attribute lo = node.attrs.erase("min"), hi = node.attrs.erase("max");
      Value x = node.operands[0];
      node.operands.push_back(
          lo ? constScalarLike(b, loc, x, cast<FloatAttr>(lo).getValueAsDouble())
             : noValue);
      node.operands.push_back(
          hi ? constScalarLike(b, loc, x, cast<FloatAttr>(hi).getValueAsDouble())
             : noValue);
    } else if (opType == "Dropout" && opset < 12) {
      Attribute ratio = node.attrs.erase("ratio");
      node.operands.push_back(
          ratio ? constScalarLike(b, loc, node.operands[0],
                                  cast<FloatAttr>(ratio).getValueAsDouble())
                : noValue);
    } else if (opType == "Resize" && opset < 11) {
      // Resize-10 is (X, scales) with Upsample's asymmetric coordinates.
      if (node.operands.size() != 2)
        return emitError(loc, "") << label << ": Resize-10 takes (X, scales)";
      node.operands = {node.operands[0], noValue, node.operands[1], noValue};
      node.attrs.set("coordinate_transformation_mode",
                     b.getStringAttr("asymmetric"));
      node.attrs.set("nearest_mode", b.getStringAttr("floor"));
    } else if (opType == "Scan" && opset < 9) {
      return emitError(loc, "") << label
                                << ": Scan before opset 9 (with sequence_lens "
                                   "and a batch axis) is not supported";
    } else if (isOneOf(opType, {"Softmax", "LogSoftmax", "Hardmax"}) &&
               opset < 13) {
      if (failed(normaliseCoercedSoftmax(b, loc, node)))
        return failure();
    }
  }

  // Omitted trailing optional inputs are `none`.
  auto [numInputs, numOutputs] = getOpArity(node.name);
  if (numInputs >= 0 && (int)node.operands.size() > numInputs)
    return emitError(loc, "") << label << " has " << node.operands.size()
                              << " inputs; " << opType << " takes at most "
                              << numInputs;
  while (numInputs > 0 && (int)node.operands.size() < numInputs)
    node.operands.push_back(noValue);
  return success();
}
