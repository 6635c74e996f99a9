//===- WorkStats.h - FLOPs and bytes per token, for prismc --stats -*- C++ -*-===//

#ifndef PRISM_DRIVER_WORKSTATS_H
#define PRISM_DRIVER_WORKSTATS_H

#include "prism/Dialect/Xfmr/Work.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace prism {

/// One function's (phase's) work, from the ops' XfmrWorkInterface.
struct PhaseStats {
  std::string name;
  int64_t tokens = 1; // new tokens per call (xfmr.tokens), 1 if unknown
  bool tokensKnown = false;
  xfmr::Work work;    // per call
  double parameters = 0;  // elements of the distinct weights it reads
  double weightBytes = 0; // their bytes (resident)
};

/// The stats of every function of `module`; fails (with an error at the op)
/// when an op cannot state its work.
mlir::FailureOr<std::vector<PhaseStats>> computePhaseStats(mlir::ModuleOp module);

void printPhaseStats(llvm::raw_ostream &os, const std::vector<PhaseStats> &stats);

} // namespace prism

#endif // PRISM_DRIVER_WORKSTATS_H
