//===- XfmrToOnnx.h - xfmr ops as the onnx ops they compute -----*- C++ -*-===//

#ifndef PRISM_CONVERSION_XFMRTOONNX_XFMRTOONNX_H
#define PRISM_CONVERSION_XFMRTOONNX_XFMRTOONNX_H

#include "mlir/IR/PatternMatch.h"

namespace prism {

/// Rewrites each xfmr op as the primitive onnx ops (and, for position
/// masks, a linalg.generic) that compute it: the host's reference
/// semantics of the dialect.
void populateXfmrToOnnxPatterns(mlir::RewritePatternSet &patterns);

} // namespace prism

#endif // PRISM_CONVERSION_XFMRTOONNX_XFMRTOONNX_H
