//===- NormKernels.cpp - Fused row normalization and rotary embedding -----===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace prism::gpu;

Kernel prism::gpu::buildNormKernel(KernelModule &kernels, Location loc, const NormShape &s) {
  ImplicitLocOpBuilder b = kernels.builder(loc);
  KernelBuilder kb(b);
  Type f32 = b.getF32Type();
  const int64_t threads = std::min<int64_t>(256, (s.width + 31) / 32 * 32);
  const int64_t warps = threads / 32;
  SmallVector<Type> args = {anyLayout({s.rows, s.width}, f32)};
  if (s.residual)
    args.push_back(anyLayout({s.rows, s.width}, f32));
  args.push_back(anyLayout({s.width}, f32));
  if (s.bias)
    args.push_back(anyLayout({s.width}, f32));
  args.push_back(MemRefType::get({s.rows, s.width}, f32));
  if (s.residual)
    args.push_back(MemRefType::get({s.rows, s.width}, f32));
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName(s.rms ? "rms_norm" : "layer_norm"),
                             args, {sharedBuffer({warps, 1}, f32)});
  kernel.grid[0] = s.rows;
  kernel.block[0] = threads;
  unsigned next = 0;
  auto arg = [&]() { return kernel.func.getArgument(next++); };
  Value x = arg(), residual = s.residual ? arg() : Value(), scale = arg(),
        bias = s.bias ? arg() : Value(), y = arg(), sum = s.residual ? arg() : Value();
  Value partial = kernel.func.getWorkgroupAttributions()[0];

  Value row = kb.blockId(mlir::gpu::Dimension::x), tid = kb.threadId();
  Value zero = kb.f32(0);
  // The row's element: x (+ residual, whose sum is written out by the
  // first pass).
  auto element = [&](Value col, bool writeSum) {
    Value v = kb.load(x, {row, col});
    if (residual) {
      v = kb.fadd(v, kb.load(residual, {row, col}));
      if (writeSum)
        kb.store(v, sum, {row, col});
    }
    return v;
  };
  // The row's sum of f(element): each thread's, then the warp's
  // (shuffles), then the block's (a slot per warp in shared memory).
  auto rowSum = [&](const std::function<Value(Value)> &f) {
    Value v = kb.loop(tid, kb.idx(s.width), threads, {zero}, [&](Value col, ValueRange acc) {
      return SmallVector<Value>{kb.fadd(acc[0], f(col))};
    })[0];
    return kb.blockAllReduce(v, partial, warps, [&](Value x, Value y) { return kb.fadd(x, y); });
  };
  Value n = kb.f32(double(s.width));
  // Two passes for the variance (no E[x^2] - mean^2 cancellation); the
  // residual sum is written out by the first.
  Value mean = zero;
  if (!s.rms)
    mean = kb.fdiv(rowSum([&](Value col) { return element(col, true); }), n);
  Value variance = kb.fdiv(rowSum([&](Value col) {
                             Value v = kb.fsub(element(col, s.rms), mean);
                             return kb.fmul(v, v);
                           }),
                           n);
  Value inverse = math::RsqrtOp::create(b, kb.fadd(variance, kb.f32(s.epsilon)));
  kb.loop(tid, kb.idx(s.width), threads, [&](Value col) {
    Value v = kb.fmul(kb.fmul(kb.fsub(element(col, false), mean), inverse),
                      kb.load(scale, {col}));
    if (bias)
      v = kb.fadd(v, kb.load(bias, {col}));
    kb.store(v, y, {row, col});
  });
  return kernel;
}

Kernel prism::gpu::buildRotaryKernel(KernelModule &kernels, Location loc,
                                     const RotaryShape &s) {
  ImplicitLocOpBuilder b = kernels.builder(loc);
  KernelBuilder kb(b);
  Type f32 = b.getF32Type();
  const int64_t total = s.outer * s.positions * s.width, threads = 256;
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName("rotary"),
                             {anyLayout({s.outer, s.positions, s.width}, f32),
                              anyLayout({s.cosOuter, s.positions, s.rotated}, f32),
                              anyLayout({s.cosOuter, s.positions, s.rotated}, f32),
                              MemRefType::get({s.outer, s.positions, s.width}, f32)});
  kernel.grid[0] = (total + threads - 1) / threads;
  kernel.block[0] = threads;
  Value x = kernel.func.getArgument(0), cos = kernel.func.getArgument(1),
        sin = kernel.func.getArgument(2), y = kernel.func.getArgument(3);
  Value e = kb.add(kb.mul(kb.blockId(mlir::gpu::Dimension::x), threads), kb.threadId());
  kb.when(kb.lt(e, total), [&] {
    Value d = kb.rem(e, s.width);
    Value p = kb.rem(kb.div(e, s.width), s.positions);
    Value o = kb.div(e, s.width * s.positions);
    Value v = kb.load(x, {o, p, d});
    auto rotatedValue = [&] {
      // The partner element and the sign of its contribution.
      Value partner, negate;
      if (s.interleaved) {
        Value even = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kb.rem(d, 2), kb.idx(0));
        partner = kb.select(even, kb.add(d, 1), kb.sub(d, kb.idx(1)));
        negate = even;
      } else {
        Value low = kb.lt(d, s.rotated / 2);
        partner = kb.select(low, kb.add(d, s.rotated / 2), kb.sub(d, kb.idx(s.rotated / 2)));
        negate = low;
      }
      Value other = kb.load(x, {o, p, partner});
      other = kb.select(negate, arith::NegFOp::create(b, other), other);
      Value co = s.cosOuter == 1 ? kb.idx(0) : o;
      return kb.fadd(kb.fmul(v, kb.load(cos, {co, p, d})), kb.fmul(other, kb.load(sin, {co, p, d})));
    };
    if (s.rotated == s.width) {
      kb.store(rotatedValue(), y, {o, p, d});
      return;
    }
    // Past the rotated part, elements pass through.
    auto ifOp = scf::IfOp::create(b, f32, kb.lt(d, s.rotated), true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, rotatedValue());
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, v);
    }
    kb.store(ifOp.getResult(0), y, {o, p, d});
  });
  return kernel;
}
