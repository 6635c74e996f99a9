//===- FoldersTest.cpp - Unit tests of shape inference and folding --------===//

#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace prism::onnx;

namespace {

/// Parses `body` as the function `@f`, runs onnx-infer-shapes and returns the
/// type of its single result and how many ops are left in it.
std::pair<std::string, int> inferAndFold(MLIRContext &ctx, StringRef ir) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(ir, &ctx);
  if (!module)
    return {"<parse error>", -1};
  PassManager pm(&ctx);
  pm.addNestedPass<func::FuncOp>(prism::createOnnxInferShapes());
  if (failed(pm.run(*module)))
    return {"<pass failed>", -1};
  auto func = *module->getOps<func::FuncOp>().begin();
  std::string type;
  llvm::raw_string_ostream os(type);
  os << func.getResultTypes()[0];
  int ops = 0;
  func.walk([&](Operation *op) { ops += op != func.getOperation(); });
  return {type, ops};
}

class FoldersTest : public ::testing::Test {
protected:
  FoldersTest() { ctx.loadDialect<ONNXDialect, func::FuncDialect>(); }
  MLIRContext ctx;
};

TEST_F(FoldersTest, ShapeGatherConcatReshapeFoldsToStaticShape) {
  auto [type, ops] = inferAndFold(ctx, R"mlir(
    func.func @f(%x: tensor<2x3x4xf32>) -> tensor<*xf32> {
      %s = "onnx.Shape"(%x) <{start = 0 : i64}> : (tensor<2x3x4xf32>) -> tensor<*xi64>
      %i = "onnx.Constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64>
      %d = "onnx.Gather"(%s, %i) <{axis = 0 : i64}> : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
      %a = "onnx.Constant"() <{value = dense<0> : tensor<1xi64>}> : () -> tensor<1xi64>
      %u = "onnx.Unsqueeze"(%d, %a) : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
      %m = "onnx.Constant"() <{value = dense<-1> : tensor<1xi64>}> : () -> tensor<1xi64>
      %c = "onnx.Concat"(%u, %m) <{axis = 0 : i64}> : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
      %r = "onnx.Reshape"(%x, %c) <{allowzero = 0 : i64}> : (tensor<2x3x4xf32>, tensor<*xi64>) -> tensor<*xf32>
      return %r : tensor<*xf32>
    })mlir");
  EXPECT_EQ(type, "tensor<2x12xf32>");
  // The shape chain is gone: one constant, the Reshape and the return.
  EXPECT_EQ(ops, 3);
}

TEST_F(FoldersTest, RangeAndSliceFoldWithOnnxClamping) {
  auto [type, ops] = inferAndFold(ctx, R"mlir(
    func.func @f() -> tensor<*xi64> {
      %s = "onnx.Constant"() <{value = dense<2> : tensor<i64>}> : () -> tensor<i64>
      %l = "onnx.Constant"() <{value = dense<10> : tensor<i64>}> : () -> tensor<i64>
      %d = "onnx.Constant"() <{value = dense<3> : tensor<i64>}> : () -> tensor<i64>
      %r = "onnx.Range"(%s, %l, %d) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<*xi64>
      %b = "onnx.Constant"() <{value = dense<1> : tensor<1xi64>}> : () -> tensor<1xi64>
      %e = "onnx.Constant"() <{value = dense<9223372036854775807> : tensor<1xi64>}> : () -> tensor<1xi64>
      %n = "onnx.NoValue"() : () -> none
      %x = "onnx.Slice"(%r, %b, %e, %n, %n) : (tensor<*xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<*xi64>
      return %x : tensor<*xi64>
    })mlir");
  // Range gives [2, 5, 8]; the slice from 1 to INT64_MAX keeps [5, 8].
  EXPECT_EQ(type, "tensor<2xi64>");
  EXPECT_EQ(ops, 2);
}

} // namespace
