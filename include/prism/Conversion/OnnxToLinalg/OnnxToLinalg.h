//===- OnnxToLinalg.h - onnx -> linalg patterns -----------------*- C++ -*-===//

#ifndef PRISM_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
#define PRISM_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace prism {

/// Patterns lowering statically shaped onnx ops to linalg, tensor, arith and
/// math on tensors.
void populateOnnxToLinalgPatterns(mlir::RewritePatternSet &patterns);

} // namespace prism

#endif // PRISM_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
