//===- Scheduler.h - Cycle-exact list scheduling for the LPU -----*- C++ -*-===//
//
// The LPU's static scheduler. Work comes as chains: a few instructions
// linked through streams with fixed relative offsets (MEM reads feeding a
// vector ALU feeding a MEM write, say). `place` finds the earliest cycle at
// or after a chain's ready cycle where every unit, stream, weight buffer and
// link it needs is free for the cycles it needs them, picks the free ALU,
// SXM, MXM plane/buffer and stream indices, and appends the timed
// instructions to the program. Placing in a fixed order makes the schedule
// deterministic: the same chains give a byte-identical program. lpu-schedule
// rebuilds each lpu.chain as a Chain, places it and writes the placement
// back onto the ops.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_LPU_SCHEDULER_H
#define PRISM_TARGET_LPU_SCHEDULER_H

#include "prism/Sim/Lpu/Program.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <vector>

namespace prism::lpu {

using sim::lpu::Instruction;
using sim::lpu::Machine;
using sim::lpu::Program;
using sim::lpu::Unit;

/// A chain under construction. Streams are chain-local ids; an instruction
/// consuming streams runs in the cycle its operands appear, and MEM reads
/// (whose timing is free) are placed to deliver exactly then.
class Chain {
public:
  explicit Chain(int64_t chip) : defaultChip(chip) {}

  /// MEM: `width` slices from `slice` read `count` vectors each from
  /// `address` (advancing `stride` bytes a cycle); one stream per slice.
  std::vector<int> read(int64_t slice, int64_t address, int64_t count,
                        int64_t width = 1, int64_t stride = 320, int64_t chip = -1);
  int read1(int64_t slice, int64_t address, int64_t count, int64_t stride = 320,
            int64_t chip = -1) {
    return read(slice, address, count, 1, stride, chip)[0];
  }
  void write(const std::vector<int> &streams, int64_t slice, int64_t address,
             int64_t stride = 320);
  /// Rows [first, first + rows) of a table, `bytesPerIndex` apart from
  /// `base`; an index outside them reads zeros.
  int gather(int64_t slice, int64_t base, int64_t bytesPerIndex, int64_t first,
             int64_t rows, int index);
  /// VXM: binary (two streams, or a stream and an immediate), unary, cvt.
  /// `at`: the cycle offset its operands appear when they all come from
  /// MEM reads (default: the chain's first).
  int vxm(llvm::StringRef op, llvm::StringRef dtype, std::vector<int> in,
          std::optional<double> immediate = std::nullopt, llvm::StringRef toDtype = "",
          int64_t param = 0, std::optional<int64_t> at = std::nullopt);
  /// The cycle offset a stream's vector appears (computed streams only).
  int64_t appearsAt(int stream) const { return streams[stream].at; }
  int sxm(llvm::StringRef op, llvm::StringRef dtype, int64_t param, int in);
  /// MXM: load a weight tile (rows or columns) from `streams`; the chain's
  /// matmuls use the plane and buffer the load is given.
  void load(llvm::StringRef dtype, bool columns, const std::vector<int> &streams);
  /// One activation stream against the loaded tile, plus optional partial
  /// sums; `outputs` streams of 80 columns each.
  std::vector<int> matmul(llvm::StringRef dtype, int activation,
                          const std::vector<int> &partials, int64_t outputs);
  /// C2C: send a stream to another chip; the vector arrives there on a
  /// stream `latency` cycles later.
  int transfer(int stream, int64_t toChip);

  /// What is wrong with the chain (empty when nothing): operands of one
  /// instruction that appear in different cycles, a read nothing consumes.
  const std::string &error() const { return problem; }

private:
  friend class Scheduler;
  struct Node {
    Unit unit;
    llvm::StringRef op, dtype, toDtype; // interned
    int64_t chip;
    int64_t slice = -1; // MEM: fixed first slice
    int64_t width = 1, count = 1;
    int64_t offset = INT64_MIN; // relative to the chain's start
    llvm::SmallVector<int, 4> in, out; // inline: millions of nodes
    int64_t address = 0, stride = 320, param = 0, first = 0, rows = 0;
    std::optional<double> immediate;
    bool columns = false;
    int64_t toChip = -1;
    int64_t port = -1; // C2C port (picked)
    bool mxm = false;  // uses the chain's plane and buffer
  };
  struct StreamVar {
    int producer;
    int64_t chip;
    int64_t at = INT64_MIN; // cycle offset it appears
    int64_t count = 1;
  };
  int newStream(int producer, int64_t chip, int64_t count);
  int64_t consume(Node &node, std::optional<int64_t> hint = std::nullopt);
  int add(Node node);
  std::vector<int> compute(Node node, int64_t latency, int64_t outputs,
                           std::optional<int64_t> hint = std::nullopt);

  int64_t defaultChip;
  std::string problem;
  int64_t loadEnd = 1;
  std::vector<Node> nodes;
  std::vector<StreamVar> streams;
  const Machine *machine = nullptr;
};

class Scheduler {
public:
  explicit Scheduler(Program &program);

  /// A chain to build for this program's machine.
  Chain chain(int64_t chip);
  /// Places the chain at the earliest cycle >= `ready` where all it needs is
  /// free; returns the cycle after its last MEM write (when its results can
  /// be read), or after its last instruction. A chain no placement can meet
  /// (it uses one slice or link twice at once, or needs more units at once
  /// than the chip has) is an error.
  llvm::Expected<int64_t> place(Chain &chain, int64_t ready);

  /// The last cycle any instruction runs or any result appears, plus one.
  int64_t makespan() const { return end; }
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

  Program &program;
  const Machine &machine;
  std::vector<std::vector<Intervals>> tables; // per chip, per resource
  std::vector<int64_t> offsets;                // first resource of each kind
  int64_t end = 0, start = 0;
};

} // namespace prism::lpu

#endif // PRISM_TARGET_LPU_SCHEDULER_H
