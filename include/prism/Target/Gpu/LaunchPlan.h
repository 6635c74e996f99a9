//===- LaunchPlan.h - What the host does to run a GPU phase ------*- C++ -*-===//
//
// After prism-lower-gpu a phase's host function holds only buffers
// (arguments, allocations, weight globals), views of them and kernel
// launches. The launch plan is that function as data: the buffers with
// their sizes and contents, every launch with its grid, block and
// arguments (a view: buffer, offset, sizes, strides), the outputs, and the
// kernels' PTX (or cubin, where prism-lower-gpu ran with format=bin). Its
// structs and JSON are the format library's (Format/LaunchPlan.h); this is
// how the GPU target builds one. `prismc --compile-to=emit` writes it as
// JSON (with the weights beside it) and `prism-run --device=cuda` runs it.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_GPU_LAUNCHPLAN_H
#define PRISM_TARGET_GPU_LAUNCHPLAN_H

#include "prism/Target/Gpu/Format/LaunchPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>

namespace prism::gpu {

/// The plan of `phase` in a module prism-lower-gpu produced; an error at
/// the op it cannot express.
mlir::FailureOr<LaunchPlan> buildLaunchPlan(mlir::ModuleOp module, mlir::func::FuncOp phase);

/// `prism-translate --gpu-to-launch-plan`: the plans of every phase of a
/// module (JSON, weights not written). `dialects` registers Prism's.
void registerLaunchPlanTranslation(std::function<void(mlir::DialectRegistry &)> dialects);

} // namespace prism::gpu

#endif // PRISM_TARGET_GPU_LAUNCHPLAN_H
