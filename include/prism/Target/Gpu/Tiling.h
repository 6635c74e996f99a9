//===- Tiling.h - Kernel shapes chosen from the device description -*- C++ -*-===//
//
// The GPU target's kernels take their tile sizes from here: the figures of
// the device description (SMs, shared memory, peaks, HBM bandwidth) and the
// problem's shape go through a small roofline model of each candidate,
// and the fastest wins. No pass sprinkles its own constants.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_GPU_TILING_H
#define PRISM_TARGET_GPU_TILING_H

#include "prism/Cost/HardwareDescription.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace prism::gpu {

/// What the tiling needs of a GPU (from a device description's `gpu`,
/// `memory` and `peak_ops_per_s` figures).
struct GpuFigures {
  std::string kind;
  int64_t sms = 0, sharedBytesPerSm = 0, sharedBytesPerBlock = 0, threadsPerSm = 0;
  int64_t computeCapability = 0;
  /// Dense bf16 tensor-core and fp32 SIMT peaks, and main-memory bandwidth.
  double bf16OpsPerS = 0, fp32OpsPerS = 0, memoryBytesPerS = 0;
  /// Dense fp8 tensor-core peak; 0 where the device has none.
  double fp8OpsPerS = 0;
};

/// The figures of `kind`; an error names the first one missing.
llvm::Expected<GpuFigures> gpuFigures(const cost::DeviceKind &kind);

/// The same for a device kind by name (or a .json description), from
/// `hardwareDir` (empty: Prism's).
llvm::Expected<GpuFigures> loadGpuFigures(llvm::StringRef device, llvm::StringRef hardwareDir);

/// A block of the tensor-core GEMM: `bm x bn` outputs, K staged through
/// shared memory `bk` at a time, `warpsM x warpsN` warps each owning a
/// `bm/warpsM x bn/warpsN` tile of m16n8k16 (bf16) or m16n8k32 (fp8)
/// fragments.
struct GemmTile {
  int64_t bm = 0, bn = 0, bk = 0, warpsM = 0, warpsN = 0;
  /// Bytes of a staged element: 2 (bf16) or 1 (fp8).
  int64_t stagedBytes = 2;
  /// The model's time for the whole GEMM.
  double seconds = 0;
  int64_t threads() const { return 32 * warpsM * warpsN; }
  /// The staging buffers (A and B, each row padded by 16 bytes).
  int64_t sharedBytes() const { return (bm + bn) * (bk * stagedBytes + 16); }
};

/// The fastest block for an `m x n x k` GEMM whose B elements take
/// `weightBytes` each; fp8 weights (1 byte) mean the fp8 GEMM: A quantized
/// to a byte too, and the fp8 peak.
GemmTile chooseGemmTile(int64_t m, int64_t n, int64_t k, int64_t weightBytes,
                        const GpuFigures &gpu);

/// The most rows the GEMV takes.
constexpr int64_t kGemvMaxRows = 8;

/// The weight-streaming GEMV (one warp per output column): its model time,
/// to weigh against the GEMM's for small M (infinite past kGemvMaxRows).
double gemvSeconds(int64_t m, int64_t n, int64_t k, int64_t weightBytes, const GpuFigures &gpu);

/// Fused attention: a block takes `queries` query rows of one head and
/// walks the keys `keys` at a time through shared memory; `splits` blocks
/// share one head's keys (split-KV decode), combined by a second kernel.
struct AttentionTile {
  int64_t queries = 0, keys = 0, splits = 1;
  int64_t threads() const { return queries * 4 < 128 ? 128 : queries * 4; }
};

/// The model's time for fused attention (a SIMT kernel): its score and
/// value products at the fp32 peak or its bytes at the bandwidth,
/// whichever is longer.
double attentionSeconds(int64_t heads, int64_t s, int64_t t, int64_t headDim,
                        int64_t valueDim, int64_t kvHeads, const GpuFigures &gpu);

/// The tile for `heads` query heads of `s` queries against `t` keys of
/// `headDim` (and `valueDim`) elements.
AttentionTile chooseAttentionTile(int64_t heads, int64_t s, int64_t t, int64_t headDim,
                                  int64_t valueDim, const GpuFigures &gpu);

} // namespace prism::gpu

#endif // PRISM_TARGET_GPU_TILING_H
