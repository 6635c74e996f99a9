//===- ImporterSupport.cpp - Op lookup, ordering and tensor decoding ------===//

#include "ImporterInternals.h"

#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <queue>

using namespace mlir;
using namespace prism::onnx;
using ::onnx::TensorProto;

std::optional<RegisteredOperationName>
prism::onnx::resolveOpName(MLIRContext *ctx, StringRef domain,
                           StringRef opType) {
  // Ops of the dialect that are not ONNX operators.
  if (opType == "NoValue" || opType == "Yield" || opType.contains('.'))
    return std::nullopt;
  std::string name;
  if (domain.empty() || domain == "ai.onnx") {
    name = ("onnx." + opType).str();
    // ONNX Runtime registers these contrib ops in the ai.onnx domain.
    if (opType == "SimplifiedLayerNormalization" ||
        opType == "SkipSimplifiedLayerNormalization")
      name = ("onnx.ms." + opType).str();
  } else if (domain == "com.microsoft") {
    name = ("onnx.ms." + opType).str();
  } else {
    return std::nullopt;
  }
  return RegisteredOperationName::lookup(name, ctx);
}

int64_t prism::onnx::getOnnxSinceVersion(StringRef opType, int64_t opset) {
  // Hand-written ops newer than libonnx's registry.
  int64_t added = llvm::StringSwitch<int64_t>(opType)
                      .Case("Gelu", 20)
                      .Cases({"Attention", "RMSNormalization", "RotaryEmbedding"},
                             23)
                      .Default(0);
  if (added)
    return opset >= added ? added : -2;
  return getSchemaSinceVersion(opType, opset);
}

bool prism::onnx::isOnnxRuntimeDefaultDomainOp(StringRef opType) {
  return opType == "LayerNormalization" ||
         opType == "SimplifiedLayerNormalization" ||
         opType == "SkipSimplifiedLayerNormalization";
}

std::pair<int, int> prism::onnx::getOpArity(RegisteredOperationName name) {
  // The hand-written ops (OnnxExtraOps.td); the generated ones follow their
  // ONNX schema.
  StringRef op = name.stripDialect();
  auto arity = llvm::StringSwitch<std::pair<int, int>>(op)
                   .StartsWith("Reduce", {2, 1})
                   .Case("Split", {2, -1})
                   .Case("Pad", {4, 1})
                   .Case("Gelu", {1, 1})
                   .Case("Attention", {6, 4})
                   .Case("RMSNormalization", {2, 1})
                   .Case("RotaryEmbedding", {4, 1})
                   .Case("ms.Attention", {7, 2})
                   .Case("ms.MultiHeadAttention", {10, 4})
                   .Case("ms.GroupQueryAttention", {12, 4})
                   .Case("ms.SkipLayerNormalization", {5, 4})
                   .Case("ms.SimplifiedLayerNormalization", {2, 2})
                   .Case("ms.SkipSimplifiedLayerNormalization", {4, 4})
                   .Case("ms.FastGelu", {2, 1})
                   .Case("ms.BiasGelu", {2, 1})
                   .Case("ms.Gelu", {1, 1})
                   .Case("ms.QuickGelu", {1, 1})
                   .Case("ms.EmbedLayerNormalization", {9, 3})
                   .Case("ms.RotaryEmbedding", {4, 1})
                   .Case("ms.MatMulNBits", {6, 1})
                   .Default({0, 0});
  if (arity.first != 0)
    return arity;
  return getSchemaArity(op);
}

LogicalResult prism::onnx::verifyNodeAttributes(
    RegisteredOperationName name, NamedAttrList &attrs, Location loc,
    StringRef label) {
  // Types first: the op's accessors assume them.
  if (failed(name.verifyInherentAttrs(attrs, [&] {
        return emitError(loc, "") << label << ": ";
      })))
    return failure();
  StringRef op = name.stripDialect();
  std::vector<std::string> required;
  if (op.consume_front("ms."))
    required = llvm::StringSwitch<std::vector<std::string>>(op)
                   .Cases({"Attention", "MultiHeadAttention"}, {"num_heads"})
                   .Case("GroupQueryAttention", {"kv_num_heads", "num_heads"})
                   .Case("MatMulNBits", {"K", "N", "block_size"})
                   .Default({});
  else
    required = getSchemaRequiredAttributes(op);
  for (const std::string &attr : required)
    if (!attrs.get(attr))
      return emitError(loc, "") << label << " needs attribute '" << attr
                                << "'";
  return success();
}

