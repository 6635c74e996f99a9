//===- LoweringUtils.h - Shared by the onnx -> linalg patterns --*- C++ -*-===//
//
// Private to lib/Conversion/OnnxToLinalg: the helpers every pattern file
// uses, and the pattern sets of the files besides OnnxToLinalg.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H
#define PRISM_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

#include "prism/Conversion/OnnxToLinalg/OnnxToLinalg.h"
#include "prism/Dialect/Onnx/OnnxBuilder.h"

#include <optional>
#include <string>

namespace prism::lowering {

using prism::onnx::allStatic;
using prism::onnx::constInts;
using prism::onnx::isNone;
using prism::onnx::reshapeTo;
using prism::onnx::staticType;
using prism::onnx::tensorType;
using prism::onnx::transposeTo;

/// arith takes signless integers only: the signless type of `t`'s width for
/// an unsigned integer, else `t`; and a cast between the two inside linalg
/// bodies (it vanishes when LLVM's sign-less types replace both).
mlir::Type signlessOf(mlir::Type t);
mlir::Value castScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                       mlir::Type to);

/// One linalg.generic over `result`'s shape reading `inputs` with NumPy
/// broadcasting; `body` gets signless scalars and returns the result's.
mlir::Value broadcastGeneric(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType result,
    mlir::ValueRange inputs,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>
        body);

/// An index scalar `v` (any integer type) as an index in [0, size):
/// negative values count from the end, out-of-range ones are clamped (ONNX
/// leaves them undefined; clamping keeps reads in bounds).
mlir::Value wrapIndex(mlir::OpBuilder &b, mlir::Location l, mlir::Value v,
                      int64_t size);

/// `v` (an integer tensor) widened to int32 minus its zero point (absent:
/// none), as onnx ops. A 1-D zero point of several values applies along
/// the dim `spannedDims` from the end (reshaped to [D, 1, ...]); with
/// spannedDims = 1 it broadcasts along the last dim, as NumPy does.
mlir::Value minusZeroPoint(mlir::PatternRewriter &rw, mlir::Location loc,
                           mlir::Value v, mlir::Value zeroPoint,
                           int64_t spannedDims);

/// Patterns of IndexingOps.cpp (ArgMax/ArgMin, Trilu, GatherElements, Tile)
/// and QuantizedOps.cpp (DequantizeLinear, QuantizeLinear, MatMulInteger,
/// QLinearMatMul, QLinearConv, MatMulNBits).
void populateIndexingPatterns(mlir::RewritePatternSet &patterns);
void populateQuantizedPatterns(mlir::RewritePatternSet &patterns);
/// WindowOps.cpp: Conv, MaxPool, AveragePool, Pad.
void populateWindowPatterns(mlir::RewritePatternSet &patterns);
/// Resize.cpp: Resize (nearest, linear, cubic).
void populateResizePatterns(mlir::RewritePatternSet &patterns);
/// SignalOps.cpp: the window functions, MelWeightMatrix, DFT and STFT.
void populateSignalPatterns(mlir::RewritePatternSet &patterns);
/// Recurrent.cpp: RNN, GRU and LSTM, unrolled over the sequence.
void populateRecurrentPatterns(mlir::RewritePatternSet &patterns);
/// Einsum.cpp: Einsum as one linalg.generic.
void populateEinsumPatterns(mlir::RewritePatternSet &patterns);
/// GridSample.cpp: GridSample (4-D).
void populateGridSamplePatterns(mlir::RewritePatternSet &patterns);
/// PoolingExtras.cpp: MaxUnpool and RoiAlign.
void populatePoolingExtrasPatterns(mlir::RewritePatternSet &patterns);
/// TfIdfVectorizer.cpp: TfIdfVectorizer on integer tokens.
void populateTfIdfPatterns(mlir::RewritePatternSet &patterns);

} // namespace prism::lowering



#endif // PRISM_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H
