//===- Tiling.cpp - Kernel shapes chosen from the device description ------===//

#include "prism/Target/Gpu/Tiling.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace prism;
using namespace prism::gpu;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Static shared memory (the `.shared` arrays of a kernel) is capped at 48 KiB
/// by the CUDA ABI; more needs dynamic shared memory and an opt-in.
constexpr int64_t kStaticSharedBytes = 48 * 1024;

} // namespace

llvm::Expected<GpuFigures> prism::gpu::gpuFigures(const cost::DeviceKind &kind) {
  if (kind.deviceClass != "gpu")
    return llvm::createStringError("device '" + kind.kind + "' is a " + kind.deviceClass +
                                   ", not a gpu");
  GpuFigures g;
  g.kind = kind.kind;
  for (auto [name, field] :
       {std::pair{"sms", &g.sms}, std::pair{"shared_bytes_per_sm", &g.sharedBytesPerSm},
        std::pair{"shared_bytes_per_block", &g.sharedBytesPerBlock},
        std::pair{"threads_per_sm", &g.threadsPerSm},
        std::pair{"compute_capability", &g.computeCapability}}) {
    const auto &gpu = kind.section("gpu");
    auto it = gpu.find(name);
    if (it == gpu.end() || it->second.value <= 0)
      return llvm::createStringError("device '" + kind.kind + "' has no gpu figure '" +
                                     name + "'");
    *field = static_cast<int64_t>(it->second.value);
  }
  for (auto [name, field] : {std::pair{"bf16", &g.bf16OpsPerS}, std::pair{"fp32", &g.fp32OpsPerS}}) {
    auto it = kind.peakOpsPerS.find(name);
    if (it == kind.peakOpsPerS.end())
      return llvm::createStringError("device '" + kind.kind + "' has no " + name + " peak");
    *field = it->second.value;
  }
  if (auto it = kind.peakOpsPerS.find("fp8"); it != kind.peakOpsPerS.end())
    g.fp8OpsPerS = it->second.value;
  g.memoryBytesPerS = kind.mainMemory().bandwidthBytesPerS.value;
  return g;
}

llvm::Expected<GpuFigures> prism::gpu::loadGpuFigures(llvm::StringRef device,
                                                      llvm::StringRef hardwareDir) {
  auto kind = cost::loadDeviceKind(device, hardwareDir);
  if (!kind)
    return kind.takeError();
  return gpuFigures(*kind);
}

GemmTile prism::gpu::chooseGemmTile(int64_t m, int64_t n, int64_t k, int64_t weightBytes,
                                    const GpuFigures &gpu) {
  // Each block is an SM's share of the device: its tensor-core time is its
  // padded work at 1/sms of the peak, its memory time the bytes it stages
  // at 1/sms of the bandwidth (pessimistic: no reuse through L2). Blocks
  // resident on one SM (bounded by shared memory and threads) share it, so
  // the GEMM takes waves x blocks-per-SM x the slower of the two.
  GemmTile best;
  const int64_t bk = 32;
  const bool fp8 = weightBytes == 1;
  const double peak = fp8 ? gpu.fp8OpsPerS : gpu.bf16OpsPerS;
  // The GEMM reads A as f32, or as the e4m3 bytes quantize_rows wrote.
  const double aBytes = fp8 ? 1 : 4;
  for (int64_t bm : {16, 32, 64, 128})
    for (int64_t bn : {32, 64, 128}) {
      GemmTile t{bm, bn, bk, std::max<int64_t>(1, bm / 32), bn / 32, fp8 ? 1 : 2, 0};
      if (t.sharedBytes() > std::min(kStaticSharedBytes, gpu.sharedBytesPerBlock))
        continue;
      int64_t perSm = std::min(gpu.sharedBytesPerSm / t.sharedBytes(),
                               gpu.threadsPerSm / t.threads());
      if (perSm < 1)
        continue;
      int64_t blocks = ceilDiv(m, bm) * ceilDiv(n, bn);
      int64_t kPadded = ceilDiv(k, bk) * bk;
      double compute = 2.0 * bm * bn * kPadded / (peak / gpu.sms);
      double memory = (bm * kPadded * aBytes + bn * kPadded * double(weightBytes)) /
                      (gpu.memoryBytesPerS / gpu.sms);
      int64_t waves = ceilDiv(blocks, gpu.sms * perSm);
      int64_t resident = std::min(perSm, ceilDiv(blocks, gpu.sms));
      t.seconds = waves * resident * std::max(compute, memory);
      // Ties go to the larger tile (fewer blocks, more reuse).
      if (best.bm == 0 || t.seconds <= best.seconds)
        best = t;
    }
  return best;
}

double prism::gpu::gemvSeconds(int64_t m, int64_t n, int64_t k, int64_t weightBytes,
                               const GpuFigures &gpu) {
  // Each lane keeps a 16-byte vector of sums per row: past kGemvMaxRows
  // rows they no longer fit in registers.
  if (m > kGemvMaxRows)
    return std::numeric_limits<double>::infinity();
  double memory = (double(n) * k * weightBytes + double(m) * k * 4 + double(m) * n * 4) /
                  gpu.memoryBytesPerS;
  double compute = 2.0 * m * n * k / gpu.fp32OpsPerS;
  return std::max(memory, compute);
}

AttentionTile prism::gpu::chooseAttentionTile(int64_t heads, int64_t s, int64_t t,
                                              int64_t headDim, int64_t valueDim,
                                              const GpuFigures &gpu) {
  // Shared memory holds the block's queries, one key (then value) tile,
  // the scores, the output rows and three statistics per row, in f32.
  auto bytes = [&](int64_t queries, int64_t keys) {
    return 4 * (queries * headDim + keys * std::max(headDim, valueDim) + queries * keys +
                queries * valueDim + 3 * queries);
  };
  int64_t budget = std::min(kStaticSharedBytes, gpu.sharedBytesPerBlock);
  AttentionTile tile;
  tile.queries = std::min<int64_t>(64, std::max<int64_t>(1, s));
  tile.keys = 64;
  while (bytes(tile.queries, tile.keys) > budget && tile.keys > 16)
    tile.keys /= 2;
  while (bytes(tile.queries, tile.keys) > budget && tile.queries > 1)
    tile.queries = std::max<int64_t>(1, tile.queries / 2);
  // Too few blocks to fill the SMs (decode): split each head's keys, but
  // keep at least two key tiles per split.
  int64_t blocks = heads * ceilDiv(s, tile.queries);
  int64_t maxSplits = std::max<int64_t>(1, t / (2 * tile.keys));
  tile.splits = std::clamp<int64_t>(ceilDiv(2 * gpu.sms, blocks), 1, maxSplits);
  return tile;
}

double prism::gpu::attentionSeconds(int64_t heads, int64_t s, int64_t t, int64_t headDim,
                                    int64_t valueDim, int64_t kvHeads, const GpuFigures &gpu) {
  double flops = 2.0 * heads * s * t * (headDim + valueDim);
  double bytes = 4.0 * (heads * s * (headDim + valueDim) + kvHeads * t * (headDim + valueDim));
  return std::max(flops / gpu.fp32OpsPerS, bytes / gpu.memoryBytesPerS);
}