int prism::onnx::regionIndexOf(Operation *op, StringRef name) {
  std::vector<std::string> regions =
      getSchemaGraphAttributes(op->getName().stripDialect());
  auto it = llvm::find(regions, name.str());
  return it == regions.end() ? -1 : (int)(it - regions.begin());
}

/// Names a node reads, including those its subgraphs read from outside.
static void collectInputs(const ::onnx::NodeProto &node,
                          std::vector<std::string> &names) {
  for (const std::string &in : node.input())
    if (!in.empty())
      names.push_back(in);
  for (const auto &attr : node.attribute())
    if (attr.has_g())
      for (const auto &inner : attr.g().node())
        collectInputs(inner, names);
}

FailureOr<std::vector<int64_t>>
prism::onnx::topologicalOrder(const ::onnx::GraphProto &graph,
                              const ScopedValues &outer, Location loc) {
  int64_t n = graph.node_size();
  auto label = [&](int64_t i) {
    const auto &node = graph.node(i);
    return node.name().empty()
               ? node.op_type() + " node #" + std::to_string(i)
               : "node '" + node.name() + "'";
  };
  auto isConstant = [&](int64_t i) {
    const auto &node = graph.node(i);
    return node.op_type() == "Constant" &&
           (node.domain().empty() || node.domain() == "ai.onnx") &&
           node.output_size() == 1;
  };
  llvm::StringMap<int64_t> producer;
  std::vector<bool> shadowed(n, false);
  for (int64_t i = 0; i < n; ++i)
    for (const std::string &out : graph.node(i).output()) {
      if (out.empty())
        continue;
      auto [it, inserted] = producer.try_emplace(out, i);
      if (inserted)
        continue;
      if (!isConstant(it->second) || !isConstant(i))
        return emitError(loc, "value '")
                   << out << "' is produced by both " << label(it->second)
                   << " and " << label(i),
               failure();
      emitWarning(loc, "value '")
          << out << "' is defined by two Constant nodes, " << label(it->second)
          << " and " << label(i)
          << ": the later one is used by every reader, as in ONNX Runtime";
      shadowed[it->second] = true;
      it->second = i;
    }
  std::vector<std::vector<int64_t>> users(n);
  std::vector<int64_t> pending(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::string> inputs;
    collectInputs(graph.node(i), inputs);
    llvm::DenseSet<int64_t> deps;
    for (const std::string &in : inputs) {
      auto it = producer.find(in);
      if (it != producer.end() && it->second != i && deps.insert(it->second).second) {
        users[it->second].push_back(i);
        ++pending[i];
      }
    }
  }
  // Smallest index first keeps the model's order when it is already valid.
  std::priority_queue<int64_t, std::vector<int64_t>, std::greater<int64_t>>
      ready;
  for (int64_t i = 0; i < n; ++i)
    if (pending[i] == 0 && !shadowed[i])
      ready.push(i);
  std::vector<int64_t> order;
  while (!ready.empty()) {
    int64_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int64_t u : users[i])
      if (--pending[u] == 0)
        ready.push(u);
  }
  int64_t live = n - llvm::count(shadowed, true);
  if ((int64_t)order.size() != live) {
    for (int64_t i = 0; i < n; ++i)
      if (pending[i] > 0)
        return emitError(loc, "the graph has a cycle through ") << label(i),
               failure();
  }
  return order;
}

