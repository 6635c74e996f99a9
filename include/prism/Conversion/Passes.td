//===- Passes.td - Prism's conversion passes ---------------*- tablegen -*-===//

#ifndef PRISM_CONVERSION_PASSES
#define PRISM_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertOnnxToLinalg : Pass<"convert-onnx-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower statically shaped onnx ops to linalg on tensors";
  let description = [{
    The first step of the host pipeline (issue 3): elementwise operators
    with ONNX's broadcasting become `linalg.generic` (float and integer
    arithmetic, Relu, Sigmoid, Exp, Log, Sqrt, Tanh, Erf, ...), MatMul becomes
    `linalg.matmul`/`linalg.batch_matmul` (a generic when batch dims
    broadcast), Softmax/LogSoftmax two reductions and two elementwise
    generics, ReduceMean/Sum/Max/Min reductions, comparisons, Where and Cast
    elementwise, Gather a generic reading with `tensor.extract`, Concat
    `tensor.insert_slice`, Slice `tensor.extract_slice`, Expand a broadcast,
    Transpose `linalg.transpose`, Reshape/Flatten/Squeeze/Unsqueeze
    `tensor.reshape`, constants `arith.constant`. Every
    onnx op it does not lower yet is an error naming the op and its node:
    nothing is left half-converted. Shapes must be static (run
    `onnx-to-static` first).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
    "::mlir::cf::ControlFlowDialect", "::mlir::scf::SCFDialect",
  ];
}

#endif // PRISM_CONVERSION_PASSES
