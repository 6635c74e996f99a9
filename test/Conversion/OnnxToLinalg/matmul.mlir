// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @matmul
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x4xf32>
// CHECK: %[[F:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%[[E]] : tensor<2x4xf32>)
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[F]] : tensor<2x4xf32>)
func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = "onnx.MatMul"(%a, %b) : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.batch_matmul ins(%arg0, %arg1 : tensor<5x2x3xf32>, tensor<5x3x4xf32>)
func.func @batch_matmul(%a: tensor<5x2x3xf32>, %b: tensor<5x3x4xf32>) -> tensor<5x2x4xf32> {
  %0 = "onnx.MatMul"(%a, %b) : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
  return %0 : tensor<5x2x4xf32>
}

// -----

// Activations times a weight: the rows of every batch in one linalg.matmul.
// CHECK-LABEL: func.func @rows_times_weight
// CHECK: %[[A:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<2x5x3xf32> into tensor<10x3xf32>
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[A]], %arg1 : tensor<10x3xf32>, tensor<3x4xf32>)
// CHECK: tensor.expand_shape %[[M]] {{\[\[}}0, 1], [2]] output_shape [2, 5, 4] : tensor<10x4xf32> into tensor<2x5x4xf32>
func.func @rows_times_weight(%a: tensor<2x5x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x5x4xf32> {
  %0 = "onnx.MatMul"(%a, %b) : (tensor<2x5x3xf32>, tensor<3x4xf32>) -> tensor<2x5x4xf32>
  return %0 : tensor<2x5x4xf32>
}

// -----

// Equal batch dims (attention's [B, N, S, H]) fold into one batch dim.
// CHECK-LABEL: func.func @heads
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3]] : tensor<2x3x5x4xf32> into tensor<6x5x4xf32>
// CHECK: tensor.collapse_shape %arg1 {{\[\[}}0, 1], [2], [3]] : tensor<2x3x4x7xf32> into tensor<6x4x7xf32>
// CHECK: linalg.batch_matmul
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3]] output_shape [2, 3, 5, 7]
func.func @heads(%a: tensor<2x3x5x4xf32>, %b: tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32> {
  %0 = "onnx.MatMul"(%a, %b) : (tensor<2x3x5x4xf32>, tensor<2x3x4x7xf32>) -> tensor<2x3x5x7xf32>
  return %0 : tensor<2x3x5x7xf32>
}

// -----

// A constant weight used transposed (a tied LM head) is transposed once at
// compile time: a plain matmul on the [K, N] constant.
// CHECK-LABEL: func.func @matmul_constant_transposed
// CHECK: %[[W:.*]] = arith.constant dense_resource<transposed_weight{{.*}}> : tensor<2x3xf32>
// CHECK: linalg.matmul ins(%arg0, %[[W]] : tensor<4x2xf32>, tensor<2x3xf32>)
// CHECK-NOT: linalg.transpose
func.func @matmul_constant_transposed(%x: tensor<4x2xf32>) -> tensor<4x3xf32> {
  %w = "onnx.Constant"() <{value = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>}> : () -> tensor<3x2xf32>
  %t = "onnx.Transpose"(%w) <{perm = [1, 0]}> : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %0 = "onnx.MatMul"(%x, %t) : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// A weight that is an input is read in place through the indexing map.
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @matmul_input_transposed
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #[[B]], #{{.*}}] ins(%arg0, %arg1 : tensor<4x2xf32>, tensor<3x2xf32>)
func.func @matmul_input_transposed(%x: tensor<4x2xf32>, %w: tensor<3x2xf32>) -> tensor<4x3xf32> {
  %t = "onnx.Transpose"(%w) <{perm = [1, 0]}> : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %0 = "onnx.MatMul"(%x, %t) : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
