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
  buildStaticShapesPipeline(pm);
}

void prism::buildStaticShapesPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createOnnxInferShapes());
  pm.addNestedPass<func::FuncOp>(createOnnxUnrollControlFlow());
  pm.addNestedPass<func::FuncOp>(createOnnxInferShapes());
  pm.addNestedPass<func::FuncOp>(createOnnxCheckStatic());
}

void prism::buildOnnxToXfmrPipeline(OpPassManager &pm,
                                    const OnnxToStaticOptions &options) {
  buildOnnxToStaticPipeline(pm, options);
  pm.addNestedPass<func::FuncOp>(createXfmrRaise());
}

void prism::buildOnnxToPhasesPipeline(OpPassManager &pm,
                                      const OnnxToPhasesOptions &options) {
  XfmrSplitPhasesOptions split;
  split.prompt = options.prompt;
  split.context = options.context;
  split.batch = options.batch;
  pm.addPass(createXfmrSplitPhases(split));
  pm.addNestedPass<func::FuncOp>(createXfmrRaise());
}

void prism::registerTransformsPipelines() {
  PassPipelineRegistration<OnnxToStaticOptions>(
      "onnx-to-xfmr", "onnx-to-static, then raise transformer blocks to xfmr",
      buildOnnxToXfmrPipeline);
  PassPipelineRegistration<OnnxToPhasesOptions>(
      "onnx-to-phases",
      "Split the imported graph into static @prefill and @decode programs "
      "(xfmr-split-phases) and raise each to xfmr",
      buildOnnxToPhasesPipeline);
  PassPipelineRegistration<OnnxToStaticOptions>(
      "onnx-to-static",
      "Bind dims, infer shapes, fold shape arithmetic, unroll constant "
      "control flow and require every tensor to be static",
      buildOnnxToStaticPipeline);
}
