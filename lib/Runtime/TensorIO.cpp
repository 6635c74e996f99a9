//===- TensorIO.cpp - Host tensors and their files (.npy, ONNX .pb) -------===//

#include "prism/Runtime/TensorIO.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "onnx/onnx_pb.h"
// After onnx_pb.h, which defines the export macros it uses.
#include "onnx/onnx-data.pb.h"

#include <cstring>

using namespace llvm;
using namespace prism::runtime;
using TP = ::onnx::TensorProto;

namespace {

struct DTypeInfo {
  DType dtype;
  size_t size;
  StringRef name;    // ONNX's
  StringRef npy;     // NumPy's descr, without the byte-order character
  int32_t onnx;
};

const DTypeInfo kDTypes[] = {
    {DType::F32, 4, "float", "f4", TP::FLOAT},
    {DType::F64, 8, "double", "f8", TP::DOUBLE},
    {DType::F16, 2, "float16", "f2", TP::FLOAT16},
    {DType::BF16, 2, "bfloat16", "", TP::BFLOAT16},
    {DType::I8, 1, "int8", "i1", TP::INT8},
    {DType::I16, 2, "int16", "i2", TP::INT16},
    {DType::I32, 4, "int32", "i4", TP::INT32},
    {DType::I64, 8, "int64", "i8", TP::INT64},
    {DType::U8, 1, "uint8", "u1", TP::UINT8},
    {DType::U16, 2, "uint16", "u2", TP::UINT16},
    {DType::U32, 4, "uint32", "u4", TP::UINT32},
    {DType::U64, 8, "uint64", "u8", TP::UINT64},
    {DType::Bool, 1, "bool", "b1", TP::BOOL},
};

const DTypeInfo &info(DType dtype) {
  for (const DTypeInfo &i : kDTypes)
    if (i.dtype == dtype)
      return i;
  llvm_unreachable("every DType has an entry");
}

Error fail(StringRef path, const Twine &why) {
  return createStringError((path + ": " + why).str(),
                           std::make_error_code(std::errc::invalid_argument));
}

Expected<std::unique_ptr<MemoryBuffer>> readFile(StringRef path) {
  auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false,
                                      /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  return std::move(*buffer);
}

/// Element count of `shape`, or an error on negative dims and overflow.
Expected<int64_t> countElements(StringRef path, ArrayRef<int64_t> shape,
                                size_t elemSize) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return fail(path, "negative dim " + Twine(d));
    if (d != 0 && n > INT64_MAX / d)
      return fail(path, "the shape's element count overflows int64");
    n *= d;
  }
  if (n > INT64_MAX / (int64_t)elemSize)
    return fail(path, "the tensor is larger than int64 bytes");
  return n;
}

/// The value of `key` in a .npy header dict: `'key': value`.
std::optional<StringRef> npyField(StringRef header, StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == StringRef::npos)
    return std::nullopt;
  StringRef rest = header.drop_front(at + key.size() + 2).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  rest = rest.ltrim();
  if (rest.starts_with("(")) // a tuple, up to its ')'
    return rest.take_until([](char c) { return c == ')'; }).drop_front();
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

} // namespace

size_t prism::runtime::getDTypeSize(DType dtype) { return info(dtype).size; }

StringRef prism::runtime::getDTypeName(DType dtype) { return info(dtype).name; }

int32_t prism::runtime::getOnnxDataType(DType dtype) { return info(dtype).onnx; }

std::optional<DType> prism::runtime::getDTypeFromOnnx(int32_t dataType) {
  for (const DTypeInfo &i : kDTypes)
    if (i.onnx == dataType)
      return i.dtype;
  return std::nullopt;
}

