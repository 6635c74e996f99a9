//===- Passes.td - LPU target passes -----------------------*- tablegen -*-===//

#ifndef PRISM_TARGET_LPU_PASSES
#define PRISM_TARGET_LPU_PASSES

include "mlir/Pass/PassBase.td"

def LpuSchedule : Pass<"lpu-schedule", "::prism::lpu::ProgramOp"> {
  let summary = "Place every lpu.chain in time: the cycle-exact static schedule";
  let description = [{
    Takes the chains in program order. Each starts at the earliest cycle,
    no earlier than the chains of its `after` tokens are done (and than its
    `not_before` chain starts), where every resource it needs is free for
    the cycles it needs it: MEM slices (one access a cycle), vector ALUs,
    switch units, MXM planes with their load and compute queues and weight
    buffers (a tile is held from its load to its last matmul, so the second
    buffer loads while the first computes), stream registers (one producer
    a cycle), and C2C ports at both ends of a link. A chain's MEM reads
    float to deliver their vectors the cycle they are consumed.

    The result is the scheduled level: each instruction's `cycle`, `unit`,
    `buffer` and result `streams`, and each chain's `start`. The same input
    gives the same schedule. A chain no schedule can meet is an error: at
    the instruction whose operands appear in different cycles, or at the
    chain when it uses a slice twice at once or needs more units than the
    chip has.
  }];
}

#endif // PRISM_TARGET_LPU_PASSES
