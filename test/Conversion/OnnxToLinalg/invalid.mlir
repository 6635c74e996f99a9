// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg --verify-diagnostics

// Every op the host lowering does not handle yet is an error at the op.
func.func @unsupported(%x: tensor<2x3xf32>, %a: tensor<1xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.ReduceMean' is not lowered to the host yet}}
  %0 = "onnx.ReduceMean"(%x, %a) <{keepdims = 0 : i64}> : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @dynamic(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'onnx.Relu' is not lowered to the host yet (its shape is not static: run onnx-to-static first)}}
  %0 = "onnx.Relu"(%x) : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// MatMul with a 1-D operand is not lowered yet.
func.func @vector_matmul(%a: tensor<3xf32>, %b: tensor<3x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.MatMul' is not lowered to the host yet}}
  %0 = "onnx.MatMul"(%a, %b) : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// An elementwise op on a type its scalar lowering lacks (unsigned Abs) is
// left whole and reported.
func.func @unsigned_abs(%x: tensor<4xui8>) -> tensor<4xui8> {
  // expected-error @+1 {{'onnx.Abs' is not lowered to the host yet}}
  %0 = "onnx.Abs"(%x) : (tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}
