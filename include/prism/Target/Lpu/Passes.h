//===- Passes.h - LPU target passes and emission ----------------*- C++ -*-===//

#ifndef PRISM_TARGET_LPU_PASSES_H
#define PRISM_TARGET_LPU_PASSES_H

#include "prism/Dialect/Lpu/LpuDialect.h"
#include "prism/Target/Lpu/Format/Program.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace prism {

#define GEN_PASS_DECL
#include "prism/Target/Lpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "prism/Target/Lpu/Passes.h.inc"

namespace lpu {

struct LpuOptions;

/// The `prism-lower-lpu` pipeline: convert-xfmr-to-lpu for `function` with
/// `options` (the machine and the layout), then lpu-schedule.
void buildLowerToLpuPipeline(mlir::OpPassManager &pm, llvm::StringRef function,
                             const LpuOptions &options);
/// Registers `prism-lower-lpu` (options as convert-xfmr-to-lpu's).
void registerLpuPipelines();

/// The abstract machine a program op describes.
sim::lpu::Machine machineOf(ProgramOp program);

/// The scheduled program as the simulator's program (docs/lpu-program.md):
/// every instruction with its cycle, unit and streams. An instruction
/// without a cycle (the program was not scheduled) is an error at it;
/// `verify` also checks every rule of the machine (checkProgram).
mlir::FailureOr<sim::lpu::Program> emitProgram(ProgramOp program, bool verify = false);

/// Writes `program` to `path` ("-": stdout), in the binary form or the text.
llvm::Error writeProgramFile(const sim::lpu::Program &program, llvm::StringRef path,
                             bool binary);

/// `prism-translate --lpu-to-program` (the text form) and
/// `--lpu-to-binary`: the module's one scheduled lpu.program. `dialects`
/// registers what the rest of the module may hold.
void registerLpuTranslations(std::function<void(mlir::DialectRegistry &)> dialects);

} // namespace lpu
} // namespace prism

#endif // PRISM_TARGET_LPU_PASSES_H
