//===- OnnxToLinalg.h - onnx -> linalg patterns -----------------*- C++ -*-===//

#ifndef PRISM_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
#define PRISM_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H

#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <string>

namespace prism {

/// Patterns lowering statically shaped onnx ops to linalg, tensor, arith and
/// math on tensors.
void populateOnnxToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// Patterns rewriting composite onnx ops (normalisations, GELUs, Gemm, Split,
/// the com.microsoft attention and embedding ops) as simpler onnx, tensor
/// and linalg ops, for the host.
void populateOnnxDecompositionPatterns(mlir::RewritePatternSet &patterns);

/// Why the host cannot lower `op` as it is (an attribute or input form that
/// the decompositions do not handle), or nullopt.
std::optional<std::string> getUnsupportedReason(mlir::Operation *op);

} // namespace prism

#endif // PRISM_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
