//===- RegisterAll.cpp - The one place that registers Prism ---------------===//

#include "prism/RegisterAll.h"

#include "prism/Conversion/Passes.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Import/OnnxImporter.h"
#include "prism/Target/Host/Passes.h"
#include "prism/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

void prism::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<prism::onnx::ONNXDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::tensor::TensorDialect>();
}

void prism::registerAllPasses() {
  registerTransformsPasses();
  registerConversionPasses();
  registerHostPasses();
  registerHostPipelines();
  registerTransformsPipelines();
}

void prism::registerAllTranslations() { registerOnnxImportTranslation(); }
