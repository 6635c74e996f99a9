//===- TargetBackend.h - What a target plugs into Prism ----------*- C++ -*-===//
//
// A target is one implementation of TargetBackend, registered by the device
// class it compiles for ("gpu", "sram-lpu", "cpu", ...) in its own
// lib/Target/<T>/Register.cpp, in the spirit of IREE's target plugins and
// onnx-mlir's Accelerator. Drivers and the partitioner know targets only
// through the registry: they read a phase's #plan.placement, look up the
// backend of the placed device's class, and ask it whether the phase fits,
// for its lowering pipeline, and for its program.
// docs/adding-a-target.md is the recipe.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_TARGETBACKEND_H
#define PRISM_TARGET_TARGETBACKEND_H

#include "prism/Cost/HardwareDescription.h"
#include "prism/Dialect/Plan/PlanDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace prism::target {

/// A phase as the plan placed it: read off its #plan.placement and the
/// device description the placement names.
struct PlacedPhase {
  std::string function; // the phase: prefill or decode
  std::string group;    // the system's group that runs it
  const cost::DeviceKind *device = nullptr;
  int64_t chips = 1, tensorParallel = 1, pipelineParallel = 1;
  plan::WeightDtype weightDtype = plan::WeightDtype::bf16;
};

/// How a program is written; a backend ignores what it has no use for.
struct EmitOptions {
  /// The program file; weights and other files go beside it (path + suffix).
  std::string path;
  /// Check the program against the machine's rules before writing it.
  bool verify = false;
  /// The program's binary form, where the target has one.
  bool binary = false;
  /// Target-specific choices as name=value (the GPU's `format=isa|bin`).
  std::map<std::string, std::string> settings;
};

/// A tensor crossing a program's boundary, as the manifest describes it.
struct TensorSignature {
  std::string name, dtype; // dtype: f32, f16, bf16, i64, i32, ...
  std::vector<int64_t> shape;
};

/// What an emitter wrote.
struct EmittedProgram {
  std::string format;             // e.g. "lpu-program", "gpu-launch-plan"
  std::vector<std::string> files; // the program first, then weights
  std::vector<TensorSignature> inputs, outputs;
  /// How the phase holds its KV cache (for the hand-off), as JSON.
  llvm::json::Object kvLayout;
};

class TargetBackend {
public:
  virtual ~TargetBackend();

  /// The device class of hardware/devices/*.json this target compiles for.
  virtual llvm::StringRef deviceClass() const = 0;
  /// A short name for tools and files ("lpu", "gpu", "host").
  virtual llvm::StringRef name() const = 0;
  /// The extension of its program file (".lpu", ".json", ".o").
  virtual llvm::StringRef programExtension() const = 0;

  /// The dialects its pipeline creates.
  virtual void registerDialects(mlir::DialectRegistry &registry) const {}

  /// The weight dtype it stores when the user names none, and an error
  /// when it cannot store `dtype`.
  virtual plan::WeightDtype defaultWeightDtype() const = 0;
  virtual llvm::Error checkWeightDtype(plan::WeightDtype dtype) const = 0;

  /// An error when the target cannot compile `phase` as placed (it does not
  /// fit the chips' memory, an op it has no lowering for): the partitioner
  /// drops such a candidate, so that a plan is one the target compiles.
  virtual llvm::Error checkPlacement(mlir::func::FuncOp phase,
                                     const PlacedPhase &placed) const;

  /// The phase's time as placed, where the target knows it better than the
  /// cost model (the LPU: its own cycle-exact schedule); none by default.
  /// An error, like checkPlacement's, when it cannot compile the phase.
  virtual llvm::Expected<std::optional<double>> exactTimeS(mlir::func::FuncOp phase,
                                                           const PlacedPhase &placed) const {
    return std::nullopt;
  }

  /// The most chips of its device it compiles one phase for (0: any).
  virtual int64_t maxChips() const { return 0; }

  /// The lowering of `placed.function` (the module's other phases are gone).
  virtual llvm::Error buildPipeline(mlir::OpPassManager &pm, const PlacedPhase &placed,
                                    const EmitOptions &options) const = 0;

  /// Whether the driver verifies the IR after each pass of the pipeline.
  virtual bool verifyEachPass(const EmitOptions &options) const { return true; }

  /// Writes the program of the lowered module to `options.path` (and its
  /// weights beside it).
  virtual llvm::Expected<EmittedProgram> emit(mlir::ModuleOp lowered, const PlacedPhase &placed,
                                              const EmitOptions &options) const = 0;
};

/// Registers `backend` under its device class (once per class).
void registerTarget(std::unique_ptr<TargetBackend> backend);
/// The backend for a device class, or null.
const TargetBackend *lookupTarget(llvm::StringRef deviceClass);
/// Every registered backend, by device class.
std::vector<const TargetBackend *> registeredTargets();
/// Registers every target Prism has (lib/Target/RegisterAllTargets.cpp).
void registerAllTargets();

/// The backend for a device, or an error naming the classes that have one.
llvm::Expected<const TargetBackend *> targetFor(const cost::DeviceKind &device);

/// The placement of `phase` (#plan.placement) with its device looked up in
/// `devices`; an error at a phase without one.
llvm::Expected<PlacedPhase> readPlacement(mlir::func::FuncOp phase,
                                          const cost::DeviceLibrary &devices);

/// A weight dtype from its spelling (fp32, bf16, fp16, fp8, int8, int4).
llvm::Expected<plan::WeightDtype> parseWeightDtype(llvm::StringRef text);

/// The phase's inputs and outputs (onnx.name, shape, dtype).
std::vector<TensorSignature> signatureOf(mlir::func::FuncOp phase, bool results);

/// A copy of `module` with `function` the only phase (the other phase and
/// the plan's ops gone, the shared weights kept): what a backend lowers.
mlir::OwningOpRef<mlir::ModuleOp> extractPhase(mlir::ModuleOp module, llvm::StringRef function);

} // namespace prism::target

#endif // PRISM_TARGET_TARGETBACKEND_H
