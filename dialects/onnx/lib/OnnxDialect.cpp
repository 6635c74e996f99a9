//===- OnnxDialect.cpp - The onnx dialect ---------------------------------===//

#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace prism::onnx;

#include "prism/Dialect/Onnx/OnnxDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "prism/Dialect/Onnx/OnnxTypes.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "prism/Dialect/Onnx/OnnxAttrs.cpp.inc"

void ONNXDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "prism/Dialect/Onnx/OnnxOps.cpp.inc"
      >();
  registerTypes();
  registerAttributes();
}

void ONNXDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "prism/Dialect/Onnx/OnnxTypes.cpp.inc"
      >();
}

void ONNXDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "prism/Dialect/Onnx/OnnxAttrs.cpp.inc"
      >();
}

Operation *ONNXDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  if (isa<NoneType>(type))
    return ONNXNoValueOp::create(builder, loc, builder.getNoneType());
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return ONNXConstantOp::create(builder, loc, type, /*sparse_value=*/nullptr,
                                typed, nullptr, nullptr, nullptr, nullptr,
                                nullptr, nullptr);
}
