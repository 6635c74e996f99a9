//===- OnnxImporter.cpp - ONNX model -> onnx dialect ----------------------===//
//
// Reads a ModelProto (binary, or ONNX's text syntax), checks it, sorts its
// nodes, normalises older opsets to the onnx dialect's forms
// (OpsetNormalisation.cpp) and builds one func.func. Initializers become
// onnx.Constant ops holding `dense_resource` blobs, or `#onnx.external_data`
// references for external data (checked here, mapped lazily by consumers).
// libonnx's text parser reports errors by exception, so this file is built
// with -fexceptions.
//
//===----------------------------------------------------------------------===//

#include "prism/Import/OnnxImporter.h"
#include "ImporterInternals.h"

#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include "onnx/defs/parser.h"
#include <google/protobuf/io/coded_stream.h>

#include <exception>

using namespace mlir;
using namespace prism;
using namespace prism::onnx;
using ::onnx::AttributeProto;
using ::onnx::GraphProto;
using ::onnx::ModelProto;
using ::onnx::NodeProto;
using ::onnx::TensorProto;
using ::onnx::ValueInfoProto;

namespace {

constexpr uint64_t kMaxProtobufBytes = (uint64_t)2 << 30; // 2 GiB

/// Builds the onnx dialect from one ModelProto.
class Importer {
public:
  Importer(MLIRContext *ctx, const ModelProto &model, StringRef path,
           const OnnxImportOptions &options)
      : ctx(ctx), model(model), path(path), options(options), b(ctx) {
    SmallString<256> dir(llvm::sys::path::parent_path(path));
    if (dir.empty())
      dir = ".";
    llvm::sys::fs::make_absolute(dir);
    llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
    modelDir = dir.str().str();
  }

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult readOpsets();
  FailureOr<Type> importType(const ::onnx::TypeProto &type, StringRef what,
                             SmallVectorImpl<StringRef> *dimNames = nullptr);
  FailureOr<TypedAttr> importTensor(const TensorProto &tensor, Location loc,
                                    bool isWeight = false);
  FailureOr<TypedAttr> importExternalTensor(const TensorProto &tensor,
                                            RankedTensorType type,
                                            Location loc);
  LogicalResult importGraph(const GraphProto &graph, Block &block,
                            bool isMain, ArrayRef<Type> argTypeHints = {});
  LogicalResult importNode(const NodeProto &node, int64_t index);
  FailureOr<Attribute> importAttribute(const AttributeProto &attr,
                                       Location loc);
  LogicalResult checkSupported(const GraphProto &graph);
  Location nodeLoc(const NodeProto &node, int64_t index);
  Value lookup(StringRef name);

  MLIRContext *ctx;
  const ModelProto &model;
  std::string path, modelDir;
  const OnnxImportOptions &options;
  OpBuilder b;
  ScopedValues scopes;
  int64_t defaultOpset = 0, msOpset = 0;
  /// The opset version the model imports for each domain.
  llvm::StringMap<int64_t> domainOpsets;
  Value noValue;
  unsigned blobCounter = 0;
  /// Names and dim names of the main graph's inputs, in argument order.
  std::vector<std::pair<std::string, SmallVector<StringRef>>> inputNames;
  /// Types the model declares for values (value_info and outputs).
  llvm::StringMap<const ::onnx::TypeProto *> declared;

  /// The type the model declares for `name`, or null.
  Type declaredType(StringRef name) {
    auto it = declared.find(name);
    if (it == declared.end())
      return nullptr;
    return fromTypeProto(ctx, *it->second, nullptr);
  }
};

} // namespace

Location Importer::nodeLoc(const NodeProto &node, int64_t index) {
  std::string name = node.name().empty()
                         ? (node.op_type() + "_" + std::to_string(index))
                         : node.name();
  return NameLoc::get(StringAttr::get(ctx, name),
                      FileLineColLoc::get(ctx, path, 0, 0));
}

Value Importer::lookup(StringRef name) { return scopes.lookup(name); }

