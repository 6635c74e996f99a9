//===- Partitioner.cpp - Which phase runs where, on how many chips --------===//

#include "prism/Partition/Partitioner.h"

#include "prism/Dialect/Plan/PlanDialect.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"
#include "prism/Target/TargetBackend.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <set>

using namespace mlir;
using namespace prism;
using namespace prism::partition;

StringRef prism::partition::objectiveName(Objective objective) {
  switch (objective) {
  case Objective::Latency:
    return "latency";
  case Objective::Throughput:
    return "throughput";
  case Objective::Cost:
    return "cost";
  case Objective::Energy:
    return "energy";
  }
  return "latency";
}

namespace {

/// Sequences in flight: the batch dim of the first 2-D integer input.
int64_t batchOf(func::FuncOp f) {
  for (Type t : f.getArgumentTypes())
    if (auto r = dyn_cast<RankedTensorType>(t);
        r && r.getRank() == 2 && isa<IntegerType>(r.getElementType()))
      return r.getDimSize(0);
  return 1;
}

/// The chip counts worth pricing on `group`: the fewest that hold the
/// phase in each memory level (whole tensor-parallel groups), and all of
/// the group's.
std::vector<int64_t> chipCounts(const cost::DeviceGroup &group, double bytes,
                                func::FuncOp phase) {
  const cost::DeviceKind &d = *group.kind;
  int64_t tpMax = cost::defaultParallelism(d, group.count, phase).tp;
  std::set<int64_t> counts = {group.count};
  for (const cost::MemoryLevel &m : d.memory) {
    int64_t need = (int64_t)std::ceil(bytes / m.capacityBytes.value);
    need = std::max<int64_t>(need, 1);
    // Whole tensor-parallel groups: above the largest, multiples of it;
    // below, a degree that divides the heads.
    if (need > tpMax)
      need = (need + tpMax - 1) / tpMax * tpMax;
    else
      while (need < tpMax && cost::defaultParallelism(d, need, phase).tp != need)
        ++need;
    for (int64_t n = need; n <= group.count; n *= 2)
      counts.insert(n);
  }
  return {counts.begin(), counts.end()};
}

/// The dtype a group stores the weights in: the user's, else its target's.
plan::WeightDtype weightDtypeFor(const cost::DeviceGroup &group,
                                 const PartitionOptions &options) {
  if (options.weightDtype)
    return *options.weightDtype;
  if (const target::TargetBackend *backend = target::lookupTarget(group.kind->deviceClass))
    return backend->defaultWeightDtype();
  return plan::WeightDtype::bf16;
}

/// The placement a candidate stands for.
target::PlacedPhase placedFor(func::FuncOp phase, const Candidate &c,
                              const cost::DeviceGroup &group) {
  target::PlacedPhase placed;
  placed.function = phase.getSymName().str();
  placed.group = group.name;
  placed.device = group.kind;
  placed.chips = c.chips;
  placed.tensorParallel = c.cost.parallelism.tp;
  placed.pipelineParallel = c.cost.parallelism.pp;
  placed.weightDtype = c.weightDtype;
  return placed;
}

/// Whether the target of `group` compiles `phase` on `c.chips` chips.
llvm::Error checkTarget(func::FuncOp phase, const Candidate &c, const cost::DeviceGroup &group) {
  const target::TargetBackend *backend = target::lookupTarget(group.kind->deviceClass);
  if (!backend)
    return llvm::createStringError("no target compiles for " + group.kind->kind + " (class '" +
                                   group.kind->deviceClass + "')");
  if (backend->maxChips() && c.chips > backend->maxChips())
    return llvm::createStringError(llvm::formatv("the {0} target compiles a phase for at most "
                                                 "{1} chip(s)",
                                                 backend->name(), backend->maxChips())
                                       .str());
  if (auto err = backend->checkWeightDtype(c.weightDtype))
    return err;
  // A candidate its target priced was compiled already.
  if (c.modelTimeS > 0)
    return llvm::Error::success();
  return backend->checkPlacement(phase, placedFor(phase, c, group));
}

/// The target's exact time for the candidate, where it has one.
llvm::Error priceByTarget(func::FuncOp phase, Candidate &c, const cost::DeviceGroup &group) {
  const target::TargetBackend *backend = target::lookupTarget(group.kind->deviceClass);
  // What checkTarget refuses it says why for, where it is asked.
  if (!backend || (backend->maxChips() && c.chips > backend->maxChips()))
    return llvm::Error::success();
  if (llvm::Error err = backend->checkWeightDtype(c.weightDtype)) {
    llvm::consumeError(std::move(err));
    return llvm::Error::success();
  }
  auto exact = backend->exactTimeS(phase, placedFor(phase, c, group));
  if (!exact)
    return exact.takeError();
  if (*exact) {
    c.modelTimeS = c.cost.timeS;
    c.cost.timeS = **exact;
  }
  return llvm::Error::success();
}

/// Lower is better, for the objective.
double score(const Candidate &c, Objective objective) {
  double tokens = (double)c.cost.tokens;
  switch (objective) {
  case Objective::Latency:
    return c.cost.timeS;
  case Objective::Throughput: // tokens per second per chip, maximised
    return -(tokens / c.cost.timeS / (double)c.chips);
  case Objective::Cost:
    return c.dollarsPerToken;
  case Objective::Energy:
    return c.cost.energyJ / tokens;
  }
  return c.cost.timeS;
}

/// The candidate's score were its time `factor` times the prediction
/// (dollars and joules scale with the time).
double scoreAt(Candidate c, Objective objective, double factor) {
  c.cost.timeS *= factor;
  c.cost.energyJ *= factor;
  c.dollarsPerToken *= factor;
  return score(c, objective);
}

/// The best and worst score within the candidate's range.
std::pair<double, double> scoreRange(const Candidate &c, Objective objective) {
  double e = 1 + c.cost.errorFraction;
  double a = scoreAt(c, objective, 1 / e), b = scoreAt(c, objective, e);
  return {std::min(a, b), std::max(a, b)};
}

} // namespace

