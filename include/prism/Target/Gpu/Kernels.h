//===- Kernels.h - Prism's GPU kernels, built as gpu.func ops ----*- C++ -*-===//
//
// The kernels the GPU target writes itself rather than leaving to the
// generic linalg-to-loops path: the tensor-core GEMM, the weight-streaming
// GEMV, fused attention and the fused norm, rotary and activation kernels.
// Each builder writes one `gpu.func` into the module's `@prism_kernels`
// gpu.module for static shapes and a tile from Tiling.h, and returns it with
// its launch shape.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_GPU_KERNELS_H
#define PRISM_TARGET_GPU_KERNELS_H

#include "prism/Target/Gpu/Tiling.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace prism::gpu {

/// A kernel and the grid and block it is launched with.
struct Kernel {
  mlir::gpu::GPUFuncOp func;
  int64_t grid[3] = {1, 1, 1};
  int64_t block[3] = {1, 1, 1};

  /// `gpu.launch_func` of the kernel on `args` at `b`'s insertion point;
  /// with the tiling model's time for it (`prism.predicted_s`, which the
  /// launch plan carries) when one is given.
  void launch(mlir::ImplicitLocOpBuilder &b, mlir::ValueRange args,
              double predictedSeconds = 0) const;
};

/// The `@prism_kernels` gpu.module of `module` (created on first use; the
/// module becomes a `gpu.container_module`), and fresh kernel names in it.
class KernelModule {
public:
  explicit KernelModule(mlir::ModuleOp module);
  /// A builder at the end of the gpu.module, and a name unused in it.
  mlir::ImplicitLocOpBuilder builder(mlir::Location loc);
  std::string uniqueName(llvm::StringRef stem);

private:
  mlir::gpu::GPUModuleOp kernels;
  unsigned counter = 0;
};

/// The memref type kernels take for a buffer of `shape` and `element`: any
/// strides and offset, so any view bufferization hands over fits.
mlir::MemRefType anyLayout(llvm::ArrayRef<int64_t> shape, mlir::Type element);

/// `v`'s type when it is a static f32 tensor, else null: what the fused
/// kernels take.
mlir::RankedTensorType staticF32Tensor(mlir::Value v);

/// A tensor as a launch operand (before bufferization): a read-only
/// `bufferization.to_buffer` of any layout.
mlir::Value tensorAsOperand(mlir::ImplicitLocOpBuilder &b, mlir::Value tensor);

/// The buffer a memref value views (through view ops and casts).
mlir::Value viewedBuffer(mlir::Value v);

/// An elementwise linalg.generic that reads a matmul's result, fused into
/// the GEMM's or GEMV's stores: the kernel writes the generic's value for
/// each element (bias add, activation, residual add) to the generic's
/// output instead of C += A B, so the product never goes through memory.
struct Epilogue {
  mlir::linalg::GenericOp generic;
  /// The generic's input that is the matmul's C (a view of it).
  unsigned accInput = 0;
  /// Host memrefs the generic's body reads (captured, not operands).
  llvm::SmallVector<mlir::Value> captured;
  /// Constants it reads from above (cloned into the kernel).
  llvm::SmallVector<mlir::Value> constants;

  /// What the kernel takes after A and B: the generic's output, its other
  /// inputs, then the captured memrefs.
  llvm::SmallVector<mlir::Value> operands() const;
};

/// The epilogue `mm` can take: its C is a zero-filled allocation read only
/// by one all-parallel generic (directly or through an expand_shape that
/// keeps N the last dim), with nothing but allocations and views between
/// the two, and a body that needs only its operands, constants and
/// memrefs. Nothing otherwise.
std::optional<Epilogue> matchEpilogue(mlir::linalg::MatmulOp mm);

/// C[M,N] += A[M,K] B[K,N] (linalg.matmul's semantics) on the tensor cores: bf16 m16n8k16 mma.sync with
/// f32 accumulation, A and B staged through shared memory as bf16. A and C
/// are f32; B is f32 or bf16, stored [K,N] or, with `bTransposed`, [N,K].
/// With an fp8 B (f8E4M3FN [N,K]), A is i8 (e4m3 bits from
/// buildQuantizeRowsKernel), the mma is m16n8k32 e4m3, and the arguments
/// after B are A's row scales [M] and B's column scales [N], which the
/// products are multiplied by.
/// Partial tiles at the edges are zero-filled and their stores skipped.
/// With an `epilogue`, the arguments after A and B are its operands().
Kernel buildGemmKernel(KernelModule &kernels, mlir::Location loc, mlir::MemRefType a,
                       mlir::MemRefType b, bool bTransposed, mlir::MemRefType c,
                       const GemmTile &tile, const Epilogue *epilogue = nullptr);

