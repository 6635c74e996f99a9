//===- prism-sim.cpp - Prism's simulators ---------------------------------===//
//
// prism-sim lpu PROGRAM: checks an LPU program's timing and resource rules
// (a violation is an error naming the cycle, chip, unit and instruction),
// runs it bit-accurately, prints the dumped vectors and the report.
//
//===----------------------------------------------------------------------===//

#include "prism/Sim/Lpu/Simulator.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("prism-sim options");
cl::opt<std::string> target(cl::Positional, cl::Required,
                            cl::desc("<target: lpu>"), cl::cat(category));
cl::opt<std::string> programFile(cl::Positional, cl::Required,
                                 cl::desc("<program>"), cl::cat(category));
cl::opt<bool> checkOnly("check-only",
                        cl::desc("Check the rules and stop (no execution)"),
                        cl::cat(category));
cl::opt<bool> timingOnly(
    "timing-only",
    cl::desc("Check the rules and report the timing without executing the "
             "values (for shape-only programs)"),
    cl::cat(category));
cl::opt<bool> printText("print",
                        cl::desc("Print the program in the text form (a binary "
                                 "program as text) and stop"),
                        cl::cat(category));
cl::opt<bool> perChip("per-chip",
                      cl::desc("Report each chip's work (SRAM vectors read, "
                               "weight vectors loaded, MACs, vectors sent)"),
                      cl::cat(category));
cl::list<std::string> inputs(
    "input",
    cl::desc("NAME=FILE: the values of the program's input NAME, a text file "
             "of numbers (flat, in the order the program's 'input' lines "
             "index)"),
    cl::cat(category));
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "prism-sim: Prism's simulators\n\n"
      "  prism-sim lpu program.lpu    check, run and report an LPU program "
      "(docs/lpu-program.md)\n"
      "  prism-sim lpu --timing-only program.lpu    check and time it, "
      "without values\n");
  if (target != "lpu") {
    llvm::errs() << "prism-sim: unknown target '" << target
                 << "' (built: lpu; rdu and optical are not built yet)\n";
    return 1;
  }
  auto buffer = llvm::MemoryBuffer::getFile(programFile);
  if (!buffer) {
    llvm::errs() << "prism-sim: cannot read '" << programFile << "'\n";
    return 1;
  }
  auto program = prism::sim::lpu::parseProgram((*buffer)->getBuffer(), programFile);
  auto report = [](llvm::Error err) {
    llvm::errs() << "prism-sim: error: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  };
  if (!program)
    return report(program.takeError());
  if (printText) {
    prism::sim::lpu::printProgram(*program, llvm::outs());
    return 0;
  }
  if (checkOnly) {
    if (auto err = prism::sim::lpu::checkProgram(*program))
      return report(std::move(err));
    llvm::outs() << "prism-sim: the program follows every rule\n";
    return 0;
  }
  prism::sim::lpu::RunOptions options;
  options.execute = !timingOnly;
  options.perChip = perChip;
  for (const std::string &spec : inputs) {
    auto [name, path] = llvm::StringRef(spec).split('=');
    auto file = llvm::MemoryBuffer::getFile(path);
    if (name.empty() || path.empty() || !file) {
      llvm::errs() << "prism-sim: --input " << spec
                   << ": expected NAME=FILE with a readable file\n";
      return 1;
    }
    llvm::SmallVector<llvm::StringRef> words;
    llvm::SplitString((*file)->getBuffer(), words); // any whitespace
    std::vector<double> &values = options.inputs[name.str()];
    for (llvm::StringRef word : words) {
      double x;
      if (word.getAsDouble(x)) {
        llvm::errs() << "prism-sim: --input " << name << ": '" << word
                     << "' is not a number\n";
        return 1;
      }
      values.push_back(x);
    }
  }
  if (auto err = prism::sim::lpu::runProgram(*program, llvm::outs(), options))
    return report(std::move(err));
  return 0;
}