llvm::Expected<Plan> prism::partition::partition(ModuleOp module,
                                                 const cost::System &system,
                                                 const PartitionOptions &options) {
  Plan plan;
  for (auto f : module.getOps<func::FuncOp>()) {
    if (f.isExternal())
      continue;
    bool decode = f.getSymName() == "decode";
    double slo = decode ? options.tpotSloS : options.ttftSloS;
    std::vector<Candidate> candidates;
    bool named = options.phasesOnNamedGroups &&
                 llvm::any_of(system.groups, [&](const cost::DeviceGroup &g) {
                   return g.name == f.getSymName();
                 });
    for (const cost::DeviceGroup &group : system.groups) {
      if (named && group.name != f.getSymName())
        continue;
      cost::CostOptions costOptions = options.cost;
      plan::WeightDtype dtype = weightDtypeFor(group, options);
      costOptions.weightDtype = plan::stringifyWeightDtype(dtype).str();
      double bytes = cost::footprintOf(f, costOptions).total();
      for (int64_t chips : chipCounts(group, bytes, f)) {
        cost::CostModel model(*group.kind,
                              cost::defaultParallelism(*group.kind, chips, f),
                              costOptions);
        Candidate c{f.getSymName().str(), group.name, chips, {}, dtype, 0, 0, ""};
        auto priced = model.costOf(f);
        if (!priced) {
          c.verdict = llvm::toString(priced.takeError());
          plan.trace.push_back(c);
          continue;
        }
        c.cost = *priced;
        if (options.targetPrices)
          if (llvm::Error err = priceByTarget(f, c, group)) {
            c.verdict = "the target cannot compile it: " + llvm::toString(std::move(err));
            plan.trace.push_back(c);
            continue;
          }
        c.dollarsPerToken = (double)chips * group.kind->pricePerHourUsd.value /
                            3600.0 * c.cost.timeS / (double)c.cost.tokens;
        if (slo > 0 && c.cost.timeS > slo) {
          c.verdict = llvm::formatv("misses the {0} SLO: {1:F4} s > {2:F4} s",
                                    decode ? "TPOT" : "TTFT", c.cost.timeS, slo)
                          .str();
          plan.trace.push_back(c);
          continue;
        }
        candidates.push_back(c);
      }
    }
    auto groupNamed = [&](llvm::StringRef name) -> const cost::DeviceGroup * {
      for (const cost::DeviceGroup &g : system.groups)
        if (g.name == name)
          return &g;
      return nullptr;
    };
    std::string refused; // the first reason a target gave
    if (options.checkTargets) {
      // Best first: the first candidate its target compiles wins; those
      // before it lose with the target's reason.
      std::stable_sort(candidates.begin(), candidates.end(),
                       [&](const Candidate &a, const Candidate &b) {
                         return score(a, options.objective) < score(b, options.objective);
                       });
      while (!candidates.empty()) {
        llvm::Error err = checkTarget(f, candidates.front(), *groupNamed(candidates.front().group));
        if (!err)
          break;
        candidates.front().verdict = "the target cannot compile it: " + llvm::toString(std::move(err));
        if (refused.empty())
          refused = llvm::formatv("; {0} x {1}: {2}", candidates.front().chips,
                                  groupNamed(candidates.front().group)->kind->kind,
                                  candidates.front().verdict)
                        .str();
        plan.trace.push_back(candidates.front());
        candidates.erase(candidates.begin());
      }
    }
    if (candidates.empty())
      return llvm::createStringError(
          "no placement of @" + f.getSymName().str() +
          " fits the system and meets its SLO (see the decision trace)" + refused);
    auto best = std::min_element(candidates.begin(), candidates.end(),
                                 [&](const Candidate &a, const Candidate &b) {
                                   return score(a, options.objective) <
                                          score(b, options.objective);
                                 });
    double bestWorst = scoreRange(*best, options.objective).second;
    for (Candidate &c : candidates) {
      if (&c == &*best) {
        c.verdict = "chosen";
      } else {
        c.verdict = llvm::formatv("not the best {0}", objectiveName(options.objective)).str();
        c.withinRangeOfChosen = scoreRange(c, options.objective).first <= bestWorst;
        if (c.withinRangeOfChosen)
          c.verdict += ", but within the chosen's range (the predictions' "
                       "held-out errors overlap: the model cannot tell them apart)";
      }
      plan.trace.push_back(c);
    }
    const cost::DeviceGroup *group = groupNamed(best->group);
    plan.phases.push_back({best->phase, group, best->chips, best->cost, best->weightDtype});
    plan.batch = batchOf(f);
    // The chosen placement's ops, one entry per repeated signature.
    cost::CostOptions costOptions = options.cost;
    costOptions.weightDtype = plan::stringifyWeightDtype(best->weightDtype).str();
    cost::CostModel model(*group->kind,
                          cost::defaultParallelism(*group->kind, best->chips, f),
                          costOptions);
    if (auto placed = model.costOf(f); !placed)
      return placed.takeError();
    llvm::StringMap<size_t> index;
    f.walk([&](Operation *op) {
      if (op == f.getOperation())
        return;
      auto c = model.costOf(op);
      if (!c) {
        llvm::consumeError(c.takeError());
        return;
      }
      if (c->timeS == 0)
        return;
      std::string key = llvm::formatv("{0} {1} {2}", op->getName().getStringRef(),
                                      c->flops, c->bytes)
                            .str();
      auto [it, inserted] = index.try_emplace(key, plan.ops.size());
      if (inserted)
        plan.ops.push_back({f.getSymName().str(), op->getName().getStringRef().str(),
                            0, c->flops, c->bytes, c->timeS, c->memoryBound()});
      ++plan.ops[it->second].count;
    });
  }
  const PhasePlacement *prefill = nullptr, *decode = nullptr;
  for (const PhasePlacement &p : plan.phases)
    (p.phase == "decode" ? decode : prefill) = &p;
  if (prefill)
    plan.ttftS = prefill->cost.timeS;
  if (decode) {
    plan.tpotS = decode->cost.timeS;
    plan.tokensPerSPerUser = 1.0 / plan.tpotS;
    plan.tokensPerS = (double)plan.batch / plan.tpotS;
    plan.energyPerTokenJ = decode->cost.energyJ / (double)plan.batch;
  }
  // The prompt's KV cache moves when decode runs on another group.
  if (prefill && decode && prefill->group != decode->group) {
    plan.kvBytes = prefill->cost.kvBytes;
    if (system.linkBytesPerS.value <= 0)
      return llvm::createStringError("the phases are on different groups but "
                                     "the system has no link between them");
    plan.kvTransferS = plan.kvBytes / system.linkBytesPerS.value;
  }
  return plan;
}

