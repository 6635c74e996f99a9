//===- Passes.h - Prism's cross-dialect passes ------------------*- C++ -*-===//

#ifndef PRISM_TRANSFORMS_PASSES_H
#define PRISM_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Xfmr/XfmrDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
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

/// The steps of onnx-to-static after binding: infer shapes, unroll constant
/// control flow, infer again, check that every tensor is static (on every
/// function).
void buildStaticShapesPipeline(mlir::OpPassManager &pm);

/// onnx-to-static, then xfmr-raise.
void buildOnnxToXfmrPipeline(mlir::OpPassManager &pm,
                             const OnnxToStaticOptions &options);

/// Options of the `onnx-to-phases` pipeline.
struct OnnxToPhasesOptions
    : public mlir::PassPipelineOptions<OnnxToPhasesOptions> {
  Option<int64_t> prompt{*this, "prompt",
                         llvm::cl::desc("New tokens per sequence in @prefill")};
  Option<int64_t> context{*this, "context",
                          llvm::cl::desc("Cached positions @decode reads")};
  Option<int64_t> batch{*this, "batch", llvm::cl::desc("Sequences"),
                        llvm::cl::init(1)};
};

/// xfmr-split-phases, then xfmr-raise on each phase.
void buildOnnxToPhasesPipeline(mlir::OpPassManager &pm,
                               const OnnxToPhasesOptions &options);

void registerTransformsPipelines();

/// Sets the named dynamic dims of `func`'s arguments (their
/// `onnx.dim_names`) to the values `bound` gives them, or that a dim
/// expression of bound dims evaluates to. `modelDims` receives every dim
/// name seen, `used` the bound names used. Errors at the function.
mlir::LogicalResult bindArgumentDims(mlir::func::FuncOp func,
                                     const llvm::StringMap<int64_t> &bound,
                                     llvm::StringSet<> &modelDims,
                                     llvm::StringSet<> &used);

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
