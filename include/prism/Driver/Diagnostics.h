//===- Diagnostics.h - Diagnostics that name the ONNX node ------*- C++ -*-===//

#ifndef PRISM_DRIVER_DIAGNOSTICS_H
#define PRISM_DRIVER_DIAGNOSTICS_H

#include "mlir/IR/MLIRContext.h"

namespace prism {

/// Prints each diagnostic as one line, `FILE: node 'NAME': error: MESSAGE`,
/// with the ONNX node name taken from the op's NameLoc.
void installOnnxDiagnosticHandler(mlir::MLIRContext &ctx);

} // namespace prism

#endif // PRISM_DRIVER_DIAGNOSTICS_H