llvm::json::Value prism::partition::planToJson(const Plan &plan,
                                               const cost::System &system,
                                               const PartitionOptions &options) {
  llvm::json::Array phases, trace;
  for (const PhasePlacement &p : plan.phases)
    phases.push_back(llvm::json::Object{
        {"phase", p.phase},
        {"group", p.group->name},
        {"device", p.group->kind->kind},
        {"chips", p.chips},
        {"tensor_parallel", p.cost.parallelism.tp},
        {"pipeline_parallel", p.cost.parallelism.pp},
        {"time_s", p.cost.timeS},
        {"time_range_s", llvm::json::Array{p.cost.lowS(), p.cost.highS()}},
        {"energy_j", p.cost.energyJ},
        {"memory_level", p.cost.memoryLevel},
        {"weight_dtype", plan::stringifyWeightDtype(p.weightDtype)},
        {"memory_per_device_bytes", p.cost.bytesPerChip},
        {"memory_capacity_per_device_bytes", p.cost.capacityPerChip},
        {"weight_bytes", p.cost.weightBytes},
        {"kv_cache_bytes", p.cost.kvBytes}});
  for (const Candidate &c : plan.trace)
    trace.push_back(llvm::json::Object{{"phase", c.phase},
                                       {"group", c.group},
                                       {"chips", c.chips},
                                       {"time_s", c.cost.timeS},
                                       {"time_range_s", llvm::json::Array{c.cost.lowS(),
                                                                          c.cost.highS()}},
                                       {"within_range_of_chosen", c.withinRangeOfChosen},
                                       {"priced_by", c.modelTimeS > 0 ? "target" : "cost model"},
                                       {"model_time_s", c.modelTimeS > 0 ? c.modelTimeS
                                                                         : c.cost.timeS},
                                       {"dollars_per_token", c.dollarsPerToken},
                                       {"verdict", c.verdict}});
  llvm::json::Array groups;
  for (const cost::DeviceGroup &g : system.groups)
    groups.push_back(llvm::json::Object{
        {"name", g.name}, {"device", g.kind->kind}, {"count", g.count}});
  return llvm::json::Object{
      {"objective", objectiveName(options.objective)},
      {"weight_dtype", options.weightDtype ? plan::stringifyWeightDtype(*options.weightDtype).str()
                                           : std::string("each target's own")},
      {"batch", plan.batch},
      {"ttft_s", plan.ttftS},
      {"tpot_s", plan.tpotS},
      {"tokens_per_s_per_user", plan.tokensPerSPerUser},
      {"tokens_per_s", plan.tokensPerS},
      {"energy_per_token_j", plan.energyPerTokenJ},
      {"kv_transfer_s", plan.kvTransferS},
      {"kv_transfer_bytes", plan.kvBytes},
      {"system", llvm::json::Object{{"groups", std::move(groups)},
                                    {"link", system.linkKind},
                                    {"link_bytes_per_s", system.linkBytesPerS.value}}},
      {"phases", std::move(phases)},
      {"decision_trace", std::move(trace)}};
}