FailureOr<TensorData> prism::onnx::decodeTensorData(const TensorProto &t,
                                                    RankedTensorType type,
                                                    Location loc) {
  TensorData data;
  int64_t count = type.getNumElements();
  int32_t dt = t.data_type();
  auto mismatch = [&](int64_t have) {
    emitError(loc, "tensor '") << t.name() << "' of type " << type << " holds "
                               << have << " values, expected " << count;
    return failure();
  };
  if (dt == TensorProto::STRING) {
    if (t.string_data_size() != count)
      return mismatch(t.string_data_size());
    data.strings.assign(t.string_data().begin(), t.string_data().end());
    return data;
  }
  int64_t size = getOnnxDataTypeSize(dt);
  // The importer checked that count * size fits in int64.
  if (t.has_raw_data()) {
    if ((int64_t)t.raw_data().size() != count * size) {
      emitError(loc, "tensor '") << t.name() << "' has "
                                 << t.raw_data().size()
                                 << " bytes of raw data, expected "
                                 << count * size;
      return failure();
    }
    data.bytes.assign(t.raw_data().begin(), t.raw_data().end());
  } else {
    char *out = nullptr;
    auto copy = [&](const auto &field, auto convert) -> LogicalResult {
      // Complex values are two entries each. Sizes are compared before any
      // allocation: a huge declared shape with little data is an error.
      int64_t perElement = isa<ComplexType>(type.getElementType()) ? 2 : 1;
      if ((int64_t)field.size() != count * perElement)
        return mismatch(field.size() / perElement);
      data.bytes.resize(count * size);
      out = data.bytes.data();
      int64_t width = size / perElement;
      for (int64_t i = 0; i < (int64_t)field.size(); ++i) {
        auto v = convert(field[i]);
        std::memcpy(out + i * width, &v, width);
      }
      return success();
    };
    LogicalResult ok = success();
    switch (dt) {
    case TensorProto::FLOAT:
    case TensorProto::COMPLEX64:
      ok = copy(t.float_data(), [](float v) { return v; });
      break;
    case TensorProto::DOUBLE:
    case TensorProto::COMPLEX128:
      ok = copy(t.double_data(), [](double v) { return v; });
      break;
    case TensorProto::INT64:
      ok = copy(t.int64_data(), [](int64_t v) { return v; });
      break;
    case TensorProto::UINT32:
    case TensorProto::UINT64:
      ok = copy(t.uint64_data(), [](uint64_t v) { return v; });
      break;
    default: // int32_data holds the narrower types, fp16 and bf16 as bits.
      ok = copy(t.int32_data(), [](int32_t v) { return (int64_t)v; });
      break;
    }
    if (failed(ok))
      return failure();
  }
  // MLIR stores i1 one per byte as 0 or 1.
  if (dt == TensorProto::BOOL)
    for (char &c : data.bytes)
      c = c != 0;
  return data;
}

LogicalResult prism::onnx::checkExternalLocation(StringRef modelDir,
                                                 StringRef location,
                                                 StringRef tensorName,
                                                 Location loc) {
  auto reject = [&](StringRef why) {
    return emitError(loc, "external data location '")
           << location << "' of tensor '" << tensorName << "' " << why;
  };
  if (location.empty())
    return reject("is empty");
  if (llvm::sys::path::is_absolute(location) || location.starts_with("/") ||
      location.starts_with("\\"))
    return reject("is an absolute path; it must be relative to the model's "
                  "directory");
  for (StringRef part : llvm::make_range(llvm::sys::path::begin(location),
                                         llvm::sys::path::end(location)))
    if (part == "..")
      return reject("leaves the model's directory ('..')");
  // A symbolic link may still point outside: compare real paths.
  SmallString<256> dir, file, joined(modelDir);
  llvm::sys::path::append(joined, location);
  if (!llvm::sys::fs::real_path(modelDir, dir) &&
      !llvm::sys::fs::real_path(joined, file)) {
    StringRef f = file;
    if (!f.starts_with(dir) ||
        (f.size() > dir.size() && !llvm::sys::path::is_separator(f[dir.size()])))
      return reject("resolves outside the model's directory");
  }
  return success();
}

FailureOr<Operation *> prism::onnx::createInferred(OpBuilder &b, Location loc,
                                                   StringRef name,
                                                   ValueRange operands,
                                                   ArrayRef<NamedAttribute> attrs,
                                                   unsigned numResults) {
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addAttributes(attrs);
  state.addTypes(SmallVector<Type>(numResults,
                                   UnrankedTensorType::get(b.getF32Type())));
  Operation *op = b.create(state);
  SmallVector<Type> types;
  if (failed(inferResultTypes(op, types)))
    return failure();
  for (auto [r, t] : llvm::zip(op->getResults(), types)) {
    if (!t)
      return op->emitOpError("cannot infer its result type");
    r.setType(t);
  }
  return op;
}
