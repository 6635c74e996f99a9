//===- Simulator.h - Run an LPU program ---------------------------*- C++ -*-===//
//
// The LPU simulator: checks a program (prism/Target/Lpu/Format/Program.h)
// against every rule of the machine, then runs it bit-accurately, or only
// times it, and reports cycles and utilisation. It reads the format only,
// not compiler internals.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_SIM_LPU_SIMULATOR_H
#define PRISM_SIM_LPU_SIMULATOR_H

#include "prism/Target/Lpu/Format/Program.h"

namespace prism::sim::lpu {

struct RunOptions {
  bool execute = true; // false: timing only (check and report)
  /// Also print each chip's work: SRAM vectors read, weight vectors loaded
  /// into the MXM, MACs and vectors sent.
  bool perChip = false;
  /// Values of the program's inputs, flat.
  std::map<std::string, std::vector<double>> inputs;
  /// Where the outputs go, flat, when set (instead of printed).
  std::map<std::string, std::vector<double>> *outputs = nullptr;
};

/// Checks and runs a program and prints the dumped vectors (when executed)
/// and the report (cycles, time per token, per-unit busy share, MXM MAC use,
/// SRAM used per chip, link use).
llvm::Error runProgram(const Program &program, llvm::raw_ostream &os,
                       const RunOptions &options = {});

} // namespace prism::sim::lpu

#endif // PRISM_SIM_LPU_SIMULATOR_H
