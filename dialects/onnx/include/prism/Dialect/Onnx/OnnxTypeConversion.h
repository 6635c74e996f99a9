//===- OnnxTypeConversion.h - MLIR types <-> ONNX protobuf ------*- C++ -*-===//
//
// Conversions between MLIR types and attributes and ONNX's protobuf messages,
// shared by the importer and the schema-inference adapter.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DIALECT_ONNX_ONNXTYPECONVERSION_H
#define PRISM_DIALECT_ONNX_ONNXTYPECONVERSION_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "onnx/onnx_pb.h"

namespace prism::onnx {

/// The MLIR element type of an ONNX TensorProto data type, or null.
mlir::Type getElementType(mlir::MLIRContext *ctx, int32_t dataType);

/// The ONNX data type of an MLIR element type (0, UNDEFINED, if none).
int32_t getOnnxDataType(mlir::Type elementType);

/// Bytes per element of an ONNX data type with a fixed size (0 otherwise).
int64_t getOnnxDataTypeSize(int32_t dataType);

/// Writes `type` (a tensor type) into `proto`; dynamic dims stay unknown.
void toTypeProto(mlir::Type type, ::onnx::TypeProto &proto);

/// The tensor type described by `proto`, or null when it says nothing about
/// the type. An unknown element type takes `fallback`'s element type.
mlir::Type fromTypeProto(mlir::MLIRContext *ctx, const ::onnx::TypeProto &proto,
                         mlir::Type fallback);

/// Copies the values of an integer or float dense attribute into `proto`.
llvm::LogicalResult toTensorProto(mlir::DenseElementsAttr attr,
                                  ::onnx::TensorProto &proto);

/// Writes an attribute of an onnx op into an AttributeProto.
llvm::LogicalResult toAttributeProto(mlir::Attribute attr,
                                     ::onnx::AttributeProto &proto);

} // namespace prism::onnx

#endif // PRISM_DIALECT_ONNX_ONNXTYPECONVERSION_H
