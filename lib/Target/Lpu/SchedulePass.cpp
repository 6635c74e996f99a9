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
namespace sim = prism::sim;

namespace {

/// A stream register as the dialect numbers them: e0-e31, then w0-w31.
int32_t registerOf(const sim::lpu::Stream &s, const Machine &m) {
  return s.dir == 'e' ? s.index : (int32_t)m.streams + s.index;
}

struct LpuSchedulePass : prism::impl::LpuScheduleBase<LpuSchedulePass> {
  void runOnOperation() override {
    ProgramOp programOp = getOperation();
    Program program;
    program.machine = machineOf(programOp);
    const Machine &m = program.machine;
    Scheduler scheduler(program);
    // Each chain's start and the cycle its results can be read.
    DenseMap<Value, std::pair<int64_t, int64_t>> times;
    DenseMap<Value, int> ids; // a chain's streams, reused
    times.reserve(programOp.getBlock().getOperations().size());
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
      auto idsOf = [&](ValueRange values) {
        std::vector<int> out;
        for (Value v : values)
          out.push_back(ids.lookup(v));
        return out;
      };
      auto name = [&](ValueRange results, ArrayRef<int> streams) {
        for (auto [v, id] : llvm::zip(results, streams))
          ids[v] = id;
      };
      for (Operation &op : chainOp.getBlock()) {
        llvm::TypeSwitch<Operation *>(&op)
            .Case([&](ReadOp r) {
              name(r.getResults(), chain.read(r.getSlice(), r.getAddress(), r.getCount(),
                                              r.getResults().size(), r.getStride(),
                                              r.getChip()));
            })
            .Case([&](WriteOp w) {
              chain.write(idsOf(w.getValues()), w.getSlice(), w.getAddress(), w.getStride());
            })
            .Case([&](GatherOp g) {
              name(g->getResults(),
                   {chain.gather(g.getSlice(), g.getAddress(), g.getBytesPerIndex(),
                                 g.getFirst(), g.getRows(), ids.lookup(g.getIndex()))});
            })
            .Case([&](VxmOp v) {
              std::optional<double> imm;
              if (auto attr = v.getImmediateAttr())
                imm = attr.getValueAsDouble();
              name(v->getResults(), {chain.vxm(v.getOp(), v.getDtype(), idsOf(v.getOperands()),
                                              imm, v.getToDtype(), v.getParam())});
            })
            .Case([&](SxmOp s) {
              name(s->getResults(), {chain.sxm(s.getOp(), s.getDtype(), s.getParam(),
                                              ids.lookup(s.getOperand()))});
            })
            .Case([&](LoadOp l) { chain.load(l.getDtype(), l.getColumns(), idsOf(l.getTile())); })
            .Case([&](MatmulOp mm) {
              name(mm.getResults(), chain.matmul(mm.getDtype(), ids.lookup(mm.getActivation()),
                                                idsOf(mm.getPartials()),
                                                mm.getResults().size()));
            })
            .Case([&](TransferOp t) {
              name(t->getResults(), {chain.transfer(ids.lookup(t.getOperand()), t.getToChip())});
            });
      }
      size_t first = program.instructions.size();
      llvm::Expected<int64_t> done = scheduler.place(chain, ready);
      if (!done) {
        chainOp.emitOpError() << "cannot be scheduled: " << llvm::toString(done.takeError());
        return signalPassFailure();
      }
      times[chainOp.getDone()] = {scheduler.lastStart(), *done};
      chainOp.setStart(scheduler.lastStart());

      // The placed instructions, in the order of the chain's ops (a
      // transfer is a send and a receive).
      auto next = program.instructions.begin() + first;
      auto regs = [&](const Instruction &in) {
        SmallVector<int32_t> out;
        for (const sim::lpu::Stream &s : in.out)
          out.push_back(registerOf(s, m));
        return out;
      };
      OpBuilder b(chainOp.getContext());
      for (Operation &op : chainOp.getBlock()) {
        const Instruction &in = *next++;
        auto set = [&](auto inst, const Instruction &withOutputs) {
          inst.setCycle(in.cycle);
          if (in.unit != sim::lpu::Unit::Mem)
            inst.setUnit(in.unitIndex);
          if (in.unit == sim::lpu::Unit::Mxm)
            inst.setBuffer(in.param);
          if (op.getNumResults())
            inst.setStreamsAttr(b.getDenseI32ArrayAttr(regs(withOutputs)));
        };
        llvm::TypeSwitch<Operation *>(&op)
            .Case([&](TransferOp t) { set(t, *next++); })
            .Case<ReadOp, WriteOp, GatherOp, VxmOp, SxmOp, LoadOp, MatmulOp>(
                [&](auto inst) { set(inst, in); });
      }
      program.instructions.clear();
    }
  }
};

} // namespace
