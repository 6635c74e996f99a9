//===- XfmrToLpu.h - Lower a phase to the lpu dialect ------------*- C++ -*-===//
//
// Lowers one phase function (`@prefill` or `@decode` of xfmr-split-phases:
// xfmr ops, onnx MatMul/elementwise/layout ops, ml_program weights, the KV
// cache as !xfmr.kv_cache) to a tensor-level `lpu.program` of chains for
// Prism's abstract SRAM-LPU, across `chips` chips: the ops are split into
// pipeline stages of `tensorParallel` chips (balanced by weight bytes), and
// every matmul's output columns are shared among its stage's chips.
// lpu-schedule then places the chains in time.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_CONVERSION_XFMRTOLPU_XFMRTOLPU_H
#define PRISM_CONVERSION_XFMRTOLPU_XFMRTOLPU_H

#include "prism/Cost/HardwareDescription.h"
#include "prism/Dialect/Lpu/LpuDialect.h"
#include "prism/Target/Lpu/Format/Program.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace prism::lpu {

struct LpuOptions {
  int64_t chips = 1;
  /// Chips per pipeline stage (0: the largest divisor of `chips` up to
  /// `tensorParallelMax`, the device's).
  int64_t tensorParallel = 0;
  int64_t tensorParallelMax = 8;
  /// "f16" (the default; numerics run) or "i8" (int8 weights with static
  /// activation scales; for timing).
  std::string weightDtype = "f16";
  /// The machine: clock, SRAM, link latency and bandwidth (from the device
  /// description).
  sim::lpu::Machine machine;
};

/// The options for an lpu-class device: the abstract machine (machines.md's
/// 900 MHz TSP) with the description's SRAM, link latency, bandwidth and
/// count, and its tensor_parallel_max.
LpuOptions lpuOptionsFor(const cost::DeviceKind &device, int64_t chips);

/// Replaces `func` with its tensor-level `lpu.program` (of the same name).
/// Weights with values (inline or resource) become the program's data;
/// external data make a shape-only program (timing only). Errors are
/// diagnostics: at the op that cannot be lowered, else at the function;
/// nothing is added then.
mlir::FailureOr<ProgramOp> convertPhaseToLpu(mlir::func::FuncOp func,
                                             const LpuOptions &options);

} // namespace prism::lpu

namespace prism {
/// convert-xfmr-to-lpu with the machine and the layout given as options
/// (the LPU target builds them from the placement and the device
/// description object) instead of a device named by its file.
std::unique_ptr<mlir::Pass> createConvertXfmrToLpu(llvm::StringRef function,
                                                   const lpu::LpuOptions &options);
} // namespace prism

#endif // PRISM_CONVERSION_XFMRTOLPU_XFMRTOLPU_H