int64_t Tensor::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string Tensor::getTypeString() const {
  std::string s = getDTypeName(dtype).str() + "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

std::string prism::runtime::sanitizeFileName(StringRef name) {
  std::string out;
  for (char c : name)
    out.push_back(isAlnum(c) || c == '.' || c == '_' || c == '-' ? c : '_');
  return out;
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

Expected<Tensor> prism::runtime::readNpy(StringRef path) {
  auto buffer = readFile(path);
  if (!buffer)
    return buffer.takeError();
  StringRef bytes = (*buffer)->getBuffer();
  if (!bytes.consume_front("\x93NUMPY") || bytes.size() < 4)
    return fail(path, "not a .npy file");
  unsigned major = (unsigned char)bytes[0];
  bytes = bytes.drop_front(2);
  size_t headerLen;
  if (major == 1) {
    headerLen = (unsigned char)bytes[0] | ((unsigned char)bytes[1] << 8);
    bytes = bytes.drop_front(2);
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 4)
      return fail(path, "truncated .npy header");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = (headerLen << 8) | (unsigned char)bytes[i];
    bytes = bytes.drop_front(4);
  } else {
    return fail(path, ".npy format version " + Twine(major) +
                          " is not supported");
  }
  if (headerLen > bytes.size())
    return fail(path, "truncated .npy header");
  StringRef header = bytes.take_front(headerLen);
  StringRef payload = bytes.drop_front(headerLen);

  auto descr = npyField(header, "descr");
  auto fortran = npyField(header, "fortran_order");
  auto shapeText = npyField(header, "shape");
  if (!descr || !fortran || !shapeText)
    return fail(path, "malformed .npy header: " + header.trim());
  if (*fortran != "False")
    return fail(path, "Fortran-ordered arrays are not supported");
  StringRef d = descr->trim().trim("'\"");
  char order = d.empty() ? '?' : d[0];
  StringRef code = d.drop_front();
  Tensor t;
  bool found = false;
  for (const DTypeInfo &i : kDTypes)
    if (!i.npy.empty() && code == i.npy) {
      t.dtype = i.dtype;
      found = true;
    }
  if (!found || (order != '<' && order != '|' && order != '='))
    return fail(path, "unsupported .npy dtype '" + d +
                          "' (little-endian numeric and bool types only)");
  SmallVector<StringRef> dims;
  shapeText->split(dims, ',', -1, /*KeepEmpty=*/false);
  for (StringRef dim : dims) {
    int64_t v;
    if (dim.trim().getAsInteger(10, v))
      return fail(path, "malformed .npy shape '(" + *shapeText + ")'");
    t.shape.push_back(v);
  }
  auto count = countElements(path, t.shape, getDTypeSize(t.dtype));
  if (!count)
    return count.takeError();
  size_t want = *count * getDTypeSize(t.dtype);
  if (payload.size() != want)
    return fail(path, "holds " + Twine(payload.size()) + " bytes of data, " +
                          t.getTypeString() + " needs " + Twine(want));
  t.data.assign(payload.begin(), payload.end());
  return t;
}

Error prism::runtime::writeNpy(StringRef path, const Tensor &t) {
  const DTypeInfo &i = info(t.dtype);
  if (i.npy.empty())
    return fail(path, "NumPy has no " + i.name + " type; write a .pb instead");
  // NumPy's tuple syntax: "()", "(4,)", "(2, 3)".
  std::string shape;
  for (auto [k, d] : llvm::enumerate(t.shape))
    shape += (k ? ", " : "") + std::to_string(d);
  if (t.shape.size() == 1)
    shape += ",";
  std::string header = "{'descr': '" + std::string(i.size == 1 ? "|" : "<") +
                       i.npy.str() + "', 'fortran_order': False, 'shape': (" +
                       shape + "), }";
  // Pad with spaces and a newline so the data starts 64-byte aligned.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return fail(path, "cannot write: " + ec.message());
  os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  os.write(t.data.data(), t.data.size());
  return Error::success();
}

//===----------------------------------------------------------------------===//
// ONNX TensorProto
//===----------------------------------------------------------------------===//

/// The tensor of a parsed TensorProto (`path` names it in errors).
static Expected<Tensor> decodeTensorProto(const TP &proto, StringRef path) {
  if (proto.data_location() == TP::EXTERNAL)
    return fail(path, "TensorProto with external data is not supported");
  auto dtype = getDTypeFromOnnx(proto.data_type());
  if (!dtype)
    return fail(path, "unsupported data type " +
                          TP::DataType_Name((TP::DataType)proto.data_type()));
  Tensor t;
  t.dtype = *dtype;
  t.shape.assign(proto.dims().begin(), proto.dims().end());
  size_t size = getDTypeSize(t.dtype);
  auto count = countElements(path, t.shape, size);
  if (!count)
    return count.takeError();
  auto mismatch = [&](size_t have) {
    return fail(path, "holds " + Twine(have) + " values, " +
                          t.getTypeString() + " needs " + Twine(*count));
  };
  if (proto.has_raw_data()) {
    if ((int64_t)proto.raw_data().size() != *count * (int64_t)size)
      return mismatch(proto.raw_data().size() / size);
    t.data.assign(proto.raw_data().begin(), proto.raw_data().end());
    return t;
  }
  auto copy = [&](const auto &field) -> Error {
    if ((int64_t)field.size() != *count)
      return mismatch(field.size());
    t.data.resize(*count * size);
    for (int64_t i = 0; i < *count; ++i) {
      auto v = field[i];
      // Narrower types (and fp16/bf16 bits) sit in wider fields: keep the
      // low bytes (little-endian).
      std::memcpy(t.data.data() + i * size, &v, size);
    }
    return Error::success();
  };
  Error err = Error::success();
  switch (proto.data_type()) {
  case TP::FLOAT: err = copy(proto.float_data()); break;
  case TP::DOUBLE: err = copy(proto.double_data()); break;
  case TP::INT64: err = copy(proto.int64_data()); break;
  case TP::UINT32: case TP::UINT64: err = copy(proto.uint64_data()); break;
  default: err = copy(proto.int32_data()); break;
  }
  if (err)
    return std::move(err);
  return t;
}

Expected<Tensor> prism::runtime::readTensorProto(StringRef path) {
  auto buffer = readFile(path);
  if (!buffer)
    return buffer.takeError();
  TP proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            (int)(*buffer)->getBufferSize()))
    return fail(path, "not an ONNX TensorProto (truncated or corrupt)");
  return decodeTensorProto(proto, path);
}

