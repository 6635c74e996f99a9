//===- Pipelines.cpp - Named pass pipelines of the onnx stage -------------===//

#include "prism/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void prism::buildOnnxToStaticPipeline(OpPassManager &pm,
                                      const OnnxToStaticOptions &options) {
  OnnxBindDimsOptions bind;
  bind.dims.assign(options.dims.begin(), options.dims.end());
  pm.addPass(createOnnxBindDims(bind));
  pm.addNestedPass<func::FuncOp>(createOnnxInferShapes());
  pm.addNestedPass<func::FuncOp>(createOnnxUnrollControlFlow());
  pm.addNestedPass<func::FuncOp>(createOnnxInferShapes());
  pm.addNestedPass<func::FuncOp>(createOnnxCheckStatic());
}

void prism::registerTransformsPipelines() {
  PassPipelineRegistration<OnnxToStaticOptions>(
      "onnx-to-static",
      "Bind dims, infer shapes, fold shape arithmetic, unroll constant "
      "control flow and require every tensor to be static",
      buildOnnxToStaticPipeline);
}
