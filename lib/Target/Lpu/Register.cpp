//===- Register.cpp - The SRAM-LPU as a Prism target ----------------------===//
//
// A placed phase through convert-xfmr-to-lpu (tiles, stages, SRAM) and
// lpu-schedule (cycles), emitted as the program prism-sim runs
// (docs/lpu-program.md).
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Lpu/Register.h"

#include "prism/Conversion/Passes.h"
#include "prism/Conversion/XfmrToLpu/XfmrToLpu.h"
#include "prism/Target/Lpu/Passes.h"
#include "prism/Target/TargetBackend.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace prism;
using namespace prism::target;

namespace {

class LpuBackend final : public TargetBackend {
public:
  llvm::StringRef deviceClass() const override { return "sram-lpu"; }
  llvm::StringRef name() const override { return "lpu"; }
  llvm::StringRef programExtension() const override { return ".lpu"; }

  void registerDialects(DialectRegistry &registry) const override {
    registry.insert<lpu::LpuDialect>();
  }

  plan::WeightDtype defaultWeightDtype() const override { return plan::WeightDtype::fp16; }
  llvm::Error checkWeightDtype(plan::WeightDtype dtype) const override {
    if (dtype == plan::WeightDtype::fp16 || dtype == plan::WeightDtype::int8)
      return llvm::Error::success();
    return llvm::createStringError("the LPU stores weights as fp16 or int8, not " +
                                   plan::stringifyWeightDtype(dtype));
  }

  /// The lowering's options for the placement: the machine from the device
  /// description, the chips and stages the plan chose.
  static lpu::LpuOptions optionsFor(const PlacedPhase &placed) {
    lpu::LpuOptions options = lpu::lpuOptionsFor(*placed.device, placed.chips);
    options.tensorParallel = placed.tensorParallel;
    options.weightDtype = placed.weightDtype == plan::WeightDtype::int8 ? "i8" : "f16";
    return options;
  }

  /// The placed phase lowered on a copy of its module, with the first
  /// error the lowering reports as the failure's text: the conversion
  /// (tiles, stages, SRAM) and, when `schedule`, lpu-schedule too.
  static llvm::Expected<OwningOpRef<ModuleOp>> lowerCopy(func::FuncOp phase,
                                                         const PlacedPhase &placed,
                                                         bool schedule) {
    auto module = phase->getParentOfType<ModuleOp>();
    OwningOpRef<ModuleOp> copy = extractPhase(module, placed.function);
    std::string reason;
    ScopedDiagnosticHandler capture(module.getContext(), [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error && reason.empty())
        reason = d.str();
      return success();
    });
    // Through a pass manager, which loads the dialects the lowering creates.
    PassManager pm(module.getContext());
    pm.enableVerifier(false);
    if (schedule)
      lpu::buildLowerToLpuPipeline(pm, placed.function, optionsFor(placed));
    else
      pm.addPass(createConvertXfmrToLpu(placed.function, optionsFor(placed)));
    if (failed(pm.run(*copy)))
      return llvm::createStringError(reason.empty() ? "the LPU lowering failed" : reason);
    return copy;
  }

  /// Whether the phase fits: the lowering's own SRAM allocation decides
  /// (the cost model's footprint misses the lowering's padding to whole
  /// vectors and tiles and its per-chip copies).
  llvm::Error checkPlacement(func::FuncOp phase, const PlacedPhase &placed) const override {
    if (auto err = checkWeightDtype(placed.weightDtype))
      return err;
    return lowerCopy(phase, placed, /*schedule=*/false).takeError();
  }

  /// The schedule's cycles at the machine's clock: the time the simulator
  /// reports for the program, without running it.
  llvm::Expected<std::optional<double>> exactTimeS(func::FuncOp phase,
                                                   const PlacedPhase &placed) const override {
    if (auto err = checkWeightDtype(placed.weightDtype))
      return std::move(err);
    auto lowered = lowerCopy(phase, placed, /*schedule=*/true);
    if (!lowered)
      return lowered.takeError();
    auto programOp = (*lowered)->lookupSymbol<lpu::ProgramOp>(placed.function);
    FailureOr<sim::lpu::Program> program = failure();
    if (programOp)
      program = lpu::emitProgram(programOp);
    if (failed(program))
      return llvm::createStringError("the LPU program of @" + placed.function +
                                     " could not be emitted");
    return (double)sim::lpu::cyclesOf(*program) / (program->machine.clockMhz * 1e6);
  }

  // Verifying millions of instructions after each pass costs seconds: only
  // when asked (prism-sim checks every rule of what it runs).
  bool verifyEachPass(const EmitOptions &options) const override { return options.verify; }

  llvm::Error buildPipeline(OpPassManager &pm, const PlacedPhase &placed,
                            const EmitOptions &options) const override {
    if (auto err = checkWeightDtype(placed.weightDtype))
      return err;
    lpu::buildLowerToLpuPipeline(pm, placed.function, optionsFor(placed));
    return llvm::Error::success();
  }

  llvm::Expected<EmittedProgram> emit(ModuleOp lowered, const PlacedPhase &placed,
                                      const EmitOptions &options) const override {
    auto programOp = lowered.lookupSymbol<lpu::ProgramOp>(placed.function);
    if (!programOp)
      return llvm::createStringError("the LPU lowering left no lpu.program @" +
                                     placed.function);
    auto program = lpu::emitProgram(programOp, options.verify);
    if (failed(program))
      return llvm::createStringError("the LPU program of @" + placed.function +
                                     " could not be emitted (see the error above)");
    if (auto err = lpu::writeProgramFile(*program, options.path,
                                         options.binary ||
                                             llvm::StringRef(options.path).ends_with(".lpub")))
      return std::move(err);
    EmittedProgram emitted;
    emitted.format = "lpu-program";
    emitted.files = {options.path};
    // The simulator places every input where its binding says; the cache is
    // an input of @decode and an output of @prefill, one key/value head per
    // chip of a stage, fp16 in SRAM.
    emitted.kvLayout = llvm::json::Object{
        {"memory", "sram"},
        {"dtype", "f16"},
        {"order", "[layers, 2, batch, heads, positions, head_dim]"},
        {"placement", "each stage's chips hold its layers' heads, a key/value head per chip"}};
    return emitted;
  }
};

} // namespace

void prism::lpu::registerLpuTarget() { registerTarget(std::make_unique<LpuBackend>()); }
