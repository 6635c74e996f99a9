//===- TensorIOTest.cpp - .npy and TensorProto files ----------------------===//

#include "prism/Runtime/TensorIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace prism::runtime;

namespace {

class TensorIOTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("prism-tio", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string file(llvm::StringRef name) {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }
  void writeBytes(llvm::StringRef name, llvm::StringRef bytes) {
    std::error_code ec;
    llvm::raw_fd_ostream os(file(name), ec);
    ASSERT_FALSE(ec);
    os << bytes;
  }
  static Tensor arange(DType dtype, llvm::ArrayRef<int64_t> shape) {
    Tensor t;
    t.dtype = dtype;
    t.shape.assign(shape.begin(), shape.end());
    t.data.resize(t.getNumElements() * getDTypeSize(dtype));
    for (size_t i = 0; i < t.data.size(); ++i)
      t.data[i] = (char)(i * 7 + 1);
    return t;
  }

  llvm::SmallString<128> dir;
};

TEST_F(TensorIOTest, NpyMatchesNumPyByteForByte) {
  // numpy.save of np.arange(6, dtype=np.float32).reshape(2, 3).
  Tensor t;
  t.dtype = DType::F32;
  t.shape = {2, 3};
  t.data.resize(24);
  for (int i = 0; i < 6; ++i) {
    float v = i;
    std::memcpy(t.data.data() + 4 * i, &v, 4);
  }
  ASSERT_FALSE(bool(writeNpy(file("a.npy"), t)));
  auto bytes = llvm::MemoryBuffer::getFile(file("a.npy"));
  ASSERT_TRUE(bool(bytes));
  llvm::StringRef b = (*bytes)->getBuffer();
  ASSERT_EQ(b.size(), 152u);
  EXPECT_EQ(b.take_front(10), llvm::StringRef("\x93NUMPY\x01\x00v\x00", 10));
  EXPECT_TRUE(b.drop_front(10).starts_with(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
  EXPECT_EQ(b[127], '\n');
}

TEST_F(TensorIOTest, RoundTripsEveryNpyType) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::I8, DType::I16,
                      DType::I32, DType::I64, DType::U8, DType::U16,
                      DType::U32, DType::U64, DType::Bool}) {
    for (auto shape : {llvm::SmallVector<int64_t>{}, {5}, {2, 0, 3}, {2, 3, 4}}) {
      Tensor t = arange(dtype, shape);
      ASSERT_FALSE(bool(writeNpy(file("t.npy"), t)));
      auto back = readNpy(file("t.npy"));
      ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
      EXPECT_EQ(back->dtype, dtype);
      EXPECT_EQ(back->shape, t.shape);
      EXPECT_EQ(back->data, t.data);
    }
  }
}

TEST_F(TensorIOTest, RoundTripsTensorProto) {
  Tensor t = arange(DType::BF16, {3, 2});
  ASSERT_FALSE(bool(writeTensorProto(file("t.pb"), t, "x")));
  auto back = readTensorFile(file("t.pb"));
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->getTypeString(), "bfloat16[3, 2]");
  EXPECT_EQ(back->data, t.data);
  // NumPy has no bfloat16.
  EXPECT_NE(llvm::toString(writeNpy(file("t.npy"), t)).find("NumPy has no bfloat16"),
            std::string::npos);
}

TEST_F(TensorIOTest, RejectsMalformedNpy) {
  auto error = [&](llvm::StringRef bytes) {
    writeBytes("bad.npy", bytes);
    auto t = readNpy(file("bad.npy"));
    return t ? std::string("no error") : llvm::toString(t.takeError());
  };
  std::string magic("\x93NUMPY\x01\x00", 8);
  auto header = [&](llvm::StringRef dict) {
    return magic + char(dict.size()) + char(0) + dict.str();
  };
  EXPECT_NE(error("not numpy").find("not a .npy file"), std::string::npos);
  EXPECT_NE(error(header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") +
                  std::string(4, '\0'))
                .find("unsupported .npy dtype '>f4'"),
            std::string::npos);
  EXPECT_NE(error(header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }") +
                  std::string(4, '\0'))
                .find("Fortran-ordered"),
            std::string::npos);
  EXPECT_NE(error(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }") +
                  std::string(4, '\0'))
                .find("holds 4 bytes of data, float[2] needs 8"),
            std::string::npos);
  EXPECT_NE(error(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"))
                .find("negative dim"),
            std::string::npos);
}

TEST_F(TensorIOTest, SanitizesOutputNames) {
  EXPECT_EQ(sanitizeFileName("present.0.key"), "present.0.key");
  EXPECT_EQ(sanitizeFileName("/model/out:0 x"), "_model_out_0_x");
}

} // namespace
