// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// A 2-step forward LSTM: the input projections of both steps are one matmul,
// then each step has its recurrence matmul and its gates in the order i, f
// (sigmoids), c (tanh), o (sigmoid) and h(Ct) (tanh). Nothing onnx is left.
// CHECK-LABEL: func.func @lstm
// CHECK: linalg.matmul {{.*}} -> tensor<2x8xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [1, 8]
// CHECK: linalg.matmul {{.*}} -> tensor<1x8xf32>
// CHECK: math.exp
// CHECK: math.exp
// CHECK: math.tanh
// CHECK: math.exp
// CHECK: math.tanh
// CHECK: tensor.extract_slice %{{.*}}[1, 0] [1, 8]
// CHECK: linalg.matmul {{.*}} -> tensor<1x8xf32>
// CHECK: math.exp
// CHECK: math.exp
// CHECK: math.tanh
// CHECK: math.exp
// CHECK: math.tanh
// CHECK-NOT: linalg.matmul
// CHECK-NOT: onnx.
// CHECK: return
func.func @lstm(%x: tensor<2x1x3xf32>, %w: tensor<1x8x3xf32>, %r: tensor<1x8x2xf32>) -> tensor<1x1x2xf32> {
  %n = onnx.NoValue
  %y, %h, %c = "onnx.LSTM"(%x, %w, %r, %n, %n, %n, %n, %n) <{hidden_size = 2 : i64}> : (tensor<2x1x3xf32>, tensor<1x8x3xf32>, tensor<1x8x2xf32>, none, none, none, none, none) -> (none, tensor<1x1x2xf32>, none)
  return %h : tensor<1x1x2xf32>
}

// -----

// A reverse GRU starts at the last step. Without linear_before_reset, Ht-1
// meets the z and r columns of Rᵀ only, and rt (.) Ht-1 the h columns.
// CHECK-LABEL: func.func @gru_reverse
// CHECK: linalg.matmul {{.*}} -> tensor<2x6xf32>
// CHECK: tensor.extract_slice %{{.*}}[1, 0] [1, 6]
// CHECK: linalg.matmul ins({{.*}} : tensor<1x2xf32>, tensor<2x4xf32>)
// CHECK: math.exp
// CHECK: math.exp
// CHECK: linalg.matmul ins({{.*}} : tensor<1x2xf32>, tensor<2x2xf32>)
// CHECK: math.tanh
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [1, 6]
// CHECK-NOT: onnx.
// CHECK: return
func.func @gru_reverse(%x: tensor<2x1x3xf32>, %w: tensor<1x6x3xf32>, %r: tensor<1x6x2xf32>) -> tensor<1x1x2xf32> {
  %n = onnx.NoValue
  %y, %h = "onnx.GRU"(%x, %w, %r, %n, %n, %n) <{direction = "reverse", hidden_size = 2 : i64}> : (tensor<2x1x3xf32>, tensor<1x6x3xf32>, tensor<1x6x2xf32>, none, none, none) -> (none, tensor<1x1x2xf32>)
  return %h : tensor<1x1x2xf32>
}

// -----

// A bidirectional RNN with Relu and clip: each direction has its own input
// projection; every gate input is clipped to [-1.5, 1.5] before the Relu;
// Y is the steps' states put together as [seq, num_directions, batch,
// hidden].
// CHECK-LABEL: func.func @rnn_bidirectional
// CHECK-DAG: arith.constant dense<-1.500000e+00> : tensor<f32>
// CHECK-DAG: arith.constant dense<1.500000e+00> : tensor<f32>
// CHECK: linalg.matmul ins({{.*}} : tensor<2x3xf32>, tensor<3x2xf32>)
// CHECK: arith.cmpf olt
// CHECK: arith.maximumf
// CHECK: linalg.matmul ins({{.*}} : tensor<2x3xf32>, tensor<3x2xf32>)
// CHECK: tensor.insert_slice {{.*}} into tensor<1x2x1x2xf32>
// CHECK: tensor.insert_slice {{.*}} into tensor<2x2x1x2xf32>
// CHECK-NOT: onnx.
// CHECK: return
func.func @rnn_bidirectional(%x: tensor<2x1x3xf32>, %w: tensor<2x2x3xf32>, %r: tensor<2x2x2xf32>, %b: tensor<2x4xf32>) -> tensor<2x2x1x2xf32> {
  %n = onnx.NoValue
  %y, %h = "onnx.RNN"(%x, %w, %r, %b, %n, %n) <{activations = ["Relu", "Relu"], clip = 1.5 : f32, direction = "bidirectional", hidden_size = 2 : i64}> : (tensor<2x1x3xf32>, tensor<2x2x3xf32>, tensor<2x2x2xf32>, tensor<2x4xf32>, none, none) -> (tensor<2x2x1x2xf32>, none)
  return %y : tensor<2x2x1x2xf32>
}
