//===- Passes.h - Prism's cross-dialect passes ------------------*- C++ -*-===//

#ifndef PRISM_TRANSFORMS_PASSES_H
#define PRISM_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Xfmr/XfmrDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace prism {

#define GEN_PASS_DECL
#include "prism/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "prism/Transforms/Passes.h.inc"

/// Options of the `onnx-to-static` pipeline.
struct OnnxToStaticOptions
    : public mlir::PassPipelineOptions<OnnxToStaticOptions> {
  ListOption<std::string> dims{*this, "dims",
                               llvm::cl::desc("Bindings name=value")};
};

/// Binds dims, infers shapes, unrolls constant control flow and checks that
/// every tensor is static.
void buildOnnxToStaticPipeline(mlir::OpPassManager &pm,
                               const OnnxToStaticOptions &options);

void registerTransformsPipelines();

/// Re-types an onnx op from its operands (ONNX's inference) and folds it
/// into constants or existing values if it can (erasing it); `changed` is
/// set when either happened, and `replacements`, if given, receives the
/// values that now stand for its results. Fails, with an error at the op,
/// on conflicting types.
mlir::LogicalResult
refineAndFold(mlir::Operation *op, mlir::OpBuilder &b, bool &changed,
              llvm::SmallVectorImpl<mlir::Value> *replacements = nullptr);

} // namespace prism

#endif // PRISM_TRANSFORMS_PASSES_H