/// The tensors of a parsed SequenceProto.
static Expected<std::vector<Tensor>>
decodeSequenceProto(const ::onnx::SequenceProto &proto, StringRef path) {
  if (proto.elem_type() != ::onnx::SequenceProto::TENSOR &&
      proto.elem_type() != ::onnx::SequenceProto::UNDEFINED)
    return fail(path, "only sequences of tensors are supported");
  std::vector<Tensor> elements;
  for (const TP &t : proto.tensor_values()) {
    auto tensor = decodeTensorProto(t, path);
    if (!tensor)
      return tensor.takeError();
    elements.push_back(std::move(*tensor));
  }
  return elements;
}

Expected<std::vector<Tensor>> prism::runtime::readSequenceProto(StringRef path) {
  auto buffer = readFile(path);
  if (!buffer)
    return buffer.takeError();
  ::onnx::SequenceProto proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            (int)(*buffer)->getBufferSize()))
    return fail(path, "not an ONNX SequenceProto (truncated or corrupt)");
  return decodeSequenceProto(proto, path);
}

Expected<OptionalValue> prism::runtime::readOptionalProto(StringRef path) {
  auto buffer = readFile(path);
  if (!buffer)
    return buffer.takeError();
  ::onnx::OptionalProto proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            (int)(*buffer)->getBufferSize()))
    return fail(path, "not an ONNX OptionalProto (truncated or corrupt)");
  OptionalValue value;
  if (proto.has_tensor_value()) {
    auto t = decodeTensorProto(proto.tensor_value(), path);
    if (!t)
      return t.takeError();
    value.hasValue = true;
    value.elements.push_back(std::move(*t));
  } else if (proto.has_sequence_value()) {
    auto elements = decodeSequenceProto(proto.sequence_value(), path);
    if (!elements)
      return elements.takeError();
    value.hasValue = value.isSequence = true;
    value.elements = std::move(*elements);
  } else if (proto.elem_type() != ::onnx::OptionalProto::UNDEFINED &&
             proto.elem_type() != ::onnx::OptionalProto::TENSOR &&
             proto.elem_type() != ::onnx::OptionalProto::SEQUENCE) {
    return fail(path, "only optional tensors and sequences are supported");
  }
  return value;
}

static TP encodeTensorProto(const Tensor &t, StringRef name) {
  TP proto;
  proto.set_name(name.str());
  proto.set_data_type(getOnnxDataType(t.dtype));
  for (int64_t d : t.shape)
    proto.add_dims(d);
  proto.set_raw_data(std::string(t.data.begin(), t.data.end()));
  return proto;
}

static Error writeMessage(StringRef path, const google::protobuf::MessageLite &m) {
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return fail(path, "cannot write: " + ec.message());
  os << m.SerializeAsString();
  return Error::success();
}

Error prism::runtime::writeTensorProto(StringRef path, const Tensor &t,
                                       StringRef name) {
  return writeMessage(path, encodeTensorProto(t, name));
}

Error prism::runtime::writeOptionalProto(StringRef path,
                                         const OptionalValue &value,
                                         StringRef name) {
  ::onnx::OptionalProto proto;
  proto.set_name(name.str());
  if (value.hasValue && value.isSequence) {
    proto.set_elem_type(::onnx::OptionalProto::SEQUENCE);
    auto *seq = proto.mutable_sequence_value();
    seq->set_elem_type(::onnx::SequenceProto::TENSOR);
    for (const Tensor &t : value.elements)
      *seq->add_tensor_values() = encodeTensorProto(t, "");
  } else if (value.hasValue) {
    proto.set_elem_type(::onnx::OptionalProto::TENSOR);
    *proto.mutable_tensor_value() = encodeTensorProto(value.elements.front(), "");
  }
  return writeMessage(path, proto);
}

Error prism::runtime::writeSequenceProto(StringRef path,
                                         llvm::ArrayRef<Tensor> elements,
                                         StringRef name) {
  ::onnx::SequenceProto proto;
  proto.set_name(name.str());
  proto.set_elem_type(::onnx::SequenceProto::TENSOR);
  for (const Tensor &t : elements)
    *proto.add_tensor_values() = encodeTensorProto(t, "");
  return writeMessage(path, proto);
}

Expected<Tensor> prism::runtime::readTensorFile(StringRef path) {
  auto buffer = readFile(path);
  if (!buffer)
    return buffer.takeError();
  if ((*buffer)->getBuffer().starts_with("\x93NUMPY"))
    return readNpy(path);
  return readTensorProto(path);
}