void prism::partition::annotate(ModuleOp module, const Plan &plan,
                                const cost::System &system,
                                const PartitionOptions &options) {
  module.getContext()->getOrLoadDialect<plan::PlanDialect>();
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToStart(module.getBody());
  Location loc = module.getLoc();
  SmallVector<Attribute> groups;
  for (const cost::DeviceGroup &g : system.groups)
    groups.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(g.name)),
         b.getNamedAttr("device", b.getStringAttr(g.kind->kind)),
         b.getNamedAttr("count", b.getI64IntegerAttr(g.count))}));
  plan::SystemOp::create(b, loc, b.getArrayAttr(groups),
                         b.getStringAttr(system.linkKind),
                         b.getF64FloatAttr(system.linkBytesPerS.value));
  const PhasePlacement *prefill = nullptr, *decode = nullptr;
  for (const PhasePlacement &p : plan.phases) {
    (p.phase == "decode" ? decode : prefill) = &p;
    auto f = module.lookupSymbol<func::FuncOp>(p.phase);
    if (!f)
      continue;
    f->setAttr("plan.placement",
               plan::PlacementAttr::get(
                   b.getContext(), p.group->name, p.group->kind->kind, p.chips,
                   p.cost.parallelism.tp, p.cost.parallelism.pp,
                   b.getF64FloatAttr(p.cost.timeS),
                   b.getF64FloatAttr(p.cost.energyJ),
                   b.getF64FloatAttr(p.cost.bytesPerChip), p.weightDtype));
  }
  if (prefill && decode && prefill->group != decode->group)
    plan::KvTransferOp::create(b, loc, b.getStringAttr(prefill->group->name),
                               b.getStringAttr(decode->group->name),
                               b.getF64FloatAttr(plan.kvBytes),
                               b.getF64FloatAttr(plan.kvTransferS));
  plan::PredictionOp::create(
      b, loc, b.getStringAttr(objectiveName(options.objective)),
      b.getF64FloatAttr(plan.ttftS), b.getF64FloatAttr(plan.tpotS),
      b.getF64FloatAttr(plan.tokensPerSPerUser), b.getF64FloatAttr(plan.tokensPerS),
      b.getF64FloatAttr(plan.energyPerTokenJ), b.getF64FloatAttr(plan.kvTransferS));
  // Remarks say why, where a person reads the compiler's output.
  for (const PhasePlacement &p : plan.phases)
    if (auto f = module.lookupSymbol<func::FuncOp>(p.phase))
      f.emitRemark() << "@" << p.phase << " on " << p.group->name << " ("
                     << p.chips << " x " << p.group->kind->kind
                     << ", tensor parallel " << p.cost.parallelism.tp
                     << ", pipeline " << p.cost.parallelism.pp << "): "
                     << llvm::formatv("{0:F4}", p.cost.timeS).str()
                     << " s, the best " << objectiveName(options.objective)
                     << " of the candidates meeting the SLOs";
}
