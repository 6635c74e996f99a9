//===- Scheduler.h - Cycle-exact list scheduling for the LPU -----*- C++ -*-===//
//
// The LPU's static scheduler. Work comes as chains: a few instructions
// linked through streams with fixed relative offsets (MEM reads feeding a
// vector ALU feeding a MEM write, say). A chain records only what timing
// and resources need: which unit each instruction uses, for how many
// cycles, and which streams link them. `place` finds the earliest cycle at
// or after a chain's ready cycle where every unit, stream, weight buffer and
// link it needs is free for the cycles it needs them, and picks the free
// ALU, SXM, MXM plane/buffer and stream registers. lpu-schedule rebuilds
// each lpu.chain as a Chain, places it and writes the placement back onto
// the ops. Placing in a fixed order makes the schedule deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_LPU_SCHEDULER_H
#define PRISM_TARGET_LPU_SCHEDULER_H

#include "prism/Target/Lpu/Format/Program.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <vector>

namespace prism::lpu {

using sim::lpu::Machine;

/// The machine's latencies, looked up once.
struct Latencies {
  explicit Latencies(const Machine &m);
  int64_t read, write, vxm, sxm, mxm, c2c, linkCycles;
};

/// A chain under construction. Streams are chain-local ids; an instruction
/// consuming streams runs in the cycle its operands appear, and MEM reads
/// (whose timing is free) are placed to deliver exactly then. Each call
/// adds one instruction (a transfer two: its send and its receive).
class Chain {
public:
  /// MEM: `width` slices from `slice` of `chip` (-1: the chain's) each read
  /// `count` vectors, one a cycle; one stream per slice.
  std::vector<int> read(int64_t slice, int64_t count, int64_t width = 1, int64_t chip = -1);
  void write(llvm::ArrayRef<int> in, int64_t slice);
  /// MEM: the table row the index stream selects.
  int gather(int64_t slice, int index);
  /// VXM and SXM: one result stream.
  int vxm(llvm::ArrayRef<int> in);
  int sxm(int in);
  /// MXM: a weight tile from `in`; the chain's matmuls use the plane and
  /// buffer the load is given.
  void load(llvm::ArrayRef<int> in);
  /// One activation stream against the loaded tile, plus partial sums.
  std::vector<int> matmul(int activation, llvm::ArrayRef<int> partials, int64_t outputs);
  /// C2C: the stream sent to another chip, arriving there on a stream.
  int transfer(int stream, int64_t toChip);

  /// Where `place` put each instruction, in the order they were added: the
  /// issue cycle, the unit (ALU, SXM, MXM plane or C2C port; -1 for MEM),
  /// the MXM weight buffer and the result stream registers (e0-e31 as
  /// 0-31, w0-w31 as 32-63).
  struct Placed {
    int64_t cycle = -1, unit = -1, buffer = -1;
    llvm::SmallVector<int32_t, 4> streams;
  };
  llvm::ArrayRef<Placed> placement() const { return placed; }
  /// The instruction whose operands appear in different cycles (-1: none).
  int misaligned() const { return badNode; }

private:
  friend class Scheduler;
  enum class Kind { Read, Write, Gather, Vxm, Sxm, Load, Matmul, Send, Recv };
  Chain(int64_t chip, const Machine &machine, const Latencies &latency)
      : defaultChip(chip), machine(&machine), latency(&latency) {}
  struct Node {
    Kind kind;
    int64_t chip;
    int64_t slice = -1; // MEM: first slice
    int64_t width = 1, count = 1;
    int64_t offset = INT64_MIN; // relative to the chain's start
    llvm::SmallVector<int, 4> in, out; // inline: millions of nodes
    int64_t toChip = -1, port = -1;
  };
  struct StreamVar {
    int producer;
    int64_t chip;
    int64_t at = INT64_MIN; // cycle offset it appears
    int64_t count = 1;
  };
  int newStream(int producer, int64_t chip, int64_t count);
  int64_t consume(Node &node, int64_t hint = 1);
  std::vector<int> compute(Node node, int64_t latency, int64_t outputs, int64_t hint = 1);

  int64_t defaultChip;
  const Machine *machine;
  const Latencies *latency;
  int64_t loadEnd = 1;
  int badNode = -1;
  int64_t badAt[2] = {0, 0};
  std::vector<Node> nodes;
  std::vector<StreamVar> streams;
  std::vector<Placed> placed;
};

class Scheduler {
public:
  explicit Scheduler(const Machine &machine);

  /// A chain to build for this machine.
  Chain chain(int64_t chip) const { return Chain(chip, machine, latency); }
  /// Places the chain at the earliest cycle >= `ready` where all it needs is
  /// free and fills its placement; returns the cycle after its last MEM
  /// write (when its results can be read), or after its last instruction.
  /// A chain no placement can meet (operands appearing in different cycles,
  /// a read nothing consumes, one slice or link used twice at once, more
  /// units at once than the chip has) is an error.
  llvm::Expected<int64_t> place(Chain &chain, int64_t ready);

  /// The cycle the last placed chain starts.
  int64_t lastStart() const { return start; }

private:
  struct Intervals {
    std::map<int64_t, int64_t> spans; // start -> end, disjoint, merged
    /// The end of a span overlapping [start, end), or 0 if none.
    int64_t conflict(int64_t start, int64_t end) const;
    void add(int64_t start, int64_t end);
  };
  Intervals &table(int64_t chip, int kind, int64_t index);

  const Machine &machine;
  Latencies latency;
  std::vector<std::vector<Intervals>> tables; // per chip, per resource
  std::vector<int64_t> offsets;                // first resource of each kind
  int64_t start = 0;
};

} // namespace prism::lpu

#endif // PRISM_TARGET_LPU_SCHEDULER_H
