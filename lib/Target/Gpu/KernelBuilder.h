//===- KernelBuilder.h - Short hands for writing kernel bodies ----*- C++ -*-===//
//
// Index arithmetic, guarded loads and structured loops, so that the kernel
// builders read like the kernels they write.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_LIB_TARGET_GPU_KERNELBUILDER_H
#define PRISM_LIB_TARGET_GPU_KERNELBUILDER_H

#include "prism/Target/Gpu/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <functional>

namespace prism::gpu {

class KernelBuilder {
public:
  explicit KernelBuilder(mlir::ImplicitLocOpBuilder &b) : b(b) {}

  mlir::ImplicitLocOpBuilder &b;

  mlir::Value idx(int64_t v) { return mlir::arith::ConstantIndexOp::create(b, v); }
  mlir::Value f32(double v) {
    return mlir::arith::ConstantFloatOp::create(b, b.getF32Type(), llvm::APFloat(float(v)));
  }
  mlir::Value add(mlir::Value x, mlir::Value y) { return mlir::arith::AddIOp::create(b, x, y); }
  mlir::Value add(mlir::Value x, int64_t y) { return y ? add(x, idx(y)) : x; }
  mlir::Value sub(mlir::Value x, mlir::Value y) { return mlir::arith::SubIOp::create(b, x, y); }
  mlir::Value mul(mlir::Value x, mlir::Value y) { return mlir::arith::MulIOp::create(b, x, y); }
  mlir::Value mul(mlir::Value x, int64_t y) { return y == 1 ? x : mul(x, idx(y)); }
  mlir::Value div(mlir::Value x, int64_t y) {
    return y == 1 ? x : mlir::Value(mlir::arith::DivUIOp::create(b, x, idx(y)));
  }
  mlir::Value rem(mlir::Value x, int64_t y) { return mlir::arith::RemUIOp::create(b, x, idx(y)); }
  mlir::Value lt(mlir::Value x, mlir::Value y) {
    return mlir::arith::CmpIOp::create(b, mlir::arith::CmpIPredicate::ult, x, y);
  }
  mlir::Value lt(mlir::Value x, int64_t y) { return lt(x, idx(y)); }
  mlir::Value gt(mlir::Value x, mlir::Value y) {
    return mlir::arith::CmpIOp::create(b, mlir::arith::CmpIPredicate::ugt, x, y);
  }
  mlir::Value both(mlir::Value x, mlir::Value y) { return mlir::arith::AndIOp::create(b, x, y); }
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y) {
    return mlir::arith::SelectOp::create(b, c, x, y);
  }

  mlir::Value fadd(mlir::Value x, mlir::Value y) { return mlir::arith::AddFOp::create(b, x, y); }
  mlir::Value fsub(mlir::Value x, mlir::Value y) { return mlir::arith::SubFOp::create(b, x, y); }
  mlir::Value fmul(mlir::Value x, mlir::Value y) { return mlir::arith::MulFOp::create(b, x, y); }
  mlir::Value fdiv(mlir::Value x, mlir::Value y) { return mlir::arith::DivFOp::create(b, x, y); }
  mlir::Value fmax(mlir::Value x, mlir::Value y) { return mlir::arith::MaximumFOp::create(b, x, y); }
  /// `x` as f32 (from bf16 or f32).
  mlir::Value toF32(mlir::Value x) {
    return x.getType().isF32() ? x : mlir::Value(mlir::arith::ExtFOp::create(b, b.getF32Type(), x));
  }

  mlir::Value threadId() { return mlir::gpu::ThreadIdOp::create(b, mlir::gpu::Dimension::x); }
  mlir::Value blockId(mlir::gpu::Dimension d) { return mlir::gpu::BlockIdOp::create(b, d); }
  void barrier() { mlir::gpu::BarrierOp::create(b); }

