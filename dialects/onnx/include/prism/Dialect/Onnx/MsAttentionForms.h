//===- MsAttentionForms.h - Operands of the com.microsoft attention ops -*- C++ -*-===//
//
// ONNX Runtime's attention operators take masks in several forms and heads
// packed in the hidden dim; these helpers build the common form (an
// additive mask, [B, N, S, H] heads) with onnx ops.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECT_ONNX_MSATTENTIONFORMS_H
#define PRISM_DIALECT_ONNX_MSATTENTIONFORMS_H

#include "prism/Dialect/Onnx/OnnxBuilder.h"

namespace prism::onnx {

/// Replaces `op`'s results with `values`; a null value stands for an absent
/// optional output (NoneType), which must be unused.
mlir::LogicalResult replaceWithOptional(mlir::PatternRewriter &rw,
                                        mlir::Operation *op,
                                        llvm::ArrayRef<mlir::Value> values);

/// The additive mask [B, 1, S or 1, T] of ONNX Runtime's mask_index forms:
/// [B] valid lengths, [2B] ends and starts, [B, T] 0/1 key padding, [B, S, T]
/// 0/1 attention mask, Megatron's [B, 1, M, M] 0/1 mask over absolute
/// positions (which only ONNX Runtime's CUDA kernel takes); null for the
/// dummy [B or 1, 1]. Fails for the rest.
mlir::FailureOr<mlir::Value> additiveMask(OnnxBuilder &b, mlir::Value mask,
                                          int64_t batch, int64_t seq,
                                          int64_t total, mlir::Type elem,
                                          double filter);

/// Whether `mask` is absent or one of the forms additiveMask builds.
bool isSupportedMask(mlir::Value mask, int64_t batch, int64_t seq,
                     int64_t total);

/// The mask forms additiveMask builds, for diagnostics.
extern const char *const kMaskForms;

/// [B, S, N * H] -> [B, N, S, H].
mlir::Value splitHeads(OnnxBuilder &b, mlir::Value x, int64_t heads);

/// [B, N, S, H] -> [B, S, N * H].
mlir::Value mergeHeads(OnnxBuilder &b, mlir::Value x);

} // namespace prism::onnx

#endif // PRISM_DIALECT_ONNX_MSATTENTIONFORMS_H
