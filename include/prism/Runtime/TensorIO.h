//===- TensorIO.h - Host tensors and their files (.npy, ONNX .pb) -*- C++ -*-=//
//
// The tensors prism-run reads and writes: NumPy `.npy` files and ONNX
// `TensorProto` files (the ONNX test-data format). Plain C++ over LLVM's
// support library, independent of MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_TENSORIO_H
#define PRISM_RUNTIME_TENSORIO_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace prism::runtime {

/// Element types of host tensors (ONNX's numeric types and bool).
enum class DType { F32, F64, F16, BF16, I8, I16, I32, I64, U8, U16, U32, U64, Bool };

/// Bytes per element.
size_t getDTypeSize(DType dtype);

/// ONNX's name of the type ("float", "int64", "bool", ...).
llvm::StringRef getDTypeName(DType dtype);

/// The ONNX TensorProto data type of `dtype`, and back (nullopt if none).
int32_t getOnnxDataType(DType dtype);
std::optional<DType> getDTypeFromOnnx(int32_t dataType);

/// A dense, row-major, little-endian host tensor.
struct Tensor {
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t> shape;
  std::vector<char> data;

  int64_t getNumElements() const;
  std::string getTypeString() const; // e.g. "float[2, 3]"
};

/// Reads a `.npy` file (format 1.0 to 3.0, C order, little-endian).
llvm::Expected<Tensor> readNpy(llvm::StringRef path);
llvm::Error writeNpy(llvm::StringRef path, const Tensor &tensor);

/// Reads an ONNX `TensorProto` file (raw data or typed fields).
llvm::Expected<Tensor> readTensorProto(llvm::StringRef path);
llvm::Error writeTensorProto(llvm::StringRef path, const Tensor &tensor,
                             llvm::StringRef name);

/// Reads an ONNX `SequenceProto` file of tensors, and writes one.
llvm::Expected<std::vector<Tensor>> readSequenceProto(llvm::StringRef path);
llvm::Error writeSequenceProto(llvm::StringRef path,
                               llvm::ArrayRef<Tensor> elements,
                               llvm::StringRef name);

/// An ONNX `OptionalProto`: empty, a tensor, or a sequence of tensors.
struct OptionalValue {
  bool hasValue = false;
  bool isSequence = false;
  std::vector<Tensor> elements; // the tensor, or the sequence's elements
};
llvm::Expected<OptionalValue> readOptionalProto(llvm::StringRef path);
llvm::Error writeOptionalProto(llvm::StringRef path, const OptionalValue &value,
                               llvm::StringRef name);

/// Reads either format, telling them apart by `.npy`'s magic bytes.
llvm::Expected<Tensor> readTensorFile(llvm::StringRef path);

/// A file name for an output: characters other than letters, digits, `.`,
/// `_` and `-` become `_`.
std::string sanitizeFileName(llvm::StringRef name);

} // namespace prism::runtime

#endif // PRISM_RUNTIME_TENSORIO_H
