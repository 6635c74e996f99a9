//===- WorkTest.cpp - Unit tests of XfmrWorkInterface ---------------------===//

#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Xfmr/Work.h"
#include "prism/Dialect/Xfmr/XfmrDialect.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
namespace xfmr = prism::xfmr;

namespace {

class WorkTest : public ::testing::Test {
protected:
  WorkTest() : ctx(registry()) {
    ctx.loadDialect<prism::onnx::ONNXDialect, xfmr::XfmrDialect, func::FuncDialect,
                    arith::ArithDialect, linalg::LinalgDialect, tensor::TensorDialect>();
  }
  static DialectRegistry registry() {
    DialectRegistry r;
    xfmr::registerLinalgWorkModels(r);
    return r;
  }
  /// The work of the first op named `name` in `ir`.
  xfmr::Work workOf(StringRef ir, StringRef name) {
    module = parseSourceString<ModuleOp>(ir, &ctx);
    EXPECT_TRUE(module);
    Operation *found = nullptr;
    module->walk([&](Operation *op) {
      if (!found && op->getName().getStringRef() == name)
        found = op;
    });
    EXPECT_NE(found, nullptr);
    auto work = xfmr::getWorkOf(found);
    EXPECT_TRUE(bool(work)) << (work ? "" : llvm::toString(work.takeError()));
    return work ? *work : xfmr::Work();
  }
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
};

// A decode step of grouped-query attention over a 7-position cache: 4 query
// heads of 16 over 2 KV heads; 8 keys per query.
TEST_F(WorkTest, AttentionCountsScoresAndTheCache) {
  xfmr::Work w = workOf(R"mlir(
    func.func @f(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %pk: tensor<1x2x7x16xf32>) {
      %o, %p:2 = xfmr.attention %q, %k, %k past %pk, %pk {scale = 0.25 : f64}
          : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>)
          -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
      return
    })mlir", "xfmr.attention");
  // 4 heads x 8 keys x (2*16 + 2*16 + 6).
  EXPECT_DOUBLE_EQ(w.flops, 4 * 8 * (64 + 6));
  EXPECT_DOUBLE_EQ(w.kvBytesRead, 2 * (2 * 7 * 16 * 4));
  EXPECT_DOUBLE_EQ(w.kvBytesWritten, 2 * (2 * 1 * 16 * 4));
  EXPECT_DOUBLE_EQ(w.weightBytesRead, 0);
}

// Causal prefill of 4 tokens counts the triangle: 1 + 2 + 3 + 4 pairs.
TEST_F(WorkTest, CausalAttentionCountsTheTriangle) {
  xfmr::Work w = workOf(R"mlir(
    func.func @f(%q: tensor<1x1x4x8xf32>) {
      %o = xfmr.attention %q, %q, %q {scale = 0.25 : f64, causal = true}
          : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
      return
    })mlir", "xfmr.attention");
  EXPECT_DOUBLE_EQ(w.flops, 10 * (16 + 16 + 6));
}

// A matmul reading a constant weight: 2 FLOPs per multiply-add, the weight
// read as a weight, the activations as activations.
TEST_F(WorkTest, LinalgMatmulThroughTheExternalModel) {
  xfmr::Work w = workOf(R"mlir(
    func.func @f(%x: tensor<3x8xf32>, %init: tensor<3x5xf32>) -> tensor<3x5xf32> {
      %w = arith.constant dense<1.0> : tensor<8x5xf32>
      %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x5xf32>) outs(%init : tensor<3x5xf32>) -> tensor<3x5xf32>
      return %y : tensor<3x5xf32>
    })mlir", "linalg.matmul");
  EXPECT_DOUBLE_EQ(w.flops, 2 * 3 * 8 * 5);
  EXPECT_DOUBLE_EQ(w.weightBytesRead, 8 * 5 * 4);
  EXPECT_DOUBLE_EQ(w.activationBytesRead, 3 * 8 * 4);
  EXPECT_DOUBLE_EQ(w.activationBytesWritten, 3 * 5 * 4);
}

// The embedding reads only the rows it looks up.
TEST_F(WorkTest, EmbeddingReadsItsRows) {
  xfmr::Work w = workOf(R"mlir(
    func.func @f(%ids: tensor<1x3xi64>) {
      %t = "onnx.Constant"() <{value = dense<1.0> : tensor<100x16xf16>}> : () -> tensor<100x16xf16>
      %e = xfmr.embedding %t[%ids] : (tensor<100x16xf16>, tensor<1x3xi64>) -> tensor<1x3x16xf16>
      return
    })mlir", "xfmr.embedding");
  EXPECT_DOUBLE_EQ(w.weightBytesRead, 3 * 16 * 2);
  EXPECT_DOUBLE_EQ(w.flops, 0);
}

// A dynamic shape is an answer too: an error saying why.
TEST_F(WorkTest, DynamicShapesAreAnError) {
  module = parseSourceString<ModuleOp>(R"mlir(
    func.func @f(%x: tensor<?x8xf32>) {
      %y = xfmr.silu %x : tensor<?x8xf32>
      return
    })mlir", &ctx);
  ASSERT_TRUE(module);
  Operation *silu = nullptr;
  module->walk([&](xfmr::SiluOp op) { silu = op; });
  auto work = xfmr::getWorkOf(silu);
  ASSERT_FALSE(bool(work));
  EXPECT_NE(llvm::toString(work.takeError()).find("dynamic shape"), std::string::npos);
}

} // namespace
