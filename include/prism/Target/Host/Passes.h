//===- Passes.h - Host (CPU) target passes ----------------------*- C++ -*-===//

#ifndef PRISM_TARGET_HOST_PASSES_H
#define PRISM_TARGET_HOST_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace prism {

#define GEN_PASS_DECL
#include "prism/Target/Host/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "prism/Target/Host/Passes.h.inc"

/// linalg on tensors (after convert-onnx-to-linalg) to the LLVM dialect for
/// the host: tiling and vectorization, one-shot bufferization, vector and
/// loop lowering. Registered as the pipeline `host-lower-to-llvm`;
/// `vectorize = false` keeps scalar loops; `threads > 1` runs large
/// contractions on that many threads (MLIR's async runtime, which the
/// program must then be linked or JIT-loaded with).
void buildHostLowerToLLVMPipeline(mlir::OpPassManager &pm, bool vectorize,
                                  int64_t threads = 1);
void registerHostPipelines();

} // namespace prism

#endif // PRISM_TARGET_HOST_PASSES_H
