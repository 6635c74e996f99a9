//===- RegisterAll.cpp - The one place that registers Prism ---------------===//

#include "prism/RegisterAll.h"

#include "prism/Conversion/Passes.h"
#include "prism/Dialect/Lpu/LpuDialect.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Plan/PlanDialect.h"
#include "prism/Dialect/Xfmr/Work.h"
#include "prism/Dialect/Xfmr/XfmrDialect.h"
#include "prism/Import/OnnxImporter.h"
#include "prism/Target/Gpu/Passes.h"
#include "prism/Target/Gpu/Pipelines.h"
#include "prism/Target/Host/Passes.h"
#include "prism/Target/Lpu/Passes.h"
#include "prism/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"

void prism::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<prism::onnx::ONNXDialect, prism::xfmr::XfmrDialect,
                  prism::plan::PlanDialect, prism::lpu::LpuDialect,
                  mlir::ml_program::MLProgramDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::tensor::TensorDialect>();
  prism::xfmr::registerLinalgWorkModels(registry);
}

void prism::registerAllPasses() {
  registerTransformsPasses();
  registerConversionPasses();
  registerHostPasses();
  registerHostPipelines();
  registerGpuPasses();
  registerGpuPipelines();
  registerLpuPasses();
  lpu::registerLpuPipelines();
  registerTransformsPipelines();
}

void prism::registerAllTranslations() {
  registerOnnxImportTranslation();
  lpu::registerLpuTranslations(registerAllDialects);
  registerGpuTranslations(registerAllDialects);
}
