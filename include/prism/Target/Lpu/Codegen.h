//===- Codegen.h - Lower a phase to an LPU program ---------------*- C++ -*-===//
//
// Lowers one phase function (`@prefill` or `@decode` of xfmr-split-phases:
// xfmr ops, onnx MatMul/elementwise/layout ops, ml_program weights, the KV
// cache as !xfmr.kv_cache) to a scheduled program for Prism's abstract
// SRAM-LPU (docs/lpu-program.md), across `chips` chips: the ops are split
// into pipeline stages of `tensorParallel` chips (balanced by weight bytes),
// and every matmul's output columns are shared among its stage's chips.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_LPU_CODEGEN_H
#define PRISM_TARGET_LPU_CODEGEN_H

#include "prism/Sim/Lpu/Program.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

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
  /// Check the schedule with the simulator's rules before returning it
  /// (prism-sim checks every program it runs anyway).
  bool verify = false;
};

/// The abstract machine (machines.md's 900 MHz TSP) with an lpu-class
/// device description's SRAM, link latency, bandwidth and count.
sim::lpu::Machine machineFor(double sramBytes, double hopLatencyS, double linkBytesPerS,
                             int64_t links);

/// Compiles `func` to a scheduled program. Weights with values (inline or
/// resource) become the program's data; external data make a shape-only
/// program (timing only). Errors are diagnostics: at the op that cannot be
/// lowered, else at the function.
mlir::FailureOr<sim::lpu::Program> compileToLpu(mlir::func::FuncOp func,
                                               const LpuOptions &options);

} // namespace prism::lpu

#endif // PRISM_TARGET_LPU_CODEGEN_H
