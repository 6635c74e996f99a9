//===- CostModel.h - Time, energy and capacity of phases on devices -*- C++ -*-===//
//
// An analytical model: each op's work (XfmrWorkInterface) on a device group
// takes max(compute, memory) time plus a per-op overhead, with compute at
// the peak of the dtype it runs in, derated by the device's efficiency and
// by how few rows a contraction has, and memory traffic at the bandwidth of
// the level its data lives in. A phase adds the tensor-parallel all-reduces
// and the pipeline hops between chips, and must fit: weights, KV cache and
// activations in the chips' memory. Every term is kept, so `--explain-op`
// can print what made an op's time.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_COST_COSTMODEL_H
#define PRISM_COST_COSTMODEL_H

#include "prism/Cost/HardwareDescription.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

namespace prism::cost {

/// How a phase is laid out on a group: tensor parallel within `tp` chips,
/// pipelined over `pp` stages of them.
struct Parallelism {
  int64_t tp = 1, pp = 1;
  int64_t chips() const { return tp * pp; }
};

/// The plan parameters the model takes.
struct CostOptions {
  /// Weights are stored and read in this dtype: bf16, fp16, fp8, int8, int4.
  std::string weightDtype = "bf16";
};

/// One op's predicted time and the terms behind it.
struct OpCost {
  double computeS = 0, memoryS = 0, overheadS = 0;
  /// On an optical core: weight tiles programmed, and their reload time.
  double opticalTiles = 0, reloadS = 0;
  double timeS = 0, energyJ = 0;
  std::string computeDtype, memoryLevel;
  double flops = 0, bytes = 0;
  bool memoryBound() const { return memoryS >= computeS; }
};

/// The kernels of one signature in a phase: what the model priced them on.
struct KernelTerms {
  std::string op;
  int64_t count = 0;
  OpCost cost;
  /// The contraction rows (0 for other ops) and the peak the model used.
  int64_t rows = 0;
  double peakOpsPerS = 0;
};

/// A phase's prediction.
struct PhaseCost {
  double timeS = 0, energyJ = 0;
  double opsS = 0, allReduceS = 0, pipelineS = 0;
  int64_t allReduces = 0;
  /// activationBytes: the hidden state each all-reduce sums.
  double weightBytes = 0, kvBytes = 0, activationBytes = 0;
  double bytesPerChip = 0, capacityPerChip = 0;
  std::string memoryLevel;
  double memoryBandwidth = 0;
  /// One entry per distinct kernel, in first-seen order.
  std::vector<KernelTerms> kernels;
  Parallelism parallelism;
  int64_t tokens = 1;
  /// The device class's held-out error (0: unknown): the time's range is
  /// timeS/(1+e) .. timeS*(1+e).
  double errorFraction = 0;
  double lowS() const { return timeS / (1 + errorFraction); }
  double highS() const { return timeS * (1 + errorFraction); }
};

class CostModel {
public:
  CostModel(const DeviceKind &device, Parallelism parallelism,
            CostOptions options = {});

  /// The op's cost; answers are cached by op signature (name, types and
  /// attributes), since an LLM repeats each signature in every layer.
  llvm::Expected<OpCost> costOf(mlir::Operation *op);

  /// The phase's cost; an error when it does not fit ("does not fit in
  /// sram: ...") or an op cannot state its work.
  llvm::Expected<PhaseCost> costOf(mlir::func::FuncOp phase);

  /// Prints the terms of an op's cost.
  void explain(llvm::raw_ostream &os, mlir::Operation *op);

  const DeviceKind &getDevice() const { return device; }

private:
  /// The share of the level's bandwidth a kernel moving `bytesPerChip`
  /// reaches.
  double memoryEfficiencyFor(double bytesPerChip) const;

  /// Chooses where weights and the KV cache live for this phase.
  llvm::Error placeMemory(mlir::func::FuncOp phase, PhaseCost &cost);

  const DeviceKind &device;
  Parallelism parallelism;
  CostOptions options;
  const MemoryLevel *level = nullptr;
  /// Pricing @decode: ops pay the device's decode overhead.
  bool decode = false;
  llvm::StringMap<OpCost> cache;
};

/// What `phase` holds on its devices: its weights at the plan's weight
/// dtype, and its KV cache (the one it reads or returns).
struct Footprint {
  double weightBytes = 0, kvBytes = 0;
  double total() const { return weightBytes + kvBytes; }
};
Footprint footprintOf(mlir::func::FuncOp phase, const CostOptions &options);

/// Bytes per element of a dtype name (int4: 0.5).
double dtypeBytes(llvm::StringRef dtype);

/// The default layout of `phase` on `chips` devices: tensor parallel over
/// the largest group that fits the device's fast domain
/// (tensor_parallel_max) and divides the attention heads, pipelined beyond.
Parallelism defaultParallelism(const DeviceKind &device, int64_t chips,
                               mlir::func::FuncOp phase);

/// The group a phase runs on: the one named like it (prefill, decode), or
/// the system's only group.
llvm::Expected<const DeviceGroup *> groupFor(const System &system,
                                            llvm::StringRef phase);

/// Prints the prediction of each phase of `module` on its group of `system`.
llvm::Error printEstimates(llvm::raw_ostream &os, mlir::ModuleOp module,
                           const System &system, CostOptions options);

/// What printEstimates prints, with the terms behind it, as JSON: per
/// phase the kernels (FLOPs, bytes, rows, peak, count), the memory level
/// and its bandwidth, the collectives and the predicted time. The inputs
/// python/check_calibration.py fits the efficiencies on.
llvm::Expected<llvm::json::Value> estimatesToJson(mlir::ModuleOp module,
                                                  const System &system,
                                                  CostOptions options);

/// Prints, for every op whose location names `node` (an ONNX node name, or
/// part of one), the terms of its cost in each phase.
llvm::Error explainOps(llvm::raw_ostream &os, mlir::ModuleOp module,
                       const System &system, CostOptions options,
                       llvm::StringRef node);

} // namespace prism::cost

#endif // PRISM_COST_COSTMODEL_H
