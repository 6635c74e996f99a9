//===- CostModel.cpp - Time, energy and capacity of phases on devices -----===//

#include "prism/Cost/CostModel.h"

#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Xfmr/Work.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <numeric>

using namespace mlir;
using namespace prism;
using namespace prism::cost;

double prism::cost::dtypeBytes(StringRef dtype) {
  return llvm::StringSwitch<double>(dtype)
      .Cases({"fp32", "f32"}, 4)
      .Cases({"bf16", "fp16", "f16"}, 2)
      .Cases({"fp8", "int8"}, 1)
      .Cases({"int4", "fp4"}, 0.5)
      .Default(0);
}

Parallelism prism::cost::defaultParallelism(const DeviceKind &device,
                                            int64_t chips, func::FuncOp phase) {
  // Heads are split across the tensor-parallel chips: the degree divides
  // the query heads, and divides or is a multiple of the key/value heads
  // (which are then replicated), as serving engines require.
  int64_t heads = 0, kvHeads = 0;
  phase.walk([&](xfmr::AttentionOp a) {
    heads = std::gcd(heads, a.getNumQueryHeads());
    kvHeads = std::gcd(kvHeads, a.getNumKvHeads());
  });
  auto splits = [&](int64_t tp) {
    return heads == 0 ||
           (heads % tp == 0 && (kvHeads % tp == 0 || tp % kvHeads == 0));
  };
  Parallelism p;
  p.tp = std::max<int64_t>(
      1, std::min<int64_t>(chips, (int64_t)device.tensorParallelMax.value));
  while (p.tp > 1 && !splits(p.tp))
    --p.tp;
  p.pp = (chips + p.tp - 1) / p.tp;
  return p;
}

namespace {

std::string dtypeName(Type t) {
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "fp16";
  if (t.isF32())
    return "fp32";
  if (t.isInteger(8))
    return "int8";
  return "fp32";
}

/// Rows of a contraction (the tokens it multiplies), or 0 for other ops.
int64_t contractionRows(Operation *op) {
  if (!isa<onnx::ONNXMatMulOp, onnx::ONNXGemmOp, onnx::ONNXMsMatMulNBitsOp,
           linalg::MatmulOp, linalg::BatchMatmulOp, xfmr::AttentionOp>(op))
    return 0;
  auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!t || !t.hasStaticShape() || t.getRank() < 1)
    return 0;
  int64_t rows = 1;
  for (int64_t d : t.getShape().drop_back())
    rows *= d;
  // Attention: rows per head are the queries of each (batch, head).
  if (auto a = dyn_cast<xfmr::AttentionOp>(op))
    rows = a.getQuery().getType().getDimSize(2);
  return rows;
}

/// Whether `op` is a kernel of its own. Casts, layout changes and the
/// elementwise ops between kernels fuse into them in every deployment
/// compiler, so they cost nothing here (their work still shows in --stats).
bool isKernel(Operation *op) {
  if (isa<xfmr::KvCachePackOp, xfmr::KvCacheReadOp>(op))
    return false;
  if (isa<xfmr::XfmrDialect>(op->getDialect()))
    return true;
  return contractionRows(op) > 0 ||
         isa<onnx::ONNXSoftmaxOp, onnx::ONNXReduceMeanOp, onnx::ONNXReduceSumOp,
             onnx::ONNXReduceMaxOp, onnx::ONNXGatherOp, onnx::ONNXConvOp,
             onnx::ONNXMatMulIntegerOp, linalg::GenericOp>(op);
}

/// The element size the model stores its weights in, for this op.
double modelWeightBytes(Operation *op) {
  for (Value v : op->getOperands())
    if (xfmr::isWeight(v))
      if (auto t = dyn_cast<RankedTensorType>(v.getType());
          t && isa<FloatType>(t.getElementType()))
        return t.getElementType().getIntOrFloatBitWidth() / 8.0;
  return 0;
}

std::string signature(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << op->getName();
  for (Type t : op->getOperandTypes())
    os << ' ' << t;
  os << " ->";
  for (Type t : op->getResultTypes())
    os << ' ' << t;
  os << ' ' << op->getAttrDictionary();
  if (auto props = op->getPropertiesAsAttribute())
    os << ' ' << props;
  return s;
}


} // namespace