LogicalResult Importer::readOpsets() {
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  for (const auto &opset : model.opset_import()) {
    const std::string &domain = opset.domain();
    domainOpsets[domain.empty() ? "ai.onnx" : domain] = opset.version();
    if (domain.empty() || domain == "ai.onnx")
      defaultOpset = opset.version();
    else if (domain == "com.microsoft")
      msOpset = opset.version();
  }
  if (model.opset_import_size() == 0)
    return emitError(loc, "model declares no opset_import");
  if (defaultOpset != 0 && (defaultOpset < kMinOpset || defaultOpset > kMaxOpset))
    return emitError(loc, "ai.onnx opset ")
           << defaultOpset << " is not supported (Prism imports opsets "
           << kMinOpset << " to " << kMaxOpset << ")";
  return success();
}

FailureOr<Type> Importer::importType(const ::onnx::TypeProto &type,
                                     StringRef what,
                                     SmallVectorImpl<StringRef> *dimNames) {
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  if (type.has_sequence_type() || type.has_optional_type()) {
    bool isSeq = type.has_sequence_type();
    const auto &elem = isSeq ? type.sequence_type().elem_type()
                             : type.optional_type().elem_type();
    auto inner = importType(elem, what);
    if (failed(inner))
      return failure();
    return isSeq ? Type(SeqType::get(ctx, *inner))
                 : Type(OptType::get(ctx, *inner));
  }
  if (!type.has_tensor_type())
    return emitError(loc, "") << what << " is a map or has no type (maps are "
                              << "not supported)",
           failure();
  const auto &tt = type.tensor_type();
  Type elem = getElementType(ctx, tt.elem_type());
  if (!elem)
    return emitError(loc, "") << what << " has unsupported element type "
                              << TensorProto::DataType_Name(
                                     (TensorProto::DataType)tt.elem_type()),
           failure();
  if (!tt.has_shape())
    return Type(UnrankedTensorType::get(elem));
  SmallVector<int64_t> dims;
  int64_t product = 1;
  for (const auto &d : tt.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) {
      if (d.dim_value() != 0 &&
          product > std::numeric_limits<int64_t>::max() / d.dim_value())
        return emitError(loc, "") << what << " has dims whose product "
                                  << "overflows int64",
               failure();
      product *= std::max<int64_t>(d.dim_value(), 1);
      dims.push_back(d.dim_value());
      if (dimNames)
        dimNames->push_back("");
    } else {
      dims.push_back(ShapedType::kDynamic);
      if (dimNames)
        dimNames->push_back(d.dim_param());
    }
  }
  return Type(RankedTensorType::get(dims, elem));
}

FailureOr<TypedAttr> Importer::importExternalTensor(const TensorProto &tensor,
                                                    RankedTensorType type,
                                                    Location loc) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool hasLength = false;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      uint64_t v;
      if (!llvm::to_integer(entry.value(), v, 10))
        return emitError(loc, "external data '")
                   << entry.key() << "' of tensor '" << tensor.name()
                   << "' is not a number: " << entry.value(),
               failure();
      (entry.key() == "offset" ? offset : length) = v;
      hasLength |= entry.key() == "length";
    }
  }
  if (failed(checkExternalLocation(modelDir, location, tensor.name(), loc)))
    return failure();
  int64_t elemSize = getOnnxDataTypeSize(tensor.data_type());
  uint64_t expected = (uint64_t)type.getNumElements() * elemSize;
  if (!hasLength)
    length = expected;
  if (length != expected)
    return emitError(loc, "external data of tensor '")
               << tensor.name() << "' has length " << length << " but "
               << type << " needs " << expected << " bytes",
           failure();
  SmallString<256> file(modelDir);
  llvm::sys::path::append(file, location);
  uint64_t fileSize;
  if (std::error_code ec = llvm::sys::fs::file_size(file, fileSize))
    return emitError(loc, "external data file '")
               << location << "' of tensor '" << tensor.name()
               << "' cannot be read: " << ec.message(),
           failure();
  if (offset > fileSize || length > fileSize - offset)
    return emitError(loc, "external data file '")
               << location << "' is " << fileSize << " bytes, shorter than "
               << "tensor '" << tensor.name() << "' needs (offset " << offset
               << " + length " << length << ")",
           failure();
  return TypedAttr(ExternalDataAttr::get(ctx, StringAttr::get(ctx, location),
                                         offset, length, type));
}

