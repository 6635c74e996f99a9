//===- Passes.h - Prism's conversion passes ---------------------*- C++ -*-===//

#ifndef PRISM_CONVERSION_PASSES_H
#define PRISM_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"

namespace prism {

#define GEN_PASS_DECL
#include "prism/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "prism/Conversion/Passes.h.inc"

} // namespace prism

#endif // PRISM_CONVERSION_PASSES_H