/// C[M,N] += A[M,K] Bt[N,K]^T for small M: one warp per output column
/// streams its weight row in 16-byte vectors, with a shuffle reduction.
/// A and C are f32; Bt is f32, bf16 or fp8 (f8E4M3FN, converted to f32 in
/// registers; then the argument after Bt is its column scales [N]) with a
/// unit last stride. An `epilogue` as for the GEMM.
Kernel buildGemvKernel(KernelModule &kernels, mlir::Location loc, mlir::MemRefType a,
                       mlir::MemRefType bt, mlir::MemRefType c,
                       const Epilogue *epilogue = nullptr);

/// The largest finite e4m3 (f8E4M3FN) value: a weight column's or an
/// activation row's largest magnitude is scaled to it.
constexpr double kFp8Max = 448.0;

/// Per-row fp8 quantization of the fp8 GEMM's A: a block per row finds
/// the row's largest magnitude (shuffles, shared memory), writes
/// scale[row] = max / 448 and q[row, :] = e4m3 bits of x * 448 / max
/// (cvt.rn.satfinite). x [M, K] f32, q [M, K] i8, scale [M] f32.
Kernel buildQuantizeRowsKernel(KernelModule &kernels, mlir::Location loc, mlir::MemRefType x,
                               mlir::MemRefType q, mlir::MemRefType scale);

/// What fused attention computes: `softmax(scale * Q K^T [softcapped]
/// [+ mask, clamped] [causal/window masked]) V` per query head, with query
/// head h reading key/value head h / groups (xfmr.attention's semantics).
struct AttentionShape {
  int64_t batch = 0, heads = 0, kvHeads = 0, queries = 0, keys = 0, headDim = 0, valueDim = 0;
  double scale = 1, softcap = 0;
  bool causal = false;
  int64_t window = 0;
  /// The mask's shape (rank 4, each dim 1 or the full size); empty: none.
  llvm::SmallVector<int64_t, 4> mask;
};

/// Flash attention: a block takes `tile.queries` queries of one head and
/// walks its keys `tile.keys` at a time through shared memory with an
/// online softmax. Arguments: q [B,H,S,D], k [B,Hkv,T,D], v [B,Hkv,T,Dv],
/// the mask if any, then the output [B,H,S,Dv] or, with `tile.splits` > 1
/// (split-KV decode), the unnormalized partial outputs [B,H,splits,S,Dv]
/// and their row max and sum [B,H,splits,S,2] for the combine kernel.
Kernel buildAttentionKernel(KernelModule &kernels, mlir::Location loc,
                            const AttentionShape &shape, const AttentionTile &tile);

/// Combines split-KV partials (as above) into the output [B,H,S,Dv].
Kernel buildAttentionCombineKernel(KernelModule &kernels, mlir::Location loc,
                                   const AttentionShape &shape, int64_t splits);

/// One row normalization: `rows` rows of `width` elements (f32),
/// RMS (`rms`) or mean and variance, with an optional residual added first
/// (its sum written out) and an optional bias after the scale.
struct NormShape {
  int64_t rows = 0, width = 0;
  bool rms = true, residual = false, bias = false;
  double epsilon = 0;
};

/// A block per row: the sums reduced by warp shuffles and shared memory,
/// then the row normalized. Arguments: x [rows, width], the residual if
/// any, scale [width], the bias if any, y [rows, width], and the residual
/// sum [rows, width] if any.
Kernel buildNormKernel(KernelModule &kernels, mlir::Location loc, const NormShape &shape);

/// Rotary embedding, a thread per element of x [outer, S, D]: the first
/// `rotated` of D rotated by cos/sin [cosOuter, S, rotated] (a cosOuter of
/// 1 broadcasts), the half rotation or, `interleaved`, pairs.
struct RotaryShape {
  int64_t outer = 0, positions = 0, width = 0, rotated = 0, cosOuter = 1;
  bool interleaved = false;
};
Kernel buildRotaryKernel(KernelModule &kernels, mlir::Location loc, const RotaryShape &shape);

} // namespace prism::gpu

#endif // PRISM_TARGET_GPU_KERNELS_H