  mlir::Value load(mlir::Value mem, mlir::ValueRange at) {
    return mlir::memref::LoadOp::create(b, mem, at);
  }
  void store(mlir::Value v, mlir::Value mem, mlir::ValueRange at) {
    mlir::memref::StoreOp::create(b, v, mem, at);
  }
  /// `mem[at]` where `inBounds`, else `fallback` (the load is not issued).
  mlir::Value loadOr(mlir::Value inBounds, mlir::Value mem, mlir::ValueRange at,
                     mlir::Value fallback) {
    auto ifOp = mlir::scf::IfOp::create(b, fallback.getType(), inBounds, true);
    {
      mlir::OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      mlir::scf::YieldOp::create(b, load(mem, at));
      b.setInsertionPointToStart(ifOp.elseBlock());
      mlir::scf::YieldOp::create(b, fallback);
    }
    return ifOp.getResult(0);
  }
  /// `body()` where `cond` holds.
  void when(mlir::Value cond, const std::function<void()> &body) {
    auto ifOp = mlir::scf::IfOp::create(b, cond, false);
    mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body();
  }
  /// for (i = lb; i < ub; i += step) body(i)
  void loop(mlir::Value lb, mlir::Value ub, int64_t step,
            const std::function<void(mlir::Value)> &body) {
    auto forOp = mlir::scf::ForOp::create(b, lb, ub, idx(step));
    mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    body(forOp.getInductionVar());
  }
  /// The same with loop-carried values: `body(i, carried)` returns the next.
  llvm::SmallVector<mlir::Value>
  loop(mlir::Value lb, mlir::Value ub, int64_t step, mlir::ValueRange inits,
       const std::function<llvm::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)> &body) {
    auto forOp = mlir::scf::ForOp::create(b, lb, ub, idx(step), inits);
    {
      mlir::OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forOp.getBody());
      if (!forOp.getBody()->empty() && forOp.getBody()->back().hasTrait<mlir::OpTrait::IsTerminator>())
        b.setInsertionPoint(&forOp.getBody()->back());
      auto next = body(forOp.getInductionVar(), forOp.getRegionIterArgs());
      if (forOp.getBody()->empty() ||
          !forOp.getBody()->back().hasTrait<mlir::OpTrait::IsTerminator>())
        mlir::scf::YieldOp::create(b, next);
    }
    return llvm::SmallVector<mlir::Value>(forOp.getResults());
  }

  /// Each thread's `v` combined over the block (`warps` warps): within each
  /// warp by butterfly shuffles, then across warps through `slots` (a
  /// shared [warps, 1] buffer); every thread gets the result.
  mlir::Value blockAllReduce(mlir::Value v, mlir::Value slots, int64_t warps,
                             const std::function<mlir::Value(mlir::Value, mlir::Value)> &combine) {
    for (int32_t offset = 16; offset > 0; offset /= 2)
      v = combine(v, mlir::gpu::ShuffleOp::create(b, v, offset, 32, mlir::gpu::ShuffleMode::XOR)
                         .getShuffleResult());
    mlir::Value tid = threadId(), c0 = idx(0);
    // The slots are read back by every thread before they are written again.
    barrier();
    when(mlir::arith::CmpIOp::create(b, mlir::arith::CmpIPredicate::eq, rem(tid, 32), c0),
         [&] { store(v, slots, {div(tid, 32), c0}); });
    barrier();
    return loop(idx(1), idx(warps), 1, {load(slots, {c0, c0})},
                [&](mlir::Value w, mlir::ValueRange acc) {
                  return llvm::SmallVector<mlir::Value>{combine(acc[0], load(slots, {w, c0}))};
                })[0];
  }
};

/// A gpu.func kernel named `name` taking `args`, with `workgroup` buffers
/// in shared memory; the builder is left at the start of its body.
mlir::gpu::GPUFuncOp createKernel(mlir::ImplicitLocOpBuilder &b, llvm::StringRef name,
                                  mlir::TypeRange args,
                                  mlir::TypeRange workgroup = {});

/// Element (row, col) of a matmul's product `acc` stored: C[row, col] +=
/// acc into `args[0]` without an epilogue; with one, its value into its
/// output (`args` are then the epilogue's operands()).
void storeProduct(KernelBuilder &kb, const Epilogue *epilogue, mlir::ValueRange args,
                  mlir::Value row, mlir::Value col, mlir::Value acc);

/// A shared-memory buffer type.
mlir::MemRefType sharedBuffer(llvm::ArrayRef<int64_t> shape, mlir::Type element);

} // namespace prism::gpu

#endif // PRISM_LIB_TARGET_GPU_KERNELBUILDER_H
