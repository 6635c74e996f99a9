//===- Program.h - The LPU program text format and its simulator -*- C++ -*-===//
//
// A program for Prism's abstract SRAM-LPU (../shared/hardware/machines.md,
// section 1; docs/lpu-program.md): per-chip timed instructions on MEM
// slices, vector ALUs and chip-to-chip links, moving 320-byte vectors
// through streams. The simulator checks every timing and resource rule
// before it executes anything, then runs the program bit-accurately and
// reports cycles and utilisation. It reads only the program format, not
// compiler internals.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_SIM_LPU_PROGRAM_H
#define PRISM_SIM_LPU_PROGRAM_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prism::sim::lpu {

/// Bytes of a vector (one stream slot): 320 lanes of a byte.
inline constexpr int64_t kVectorBytes = 320;

struct Machine {
  int64_t chips = 1;
  double clockMhz = 900;
  int64_t slices = 88;
  int64_t sliceBytes = 2621440; // 2.5 MiB: 88 slices hold 220 MiB
  int64_t streams = 32;         // per direction
  int64_t ports = 16;           // C2C links per chip
  std::map<std::string, int64_t> latency = {
      {"mem.read", 1}, {"mem.write", 1}, {"vxm", 2}, {"c2c", 100}};
};

/// A stream slot: direction ('e' or 'w') and index, as "e3".
struct Stream {
  char dir = 'e';
  int64_t index = 0;
  std::string str() const { return std::string(1, dir) + std::to_string(index); }
  bool operator<(const Stream &o) const {
    return dir != o.dir ? dir < o.dir : index < o.index;
  }
  bool operator==(const Stream &o) const { return dir == o.dir && index == o.index; }
};

struct Instruction {
  int64_t line = 0, cycle = 0, chip = 0;
  std::string unit;   // "mem", "vxm", "c2c"
  int64_t unitIndex = 0; // slice, ALU or port
  std::string op;     // "read", "write", "add.f32", "send", "recv", ...
  std::vector<Stream> in, out;
  int64_t address = 0;
  int64_t toChip = 0, toPort = 0;
  std::string text;
};

struct Data {
  int64_t line = 0, chip = 0, slice = 0, address = 0;
  std::string dtype;
  std::vector<double> values;
};

struct Program {
  Machine machine;
  std::vector<Instruction> instructions;
  std::vector<Data> data, dumps;
};

/// Parses the text form; errors name the line.
llvm::Expected<Program> parseProgram(llvm::StringRef text, llvm::StringRef origin);

/// Checks every rule (one producer per stream slot, operands arriving on
/// their consume cycle, SRAM bounds, one transfer per link per cycle, each
/// receive matched by a send) and reports the first violation, naming the
/// cycle, chip, unit and instruction.
llvm::Error checkProgram(const Program &program);

/// Runs a checked program and prints the dumped vectors and the report
/// (cycles, time, per-unit busy share, SRAM used per chip, link use).
llvm::Error runProgram(const Program &program, llvm::raw_ostream &os);

} // namespace prism::sim::lpu

#endif // PRISM_SIM_LPU_PROGRAM_H
