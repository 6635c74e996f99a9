//===- Program.h - The LPU program format ------------------------*- C++ -*-===//
//
// A program for Prism's abstract SRAM-LPU (../shared/hardware/machines.md,
// section 1; docs/lpu-program.md): per-chip timed instructions on MEM
// slices, vector ALUs (VXM), switch units (SXM), matrix planes (MXM) and
// chip-to-chip links, moving 320-byte vectors through streams. An
// instruction may repeat over consecutive cycles (`xN`) and a MEM
// instruction may span consecutive slices (`slice+K`), the text's
// compression of the machine's per-queue repeat. The simulator checks every
// timing and resource rule before it executes anything, then runs the
// program bit-accurately (or only checks and times it) and reports cycles
// and utilisation. This library (no MLIR) is the format: the structs, the
// text and binary readers and writers, and the machine's rules
// (checkProgram), shared by the LPU emitter, which writes it, and the
// simulator (prism/Sim/Lpu/Simulator.h), which reads and runs it.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_LPU_FORMAT_PROGRAM_H
#define PRISM_TARGET_LPU_FORMAT_PROGRAM_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace prism::sim::lpu {

/// Bytes of a vector (one stream slot): 320 lanes of a byte.
inline constexpr int64_t kVectorBytes = 320;
/// Output columns of an MXM weight tile (its rows are one vector's lanes).
inline constexpr int64_t kTileColumns = 320;

/// A name (an op or dtype) that stays valid as long as the process: the
/// instructions refer to them instead of owning strings.
llvm::StringRef intern(llvm::StringRef name);

/// Lanes of a vector of `dtype` (i8, f16, i32, f32); 0 for anything else.
int64_t lanes(llvm::StringRef dtype);

struct Machine {
  int64_t chips = 1;
  double clockMhz = 900;
  int64_t slices = 88;
  int64_t sliceBytes = 2621440; // 2.5 MiB: 88 slices hold 220 MiB
  int64_t streams = 32;         // per direction
  int64_t ports = 16;           // C2C links per chip
  int64_t alus = 16;            // VXM ALUs
  int64_t sxms = 4;             // SXM units
  int64_t planes = 4;           // MXM planes, two weight buffers each
  int64_t planeStreams = 16;    // streams one MXM weight load takes per cycle
  int64_t tokens = 1;           // tokens the program produces (time per token)
  bool shapeOnly = false;       // weights absent: only --timing-only runs it
  std::map<std::string, int64_t> latency = {
      {"mem.read", 1}, {"mem.write", 1}, {"vxm", 2},
      {"sxm", 2},      {"mxm", 4},       {"c2c", 100}, {"c2c.vector", 1}};
};

/// A stream slot: direction ('e' or 'w') and index, as "e3".
struct Stream {
  char dir = 'e';
  int32_t index = 0;
  std::string str() const { return std::string(1, dir) + std::to_string(index); }
  Stream operator+(int64_t k) const { return {dir, (int32_t)(index + k)}; }
  bool operator<(const Stream &o) const {
    return dir != o.dir ? dir < o.dir : index < o.index;
  }
  bool operator==(const Stream &o) const { return dir == o.dir && index == o.index; }
};

enum class Unit { Mem, Vxm, Sxm, Mxm, C2c };

struct Instruction {
  int64_t line = 0, cycle = 0, chip = 0;
  Unit unit = Unit::Mem;
  int64_t unitIndex = 0; // first slice, ALU, SXM, plane or port
  int64_t width = 1;     // MEM: consecutive slices (and streams)
  int64_t count = 1;     // consecutive cycles (one vector each)
  llvm::StringRef op;  // read, write, gather, add, exp, cvt, rotate, load, ...
  llvm::StringRef dtype, toDtype; // toDtype: cvt's result (interned names)
  llvm::SmallVector<Stream, 2> in, out;
  int64_t address = 0; // MEM address; gather's base
  int64_t stride = 0;  // read/write: bytes per cycle; gather: bytes per index
  int64_t first = 0, rows = 0; // gather: the table rows this slice holds
  int64_t param = 0;   // rotate amount, distribute lane, cvt half, weight buffer
  bool hasImmediate = false;
  double immediate = 0;
  bool columns = false; // MXM load: vectors fill columns (else rows)
  int64_t toChip = 0, toPort = 0;
  std::string text; // as written (for errors); printProgram fills it

  /// Cycle an output first appears on its stream.
  int64_t producedAt(const Machine &m) const;
};

struct Data {
  int64_t line = 0, chip = 0, slice = 0, address = 0;
  std::string dtype;
  std::vector<double> values; // lanes of consecutive vectors from `address`
};

/// Where elements of a named input or output live: repetition i holds the
/// flat elements [offset + i * offsetStride, + count) in lanes [lane, lane +
/// count) of the vector at address + i * 320.
struct Binding {
  std::string name;
  int64_t line = 0, offset = 0, count = 0, chip = 0, slice = 0, address = 0, lane = 0;
  std::string dtype;
  int64_t repeat = 1, offsetStride = 0;
};

struct Program {
  Machine machine;
  std::deque<Instruction> instructions; // a deque: millions, appended without moves
  std::vector<Data> data, dumps;
  /// Dumps' labels (printed before each dump's values).
  std::vector<std::string> dumpNames;
  std::vector<Binding> inputs, outputs;
};

/// Parses the text or binary form; errors name the line (or instruction).
llvm::Expected<Program> parseProgram(llvm::StringRef text, llvm::StringRef origin);

/// The binary form (docs/lpu-program.md): written by writeBinary, read by
/// parseBinary (parseProgram reads either).
void writeBinary(const Program &program, llvm::raw_ostream &os);
bool isBinaryProgram(llvm::StringRef bytes);
llvm::Expected<Program> parseBinary(llvm::StringRef bytes, llvm::StringRef origin);

/// A vector's bytes from lane values in `dtype` (rounded as the hardware
/// rounds), and back.
std::vector<uint8_t> encodeVector(llvm::ArrayRef<double> values, llvm::StringRef dtype);
std::vector<double> decodeVector(llvm::ArrayRef<uint8_t> bytes, llvm::StringRef dtype);

/// The cycles a program takes: up to the last cycle any instruction issues
/// in or its last result appears (what the simulator reports).
int64_t cyclesOf(const Program &program);

/// A unit's name in the text form (mem, vxm, sxm, mxm, c2c).
llvm::StringRef unitName(Unit unit);

/// A value as the text form writes it (%.9g).
std::string formatValue(double x);

/// One instruction in the text form.
std::string formatInstruction(const Instruction &in);

/// Writes the text form (the instructions in cycle order).
void printProgram(const Program &program, llvm::raw_ostream &os);

/// Checks every rule (one producer per stream slot, operands arriving on
/// their consume cycle, one instruction per unit per cycle, SRAM bounds,
/// weight buffers loaded before use and not while used, one transfer per
/// link per cycle, each arrival received) and reports the first violation,
/// naming the cycle, chip, unit and instruction.
llvm::Error checkProgram(const Program &program);

} // namespace prism::sim::lpu

#endif // PRISM_TARGET_LPU_FORMAT_PROGRAM_H
