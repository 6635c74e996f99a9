//===- ImporterTest.cpp - Unit tests of the importer's internals ----------===//

#include "../../lib/Import/ImporterInternals.h"

#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Onnx/ExternalData.h"
#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace prism::onnx;

namespace {

class ImporterTest : public ::testing::Test {
protected:
  ImporterTest() {
    ctx.loadDialect<ONNXDialect>();
    // Count errors instead of printing them.
    handler = ctx.getDiagEngine().registerHandler([this](Diagnostic &d) {
      messages.push_back(d.str());
      return success();
    });
  }
  ~ImporterTest() override { ctx.getDiagEngine().eraseHandler(handler); }

  MLIRContext ctx;
  DiagnosticEngine::HandlerID handler;
  std::vector<std::string> messages;
  Location loc = UnknownLoc::get(&ctx);
};

::onnx::NodeProto node(const std::string &name, std::vector<std::string> in,
                       std::vector<std::string> out) {
  ::onnx::NodeProto n;
  n.set_name(name);
  n.set_op_type("Identity");
  for (auto &i : in)
    n.add_input(i);
  for (auto &o : out)
    n.add_output(o);
  return n;
}

TEST_F(ImporterTest, TopologicalOrderKeepsSortedGraphs) {
  ::onnx::GraphProto g;
  *g.add_node() = node("a", {"x"}, {"y"});
  *g.add_node() = node("b", {"y"}, {"z"});
  ScopedValues outer;
  ScopedValues::Scope scope(outer);
  auto order = topologicalOrder(g, outer, loc);
  ASSERT_TRUE(succeeded(order));
  EXPECT_EQ(*order, (std::vector<int64_t>{0, 1}));
}

TEST_F(ImporterTest, TopologicalOrderSortsUnsortedGraphs) {
  ::onnx::GraphProto g;
  *g.add_node() = node("b", {"y"}, {"z"});
  *g.add_node() = node("a", {"x"}, {"y"});
  ScopedValues outer;
  ScopedValues::Scope scope(outer);
  auto order = topologicalOrder(g, outer, loc);
  ASSERT_TRUE(succeeded(order));
  EXPECT_EQ(*order, (std::vector<int64_t>{1, 0}));
}

TEST_F(ImporterTest, TopologicalOrderRejectsCycles) {
  ::onnx::GraphProto g;
  *g.add_node() = node("a", {"z"}, {"y"});
  *g.add_node() = node("b", {"y"}, {"z"});
  ScopedValues outer;
  ScopedValues::Scope scope(outer);
  EXPECT_TRUE(failed(topologicalOrder(g, outer, loc)));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("cycle"), std::string::npos);
}

TEST_F(ImporterTest, DecodeTypedFieldsAndRawData) {
  auto type = RankedTensorType::get({3}, IntegerType::get(&ctx, 64));
  ::onnx::TensorProto t;
  t.set_data_type(::onnx::TensorProto::INT64);
  t.add_dims(3);
  for (int64_t v : {1, -2, 3})
    t.add_int64_data(v);
  auto typed = decodeTensorData(t, type, loc);
  ASSERT_TRUE(succeeded(typed));
  ASSERT_EQ(typed->bytes.size(), 24u);
  EXPECT_EQ(reinterpret_cast<const int64_t *>(typed->bytes.data())[1], -2);

  ::onnx::TensorProto raw;
  raw.set_data_type(::onnx::TensorProto::INT64);
  raw.add_dims(3);
  raw.set_raw_data(std::string(typed->bytes.begin(), typed->bytes.end()));
  auto fromRaw = decodeTensorData(raw, type, loc);
  ASSERT_TRUE(succeeded(fromRaw));
  EXPECT_EQ(fromRaw->bytes, typed->bytes);
}

TEST_F(ImporterTest, DecodeRejectsShortData) {
  auto type = RankedTensorType::get({4}, Float32Type::get(&ctx));
  ::onnx::TensorProto t;
  t.set_name("w");
  t.set_data_type(::onnx::TensorProto::FLOAT);
  t.add_dims(4);
  t.set_raw_data(std::string(8, '\0'));
  EXPECT_TRUE(failed(decodeTensorData(t, type, loc)));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("8 bytes of raw data, expected 16"),
            std::string::npos);
}

TEST_F(ImporterTest, ExternalLocationsStayInTheModelDirectory) {
  SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("prism-ext", dir));
  EXPECT_TRUE(succeeded(checkExternalLocation(dir, "weights.bin", "w", loc)));
  EXPECT_TRUE(succeeded(checkExternalLocation(dir, "sub/w.bin", "w", loc)));
  EXPECT_TRUE(failed(checkExternalLocation(dir, "/etc/passwd", "w", loc)));
  EXPECT_TRUE(failed(checkExternalLocation(dir, "../w.bin", "w", loc)));
  EXPECT_TRUE(failed(checkExternalLocation(dir, "a/../../w.bin", "w", loc)));
  EXPECT_TRUE(failed(checkExternalLocation(dir, "", "w", loc)));
  EXPECT_EQ(messages.size(), 4u);
  llvm::sys::fs::remove_directories(dir);
}

TEST_F(ImporterTest, ResolvesDomainsToOps) {
  EXPECT_EQ(resolveOpName(&ctx, "", "MatMul")->getStringRef(), "onnx.MatMul");
  EXPECT_EQ(resolveOpName(&ctx, "com.microsoft", "GroupQueryAttention")
                ->getStringRef(),
            "onnx.ms.GroupQueryAttention");
  // ONNX Runtime registers this contrib op in the default domain.
  EXPECT_EQ(resolveOpName(&ctx, "", "SimplifiedLayerNormalization")
                ->getStringRef(),
            "onnx.ms.SimplifiedLayerNormalization");
  EXPECT_FALSE(resolveOpName(&ctx, "", "NoValue"));
  EXPECT_FALSE(resolveOpName(&ctx, "", "NoSuchOp"));
  EXPECT_FALSE(resolveOpName(&ctx, "org.example", "MatMul"));
}

} // namespace

namespace {

TEST(ExternalDataTest, MapsTheDeclaredRange) {
  MLIRContext ctx;
  ctx.loadDialect<ONNXDialect>();
  SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("prism-map", dir));
  SmallString<128> file(dir);
  llvm::sys::path::append(file, "w.bin");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(file, ec);
    ASSERT_FALSE(ec);
    os << "0123456789abcdef";
  }
  auto type = RankedTensorType::get({4}, IntegerType::get(&ctx, 8));
  auto attr = ExternalDataAttr::get(&ctx, StringAttr::get(&ctx, "w.bin"),
                                    /*offset=*/6, /*length=*/4, type);
  auto buffer = mapExternalData(attr, dir);
  ASSERT_TRUE(bool(buffer)) << llvm::toString(buffer.takeError());
  EXPECT_EQ((*buffer)->getBuffer(), "6789");

  auto tooLong = ExternalDataAttr::get(&ctx, StringAttr::get(&ctx, "w.bin"),
                                       12, 8, type);
  auto error = mapExternalData(tooLong, dir);
  ASSERT_FALSE(bool(error));
  EXPECT_NE(llvm::toString(error.takeError()).find("shorter than offset 12"),
            std::string::npos);
  llvm::sys::fs::remove_directories(dir);
}

} // namespace
