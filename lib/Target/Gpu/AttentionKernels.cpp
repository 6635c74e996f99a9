//===- AttentionKernels.cpp - Flash attention and its split-KV combine ----===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace prism::gpu;

namespace {

/// The value masked scores take, as the host path (and exporters) clamp.
constexpr float kLowest = std::numeric_limits<float>::lowest();

/// An operand: any view bufferization hands over.
MemRefType f32Buffer(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return anyLayout(shape, Float32Type::get(ctx));
}

/// A result: a fresh allocation of the launch's.
MemRefType f32Result(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return MemRefType::get(shape, Float32Type::get(ctx));
}

} // namespace

Kernel prism::gpu::buildAttentionKernel(KernelModule &kernels, Location loc,
                                        const AttentionShape &s, const AttentionTile &tile) {
  ImplicitLocOpBuilder b = kernels.builder(loc);
  MLIRContext *ctx = b.getContext();
  KernelBuilder kb(b);
  const int64_t br = tile.queries, bc = tile.keys, splits = tile.splits;
  const int64_t d = s.headDim, dv = s.valueDim, threads = tile.threads();
  const int64_t groups = s.heads / s.kvHeads;
  // Keys per split, in whole tiles.
  const int64_t tiles = (s.keys + bc - 1) / bc;
  const int64_t splitKeys = (tiles + splits - 1) / splits * bc;

  SmallVector<Type> args = {f32Buffer(ctx, {s.batch, s.heads, s.queries, d}),
                            f32Buffer(ctx, {s.batch, s.kvHeads, s.keys, d}),
                            f32Buffer(ctx, {s.batch, s.kvHeads, s.keys, dv})};
  if (!s.mask.empty())
    args.push_back(f32Buffer(ctx, s.mask));
  if (splits == 1) {
    args.push_back(f32Result(ctx, {s.batch, s.heads, s.queries, dv}));
  } else {
    args.push_back(f32Result(ctx, {s.batch, s.heads, splits, s.queries, dv}));
    args.push_back(f32Result(ctx, {s.batch, s.heads, splits, s.queries, 2}));
  }
  Type f32 = b.getF32Type();
  SmallVector<Type> shared = {sharedBuffer({br, d}, f32),                 // queries
                              sharedBuffer({bc, std::max(d, dv)}, f32),   // keys, then values
                              sharedBuffer({br, bc}, f32),                // scores, then weights
                              sharedBuffer({br, dv}, f32),                // output rows
                              sharedBuffer({br, 3}, f32)};                // max, sum, rescale
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName(splits == 1 ? "attention"
                                                                         : "attention_split"),
                             args, shared);
  kernel.grid[0] = (s.queries + br - 1) / br;
  kernel.grid[1] = s.heads;
  kernel.grid[2] = s.batch * splits;
  kernel.block[0] = threads;
  auto arg = [&](unsigned i) { return kernel.func.getArgument(i); };
  Value q = arg(0), k = arg(1), v = arg(2);
  Value mask = s.mask.empty() ? Value() : arg(3);
  unsigned outArg = s.mask.empty() ? 3 : 4;
  auto wg = kernel.func.getWorkgroupAttributions();
  Value qs = wg[0], kvs = wg[1], sc = wg[2], os = wg[3], stats = wg[4];

  Value tid = kb.threadId();
  Value q0 = kb.mul(kb.blockId(mlir::gpu::Dimension::x), br);
  Value h = kb.blockId(mlir::gpu::Dimension::y);
  Value z = kb.blockId(mlir::gpu::Dimension::z);
  Value batch = kb.div(z, splits), split = kb.rem(z, splits);
  Value kvh = kb.div(h, groups);
  Value kBegin = kb.mul(split, splitKeys);
  Value kEnd = arith::MinUIOp::create(b, kb.add(kBegin, splitKeys), kb.idx(s.keys));
  Value zero = kb.f32(0), lowest = kb.f32(kLowest);
  Value c0 = kb.idx(0), c1 = kb.idx(1), c2 = kb.idx(2);

  // Each thread takes elements tid, tid + threads, ... of an r x c array.
  auto forEach = [&](int64_t rows, int64_t cols, const std::function<void(Value, Value)> &body) {
    kb.loop(tid, kb.idx(rows * cols), threads,
            [&](Value e) { body(kb.div(e, cols), kb.rem(e, cols)); });
  };

  forEach(br, d, [&](Value r, Value c) {
    Value qi = kb.add(q0, r);
    kb.store(kb.loadOr(kb.lt(qi, s.queries), q, {batch, h, qi, c}, zero), qs, {r, c});
  });
  forEach(br, dv, [&](Value r, Value c) { kb.store(zero, os, {r, c}); });
  kb.loop(tid, kb.idx(br), threads, [&](Value r) {
    kb.store(lowest, stats, {r, c0});
    kb.store(zero, stats, {r, c1});
  });
  kb.barrier();

  // Positions: query i sits at keys - queries + i (the past comes first).
  const int64_t offset = s.keys - s.queries;
  kb.loop(kBegin, kEnd, bc, [&](Value j0) {
    forEach(bc, d, [&](Value c, Value e) {
      Value key = kb.add(j0, c);
      kb.store(kb.loadOr(kb.lt(key, kEnd), k, {batch, kvh, key, e}, zero), kvs, {c, e});
    });
    kb.barrier();
    forEach(br, bc, [&](Value r, Value c) {
      Value dot = kb.loop(c0, kb.idx(d), 1, {zero}, [&](Value e, ValueRange sum) {
        Value p = kb.fmul(kb.load(qs, {r, e}), kb.load(kvs, {c, e}));
        return SmallVector<Value>{kb.fadd(sum[0], p)};
      })[0];
      Value score = kb.fmul(dot, kb.f32(s.scale));
      if (s.softcap > 0)
        score = kb.fmul(math::TanhOp::create(b, kb.fdiv(score, kb.f32(s.softcap))),
                        kb.f32(s.softcap));
      Value qi = kb.add(q0, r), key = kb.add(j0, c);
      if (mask) {
        SmallVector<Value> at;
        Value full[] = {batch, h, qi, key};
        for (int i = 0; i < 4; ++i)
          at.push_back(s.mask[i] == 1 ? c0 : full[i]);
        Value inRange = kb.both(kb.lt(qi, s.queries), kb.lt(key, s.keys));
        score = kb.fmax(kb.fadd(score, kb.loadOr(inRange, mask, at, zero)), lowest);
      }
      // Signed: with fewer keys than queries a position is negative.
      Value position = kb.add(qi, offset);
      Value masked = arith::ConstantIntOp::create(b, 0, 1);
      if (s.causal)
        masked = arith::OrIOp::create(
            b, masked, arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, key, position));
      if (s.window > 0)
        masked = arith::OrIOp::create(
            b, masked,
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, kb.add(key, s.window - 1),
                                  position));
      kb.store(kb.select(masked, lowest, score), sc, {r, c});
    });
    kb.barrier();
    // The key tile is spent: the value tile takes its place.
    forEach(bc, dv, [&](Value c, Value e) {
      Value key = kb.add(j0, c);
      kb.store(kb.loadOr(kb.lt(key, kEnd), v, {batch, kvh, key, e}, zero), kvs, {c, e});
    });
    // Online softmax, a thread a row: the new max, the weights
    // exp(score - max) (zero past the last key), and the factor that
    // rescales what the row has summed so far.
    kb.loop(tid, kb.idx(br), threads, [&](Value r) {
      Value old = kb.load(stats, {r, c0});
      Value rowMax = kb.loop(c0, kb.idx(bc), 1, {old}, [&](Value c, ValueRange m) {
        Value valid = kb.lt(kb.add(j0, c), kEnd);
        return SmallVector<Value>{kb.select(valid, kb.fmax(m[0], kb.load(sc, {r, c})), m[0])};
      })[0];
      Value sum = kb.loop(c0, kb.idx(bc), 1, {zero}, [&](Value c, ValueRange acc) {
        Value valid = kb.lt(kb.add(j0, c), kEnd);
        Value p = math::ExpOp::create(b, kb.fsub(kb.load(sc, {r, c}), rowMax));
        p = kb.select(valid, p, zero);
        kb.store(p, sc, {r, c});
        return SmallVector<Value>{kb.fadd(acc[0], p)};
      })[0];
      Value rescale = math::ExpOp::create(b, kb.fsub(old, rowMax));
      kb.store(rowMax, stats, {r, c0});
      kb.store(kb.fadd(kb.fmul(kb.load(stats, {r, c1}), rescale), sum), stats, {r, c1});
      kb.store(rescale, stats, {r, c2});
    });
    kb.barrier();
    forEach(br, dv, [&](Value r, Value e) {
      Value start = kb.fmul(kb.load(os, {r, e}), kb.load(stats, {r, c2}));
      Value acc = kb.loop(c0, kb.idx(bc), 1, {start}, [&](Value c, ValueRange sum) {
        return SmallVector<Value>{
            kb.fadd(sum[0], kb.fmul(kb.load(sc, {r, c}), kb.load(kvs, {c, e})))};
      })[0];
      kb.store(acc, os, {r, e});
    });
    kb.barrier();
  });

  forEach(br, dv, [&](Value r, Value e) {
    Value qi = kb.add(q0, r);
    kb.when(kb.lt(qi, s.queries), [&] {
      if (splits == 1) {
        kb.store(kb.fdiv(kb.load(os, {r, e}), kb.load(stats, {r, c1})), arg(outArg),
                 {batch, h, qi, e});
        return;
      }
      kb.store(kb.load(os, {r, e}), arg(outArg), {batch, h, split, qi, e});
      kb.when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, e, c0), [&] {
        kb.store(kb.load(stats, {r, c0}), arg(outArg + 1), {batch, h, split, qi, c0});
        kb.store(kb.load(stats, {r, c1}), arg(outArg + 1), {batch, h, split, qi, c1});
      });
    });
  });
  return kernel;
}

