//===- RegisterAll.h - Register Prism's dialects and passes -----*- C++ -*-===//

#ifndef PRISM_REGISTERALL_H
#define PRISM_REGISTERALL_H

#include "mlir/IR/DialectRegistry.h"

namespace prism {

/// Prism's dialects and the upstream ones its pipelines use.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Prism's passes and named pipelines.
void registerAllPasses();

/// Prism's translations (`--import-onnx`).
void registerAllTranslations();

} // namespace prism

#endif // PRISM_REGISTERALL_H
