//===- Passes.h - Prism's cross-dialect passes ------------------*- C++ -*-===//

#ifndef PRISM_TRANSFORMS_PASSES_H
#define PRISM_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"

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

/// Binds dims, infers shapes and checks that every tensor is static.
void buildOnnxToStaticPipeline(mlir::OpPassManager &pm,
                               const OnnxToStaticOptions &options);

void registerTransformsPipelines();

} // namespace prism

#endif // PRISM_TRANSFORMS_PASSES_H