Kernel prism::gpu::buildAttentionCombineKernel(KernelModule &kernels, Location loc,
                                               const AttentionShape &s, int64_t splits) {
  ImplicitLocOpBuilder b = kernels.builder(loc);
  MLIRContext *ctx = b.getContext();
  KernelBuilder kb(b);
  Kernel kernel;
  kernel.func = createKernel(
      b, kernels.uniqueName("attention_combine"),
      {f32Result(ctx, {s.batch, s.heads, splits, s.queries, s.valueDim}),
       f32Result(ctx, {s.batch, s.heads, splits, s.queries, 2}),
       f32Result(ctx, {s.batch, s.heads, s.queries, s.valueDim})});
  // A block a (batch, head, query) row, a thread per output element.
  kernel.grid[0] = s.queries;
  kernel.grid[1] = s.heads;
  kernel.grid[2] = s.batch;
  kernel.block[0] = std::min<int64_t>(s.valueDim, 1024);
  Value partial = kernel.func.getArgument(0), stats = kernel.func.getArgument(1),
        out = kernel.func.getArgument(2);
  Value qi = kb.blockId(mlir::gpu::Dimension::x), h = kb.blockId(mlir::gpu::Dimension::y),
        batch = kb.blockId(mlir::gpu::Dimension::z);
  Value c0 = kb.idx(0), c1 = kb.idx(1);
  kb.loop(kb.threadId(), kb.idx(s.valueDim), kernel.block[0], [&](Value e) {
    Value rowMax = kb.loop(c0, kb.idx(splits), 1, {kb.f32(kLowest)}, [&](Value p, ValueRange m) {
      return SmallVector<Value>{kb.fmax(m[0], kb.load(stats, {batch, h, p, qi, c0}))};
    })[0];
    auto sums = kb.loop(c0, kb.idx(splits), 1, {kb.f32(0), kb.f32(0)},
                        [&](Value p, ValueRange acc) {
      Value w = math::ExpOp::create(b, kb.fsub(kb.load(stats, {batch, h, p, qi, c0}), rowMax));
      return SmallVector<Value>{
          kb.fadd(acc[0], kb.fmul(w, kb.load(stats, {batch, h, p, qi, c1}))),
          kb.fadd(acc[1], kb.fmul(w, kb.load(partial, {batch, h, p, qi, e})))};
    });
    kb.store(kb.fdiv(sums[1], sums[0]), out, {batch, h, qi, e});
  });
  return kernel;
}
