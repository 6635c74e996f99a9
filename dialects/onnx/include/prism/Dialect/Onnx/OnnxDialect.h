//===- OnnxDialect.h - The onnx dialect -------------------------*- C++ -*-===//

#ifndef PRISM_DIALECT_ONNX_ONNXDIALECT_H
#define PRISM_DIALECT_ONNX_ONNXDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"

#include "prism/Dialect/Onnx/OnnxDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "prism/Dialect/Onnx/OnnxTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "prism/Dialect/Onnx/OnnxAttrs.h.inc"

#endif // PRISM_DIALECT_ONNX_ONNXDIALECT_H
