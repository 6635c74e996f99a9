//===- ExternalData.h - Reading ONNX external data lazily -------*- C++ -*-===//

#ifndef PRISM_DIALECT_ONNX_EXTERNALDATA_H
#define PRISM_DIALECT_ONNX_EXTERNALDATA_H

#include "prism/Dialect/Onnx/OnnxDialect.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

namespace prism::onnx {

/// Maps the bytes of an `#onnx.external_data` tensor: `length` bytes at
/// `offset` of `location`, relative to `modelDir` (the module's
/// `onnx.model_dir`). Large ranges are mmapped, so nothing is read until the
/// bytes are touched. Fails if the file is missing or shorter than the range.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mapExternalData(ExternalDataAttr attr, llvm::StringRef modelDir);

} // namespace prism::onnx

#endif // PRISM_DIALECT_ONNX_EXTERNALDATA_H