FailureOr<TypedAttr> Importer::importTensor(const TensorProto &tensor,
                                            Location loc, bool isWeight) {
  Type elem = getElementType(ctx, tensor.data_type());
  if (!elem)
    return emitError(loc, "tensor '")
               << tensor.name() << "' has unsupported data type "
               << TensorProto::DataType_Name(
                      (TensorProto::DataType)tensor.data_type()),
           failure();
  SmallVector<int64_t> dims;
  int64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return emitError(loc, "tensor '") << tensor.name() << "' has negative dim "
                                        << d,
             failure();
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d)
      return emitError(loc, "tensor '")
                 << tensor.name() << "' has more elements than int64 holds",
             failure();
    count *= d;
    dims.push_back(d);
  }
  int64_t elemSize = std::max<int64_t>(getOnnxDataTypeSize(tensor.data_type()), 1);
  if (count > std::numeric_limits<int64_t>::max() / elemSize)
    return emitError(loc, "tensor '")
               << tensor.name() << "' is larger than int64 bytes",
           failure();
  auto type = RankedTensorType::get(dims, elem);
  if (tensor.data_location() == TensorProto::EXTERNAL)
    return importExternalTensor(tensor, type, loc);

  auto decoded = decodeTensorData(tensor, type, loc);
  if (failed(decoded))
    return failure();
  auto &[bytes, strings] = *decoded;
  if (isa<StringType>(elem)) {
    SmallVector<StringRef> refs(strings.begin(), strings.end());
    return TypedAttr(DenseStringElementsAttr::get(type, refs));
  }
  // Weights are blobs; small integer initializers are shape data.
  bool isShapeData = isa<IntegerType>(elem) && !elem.isInteger(1);
  bool inlineIt = count <= options.maxInlineElements &&
                  (!isWeight || isShapeData || count == 1);
  if (elem.isInteger(1) && inlineIt) {
    SmallVector<bool> values(bytes.begin(), bytes.end());
    return TypedAttr(DenseElementsAttr::get(type, values));
  }
  if (inlineIt) {
    bool isSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, bytes, isSplat))
      return emitError(loc, "tensor '") << tensor.name()
                                        << "' has malformed data",
             failure();
    return TypedAttr(DenseElementsAttr::getFromRawBuffer(type, bytes));
  }
  std::string name = tensor.name().empty()
                         ? "onnx_tensor_" + std::to_string(blobCounter++)
                         : tensor.name();
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef<char>(bytes), alignof(uint64_t));
  return TypedAttr(
      DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

FailureOr<Attribute> Importer::importAttribute(const AttributeProto &attr,
                                               Location loc) {
  switch (attr.type()) {
  case AttributeProto::INT:
    return Attribute(b.getI64IntegerAttr(attr.i()));
  case AttributeProto::FLOAT:
    return Attribute(b.getF32FloatAttr(attr.f()));
  case AttributeProto::STRING:
    return Attribute(b.getStringAttr(attr.s()));
  case AttributeProto::INTS:
    return Attribute(b.getI64ArrayAttr(
        SmallVector<int64_t>(attr.ints().begin(), attr.ints().end())));
  case AttributeProto::FLOATS:
    return Attribute(b.getF32ArrayAttr(
        SmallVector<float>(attr.floats().begin(), attr.floats().end())));
  case AttributeProto::STRINGS: {
    SmallVector<StringRef> s(attr.strings().begin(), attr.strings().end());
    return Attribute(b.getStrArrayAttr(s));
  }
  case AttributeProto::TENSOR: {
    auto t = importTensor(attr.t(), loc);
    if (failed(t))
      return failure();
    return Attribute(*t);
  }
  case AttributeProto::TYPE_PROTO: {
    auto t = importType(attr.tp(), "attribute '" + attr.name() + "'");
    if (failed(t))
      return failure();
    return Attribute(TypeAttr::get(*t));
  }
  default:
    return emitError(loc, "attribute '")
               << attr.name() << "' has unsupported type "
               << AttributeProto::AttributeType_Name(attr.type()),
           failure();
  }
}

LogicalResult Importer::importNode(const NodeProto &node, int64_t index) {
  Location loc = nodeLoc(node, index);
  std::string label = node.name().empty() ? node.op_type() + " node #" +
                                                std::to_string(index)
                                          : "node '" + node.name() + "'";
  std::optional<RegisteredOperationName> opName =
      resolveOpName(ctx, node.domain(), node.op_type());
  if (!opName) // checkSupported has listed it already.
    return emitError(loc, "unsupported op ") << node.op_type();
  if (node.domain().empty() || node.domain() == "ai.onnx") {
    int64_t since = getOnnxSinceVersion(node.op_type(), defaultOpset);
    if (since < 0 && !isOnnxRuntimeDefaultDomainOp(node.op_type()))
      return emitError(loc, "")
             << node.op_type() << " is not an operator of ai.onnx opset "
             << defaultOpset
             << (since == -1 ? "" : " (it was added in a later opset)");
    int64_t latest = getOnnxSinceVersion(node.op_type(), kMaxOpset);
    if (defaultOpset < kFullOpset && since != latest)
      return emitError(loc, "")
             << node.op_type() << "-" << since << " (ai.onnx opset "
             << defaultOpset << ") is not supported: Prism reads opsets below "
             << kFullOpset << " only for operators unchanged since (this one "
             << "changed in opset " << latest << ")";
  }

  // Inputs, with names that no node produced reported by name.
  SmallVector<Value> operands;
  for (const std::string &input : node.input()) {
    if (input.empty()) {
      operands.push_back(noValue);
      continue;
    }
    Value v = lookup(input);
    if (!v)
      return emitError(loc, "input '")
             << input << "' of " << label
             << " is not produced by any node, initializer or graph input";
    operands.push_back(v);
  }
  NamedAttrList attrs;
  SmallVector<const GraphProto *> subgraphs;
  SmallVector<StringRef> subgraphNames;
  for (const AttributeProto &attr : node.attribute()) {
    if (attr.type() == AttributeProto::GRAPH) {
      subgraphs.push_back(&attr.g());
      subgraphNames.push_back(attr.name());
      continue;
    }
    auto value = importAttribute(attr, loc);
    if (failed(value))
      return failure();
    attrs.set(attr.name(), *value);
  }

  int64_t opset = node.domain() == "com.microsoft" ? msOpset : defaultOpset;
  NormalisedNode n{*opName, std::move(operands), std::move(attrs)};
  if (failed(normaliseOpset(b, loc, label, node.op_type(), opset, noValue, n)))
    return failure();
  // Omitted trailing optional outputs are `none` too.
  std::vector<std::string> outputs(node.output().begin(), node.output().end());
  int numOutputs = getOpArity(n.name).second;
  if (numOutputs >= 0 && (int)outputs.size() > numOutputs)
    return emitError(loc, "") << label << " has " << outputs.size()
                              << " outputs; " << node.op_type()
                              << " has at most " << numOutputs;
  while (numOutputs > 0 && (int)outputs.size() < numOutputs)
    outputs.emplace_back();

  // Every attribute must be one the op knows: an attribute that changed
  // meaning in an opset Prism does not model is an error, not ignored.
  // An attribute the operator does not define is an error, as in ONNX's
  // checker and ONNX Runtime, except on the ops that ONNX Runtime types with
  // its own lenient schemas in the ai.onnx domain: there it is ignored.
  for (NamedAttribute attr : llvm::to_vector(n.attrs)) {
    if (llvm::is_contained(n.name.getAttributeNames(), attr.getName()))
      continue;
    if (!isOnnxRuntimeDefaultDomainOp(node.op_type()))
      return emitError(loc, "attribute '")
             << attr.getName().getValue() << "' of " << label << " ("
             << node.op_type() << ", opset " << opset
             << ") is not an attribute of " << n.name
             << (opset > kSchemaRegistryOpset
                     ? " (Prism's op follows an older opset without it)"
                     : "");
    emitWarning(loc, "attribute '")
        << attr.getName().getValue() << "' of " << label << " ("
        << node.op_type() << ", opset " << opset << ") is not an attribute of "
        << n.name << "; it is ignored, as ONNX Runtime does";
    n.attrs.erase(attr.getName());
  }

  if (failed(verifyNodeAttributes(n.name, n.attrs, loc, label)))
    return failure();

  OperationState state(loc, n.name);
  state.addOperands(n.operands);
  state.addAttributes(n.attrs);
  // Outputs: absent optional ones are `none`; the others are typed by
  // inference below.
  SmallVector<Type> placeholders;
  for (const std::string &out : outputs)
    placeholders.push_back(out.empty() ? Type(b.getNoneType())
                                       : UnrankedTensorType::get(b.getF32Type()));
  state.addTypes(placeholders);
  // One region per subgraph attribute of the op, in the op's order.
  std::vector<std::string> regionNames =
      n.name.getStringRef().starts_with("onnx.ms.")
          ? std::vector<std::string>()
          : getSchemaGraphAttributes(n.name.stripDialect());
  for (size_t i = 0; i < regionNames.size(); ++i)
    state.addRegion();
  for (StringRef g : subgraphNames)
    if (!llvm::is_contained(regionNames, g.str()))
      return emitError(loc, "subgraph attribute '")
             << g << "' of " << label << " is not one of " << n.name;
  Operation *op = b.create(state);

  // Regions follow the declaration order of the op, not of the node.
  for (auto [i, g] : llvm::enumerate(subgraphs)) {
    int regionIndex = regionIndexOf(op, subgraphNames[i]);
    Block *block = new Block();
    op->getRegion(regionIndex).push_back(block);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(block);
    // Loop's body takes the iteration number, the condition and the
    // loop-carried values; ONNX lets it leave their types out.
    SmallVector<Type> hints;
    if (isa<ONNXLoopOp>(op) && op->getNumOperands() >= 2) {
      hints = {RankedTensorType::get({}, b.getI64Type()),
               RankedTensorType::get({}, b.getI1Type())};
      llvm::append_range(hints, llvm::drop_begin(op->getOperandTypes(), 2));
    }
    if (failed(importGraph(*g, *block, /*isMain=*/false, hints)))
      return failure();
  }

  // Constants hold their tensor in `value`, whichever attribute the node
  // used (value_float, value_ints, ...).
  if (auto cst = dyn_cast<ONNXConstantOp>(op); cst && !cst.getValueAttr()) {
    SmallVector<OpFoldResult> folded;
    if (succeeded(op->fold(folded)) && folded.size() == 1)
      if (auto value = dyn_cast_or_null<TypedAttr>(
              dyn_cast<Attribute>(folded[0]))) {
        for (StringRef name : {"value_float", "value_floats", "value_int",
                               "value_ints", "value_string", "value_strings"})
          op->removeAttr(name);
        cst.setValueAttr(value);
      }
  }

  // Inference (ONNX's and Prism's) assumes the op's operand constraints:
  // check them first. Result types are not known until inference, so only
  // operand errors count here.
  std::string operandError;
  {
    ScopedDiagnosticHandler capture(ctx, [&](Diagnostic &d) {
      if (operandError.empty() && StringRef(d.str()).contains("operand #"))
        operandError = d.str();
      return success();
    });
    (void)op->getName().verifyInvariants(op);
  }
  if (!operandError.empty())
    return emitError(loc, "") << label << ": " << operandError;

  for (auto [region, name] : llvm::zip(op->getRegions(), regionNames))
    if (region.empty())
      return emitError(loc, "")
             << label << " needs subgraph attribute '" << name << "'";

  SmallVector<Type> types;
  if (failed(inferResultTypes(op, types)))
    return failure();
  for (auto [i, result] : llvm::enumerate(op->getResults())) {
    if (isa<NoneType>(result.getType()))
      continue;
    Type t = types[i];
    Type declared = declaredType(outputs[i]);
    if (!t) {
      // Inference could not type it: take what the model declares.
      if (!declared)
        return emitError(loc, "cannot infer the type of output '")
               << outputs[i] << "' of " << label;
      t = declared;
    } else if (declared && areCompatibleTypes(declared, t)) {
      t = refineType(t, declared);
    }
    result.setType(t);
    scopes.define(outputs[i], result);
  }

  // Before opset 10, Dropout's mask had the input's type, not bool.
  if (isa<ONNXDropoutOp>(op) && opset < 10 && !outputs[1].empty()) {
    Type elem = cast<TensorType>(op->getOperand(0).getType()).getElementType();
    auto cast = createInferred(
        b, loc, "onnx.Cast", {op->getResult(1)},
        {b.getNamedAttr("to", b.getI64IntegerAttr(getOnnxDataType(elem)))});
    if (failed(cast))
      return failure();
    scopes.define(outputs[1], (*cast)->getResult(0));
  }
  return success();
}

LogicalResult Importer::checkSupported(const GraphProto &graph) {
  // Collect every unsupported (domain, op) in the whole model first, so the
  // user sees the full list at once.
  std::map<std::tuple<std::string, std::string>, int> unsupported;
  std::function<void(const GraphProto &)> visit = [&](const GraphProto &g) {
    for (const NodeProto &node : g.node()) {
      if (!resolveOpName(ctx, node.domain(), node.op_type()))
        ++unsupported[{node.domain().empty() ? "ai.onnx" : node.domain(),
                       node.op_type()}];
      for (const AttributeProto &attr : node.attribute())
        if (attr.type() == AttributeProto::GRAPH)
          visit(attr.g());
    }
  };
  visit(graph);
  if (unsupported.empty())
    return success();
  std::string list;
  for (auto &[key, count] : unsupported) {
    auto &[domain, type] = key;
    int64_t opset = domainOpsets.lookup(domain);
    if (!list.empty())
      list += ", ";
    list += domain + "::" + type + " (opset " + std::to_string(opset) +
            ", " + std::to_string(count) + (count == 1 ? " node)" : " nodes)");
  }
  return emitError(FileLineColLoc::get(ctx, path, 0, 0),
                   "unsupported ONNX operators: ")
         << list;
}

LogicalResult Importer::importGraph(const GraphProto &graph, Block &block,
                                    bool isMain, ArrayRef<Type> argTypeHints) {
  ScopedValues::Scope scope(scopes);
  Location fileLoc = FileLineColLoc::get(ctx, path, 0, 0);

  // Initializers, the last of duplicates winning as in ONNX Runtime.
  llvm::StringMap<const TensorProto *> initializers;
  for (const TensorProto &t : graph.initializer()) {
    if (initializers.count(t.name()))
      emitWarning(fileLoc, "duplicate initializer '")
          << t.name() << "': the last one is used, as in ONNX Runtime";
    initializers[t.name()] = &t;
  }

  // Graph inputs that are not initializers become arguments. An initializer
  // that is also listed as an input is its default value: ONNX Runtime uses
  // the initializer unless fed, and so does Prism.
  for (const ValueInfoProto &input : graph.input()) {
    if (initializers.count(input.name()))
      continue;
    SmallVector<StringRef> dimNames;
    // A subgraph input may leave its type to the op (Loop's body).
    size_t argIndex = block.getNumArguments();
    bool untyped = !input.type().has_tensor_type() ||
                   input.type().tensor_type().elem_type() == 0;
    FailureOr<Type> type =
        untyped && argIndex < argTypeHints.size() && argTypeHints[argIndex]
            ? FailureOr<Type>(argTypeHints[argIndex])
            : importType(input.type(), "graph input '" + input.name() + "'",
                         &dimNames);
    if (failed(type))
      return failure();
    BlockArgument arg = block.addArgument(*type, fileLoc);
    if (isMain)
      inputNames.push_back({input.name(), dimNames});
    scopes.define(input.name(), arg);
  }
  for (const TensorProto &t : graph.initializer()) {
    if (initializers[t.name()] != &t)
      continue;
    Location loc = NameLoc::get(b.getStringAttr(t.name()), fileLoc);
    auto value = importTensor(t, loc, /*isWeight=*/true);
    if (failed(value))
      return failure();
    auto cst = ONNXConstantOp::create(b, loc, value->getType(), nullptr,
                                      *value, nullptr, nullptr, nullptr,
                                      nullptr, nullptr, nullptr);
    cst->setAttr("onnx.initializer", b.getUnitAttr());
    scopes.define(t.name(), cst.getResult());
  }
  for (const ValueInfoProto &vi : graph.value_info())
    declared[vi.name()] = &vi.type();
  for (const ValueInfoProto &vi : graph.output())
    declared[vi.name()] = &vi.type();

  auto order = topologicalOrder(graph, scopes, fileLoc);
  if (failed(order))
    return failure();
  for (int64_t index : *order)
    if (failed(importNode(graph.node(index), index)))
      return failure();

  SmallVector<Value> results;
  for (const ValueInfoProto &out : graph.output()) {
    Value v = lookup(out.name());
    if (!v)
      return emitError(fileLoc, "graph output '")
             << out.name() << "' is not produced by any node or input";
    results.push_back(v);
  }
  if (isMain)
    func::ReturnOp::create(b, fileLoc, results);
  else
    ONNXYieldOp::create(b, fileLoc, results);
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  Location fileLoc = FileLineColLoc::get(ctx, path, 0, 0);
  if (failed(readOpsets()) || failed(checkSupported(model.graph())))
    return nullptr;
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  module->getOperation()->setAttr("onnx.model_dir", b.getStringAttr(modelDir));
  module->getOperation()->setAttr(
      "onnx.opset", b.getI64IntegerAttr(defaultOpset));
  if (!model.producer_name().empty())
    module->getOperation()->setAttr("onnx.producer",
                                    b.getStringAttr(model.producer_name()));
  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(b, fileLoc, "main_graph",
                                   b.getFunctionType({}, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  noValue = ONNXNoValueOp::create(b, fileLoc, b.getNoneType());
  if (failed(importGraph(model.graph(), *entry, /*isMain=*/true)))
    return nullptr;

  auto ret = cast<func::ReturnOp>(entry->getTerminator());
  func.setType(b.getFunctionType(entry->getArgumentTypes(),
                                 ret.getOperandTypes()));
  for (auto [i, info] : llvm::enumerate(inputNames)) {
    func.setArgAttr(i, "onnx.name", b.getStringAttr(info.first));
    if (llvm::any_of(info.second, [](StringRef s) { return !s.empty(); }))
      func.setArgAttr(i, "onnx.dim_names", b.getStrArrayAttr(info.second));
  }
  for (auto [i, out] : llvm::enumerate(model.graph().output())) {
    func.setResultAttr(i, "onnx.name", b.getStringAttr(out.name()));
    SmallVector<StringRef> dimNames;
    if (out.type().has_tensor_type() && out.type().tensor_type().has_shape()) {
      for (const auto &d : out.type().tensor_type().shape().dim())
        dimNames.push_back(d.has_dim_value() ? StringRef() : d.dim_param());
      if (llvm::any_of(dimNames, [](StringRef s) { return !s.empty(); }))
        func.setResultAttr(i, "onnx.dim_names", b.getStrArrayAttr(dimNames));
    }
  }
  if (noValue.use_empty())
    noValue.getDefiningOp()->erase();
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

//===----------------------------------------------------------------------===//
// Reading files
//===----------------------------------------------------------------------===//

static LogicalResult parseModel(MLIRContext *ctx, StringRef path,
                                StringRef bytes, bool text, ModelProto &model) {
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  if (bytes.empty())
    return emitError(loc, "the model file is empty");
  if (text) {
    try {
      std::string source = bytes.str(); // the parser keeps a pointer into it
      ::onnx::OnnxParser parser(source.c_str());
      auto status = parser.Parse(model);
      if (!status.IsOK())
        return emitError(loc, "cannot parse ONNX text syntax: ")
               << status.ErrorMessage();
    } catch (const std::exception &e) {
      return emitError(loc, "cannot parse ONNX text syntax: ") << e.what();
    }
    return success();
  }
  if (bytes.size() >= kMaxProtobufBytes)
    return emitError(loc, "the model is ")
           << bytes.size()
           << " bytes: a protobuf cannot exceed 2 GiB; save the weights as "
              "external data";
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()), (int)bytes.size());
  stream.SetTotalBytesLimit(INT32_MAX);
  if (!model.ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage())
    return emitError(loc, "not a valid ONNX model: the protobuf is truncated "
                          "or corrupt");
  if (!model.has_graph())
    return emitError(loc, "not a valid ONNX model: it has no graph");
  return success();
}

OwningOpRef<ModuleOp> prism::importOnnxFile(MLIRContext *ctx, StringRef path,
                                            const OnnxImportOptions &options) {
  ctx->loadDialect<ONNXDialect, func::FuncDialect>();
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  uint64_t size = 0;
  if (!llvm::sys::fs::file_size(path, size) && size >= kMaxProtobufBytes) {
    emitError(loc, "the model is ")
        << size << " bytes: a protobuf cannot exceed 2 GiB; save the weights "
                   "as external data";
    return nullptr;
  }
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false);
  if (!buffer) {
    emitError(loc, "cannot read the model: ") << buffer.getError().message();
    return nullptr;
  }
  OnnxImportOptions fileOptions = options;
  fileOptions.textSyntax |= path.ends_with(".onnxtxt");
  return importOnnxBuffer(ctx, (*buffer)->getBuffer(), path, fileOptions);
}

/// ONNX Runtime's generation loops (com.microsoft BeamSearch, GreedySearch,
/// Sampling) hold the model as subgraphs: a decoder alone (GPT-2) is
/// imported in the loop's place; the loop is not compiled.
static LogicalResult unwrapGenerationLoop(ModelProto &model, Location loc) {
  const ::onnx::GraphProto &graph = model.graph();
  auto isLoop = [](const ::onnx::NodeProto &n) {
    return n.domain() == "com.microsoft" &&
           (n.op_type() == "BeamSearch" || n.op_type() == "GreedySearch" ||
            n.op_type() == "Sampling");
  };
  int loops = 0, others = 0;
  const ::onnx::NodeProto *loop = nullptr;
  for (const auto &n : graph.node()) {
    if (isLoop(n)) {
      ++loops;
      loop = &n;
    } else if (n.op_type() != "Constant") {
      ++others;
    }
  }
  if (!loop)
    return success();
  std::string label = (loop->name().empty() ? std::string("a")
                                            : "node '" + loop->name() + "', a") +
                      " com.microsoft " + loop->op_type();
  if (loops != 1 || others != 0)
    return emitError(loc, "the graph holds ")
           << label << " among " << others
           << " other nodes: only a graph that is one generation loop is "
              "unwrapped to its decoder";
  const ::onnx::GraphProto *decoder = nullptr;
  for (const auto &attr : loop->attribute()) {
    if (attr.name() == "encoder" || attr.name() == "init_decoder")
      return emitError(loc, "the model is ")
             << label << " around an encoder and a decoder ('" << attr.name()
             << "' subgraph): the decoder reads cross-attention caches of the "
                "encoder's length, which the phase split does not take; "
                "export the decoder with its own KV cache instead";
    if (attr.name() == "decoder" && attr.has_g())
      decoder = &attr.g();
  }
  if (!decoder)
    return emitError(loc, "the model is ") << label << " without a decoder subgraph";
  emitWarning(loc, "the model is ")
      << label << " (a generation loop): compiling its decoder subgraph ("
      << decoder->node_size()
      << " nodes) as the model; the loop itself (search, scoring, "
         "penalties) is not compiled";
  ::onnx::GraphProto inner = *decoder;
  // The decoder may read the outer graph's initializers (ORT's converter
  // shares the embedding table between the loop and its subgraphs).
  llvm::StringSet<> defined;
  for (const auto &t : inner.initializer())
    defined.insert(t.name());
  for (const auto &i : inner.input())
    defined.insert(i.name());
  for (const auto &t : graph.initializer())
    if (!defined.contains(t.name()))
      *inner.add_initializer() = t;
  model.mutable_graph()->Swap(&inner);
  return success();
}

OwningOpRef<ModuleOp> prism::importOnnxBuffer(MLIRContext *ctx,
                                              StringRef bytes, StringRef path,
                                              const OnnxImportOptions &options) {
  ctx->loadDialect<ONNXDialect, func::FuncDialect>();
  ModelProto model;
  if (failed(parseModel(ctx, path, bytes, options.textSyntax, model)))
    return nullptr;
  if (options.generationDecoder &&
      failed(unwrapGenerationLoop(model, FileLineColLoc::get(ctx, path, 0, 0))))
    return nullptr;
  Importer importer(ctx, model, path, options);
  return importer.run();
}

void prism::registerOnnxImportTranslation() {
  static TranslateToMLIRRegistration importOnnx(
      "import-onnx", "Import an ONNX model (binary, or text syntax for "
                     ".onnxtxt files) into the onnx dialect",
      [](llvm::SourceMgr &sourceMgr, MLIRContext *ctx) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        StringRef path = buffer->getBufferIdentifier();
        OnnxImportOptions options;
        // mlir-translate hands over the file's contents; re-reading by path
        // keeps external data relative to the model's directory.
        if (path == "<stdin>" || !llvm::sys::fs::exists(path)) {
          options.textSyntax = buffer->getBuffer().contains("opset_import") ||
                               buffer->getBuffer().contains("=>");
          return OwningOpRef<Operation *>(
              importOnnxBuffer(ctx, buffer->getBuffer(), path, options)
                  .release());
        }
        return OwningOpRef<Operation *>(
            importOnnxFile(ctx, path, options).release());
      },
      [](DialectRegistry &registry) {
        registry.insert<ONNXDialect, func::FuncDialect>();
      });
}
