//===- FlattenParallelLoops.cpp - The gpu-flatten-parallel-loops pass -----===//
//
// gpu-map-parallel-loops puts the first three dims of a parallel loop on
// blocks and only a nested loop's on threads; linalg's loops are one
// parallel loop, so each block ran one thread and dims past the third ran
// sequentially in it (a [1, 1, 1, 2, 32, 16] copy was one thread doing
// 1024 iterations). Each such loop becomes a linear index over all its
// iterations, split into blocks of up to 256 threads, the original indices
// recovered from it.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Gpu/Passes.h"

#include "mlir/IR/Matchers.h"

namespace prism {
#define GEN_PASS_DEF_GPUFLATTENPARALLELLOOPS
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

/// Threads a block: up to 256, fewer for small loops (whole warps).
constexpr int64_t kMaxThreads = 256;

std::optional<int64_t> constant(Value v) {
  APInt value;
  if (!matchPattern(v, m_ConstantInt(&value)))
    return std::nullopt;
  return value.getSExtValue();
}

void flatten(scf::ParallelOp loop) {
  SmallVector<int64_t> dims;
  int64_t total = 1;
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    auto l = constant(lb), u = constant(ub), s = constant(step);
    if (!l || !u || !s || *l != 0 || *s != 1 || *u <= 0)
      return;
    dims.push_back(*u);
    total *= *u;
  }
  int64_t threads = std::min<int64_t>(kMaxThreads, (total + 31) / 32 * 32);
  int64_t blocks = (total + threads - 1) / threads;
  ImplicitLocOpBuilder b(loop.getLoc(), loop);
  auto idx = [&](int64_t v) { return Value(arith::ConstantIndexOp::create(b, v)); };
  Value zero = idx(0), one = idx(1);
  auto outer = scf::ParallelOp::create(b, ValueRange{zero}, ValueRange{idx(blocks)},
                                       ValueRange{one});
  b.setInsertionPointToStart(outer.getBody());
  auto inner = scf::ParallelOp::create(b, ValueRange{zero}, ValueRange{idx(threads)},
                                       ValueRange{one});
  b.setInsertionPointToStart(inner.getBody());
  Value linear = arith::AddIOp::create(
      b, arith::MulIOp::create(b, outer.getInductionVars()[0], idx(threads)),
      inner.getInductionVars()[0]);
  auto inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linear, idx(total));
  auto guard = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(guard.thenBlock());
  // The original indices, innermost fastest (row-major).
  int64_t stride = 1;
  SmallVector<Value> ivs(dims.size());
  for (int64_t d = dims.size() - 1; d >= 0; --d) {
    Value q = stride == 1 ? linear : Value(arith::DivUIOp::create(b, linear, idx(stride)));
    ivs[d] = d == 0 ? q : Value(arith::RemUIOp::create(b, q, idx(dims[d])));
    stride *= dims[d];
  }
  Block *body = loop.getBody();
  for (auto [old, now] : llvm::zip(body->getArguments(), ivs))
    old.replaceAllUsesWith(now);
  Block *then = guard.thenBlock();
  then->getOperations().splice(then->getTerminator()->getIterator(), body->getOperations(),
                               body->begin(), std::prev(body->end()));
  loop.erase();
}

struct GpuFlattenParallelLoopsPass
    : prism::impl::GpuFlattenParallelLoopsBase<GpuFlattenParallelLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    // Outermost loops without reductions only (nested ones run in their
    // thread).
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() && loop.getNumResults() == 0)
        loops.push_back(loop);
    });
    for (scf::ParallelOp loop : loops)
      flatten(loop);
  }
};

} // namespace
