//===- OpsetNormalisation.cpp - Older ONNX opsets -> the dialect's forms --===//
//
// The onnx dialect has the newest semantics of each operator. Older opsets
// gave some operands as attributes (axes, split, pads, starts/ends, min/max,
// ratio, k) or computed Softmax on a 2-D view; this file rewrites such nodes
// into the dialect's form. It reads the node before its attributes have been
// checked against the op, so every attribute it takes is checked here.
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

using namespace mlir;
using namespace prism::onnx;

namespace {

bool isOneOf(StringRef s, std::initializer_list<StringRef> names) {
  return llvm::is_contained(names, s);
}

/// Rewrites one node; errors name the node.
class Normaliser {
public:
  Normaliser(OpBuilder &b, Location loc, StringRef label, StringRef opType,
             Value noValue, NormalisedNode &node)
      : b(b), loc(loc), label(label), opType(opType), noValue(noValue),
        node(node) {}

  LogicalResult run(int64_t opset);

private:
  InFlightDiagnostic error() { return emitError(loc, "") << label << ": "; }

  Value constI64(ArrayRef<int64_t> values) {
    auto type = RankedTensorType::get({(int64_t)values.size()}, b.getI64Type());
    return ONNXConstantOp::create(b, loc, type, nullptr,
                                  DenseElementsAttr::get(type, values), nullptr,
                                  nullptr, nullptr, nullptr, nullptr, nullptr);
  }

  /// A scalar constant of `like`'s element type.
  Value constScalarLike(Value like, double v) {
    Type elem = cast<TensorType>(like.getType()).getElementType();
    auto type = RankedTensorType::get({}, elem);
    Attribute attr =
        isa<FloatType>(elem)
            ? DenseElementsAttr::get(type, b.getFloatAttr(elem, v))
            : DenseElementsAttr::get(type, b.getIntegerAttr(elem, (int64_t)v));
    return ONNXConstantOp::create(b, loc, type, nullptr, cast<TypedAttr>(attr),
                                  nullptr, nullptr, nullptr, nullptr, nullptr,
                                  nullptr);
  }

  /// The first input, which must be a tensor.
  FailureOr<Value> data() {
    if (node.operands.empty() || !isa<TensorType>(node.operands[0].getType()))
      return error() << opType << " needs a tensor as its first input",
             failure();
    return node.operands[0];
  }

  /// Removes int-list attribute `name`: nullopt if absent.
  FailureOr<std::optional<SmallVector<int64_t>>> takeInts(StringRef name) {
    Attribute a = node.attrs.erase(name);
    if (!a)
      return std::optional<SmallVector<int64_t>>();
    auto array = dyn_cast<ArrayAttr>(a);
    SmallVector<int64_t> values;
    for (Attribute e : array ? array.getValue() : ArrayRef<Attribute>()) {
      auto i = dyn_cast<IntegerAttr>(e);
      if (!i)
        array = nullptr;
      else
        values.push_back(i.getInt());
    }
    if (!array)
      return error() << "attribute '" << name << "' must be a list of ints",
             failure();
    return std::optional<SmallVector<int64_t>>(values);
  }

  /// Removes attribute `name` of type `AttrT`: null if absent.
  template <typename AttrT>
  FailureOr<AttrT> take(StringRef name, StringRef kind) {
    Attribute a = node.attrs.erase(name);
    if (!a)
      return AttrT();
    if (auto typed = dyn_cast<AttrT>(a))
      return typed;
    return error() << "attribute '" << name << "' must be " << kind, failure();
  }

  /// Moves int-list attribute `name` to operand `index` (an int64 tensor).
  LogicalResult attrToInput(StringRef name, unsigned index) {
    auto values = takeInts(name);
    if (failed(values))
      return failure();
    while (node.operands.size() <= index)
      node.operands.push_back(noValue);
    if (*values)
      node.operands[index] = constI64(**values);
    return success();
  }

  /// Moves float attribute `name` to a scalar operand like the data.
  LogicalResult floatAttrToInput(StringRef name, std::optional<double> dflt) {
    auto value = take<FloatAttr>(name, "a float");
    auto x = data();
    if (failed(value) || failed(x))
      return failure();
    if (*value)
      node.operands.push_back(constScalarLike(*x, value->getValueAsDouble()));
    else if (dflt)
      node.operands.push_back(constScalarLike(*x, *dflt));
    else
      node.operands.push_back(noValue);
    return success();
  }

  LogicalResult coercedSoftmax();

