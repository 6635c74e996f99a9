//===- OnnxSchemaInference.cpp - ONNX's own type inference for onnx ops ---===//
//
// The ops generated from ONNX's schema registry are verified and typed by the
// inference functions that ONNX registers with each schema, so Prism applies
// exactly ONNX's type, rank and shape rules. This file adapts an MLIR op to
// ONNX's InferenceContext. libonnx reports failures as C++ exceptions: this
// is the one file of the dialect built with -fexceptions.
//
//===----------------------------------------------------------------------===//

#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <map>

using namespace mlir;
using namespace prism::onnx;

namespace {

/// Constant operands are handed to ONNX when they are small: that is where
/// shape arithmetic lives (Reshape's shape, Slice's starts, ...).
constexpr int64_t kMaxConstantElements = 4096;

/// The value of a small constant operand as a TensorProto: from `dense<>`,
/// or from the bytes of a `dense_resource` blob (small initializers).
bool constantData(Value v, ::onnx::TensorProto &proto) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense.getNumElements() <= kMaxConstantElements &&
           succeeded(toTensorProto(dense, proto));
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || resource.getType().getNumElements() > kMaxConstantElements)
    return false;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  int32_t dt = getOnnxDataType(resource.getType().getElementType());
  if (!blob || dt == ::onnx::TensorProto::UNDEFINED ||
      dt == ::onnx::TensorProto::STRING || dt == ::onnx::TensorProto::BOOL)
    return false;
  ArrayRef<char> bytes = blob->getData();
  proto.set_data_type(dt);
  for (int64_t d : resource.getType().getShape())
    proto.add_dims(d);
  proto.set_raw_data(std::string(bytes.begin(), bytes.end()));
  return true;
}

class OpInferenceContext : public ::onnx::InferenceContext {
public:
  OpInferenceContext(Operation *op, const ::onnx::OpSchema &schema)
      : op(op) {
    for (Value v : op->getOperands()) {
      inputTypes.emplace_back();
      present.push_back(!isa<NoneType>(v.getType()));
      if (present.back())
        toTypeProto(v.getType(), inputTypes.back());
      inputData.emplace_back();
      hasData.push_back(false);
      if (present.back())
        hasData.back() = constantData(v, inputData.back());
    }
    // Omitted trailing outputs are not outputs for ONNX (BatchNormalization
    // checks their number).
    size_t numOutputs = op->getNumResults();
    while (numOutputs > 0 &&
           isa<NoneType>(op->getResult(numOutputs - 1).getType()))
      --numOutputs;
    outputTypes.resize(numOutputs);
    for (const auto &[name, attr] : schema.attributes()) {
      std::optional<Attribute> value = op->getInherentAttr(name);
      if (!value || !*value)
        continue;
      ::onnx::AttributeProto proto;
      proto.set_name(name);
      if (succeeded(toAttributeProto(*value, proto)))
        attributes.emplace(name, std::move(proto));
    }
  }

  const ::onnx::AttributeProto *
  getAttribute(const std::string &name) const override {
    auto it = attributes.find(name);
    return it == attributes.end() ? nullptr : &it->second;
  }
  /// Like an ONNX node, which drops trailing omitted inputs (Resize reads
  /// `sizes` when there are four inputs).
  size_t getNumInputs() const override {
    size_t n = inputTypes.size();
    while (n > 0 && !present[n - 1])
      --n;
    return n;
  }
  const ::onnx::TypeProto *getInputType(size_t i) const override {
    return i < inputTypes.size() && present[i] ? &inputTypes[i] : nullptr;
  }
  const ::onnx::TensorProto *getInputData(size_t i) const override {
    return i < inputData.size() && hasData[i] ? &inputData[i] : nullptr;
  }
  size_t getNumOutputs() const override { return outputTypes.size(); }
  ::onnx::TypeProto *getOutputType(size_t i) override {
    // ONNX's own context throws too: a required output is missing.
    if (i >= outputTypes.size())
      throw std::runtime_error("output " + std::to_string(i) +
                               " is required but the node omits it");
    return &outputTypes[i];
  }
  ::onnx::GraphInferencer *
  getGraphAttributeInferencer(const std::string &) override {
    return nullptr;
  }
  const ::onnx::SparseTensorProto *getInputSparseData(size_t) const override {
    return nullptr;
  }
  const ::onnx::TensorShapeProto *getSymbolicInput(size_t) const override {
    return nullptr;
  }

  Operation *op;
  std::vector<::onnx::TypeProto> inputTypes;
  std::vector<bool> present;
  std::vector<::onnx::TensorProto> inputData;
  std::vector<bool> hasData;
  std::vector<::onnx::TypeProto> outputTypes;
  std::map<std::string, ::onnx::AttributeProto> attributes;
};

const ::onnx::OpSchema *lookupSchema(Operation *op) {
  auto [type, domain] = getOnnxOpType(op);
  return ::onnx::OpSchemaRegistry::Schema(type.str(), /*maxInclusiveVersion=*/
                                          1 << 30, domain.str());
}

} // namespace