double CostModel::memoryEfficiencyFor(double bytesPerChip) const {
  double half = device.memoryHalfBytes.value;
  double e = device.memoryEfficiency.value;
  return half > 0 ? e * bytesPerChip / (bytesPerChip + half) : e;
}

CostModel::CostModel(const DeviceKind &device, Parallelism parallelism,
                     CostOptions options)
    : device(device), parallelism(parallelism), options(std::move(options)),
      level(&device.memory.front()) {}

llvm::Expected<OpCost> CostModel::costOf(Operation *op) {
  std::string key = signature(op);
  if (auto it = cache.find(key); it != cache.end())
    return it->second;
  auto work = xfmr::getWorkOf(op);
  if (!work)
    return work.takeError();
  OpCost c;
  if (!isKernel(op)) {
    cache[key] = c;
    return c;
  }
  double weightBytes = work->weightBytesRead;
  if (double stored = modelWeightBytes(op); stored > 0 && weightBytes > 0)
    weightBytes *= dtypeBytes(options.weightDtype) / stored;
  c.bytes = weightBytes + work->activationBytesRead + work->activationBytesWritten +
            work->kvBytesRead + work->kvBytesWritten;
  c.flops = work->flops;
  if (c.flops == 0 && c.bytes == 0) {
    cache[key] = c;
    return c;
  }
  // Contractions over weights stored in fp8/int8 run at that dtype's peak
  // where the device has one; the rest at the activations' dtype.
  std::string dtype = op->getNumResults()
                          ? dtypeName(getElementTypeOrSelf(op->getResult(0).getType()))
                          : "bf16";
  int64_t rows = contractionRows(op);
  if (rows > 0 && weightBytes > 0 &&
      (options.weightDtype == "fp8" || options.weightDtype == "int8") &&
      device.peakOpsPerS.count(options.weightDtype))
    dtype = options.weightDtype;
  if (!device.peakOpsPerS.count(dtype))
    dtype = device.peakOpsPerS.count("bf16") ? "bf16" : device.peakOpsPerS.begin()->first;
  c.computeDtype = dtype;
  double peak = device.peakOpsPerS.at(dtype).value;
  double derate = 1.0;
  if (rows > 0)
    derate = std::min(1.0, (double)rows / device.fullRateRows.value);
  double tp = (double)parallelism.tp;
  c.computeS = c.flops / (tp * peak * device.computeEfficiency.value * derate);
  // An optical core holds one weight tile of its array at a time: a
  // contraction over weights programs each of its tiles once per call
  // (weight_reload_s each) and streams its rows through it at the
  // modulation rate; converters and MACs cost their energy per sample.
  if (!device.section("optical").empty() && rows > 0 && weightBytes > 0) {
    Value weight;
    for (Value v : op->getOperands())
      if (xfmr::isWeight(v))
        weight = v;
    auto wt = weight ? dyn_cast<RankedTensorType>(weight.getType()) : nullptr;
    if (wt && wt.getRank() >= 2) {
      const auto &o = device.section("optical");
      double k = wt.getDimSize(wt.getRank() - 2), n = wt.getDimSize(wt.getRank() - 1);
      double arrayRows = o.at("array_rows").value, arrayCols = o.at("array_cols").value;
      c.opticalTiles = std::ceil(k / arrayRows) * std::ceil(n / arrayCols);
      c.reloadS = c.opticalTiles * o.at("weight_reload_s").value / tp;
      double mvmS = c.opticalTiles * rows / o.at("modulation_rate_per_s").value / tp;
      c.computeS = c.reloadS + mvmS;
      c.energyJ += c.flops / 2 * o.at("energy_per_mac_j").value +
                   c.opticalTiles * rows *
                       (arrayRows * o.at("dac_energy_per_sample_j").value +
                        arrayCols * o.at("adc_energy_per_sample_j").value);
    }
  }
  c.memoryLevel = level->level;
  c.memoryS = c.bytes / (tp * level->bandwidthBytesPerS.value *
                         memoryEfficiencyFor(c.bytes / tp));
  c.overheadS = decode ? device.decodeOpOverheadS.value : device.opOverheadS.value;
  c.timeS = std::max(c.computeS, c.memoryS) + c.overheadS;
  c.energyJ += c.timeS * tp * device.busyPowerW.value;
  cache[key] = c;
  return c;
}

