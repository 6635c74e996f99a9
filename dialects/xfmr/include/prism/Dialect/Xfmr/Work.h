//===- Work.h - What an op does: FLOPs and bytes by class -------*- C++ -*-===//
//
// The answer of XfmrWorkInterface. Bytes are split by what they are, since
// each class lives in a different place on a device: weights are resident
// or streamed, the KV cache grows with the context, activations flow
// between ops.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECT_XFMR_WORK_H
#define PRISM_DIALECT_XFMR_WORK_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/Support/Error.h"

namespace prism::xfmr {

/// FLOPs (a multiply-add is 2) and bytes read and written by class.
struct Work {
  double flops = 0;
  double weightBytesRead = 0;
  double activationBytesRead = 0;
  double activationBytesWritten = 0;
  double kvBytesRead = 0;
  double kvBytesWritten = 0;

  Work &operator+=(const Work &o) {
    flops += o.flops;
    weightBytesRead += o.weightBytesRead;
    activationBytesRead += o.activationBytesRead;
    activationBytesWritten += o.activationBytesWritten;
    kvBytesRead += o.kvBytesRead;
    kvBytesWritten += o.kvBytesWritten;
    return *this;
  }
  double bytesRead() const {
    return weightBytesRead + activationBytesRead + kvBytesRead;
  }
  double bytesWritten() const { return activationBytesWritten + kvBytesWritten; }
};

/// Bytes of a statically shaped tensor (sub-byte types rounded up per
/// tensor); an error for a dynamic shape.
llvm::Expected<double> tensorBytes(mlir::Value v);

/// Whether `v` is a weight: a constant or a global, seen through the casts,
/// reshapes and transposes applied to it.
bool isWeight(mlir::Value v);

/// Adds the bytes of reading `v` to `work`, as a weight or an activation.
llvm::Error addRead(Work &work, mlir::Value v);

/// Reads of `reads` (by class; default: every operand) and writes of every
/// result (as activations), with `flops`.
llvm::Expected<Work> streamWork(mlir::Operation *op, double flops);
llvm::Expected<Work> streamWork(mlir::Operation *op, double flops,
                                mlir::ValueRange reads);

/// The work of any op: its XfmrWorkInterface answer when it has one, else an
/// elementwise estimate (one operation per result element; every operand
/// read, every result written). Constants and view-like ops do no work.
llvm::Expected<Work> getWorkOf(mlir::Operation *op);

/// The distinct weights (globals and initializers) `root` reads: their
/// elements and bytes as stored, and the elements of the float ones.
struct WeightFootprint {
  double elements = 0, bytes = 0, floatElements = 0;
};
WeightFootprint weightFootprint(mlir::Operation *root);

/// Attaches XfmrWorkInterface to the linalg contractions and linalg.generic.
void registerLinalgWorkModels(mlir::DialectRegistry &registry);

} // namespace prism::xfmr

#endif // PRISM_DIALECT_XFMR_WORK_H
