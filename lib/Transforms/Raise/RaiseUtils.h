//===- RaiseUtils.h - Shared by the xfmr raising patterns -------*- C++ -*-===//
//
// Private to lib/Transforms/Raise.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_LIB_TRANSFORMS_RAISE_RAISEUTILS_H
#define PRISM_LIB_TRANSFORMS_RAISE_RAISEUTILS_H

#include "prism/Dialect/Onnx/OnnxBuilder.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"
#include "prism/Support/Debug.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace prism::raise {

/// The debug type of xfmr-raise: --prism-debug-only=xfmr-raise prints why
/// an almost-matching form was left alone.
inline constexpr const char *kDebugType = "xfmr-raise";

/// Reports (under --prism-debug-only=xfmr-raise) why `pattern` did not
/// raise the form at `op`, and fails.
mlir::LogicalResult nearMiss(mlir::Operation *op, llvm::StringRef pattern,
                             const llvm::Twine &why);

/// The value of a constant splat (or single-element) float tensor.
std::optional<double> constFloat(mlir::Value v);

/// Whether `v` is a constant close to `expected` (relative 1e-3).
bool isConstNear(mlir::Value v, double expected);

/// The only user of `v`, if it has one and is an `OpTy`.
template <typename OpTy> OpTy soleUser(mlir::Value v) {
  if (!v.hasOneUse())
    return OpTy();
  return llvm::dyn_cast<OpTy>(*v.user_begin());
}

/// The operand of binary `op` other than `v`.
inline mlir::Value otherOperand(mlir::Operation *op, mlir::Value v) {
  return op->getOperand(0) == v ? op->getOperand(1) : op->getOperand(0);
}

/// `v` seen through the onnx.Cast ops that produce it.
mlir::Value skipCasts(mlir::Value v);

/// `x` computed in f32 when it is a 16-bit float (the com.microsoft norms
/// and ONNX's stash_type = 1 compute so), else `x`.
mlir::Value widenTo32(onnx::OnnxBuilder &b, mlir::Value x);

/// Builds xfmr.attention on q [B, Hq, S, D], k/v [B, Hkv, T, D] (and the
/// past, when given); a mask of lower rank gets leading 1-dims (it keeps
/// its element type: an f32 mask of an f16 model would overflow in f16). Returns the
/// op (results: output, then present key and value with a past).
xfmr::AttentionOp buildAttention(onnx::OnnxBuilder &b, mlir::Value q,
                                 mlir::Value k, mlir::Value v,
                                 mlir::Value pastKey, mlir::Value pastValue,
                                 mlir::Value mask, double scale,
                                 bool causal = false, int64_t window = 0,
                                 double softcap = 0);

/// Full-width cos/sin [rows, 1, S, R] (or [rows, S, 1, R] when the heads
/// are not the second dim) from rotary caches of R/2 channels gathered at
/// `positions` [rows, S] (null: `cache` is already [rows, S, R/2]), for
/// xfmr.rotary: halves repeated, or each channel twice when interleaved.
mlir::Value widenCache(onnx::OnnxBuilder &b, mlir::Value cache,
                       mlir::Value positions, int64_t seq, bool interleaved,
                       bool headsFirst);

/// Decomposed forms (RaiseAttention.cpp, RaiseNorms.cpp,
/// RaiseActivations.cpp) and fused operators (RaiseFusedOps.cpp).
void populateRaiseAttentionPatterns(mlir::RewritePatternSet &patterns);
void populateRaiseNormPatterns(mlir::RewritePatternSet &patterns);
void populateRaiseActivationPatterns(mlir::RewritePatternSet &patterns);
void populateRaiseFusedPatterns(mlir::RewritePatternSet &patterns);
/// RaiseGroupQueryAttention.cpp: com.microsoft GroupQueryAttention.
void populateRaiseGroupQueryAttentionPatterns(mlir::RewritePatternSet &patterns);

} // namespace prism::raise

#endif // PRISM_LIB_TRANSFORMS_RAISE_RAISEUTILS_H
