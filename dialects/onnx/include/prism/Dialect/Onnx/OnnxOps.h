//===- OnnxOps.h - Ops of the onnx dialect ----------------------*- C++ -*-===//

#ifndef PRISM_DIALECT_ONNX_ONNXOPS_H
#define PRISM_DIALECT_ONNX_ONNXOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"

namespace prism::onnx {

/// Verifies an op generated from ONNX's schema registry: input counts, the
/// type parameters shared between inputs and outputs, and ONNX's own type and
/// shape inference against the declared result types.
mlir::LogicalResult verifySchemaOp(mlir::Operation *op);

/// Verifies the declared result types of a hand-written op against the types
/// it infers.
mlir::LogicalResult verifyInferredTypes(mlir::Operation *op);

/// Infers the result types of any onnx op from its operands, attributes and
/// constant operands. Unknown dims stay dynamic; a result whose type ONNX
/// cannot infer at all is null. Emits an error at the op on failure.
mlir::LogicalResult inferResultTypes(mlir::Operation *op,
                                     llvm::SmallVectorImpl<mlir::Type> &types);

/// Checks a generated op against its ONNX schema: input counts and the type
/// parameters that inputs and outputs share (OnnxSchemaInference.cpp).
mlir::LogicalResult verifySchemaSignature(mlir::Operation *op);

/// Inference of generated ops where libonnx 1.12's is missing or weaker
/// (GreaterOrEqual, LessOrEqual, Einsum, MeanVarianceNormalization);
/// nullopt for the others (OnnxExtraOps.cpp).
std::optional<mlir::LogicalResult>
inferOverride(mlir::Operation *op, llvm::SmallVectorImpl<mlir::Type> &types);

/// Runs ONNX's schema inference for a generated op (OnnxSchemaInference.cpp).
mlir::LogicalResult inferWithSchema(mlir::Operation *op,
                                    llvm::SmallVectorImpl<mlir::Type> &types);

/// The number of formal inputs and outputs of an ai.onnx schema (-1 when the
/// last is variadic), or {0, 0} for an unknown operator.
std::pair<int, int> getSchemaArity(llvm::StringRef opType);

/// The since-version of the ai.onnx schema of `opType` in effect at
/// `opset`: -2 when the operator only exists in later opsets, -1 when
/// libonnx does not know it.
int64_t getSchemaSinceVersion(llvm::StringRef opType, int64_t opset);

/// The attributes an ai.onnx schema requires.
std::vector<std::string> getSchemaRequiredAttributes(llvm::StringRef opType);

/// The subgraph attributes of an ai.onnx schema, in the order of the op's
/// regions (sorted by name, as gen_onnx_ops.py declares them).
std::vector<std::string> getSchemaGraphAttributes(llvm::StringRef opType);

/// One axis of an ONNX Slice of a static dim: the first index read and how
/// many elements, after ONNX's clamping of start and end. `step` != 0.
struct SliceAxis {
  int64_t begin;
  int64_t count;
};
SliceAxis clampSliceAxis(int64_t dim, int64_t start, int64_t end, int64_t step);

/// Whether `inferred` is compatible with `declared`: same element type, same
/// rank when both are ranked, same size where both dims are static.
bool areCompatibleTypes(mlir::Type declared, mlir::Type inferred);

/// The more precise of two compatible types.
mlir::Type refineType(mlir::Type declared, mlir::Type inferred);

/// The ONNX operator name of an onnx op ("Add", "GroupQueryAttention") and
/// its domain ("" or "com.microsoft").
std::pair<llvm::StringRef, llvm::StringRef> getOnnxOpType(mlir::Operation *op);

template <typename ConcreteType>
class OnnxSchemaOp
    : public mlir::OpTrait::TraitBase<ConcreteType, OnnxSchemaOp> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifySchemaOp(op);
  }
};

} // namespace prism::onnx

#include "prism/Dialect/Onnx/OnnxInterfaces.h.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Onnx/OnnxOps.h.inc"

#endif // PRISM_DIALECT_ONNX_ONNXOPS_H
