//===- Partitioner.h - Which phase runs where, on how many chips -*- C++ -*-===//
//
// For each phase (@prefill, @decode), every device group of the system and
// every chip count that fits is priced with the cost model; the candidate
// that best serves the objective under the SLOs is chosen, and the KV cache
// moves between the groups when the phases land on different ones. Every
// candidate and the reason it lost is kept: the decision trace.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PARTITION_PARTITIONER_H
#define PRISM_PARTITION_PARTITIONER_H

#include "prism/Cost/CostModel.h"
#include "prism/Dialect/Plan/PlanDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace prism::partition {

enum class Objective { Latency, Throughput, Cost, Energy };

struct PartitionOptions {
  Objective objective = Objective::Latency;
  /// Limits on time to first token and time per output token; 0: none.
  double ttftSloS = 0, tpotSloS = 0;
  cost::CostOptions cost;
  /// The weight dtype the user chose; none: each target's own (bf16 on a
  /// device no target compiles for). Each candidate is priced at its dtype.
  std::optional<plan::WeightDtype> weightDtype;
  /// Ask the target of each candidate, best first, whether it compiles the
  /// phase as placed (prism/Target/TargetBackend.h); a candidate it rejects
  /// loses with its reason. `--compile-to=bundle` always checks.
  bool checkTargets = false;
  /// Price each candidate with its target's exact time where it has one
  /// (TargetBackend::exactTimeS; the LPU's schedule) instead of the cost
  /// model's; a candidate the target cannot compile loses, as with
  /// checkTargets.
  bool targetPrices = false;
  /// A phase with a group named after it (prefill=..., decode=...) runs
  /// there; false: any phase may run on any group (names are labels).
  bool phasesOnNamedGroups = true;
};

/// One priced way to run a phase.
struct Candidate {
  std::string phase, group;
  int64_t chips = 0;
  cost::PhaseCost cost;
  plan::WeightDtype weightDtype = plan::WeightDtype::bf16;
  /// The cost model's time, when the target priced the candidate (0: not).
  double modelTimeS = 0;
  double dollarsPerToken = 0;
  std::string verdict; // "chosen", or why not
  /// Not chosen, but the ranges of the two predictions (each widened by
  /// its device class's held-out error) overlap in the objective: the
  /// model cannot tell the two apart.
  bool withinRangeOfChosen = false;
};

/// The placement of one phase.
struct PhasePlacement {
  std::string phase;
  const cost::DeviceGroup *group = nullptr;
  int64_t chips = 0;
  cost::PhaseCost cost;
  plan::WeightDtype weightDtype = plan::WeightDtype::bf16;
};

/// The ops of a chosen placement with one signature (they repeat per
/// layer): how many, and the cost of one.
struct OpSummary {
  std::string phase, name;
  int64_t count = 0;
  double flops = 0, bytes = 0, timeS = 0;
  bool memoryBound = false;
};

struct Plan {
  std::vector<PhasePlacement> phases;
  double kvTransferS = 0, kvBytes = 0;
  /// The whole batch's prompts; one decode step of the batch.
  double ttftS = 0, tpotS = 0;
  double tokensPerSPerUser = 0, tokensPerS = 0, energyPerTokenJ = 0;
  int64_t batch = 1;
  std::vector<Candidate> trace;
  std::vector<OpSummary> ops;
};

/// Places the phases of `module` (from xfmr-split-phases) on `system`.
llvm::Expected<Plan> partition(mlir::ModuleOp module,
                               const cost::System &system,
                               const PartitionOptions &options);

/// The report: predictions, placement, and the decision trace.
llvm::json::Value planToJson(const Plan &plan, const cost::System &system,
                             const PartitionOptions &options);

/// The report as a self-contained HTML page: the figures, the placement,
/// a per-device timeline of prefill, transfer and decode, and a roofline
/// chart with each kind of op placed on it (SVG).
std::string planToHtml(const Plan &plan, const cost::System &system,
                       const PartitionOptions &options, llvm::StringRef model);

/// Writes the plan into the module as the plan dialect (the system, a
/// #plan.placement per phase, the KV transfer, the prediction), for the
/// target lowerings that follow, and a remark per phase saying why.
void annotate(mlir::ModuleOp module, const Plan &plan,
              const cost::System &system, const PartitionOptions &options);

llvm::StringRef objectiveName(Objective objective);

} // namespace prism::partition

#endif // PRISM_PARTITION_PARTITIONER_H
