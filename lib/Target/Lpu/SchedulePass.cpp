//===- SchedulePass.cpp - The lpu-schedule pass ----------------------------===//
//
// Rebuilds each lpu.chain as a scheduler Chain (the ops in order, streams
// by value), places it after the chains it waits for, and writes the
// placement back onto the ops: the scheduled level of the dialect.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Lpu/Passes.h"
#include "prism/Target/Lpu/Scheduler.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

namespace prism {
#define GEN_PASS_DEF_LPUSCHEDULE
#include "prism/Target/Lpu/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism::lpu;

namespace {

struct LpuSchedulePass : prism::impl::LpuScheduleBase<LpuSchedulePass> {
  void runOnOperation() override {
    ProgramOp programOp = getOperation();
    Machine machine = machineOf(programOp);
    Scheduler scheduler(machine);
    // Each chain's start and the cycle its results can be read.
    DenseMap<Value, std::pair<int64_t, int64_t>> times;
    times.reserve(programOp.getBlock().getOperations().size());
    // A chain's streams and the op of each of its instructions (a transfer
    // is two), reused.
    DenseMap<Value, int> ids;
    SmallVector<Operation *> opOf;
    for (ChainOp chainOp : programOp.getBody().getOps<ChainOp>()) {
      if (chainOp.getStart() >= 0) {
        chainOp.emitOpError("is already scheduled");
        return signalPassFailure();
      }
      int64_t ready = 0;
      for (Value token : chainOp.getAfter())
        ready = std::max(ready, times.lookup(token).second);
      if (Value token = chainOp.getNotBefore())
        ready = std::max(ready, times.lookup(token).first);

      Chain chain = scheduler.chain(chainOp.getChip());
      ids.clear();
      opOf.clear();
      SmallVector<int> in;
      auto idsOf = [&](ValueRange values) -> ArrayRef<int> {
        in.clear();
        for (Value v : values)
          in.push_back(ids.lookup(v));
        return in;
      };
      auto name = [&](ValueRange results, ArrayRef<int> streams) {
        for (auto [v, id] : llvm::zip(results, streams))
          ids[v] = id;
      };
      for (Operation &op : chainOp.getBlock()) {
        opOf.push_back(&op);
        llvm::TypeSwitch<Operation *>(&op)
            .Case([&](ReadOp r) {
              name(r.getResults(),
                   chain.read(r.getSlice(), r.getCount(), r.getResults().size(), r.getChip()));
            })
            .Case([&](WriteOp w) { chain.write(idsOf(w.getValues()), w.getSlice()); })
            .Case([&](GatherOp g) {
              name(g->getResults(), {chain.gather(g.getSlice(), ids.lookup(g.getIndex()))});
            })
            .Case([&](VxmOp v) {
              name(v->getResults(), {chain.vxm(idsOf(v.getOperands()))});
            })
            .Case([&](SxmOp x) {
              name(x->getResults(), {chain.sxm(ids.lookup(x.getOperand()))});
            })
            .Case([&](LoadOp l) { chain.load(idsOf(l.getTile())); })
            .Case([&](MatmulOp mm) {
              int activation = ids.lookup(mm.getActivation());
              name(mm.getResults(),
                   chain.matmul(activation, idsOf(mm.getPartials()), mm.getResults().size()));
            })
            .Case([&](TransferOp t) {
              name(t->getResults(), {chain.transfer(ids.lookup(t.getOperand()), t.getToChip())});
              opOf.push_back(&op); // the receive
            });
      }
      llvm::Expected<int64_t> done = scheduler.place(chain, ready);
      if (!done) {
        // At the instruction when one is to blame, else at the chain.
        Operation *at = chain.misaligned() >= 0 ? opOf[chain.misaligned()] : chainOp;
        at->emitOpError() << "cannot be scheduled: " << llvm::toString(done.takeError());
        return signalPassFailure();
      }
      times[chainOp.getDone()] = {scheduler.lastStart(), *done};
      chainOp.setStart(scheduler.lastStart());

      // The placement onto the ops: a transfer's cycle and port are its
      // send's, its result stream its receive's.
      OpBuilder b(chainOp.getContext());
      ArrayRef<Chain::Placed> placed = chain.placement();
      for (auto [i, op] : llvm::enumerate(opOf)) {
        if (i + 1 < opOf.size() && opOf[i + 1] == op)
          continue; // a send: set from its receive below
        const Chain::Placed &p = placed[i];
        const Chain::Placed &issue = isa<TransferOp>(op) ? placed[i - 1] : p;
        auto set = [&](auto inst) {
          inst.setCycle(issue.cycle);
          inst.setUnit(issue.unit);
          inst.setBuffer(issue.buffer);
          if (op->getNumResults())
            inst.setStreamsAttr(b.getDenseI32ArrayAttr(p.streams));
        };
        llvm::TypeSwitch<Operation *>(op)
            .Case<ReadOp, WriteOp, GatherOp, VxmOp, SxmOp, LoadOp, MatmulOp, TransferOp>(
                [&](auto inst) { set(inst); });
      }
    }
  }
};

} // namespace