Footprint prism::cost::footprintOf(func::FuncOp phase, const CostOptions &options) {
  Footprint f;
  f.weightBytes = xfmr::weightFootprint(phase).floatElements *
                  dtypeBytes(options.weightDtype);
  for (Type t : llvm::concat<const Type>(phase.getArgumentTypes(),
                                         phase.getResultTypes()))
    if (auto cache = dyn_cast<xfmr::KvCacheType>(t))
      f.kvBytes = std::max(f.kvBytes, cache.getBytes());
  return f;
}

llvm::Error CostModel::placeMemory(func::FuncOp phase, PhaseCost &cost) {
  Footprint f = footprintOf(phase, options);
  cost.weightBytes = f.weightBytes;
  cost.kvBytes = f.kvBytes;
  double chips = (double)parallelism.chips();
  cost.bytesPerChip = (cost.weightBytes + cost.kvBytes) / chips;
  for (const MemoryLevel &m : device.memory)
    if (m.capacityBytes.value >= cost.bytesPerChip) {
      level = &m;
      cost.memoryLevel = m.level;
      cost.capacityPerChip = m.capacityBytes.value;
      return llvm::Error::success();
    }
  const MemoryLevel &largest = device.mainMemory();
  return llvm::createStringError(llvm::formatv(
      "@{0} does not fit on {1} x {2}: {3:F2} GB of weights and KV cache per "
      "chip, the largest memory ({4}) holds {5:F2} GB",
      phase.getSymName(), parallelism.chips(), device.kind,
      cost.bytesPerChip / 1e9, largest.level, largest.capacityBytes.value / 1e9).str());
}

