// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// LayerNormalization over the last axis: mean and variance reductions, the
// normalised value times the scale plus the bias. Nothing onnx is left.
// CHECK-LABEL: func.func @layer_norm
// CHECK-NOT: onnx.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: math.sqrt
// CHECK-NOT: onnx.
// CHECK: return
func.func @layer_norm(%x: tensor<3x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<3x8xf32> {
  %y, %m, %i = "onnx.LayerNormalization"(%x, %s, %b) <{axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64}> : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<3x8xf32>, none, none)
  return %y : tensor<3x8xf32>
}

// -----

// An f16 LayerNormalization computes in f32 (stash_type = 1) and rounds the
// result back to f16.
// CHECK-LABEL: func.func @layer_norm_f16
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK: math.sqrt {{.*}} : f32
// CHECK: arith.truncf {{.*}} : f32 to f16
func.func @layer_norm_f16(%x: tensor<2x4xf16>, %s: tensor<4xf16>) -> tensor<2x4xf16> {
  %n = onnx.NoValue
  %y, %m, %i = "onnx.LayerNormalization"(%x, %s, %n) <{axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64}> : (tensor<2x4xf16>, tensor<4xf16>, none) -> (tensor<2x4xf16>, none, none)
  return %y : tensor<2x4xf16>
}

// -----

// Gemm with transB, alpha and beta: a transpose, a matmul and two scalings.
// CHECK-LABEL: func.func @gemm
// CHECK-DAG: arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK: linalg.transpose
// CHECK: linalg.matmul
// CHECK-NOT: onnx.
func.func @gemm(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = "onnx.Gemm"(%a, %b, %c) <{alpha = 2.0 : f32, beta = 0.5 : f32, transA = 0 : i64, transB = 1 : i64}> : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Split: one slice per output, at the running offset.
// CHECK-LABEL: func.func @split
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [2, 2] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 2] [2, 4] [1, 1]
func.func @split(%x: tensor<2x6xf32>, %s: tensor<2xi64>) -> (tensor<2x2xf32>, tensor<2x4xf32>) {
  %0:2 = "onnx.Split"(%x, %s) <{axis = 1 : i64}> : (tensor<2x6xf32>, tensor<2xi64>) -> (tensor<2x2xf32>, tensor<2x4xf32>)
  return %0#0, %0#1 : tensor<2x2xf32>, tensor<2x4xf32>
}

// -----

// Shrink: two selects, x + bias below -lambd, x - bias above lambd, else 0.
// CHECK-LABEL: func.func @shrink
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: arith.cmpf olt
// CHECK: arith.select
func.func @shrink(%x: tensor<5xf32>) -> tensor<5xf32> {
  %0 = "onnx.Shrink"(%x) <{bias = 1.5 : f32, lambd = 1.5 : f32}> : (tensor<5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// PRelu: slope * x where x < 0 (the slope broadcast along the last dim).
// CHECK-LABEL: func.func @prelu
// CHECK: arith.mulf
// CHECK: arith.cmpf olt
// CHECK: arith.select
func.func @prelu(%x: tensor<3x5xf32>, %slope: tensor<5xf32>) -> tensor<3x5xf32> {
  %0 = "onnx.PRelu"(%x, %slope) : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// MeanVarianceNormalization over the default axes 0, 2, 3: two means kept
// as [1, C, 1, 1], then (x - mean) / (sqrt(E[x²] - mean²) + 1e-9).
// CHECK-LABEL: func.func @mvn
// CHECK-COUNT-2: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: math.sqrt
// CHECK: arith.divf
func.func @mvn(%x: tensor<2x3x4x1xf32>) -> tensor<2x3x4x1xf32> {
  %0 = "onnx.MeanVarianceNormalization"(%x) <{axes = [0, 2, 3]}> : (tensor<2x3x4x1xf32>) -> tensor<2x3x4x1xf32>
  return %0 : tensor<2x3x4x1xf32>
}

// -----

// LRN of size 3: the squares padded with one zero channel on each side and
// summed over three shifted slices of the 4 channels.
// CHECK-LABEL: func.func @lrn
// CHECK: tensor.insert_slice {{.*}} into tensor<1x6x2x2xf32>
// CHECK-COUNT-3: tensor.extract_slice {{.*}} tensor<1x6x2x2xf32> to tensor<1x4x2x2xf32>
// CHECK: math.powf
func.func @lrn(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %0 = "onnx.LRN"(%x) <{alpha = 2.0e-04 : f32, beta = 0.5 : f32, bias = 2.0 : f32, size = 3 : i64}> : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Det of 2x2 matrices: a00 a11 - a01 a10 over the batch.
// CHECK-LABEL: func.func @det2
// CHECK-COUNT-2: arith.mulf
// CHECK: arith.subf
func.func @det2(%x: tensor<3x2x2xf32>) -> tensor<3xf32> {
  %0 = "onnx.Det"(%x) : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Compress with a constant condition gathers the selected indices.
// CHECK-LABEL: func.func @compress
// CHECK: linalg.generic
// CHECK: tensor.extract %arg0
// CHECK: -> tensor<3x2xf32>
func.func @compress(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %c = "onnx.Constant"() <{value = dense<[false, true, true]> : tensor<3xi1>}> : () -> tensor<3xi1>
  %0 = "onnx.Compress"(%x, %c) <{axis = -1 : i64}> : (tensor<3x4xf32>, tensor<3xi1>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// NonZero of a constant is the constant of its coordinates.
// CHECK-LABEL: func.func @nonzero
// CHECK: arith.constant dense<{{\[}}[0, 1, 1], [0, 0, 1]]> : tensor<2x3xi64>
func.func @nonzero() -> tensor<2x3xi64> {
  %c = "onnx.Constant"() <{value = dense<[[true, false], [true, true]]> : tensor<2x2xi1>}> : () -> tensor<2x2xi1>
  %0 = "onnx.NonZero"(%c) : (tensor<2x2xi1>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// Dropout in training mode with a constant ratio of 0 drops nothing: the
// input, and an all-true mask.
// CHECK-LABEL: func.func @dropout_zero_ratio
// CHECK: %[[MASK:.*]] = arith.constant dense<true> : tensor<3xi1>
// CHECK: return %arg0, %[[MASK]]
func.func @dropout_zero_ratio(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>) {
  %r = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
  %t = "onnx.Constant"() <{value = dense<true> : tensor<i1>}> : () -> tensor<i1>
  %0, %1 = "onnx.Dropout"(%x, %r, %t) : (tensor<3xf32>, tensor<f32>, tensor<i1>) -> (tensor<3xf32>, tensor<3xi1>)
  return %0, %1 : tensor<3xf32>, tensor<3xi1>
}
