//===- Bundle.h - Every placed phase compiled for its target ------*- C++ -*-===//
//
// `prismc --compile-to=bundle`: after the partitioner has placed the phases
// (#plan.placement), each phase is lowered by the backend of its device's
// class (prism/Target/TargetBackend.h) and emitted into one folder with a
// manifest naming each program, its device group and chips, the weights,
// and the KV-cache hand-off between the phases (docs/bundle.md).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DRIVER_BUNDLE_H
#define PRISM_DRIVER_BUNDLE_H

#include "prism/Partition/Partitioner.h"
#include "prism/Target/TargetBackend.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace prism::driver {

struct BundleOptions {
  std::string directory;
  /// The model's file name and the phases' shape, for the manifest.
  std::string model;
  int64_t prompt = 0, context = 0, batch = 1;
  /// How each program is written (verify, binary, target settings).
  target::EmitOptions emit;
};

/// Lowers and emits every placed phase of `module` and writes
/// `manifest.json` and `plan.json` (the partitioner's report) into
/// `options.directory`.
llvm::Error writeBundle(mlir::ModuleOp module, const cost::System &system,
                        const cost::DeviceLibrary &devices, const partition::Plan &plan,
                        const partition::PartitionOptions &partitionOptions,
                        const BundleOptions &options);

/// Lowers one placed phase of `module` with its target and writes its
/// program to `emit.path` (`--compile-to=emit`).
llvm::Expected<target::EmittedProgram> emitPhase(mlir::ModuleOp module, llvm::StringRef phase,
                                                 const cost::DeviceLibrary &devices,
                                                 const target::EmitOptions &emit);

/// The same for a placement the caller made (`--compile-to=emit` from
/// the flags, without the partitioner).
llvm::Expected<target::EmittedProgram> emitPlacedPhase(mlir::ModuleOp module,
                                                       const target::PlacedPhase &placed,
                                                       const target::EmitOptions &emit);

} // namespace prism::driver

#endif // PRISM_DRIVER_BUNDLE_H
