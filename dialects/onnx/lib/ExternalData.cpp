//===- ExternalData.cpp - Reading ONNX external data lazily ---------------===//

#include "prism/Dialect/Onnx/ExternalData.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace llvm;

Expected<std::unique_ptr<MemoryBuffer>>
prism::onnx::mapExternalData(ExternalDataAttr attr, StringRef modelDir) {
  SmallString<256> path(modelDir);
  sys::path::append(path, attr.getLocation().getValue());
  uint64_t size;
  if (std::error_code ec = sys::fs::file_size(path, size))
    return createStringError(ec, "cannot read external data '%s': %s",
                             path.c_str(), ec.message().c_str());
  if (attr.getOffset() > size || attr.getLength() > size - attr.getOffset())
    return createStringError(
        std::errc::invalid_argument,
        "external data '%s' is %llu bytes, shorter than offset %llu + length "
        "%llu",
        path.c_str(), (unsigned long long)size,
        (unsigned long long)attr.getOffset(),
        (unsigned long long)attr.getLength());
  auto buffer = MemoryBuffer::getFileSlice(path, attr.getLength(),
                                           attr.getOffset(),
                                           /*IsVolatile=*/false);
  if (!buffer)
    return createStringError(buffer.getError(),
                             "cannot map external data '%s': %s", path.c_str(),
                             buffer.getError().message().c_str());
  return std::move(*buffer);
}
