// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// NegativeLogLikelihoodLoss with weights, ignore_index and mean: the class
// picked along axis 1, weighted, 0 where ignored; sum over sum of weights.
// CHECK-LABEL: func.func @nll_mean
// CHECK: tensor.extract %arg0
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: arith.negf
// CHECK: arith.divf
// CHECK-NOT: onnx.
func.func @nll_mean(%x: tensor<3x5xf32>, %t: tensor<3xi64>, %w: tensor<5xf32>) -> tensor<f32> {
  %0 = "onnx.NegativeLogLikelihoodLoss"(%x, %t, %w) <{ignore_index = 2 : i64, reduction = "mean"}> : (tensor<3x5xf32>, tensor<3xi64>, tensor<5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// SoftmaxCrossEntropyLoss: LogSoftmax over the classes (max, exp, sum,
// log), then the NLL loss; the log probabilities are the second result.
// CHECK-LABEL: func.func @softmax_cross_entropy
// CHECK: arith.maximumf
// CHECK: math.log
// CHECK: return %{{.*}}, %{{.*}} : tensor<f32>, tensor<3x5xf32>
func.func @softmax_cross_entropy(%x: tensor<3x5xf32>, %t: tensor<3xi64>) -> (tensor<f32>, tensor<3x5xf32>) {
  %n = onnx.NoValue
  %0:2 = "onnx.SoftmaxCrossEntropyLoss"(%x, %t, %n) <{reduction = "sum"}> : (tensor<3x5xf32>, tensor<3xi64>, none) -> (tensor<f32>, tensor<3x5xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<3x5xf32>
}

// -----

// BatchNormalization for inference: per-channel parameters reshaped to
// [C, 1, 1] against [N, C, H, W].
// CHECK-LABEL: func.func @batch_norm
// CHECK-DAG: tensor.reshape %arg1({{.*}} -> tensor<2x1x1xf32>
// CHECK-DAG: tensor.reshape %arg2({{.*}} -> tensor<2x1x1xf32>
// CHECK-DAG: tensor.reshape %arg3({{.*}} -> tensor<2x1x1xf32>
// CHECK-DAG: tensor.reshape %arg4({{.*}} -> tensor<2x1x1xf32>
// CHECK-DAG: math.sqrt
func.func @batch_norm(%x: tensor<1x2x3x3xf32>, %s: tensor<2xf32>, %b: tensor<2xf32>, %m: tensor<2xf32>, %v: tensor<2xf32>) -> tensor<1x2x3x3xf32> {
  %0:3 = "onnx.BatchNormalization"(%x, %s, %b, %m, %v) <{epsilon = 1.0e-5 : f32, momentum = 0.9 : f32, training_mode = 0 : i64}> : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<1x2x3x3xf32>, none, none)
  return %0#0 : tensor<1x2x3x3xf32>
}

// -----

// CumSum along a run-time axis: one generic per axis behind a switch.
// CHECK-LABEL: func.func @cumsum_runtime_axis
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: case 1 {
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: default {
// CHECK: cf.assert %false, "CumSum: the axis is out of range"
func.func @cumsum_runtime_axis(%x: tensor<2x3xf32>, %a: tensor<i64>) -> tensor<2x3xf32> {
  %0 = "onnx.CumSum"(%x, %a) <{exclusive = 0 : i64, reverse = 0 : i64}> : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