llvm::Expected<PhaseCost> CostModel::costOf(func::FuncOp phase) {
  PhaseCost cost;
  cost.parallelism = parallelism;
  if (auto tokens = phase->getAttrOfType<IntegerAttr>("xfmr.tokens"))
    cost.tokens = tokens.getInt();
  decode = phase.getSymName() == "decode";
  cost.errorFraction = device.predictionError.value;
  if (auto err = placeMemory(phase, cost))
    return std::move(err);
  cache.clear(); // the memory level and the phase are part of every answer
  cost.memoryBandwidth = level->bandwidthBytesPerS.value;
  double activation = 0;
  llvm::StringMap<size_t> kernelIndex;
  WalkResult walk = phase.walk([&](Operation *op) -> WalkResult {
    if (op == phase.getOperation())
      return WalkResult::advance();
    auto c = costOf(op);
    if (!c) {
      op->emitError() << llvm::toString(c.takeError());
      return WalkResult::interrupt();
    }
    cost.opsS += c->timeS;
    cost.energyJ += c->energyJ;
    if (c->timeS > 0) {
      auto [it, fresh] = kernelIndex.try_emplace(signature(op), cost.kernels.size());
      if (fresh) {
        KernelTerms k;
        k.op = op->getName().getStringRef().str();
        k.cost = *c;
        k.rows = contractionRows(op);
        k.peakOpsPerS = device.peakOpsPerS.at(c->computeDtype).value;
        cost.kernels.push_back(std::move(k));
      }
      ++cost.kernels[it->second].count;
    }
    if (auto a = dyn_cast<xfmr::AttentionOp>(op)) {
      ++cost.allReduces;
      auto t = a.getOutput().getType();
      activation = (double)t.getNumElements() * t.getElementTypeBitWidth() / 8.0;
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return llvm::createStringError("an op's work is unknown");
  // Two all-reduces per layer (after attention and after the MLP) across
  // the tensor-parallel chips: the bandwidth term of a ring, the latency of
  // a tree (2 log2(tp) steps).
  double tp = (double)parallelism.tp;
  double linkBw = device.linkCount.value * device.linkBytesPerS.value *
                  device.linkEfficiency.value;
  double hop = device.linkHopLatencyS.value;
  cost.allReduces *= 2;
  cost.activationBytes = activation;
  if (parallelism.tp > 1)
    cost.allReduceS = cost.allReduces *
                      (2 * (tp - 1) / tp * activation / linkBw +
                       2 * std::ceil(std::log2(tp)) * device.collectiveStepS.value);
  // One activation handed between consecutive pipeline stages.
  if (parallelism.pp > 1)
    cost.pipelineS = (parallelism.pp - 1) *
                     (hop + activation / (device.linkBytesPerS.value *
                                          device.linkEfficiency.value));
  cost.timeS = cost.opsS + cost.allReduceS + cost.pipelineS;
  // Stages not computing idle (one token pass at a time through the pipe).
  cost.energyJ += (cost.allReduceS + cost.pipelineS) * tp * device.busyPowerW.value +
                  cost.timeS * (parallelism.chips() - tp) * device.idlePowerW.value;
  return cost;
}

void CostModel::explain(llvm::raw_ostream &os, Operation *op) {
  auto c = costOf(op);
  if (!c) {
    os << "  " << llvm::toString(c.takeError()) << "\n";
    return;
  }
  os << llvm::format("  %s on %lld x %s (tensor parallel %lld):\n",
                     op->getName().getStringRef().str().c_str(),
                     (long long)parallelism.tp, device.kind.c_str(),
                     (long long)parallelism.tp);
  os << llvm::format("    work: %.4g FLOPs, %.4g bytes (weights as %s)\n",
                     c->flops, c->bytes, options.weightDtype.c_str());
  if (c->flops == 0 && c->bytes == 0) {
    os << "    no work: a view or a constant\n";
    return;
  }
  double peak = device.peakOpsPerS.at(c->computeDtype).value;
  int64_t rows = contractionRows(op);
  if (c->opticalTiles > 0) {
    os << llvm::format("    compute: %.4g s = %.0f weight tiles x (%.4g s "
                       "reload + %lld rows / %.4g per s) / %lld chips\n",
                       c->computeS, c->opticalTiles,
                       device.section("optical").at("weight_reload_s").value,
                       (long long)rows,
                       device.section("optical").at("modulation_rate_per_s").value,
                       (long long)parallelism.tp);
  } else {
    os << llvm::format("    compute: %.4g s = FLOPs / (%lld x %.4g %s peak x "
                       "efficiency %.2f",
                       c->computeS, (long long)parallelism.tp, peak,
                       c->computeDtype.c_str(), device.computeEfficiency.value);
    if (rows > 0)
      os << llvm::format(" x rows %lld / %g", (long long)rows,
                         device.fullRateRows.value);
    os << ")\n";
  }
  os << llvm::format("    memory:  %.4g s = bytes / (%lld x %.4g B/s %s x "
                     "efficiency %.2f)\n",
                     c->memoryS, (long long)parallelism.tp,
                     level->bandwidthBytesPerS.value, level->level.c_str(),
                     memoryEfficiencyFor(c->bytes / (double)parallelism.tp));
  os << llvm::format("    overhead: %.4g s per op\n", c->overheadS);
  os << llvm::format("    time: %.4g s (%s-bound)\n", c->timeS,
                     c->memoryBound() ? "memory" : "compute");
}

llvm::Expected<const DeviceGroup *>
prism::cost::groupFor(const System &system, StringRef phase) {
  for (const DeviceGroup &g : system.groups)
    if (g.name == phase)
      return &g;
  if (system.groups.size() == 1)
    return &system.groups.front();
  return llvm::createStringError("the system has no group named '" +
                                 phase.str() + "' for @" + phase.str());
}

namespace {

/// Prices every phase of `module` on its group of `system` (default
/// layout) and hands each to `visit` with its model and cost.
llvm::Error forEachPhase(
    ModuleOp module, const System &system, const CostOptions &options,
    llvm::function_ref<void(func::FuncOp, const DeviceGroup &, CostModel &,
                            const PhaseCost &)>
        visit) {
  for (auto f : module.getOps<func::FuncOp>()) {
    if (f.isExternal())
      continue;
    auto group = groupFor(system, f.getSymName());
    if (!group)
      return group.takeError();
    CostModel model(*(*group)->kind,
                    defaultParallelism(*(*group)->kind, (*group)->count, f),
                    options);
    auto cost = model.costOf(f);
    if (!cost)
      return cost.takeError();
    visit(f, **group, model, *cost);
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error prism::cost::printEstimates(llvm::raw_ostream &os, ModuleOp module,
                                        const System &system,
                                        CostOptions options) {
  return forEachPhase(module, system, options, [&](func::FuncOp f,
                                                   const DeviceGroup &group,
                                                   CostModel &,
                                                   const PhaseCost &cost) {
    const Parallelism &p = cost.parallelism;
    StringRef what = f.getSymName() == "prefill"  ? "time to first token"
                     : f.getSymName() == "decode" ? "time per output token"
                                                  : "time per call";
    os << "@" << f.getSymName() << " on " << group.name << " (" << group.count
       << " x " << group.kind->kind << ", tensor parallel " << p.tp
       << ", pipeline " << p.pp << ", weights " << options.weightDtype << "):\n";
    os << llvm::format("  %-22s %.6g s", (what + ":").str().c_str(), cost.timeS);
    if (cost.errorFraction > 0)
      os << llvm::format(" (%.4g to %.4g s: the %s class's held-out error, %.0f%%)",
                         cost.lowS(), cost.highS(), group.kind->deviceClass.c_str(),
                         100 * cost.errorFraction);
    else
      os << " (no range: no published figure prices the " << group.kind->deviceClass
         << " class)";
    os << "\n";
    os << llvm::format("  %-22s %.6g s ops, %.6g s all-reduce (%lld), %.6g s "
                       "pipeline\n",
                       "made of:", cost.opsS, cost.allReduceS,
                       (long long)cost.allReduces, cost.pipelineS);
    os << llvm::format("  %-22s %.4g GB weights, %.4g GB KV cache: %.4g GB "
                       "of %.4g GB %s per chip\n",
                       "memory:", cost.weightBytes / 1e9, cost.kvBytes / 1e9,
                       cost.bytesPerChip / 1e9, cost.capacityPerChip / 1e9,
                       cost.memoryLevel.c_str());
    os << llvm::format("  %-22s %.6g J per call, %.6g J per token\n", "energy:",
                       cost.energyJ, cost.energyJ / (double)cost.tokens);
  });
}

llvm::Expected<llvm::json::Value>
prism::cost::estimatesToJson(ModuleOp module, const System &system,
                             CostOptions options) {
  llvm::json::Array phases;
  if (auto err = forEachPhase(module, system, options, [&](func::FuncOp f,
                                                           const DeviceGroup &group,
                                                           CostModel &,
                                                           const PhaseCost &cost) {
    llvm::json::Array kernels;
    for (const KernelTerms &k : cost.kernels)
      kernels.push_back(llvm::json::Object{
          {"op", k.op},
          {"count", k.count},
          {"flops", k.cost.flops},
          {"bytes", k.cost.bytes},
          {"rows", k.rows},
          {"compute_dtype", k.cost.computeDtype},
          {"peak_ops_per_s", k.peakOpsPerS},
          {"optical_tiles", k.cost.opticalTiles},
          {"time_s", k.cost.timeS}});
    phases.push_back(llvm::json::Object{
        {"phase", f.getSymName()},
        {"group", group.name},
        {"device", group.kind->kind},
        {"chips", group.count},
        {"tensor_parallel", cost.parallelism.tp},
        {"pipeline", cost.parallelism.pp},
        {"tokens", cost.tokens},
        {"weight_dtype", options.weightDtype},
        {"time_s", cost.timeS},
        {"error_fraction", cost.errorFraction},
        {"ops_s", cost.opsS},
        {"all_reduce_s", cost.allReduceS},
        {"pipeline_s", cost.pipelineS},
        {"all_reduces", cost.allReduces},
        {"activation_bytes", cost.activationBytes},
        {"weight_bytes", cost.weightBytes},
        {"kv_bytes", cost.kvBytes},
        {"bytes_per_chip", cost.bytesPerChip},
        {"memory_level", cost.memoryLevel},
        {"memory_bandwidth", cost.memoryBandwidth},
        {"kernels", std::move(kernels)}});
  }))
    return std::move(err);
  return llvm::json::Object{{"phases", std::move(phases)}};
}

llvm::Error prism::cost::explainOps(llvm::raw_ostream &os, ModuleOp module,
                                    const System &system, CostOptions options,
                                    StringRef node) {
  bool found = false;
  // Pricing the phase first places its memory, which sets every op's
  // bandwidth.
  if (auto err = forEachPhase(module, system, options,
                              [&](func::FuncOp f, const DeviceGroup &,
                                  CostModel &model, const PhaseCost &) {
    f.walk([&](Operation *op) {
      std::string loc;
      llvm::raw_string_ostream ls(loc);
      op->getLoc().print(ls);
      if (op == f.getOperation() || !StringRef(loc).contains(node))
        return;
      found = true;
      os << "@" << f.getSymName() << " " << loc << ":\n";
      model.explain(os, op);
    });
  }))
    return err;
  if (!found)
    return llvm::createStringError("no op comes from a node named like '" +
                                   node.str() + "'");
  return llvm::Error::success();
}
