//===- ImporterInternals.h - Pieces of the ONNX importer --------*- C++ -*-===//

#ifndef PRISM_LIB_IMPORT_IMPORTERINTERNALS_H
#define PRISM_LIB_IMPORT_IMPORTERINTERNALS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/StringMap.h"
#include "onnx/onnx_pb.h"

#include <vector>

namespace prism::onnx {

/// ai.onnx opsets the importer reads. Below kFullOpset, a node is accepted
/// only when its operator's schema has not changed since (older semantics
/// are normalised from opset 7 on).
constexpr int64_t kMinOpset = 1;
constexpr int64_t kFullOpset = 7;
constexpr int64_t kMaxOpset = 23;
/// The newest ai.onnx opset of libonnx's schema registry (1.12), from which
/// most of the dialect is generated.
constexpr int64_t kSchemaRegistryOpset = 17;

/// ONNX names in nested scopes: a subgraph sees its parents' values.
class ScopedValues {
public:
  struct Scope {
    explicit Scope(ScopedValues &s) : s(s) { s.frames.emplace_back(); }
    ~Scope() { s.frames.pop_back(); }
    ScopedValues &s;
  };
  void define(llvm::StringRef name, mlir::Value v) { frames.back()[name] = v; }
  mlir::Value lookup(llvm::StringRef name) const {
    for (auto it = frames.rbegin(); it != frames.rend(); ++it)
      if (auto found = it->find(name); found != it->end())
        return found->second;
    return nullptr;
  }
  bool definedHere(llvm::StringRef name) const {
    return frames.back().count(name);
  }

private:
  std::vector<llvm::StringMap<mlir::Value>> frames;
};

/// The dialect op of an ONNX (domain, op_type), if Prism has one.
std::optional<mlir::RegisteredOperationName>
resolveOpName(mlir::MLIRContext *ctx, llvm::StringRef domain,
              llvm::StringRef opType);

/// The opset version of `opType`'s ai.onnx schema in effect at `opset`, or
/// -2 if the operator was only added after `opset`, -1 if unknown.
int64_t getOnnxSinceVersion(llvm::StringRef opType, int64_t opset);

/// Ops that ONNX Runtime registers with its own schemas in the ai.onnx
/// domain (available at any opset, unknown attributes ignored).
bool isOnnxRuntimeDefaultDomainOp(llvm::StringRef opType);

/// How many inputs and outputs the op declares (-1: variadic), so that
/// trailing optional ones a node leaves out can be filled with `none`.
std::pair<int, int> getOpArity(mlir::RegisteredOperationName name);

/// Checks a node's attributes before its op is built: their types, and that
/// the required ones are there.
mlir::LogicalResult verifyNodeAttributes(mlir::RegisteredOperationName name,
                                         mlir::NamedAttrList &attrs,
                                         mlir::Location loc,
                                         llvm::StringRef label);

/// The index of the region named `name` in `op`'s ODS declaration.
int regionIndexOf(mlir::Operation *op, llvm::StringRef name);

/// Node indices of `graph` in an order where every input is defined first
/// (ONNX requires it; some exporters do not). Names defined by `outer` count
/// as defined. Two Constant nodes writing one name are ONNX Runtime's
/// initializers: the later in file order wins for every reader (a warning
/// names both) and the earlier is left out of the order. Fails on cycles
/// and on other nodes writing one name.
mlir::FailureOr<std::vector<int64_t>>
topologicalOrder(const ::onnx::GraphProto &graph, const ScopedValues &outer,
                 mlir::Location loc);

/// The little-endian bytes (or strings) of an embedded tensor, checked
/// against its type.
struct TensorData {
  std::vector<char> bytes;
  std::vector<std::string> strings;
};
mlir::FailureOr<TensorData> decodeTensorData(const ::onnx::TensorProto &t,
                                             mlir::RankedTensorType type,
                                             mlir::Location loc);

/// Rejects external-data locations outside the model's directory.
mlir::LogicalResult checkExternalLocation(llvm::StringRef modelDir,
                                          llvm::StringRef location,
                                          llvm::StringRef tensorName,
                                          mlir::Location loc);

/// An ONNX node on its way to becoming an op: opset normalisation rewrites
/// attributes that older opsets had into the inputs the dialect's op takes.
struct NormalisedNode {
  mlir::RegisteredOperationName name;
  llvm::SmallVector<mlir::Value> operands;
  mlir::NamedAttrList attrs;
};

/// Rewrites `node` (an `opType` node of the given domain opset) into the
/// dialect's form. `noValue` fills omitted optional inputs.
mlir::LogicalResult normaliseOpset(mlir::OpBuilder &b, mlir::Location loc,
                                   llvm::StringRef label,
                                   llvm::StringRef opType, int64_t opset,
                                   mlir::Value noValue, NormalisedNode &node);

/// Creates an onnx op and types its results by inference.
mlir::FailureOr<mlir::Operation *>
createInferred(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef name,
               mlir::ValueRange operands,
               llvm::ArrayRef<mlir::NamedAttribute> attrs = {},
               unsigned numResults = 1);

} // namespace prism::onnx

#endif // PRISM_LIB_IMPORT_IMPORTERINTERNALS_H