LogicalResult prism::onnx::verifySchemaSignature(Operation *op) {
  const ::onnx::OpSchema *schema = lookupSchema(op);
  if (!schema)
    return op->emitOpError("has no ONNX schema");
  int numInputs = op->getNumOperands();
  if (numInputs < schema->min_input() || numInputs > schema->max_input())
    return op->emitOpError("has ")
           << numInputs << " inputs; ONNX " << schema->Name() << "-"
           << schema->SinceVersion() << " takes " << schema->min_input()
           << " to " << schema->max_input();

  // A type parameter ("T") names one type for all the inputs and outputs
  // that use it.
  std::map<std::string, std::pair<Type, std::string>> bound;
  auto check = [&](const std::vector<::onnx::OpSchema::FormalParameter> &params,
                   ValueRange values, StringRef kind) -> LogicalResult {
    for (auto [idx, value] : llvm::enumerate(values)) {
      if (params.empty())
        break;
      const auto &param = params[std::min(idx, params.size() - 1)];
      if (idx >= params.size() &&
          param.GetOption() != ::onnx::OpSchema::Variadic)
        break;
      if (!param.GetIsHomogeneous() && idx >= params.size() - 1)
        continue;
      auto tensor = dyn_cast<TensorType>(value.getType());
      if (!tensor)
        continue;
      std::string label = (kind + " '" + param.GetName() + "'").str();
      auto [it, inserted] = bound.try_emplace(
          param.GetTypeStr(), tensor.getElementType(), label);
      if (!inserted && it->second.first != tensor.getElementType())
        return op->emitOpError() << label << " has element type "
                                 << tensor.getElementType() << " but "
                                 << it->second.second << " has "
                                 << it->second.first << " (both are '"
                                 << param.GetTypeStr() << "')";
    }
    return success();
  };
  if (failed(check(schema->inputs(), op->getOperands(), "input")) ||
      failed(check(schema->outputs(), op->getResults(), "output")))
    return failure();
  return success();
}

LogicalResult prism::onnx::inferWithSchema(Operation *op,
                                           SmallVectorImpl<Type> &types) {
  const ::onnx::OpSchema *schema = lookupSchema(op);
  if (!schema)
    return op->emitOpError("has no ONNX schema");
  // Results ONNX says nothing about stay null; absent ones stay none.
  types.clear();
  for (Type t : op->getResultTypes())
    types.push_back(isa<NoneType>(t) ? t : Type());
  if (!schema->has_type_and_shape_inference_function())
    return success();
  OpInferenceContext ctx(op, *schema);
  try {
    schema->GetTypeAndShapeInferenceFunction()(ctx);
  } catch (const std::exception &e) {
    std::string what = e.what();
    // ONNX prefixes its messages with "[ShapeInferenceError] ".
    StringRef msg(what);
    msg.consume_front("[ShapeInferenceError] ");
    msg.consume_front("[TypeInferenceError] ");
    return op->emitOpError("breaks ONNX's rules for ")
           << schema->Name() << ": " << msg.trim();
  }
  for (auto [idx, proto] : llvm::enumerate(ctx.outputTypes)) {
    if (idx >= types.size())
      break;
    if (types[idx]) // an absent optional output
      continue;
    types[idx] = fromTypeProto(op->getContext(), proto,
                               op->getResult(idx).getType());
  }
  return success();
}

std::pair<int, int> prism::onnx::getSchemaArity(StringRef opType) {
  const ::onnx::OpSchema *schema =
      ::onnx::OpSchemaRegistry::Schema(opType.str(), 1 << 30, "");
  if (!schema)
    return {0, 0};
  auto count = [](const std::vector<::onnx::OpSchema::FormalParameter> &ps) {
    if (!ps.empty() && ps.back().GetOption() == ::onnx::OpSchema::Variadic)
      return -1;
    return (int)ps.size();
  };
  return {count(schema->inputs()), count(schema->outputs())};
}

int64_t prism::onnx::getSchemaSinceVersion(StringRef opType, int64_t opset) {
  if (!::onnx::OpSchemaRegistry::Schema(opType.str(), 1 << 30, ""))
    return -1;
  const ::onnx::OpSchema *schema =
      ::onnx::OpSchemaRegistry::Schema(opType.str(), (int)opset, "");
  return schema ? schema->SinceVersion() : -2;
}

std::vector<std::string>
prism::onnx::getSchemaRequiredAttributes(StringRef opType) {
  std::vector<std::string> names;
  if (const ::onnx::OpSchema *schema =
          ::onnx::OpSchemaRegistry::Schema(opType.str(), 1 << 30, ""))
    for (const auto &[name, attr] : schema->attributes())
      if (attr.required && attr.type != ::onnx::AttributeProto::GRAPH)
        names.push_back(name); // subgraphs are regions, not attributes
  return names;
}

std::vector<std::string> prism::onnx::getSchemaGraphAttributes(StringRef opType) {
  std::vector<std::string> names;
  if (const ::onnx::OpSchema *schema =
          ::onnx::OpSchemaRegistry::Schema(opType.str(), 1 << 30, ""))
    for (const auto &[name, attr] : schema->attributes())
      if (attr.type == ::onnx::AttributeProto::GRAPH)
        names.push_back(name);
  // gen_onnx_ops.py declares regions in sorted order, then_branch first.
  std::sort(names.begin(), names.end(), [](const auto &a, const auto &b) {
    return std::make_pair(a != "then_branch", a) <
           std::make_pair(b != "then_branch", b);
  });
  return names;
}