  OpBuilder &b;
  Location loc;
  StringRef label, opType;
  Value noValue;
  NormalisedNode &node;
};

/// Softmax, LogSoftmax and Hardmax before opset 13 work on the input
/// flattened to 2-D at `axis`: Flatten, apply on the last axis, Reshape back.
LogicalResult Normaliser::coercedSoftmax() {
  auto axisAttr = take<IntegerAttr>("axis", "an int");
  auto input = data();
  if (failed(axisAttr) || failed(input))
    return failure();
  if (!node.attrs.empty())
    return error() << "attribute '" << node.attrs.begin()->getName().getValue()
                   << "' is not an attribute of " << opType,
           failure();
  int64_t axis = *axisAttr ? axisAttr->getInt() : 1;
  node.attrs.set("axis", b.getI64IntegerAttr(-1));
  // On the last axis the 2-D view changes nothing.
  auto type = dyn_cast<RankedTensorType>(input->getType());
  if (axis == -1 || (type && axis == type.getRank() - 1))
    return success();
  if (type && (axis < -type.getRank() || axis >= type.getRank()))
    return error() << "axis " << axis << " is out of range for rank "
                   << type.getRank(),
           failure();
  auto flat = createInferred(b, loc, "onnx.Flatten", {*input},
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
    shape = constI64(type.getShape());
  } else {
    auto shapeOp = createInferred(b, loc, "onnx.Shape", {*input});
    if (failed(shapeOp))
      return failure();
    shape = (*shapeOp)->getResult(0);
  }
  node.name = *RegisteredOperationName::lookup("onnx.Reshape", b.getContext());
  node.operands = {(*inner)->getResult(0), shape};
  node.attrs = NamedAttrList();
  return success();
}

LogicalResult Normaliser::run(int64_t opset) {
  bool isReduce = opType.starts_with("Reduce");
  if ((isReduce && opType != "ReduceSum" && opset < 18) ||
      (opType == "ReduceSum" && opset < 13))
    return attrToInput("axes", 1);
  if (isOneOf(opType, {"Squeeze", "Unsqueeze"}) && opset < 13)
    return attrToInput("axes", 1);
  if (opType == "Split" && opset < 13)
    return attrToInput("split", 1);
  if (opType == "Slice" && opset < 10)
    return failure(failed(attrToInput("starts", 1)) ||
                   failed(attrToInput("ends", 2)) ||
                   failed(attrToInput("axes", 3)));
  if (opType == "TopK" && opset < 10) {
    auto k = take<IntegerAttr>("k", "an int");
    if (failed(k))
      return failure();
    if (!*k)
      return error() << "TopK needs attribute 'k'", failure();
    node.operands.push_back(constI64({k->getInt()}));
    return success();
  }
  if (opType == "Pad" && opset < 11) {
    auto pads = takeInts("pads");
    if (failed(pads))
      return failure();
    if (!*pads)
      return error() << "Pad needs attribute 'pads'", failure();
    node.operands.push_back(constI64(**pads));
    return floatAttrToInput("value", 0.0);
  }
  if (opType == "Clip" && opset < 11)
    return failure(failed(floatAttrToInput("min", std::nullopt)) ||
                   failed(floatAttrToInput("max", std::nullopt)));
  if (opType == "Dropout" && opset < 12)
    return floatAttrToInput("ratio", std::nullopt);
  if (opType == "Resize" && opset < 11) {
    // Resize-10 is (X, scales) with Upsample's asymmetric coordinates.
    if (node.operands.size() != 2)
      return error() << "Resize-10 takes (X, scales)", failure();
    node.operands = {node.operands[0], noValue, node.operands[1], noValue};
    node.attrs.set("coordinate_transformation_mode",
                   b.getStringAttr("asymmetric"));
    node.attrs.set("nearest_mode", b.getStringAttr("floor"));
    return success();
  }
  if (opType == "Scan" && opset < 9)
    return error() << "Scan before opset 9 (with sequence_lens and a batch "
                      "axis) is not supported",
           failure();
  if (isOneOf(opType, {"Softmax", "LogSoftmax", "Hardmax"}) && opset < 13)
    return coercedSoftmax();
  return success();
}

} // namespace

LogicalResult prism::onnx::normaliseOpset(OpBuilder &b, Location loc,
                                          StringRef label, StringRef opType,
                                          int64_t opset, Value noValue,
                                          NormalisedNode &node) {
  if (!node.name.getStringRef().starts_with("onnx.ms.") &&
      failed(Normaliser(b, loc, label, opType, noValue, node).run(opset)))
    return failure();

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
