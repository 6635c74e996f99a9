// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// A window of constant size is a constant: periodic Hann of 4 is
// 0.5 - 0.5 cos(2πn/4) = [0, 0.5, 1, 0.5].
// CHECK-LABEL: func.func @hann
// CHECK: arith.constant dense<[0.000000e+00, 5.000000e-01, 1.000000e+00, 5.000000e-01]> : tensor<4xf32>
func.func @hann() -> tensor<4xf32> {
  %n = "onnx.Constant"() <{value = dense<4> : tensor<i64>}> : () -> tensor<i64>
  %0 = "onnx.HannWindow"(%n) <{output_datatype = 1 : i64, periodic = 1 : i64}> : (tensor<i64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The symmetric window divides by size - 1: Blackman of 3 is [0, 1, 0]
// (up to rounding).
// CHECK-LABEL: func.func @blackman_symmetric
// CHECK: arith.constant dense<[{{-?[0-9.]+E-1[0-9]}}, 1.000000e+00, {{-?[0-9.]+E-1[0-9]}}]> : tensor<3xf32>
func.func @blackman_symmetric() -> tensor<3xf32> {
  %n = "onnx.Constant"() <{value = dense<3> : tensor<i32>}> : () -> tensor<i32>
  %0 = "onnx.BlackmanWindow"(%n) <{output_datatype = 1 : i64, periodic = 0 : i64}> : (tensor<i32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// DFT of a real signal along axis 1: the axis moves next to the complex
// dim, and the real and imaginary parts are products with constant 4x4
// cosine and sine matrices (the imaginary part negated).
// CHECK-LABEL: func.func @dft_real
// CHECK-DAG: arith.constant dense<{{.*}}> : tensor<4x4xf32>
// CHECK-DAG: arith.constant dense<{{.*}}> : tensor<4x4xf32>
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 1, 3]
// CHECK-COUNT-2: linalg.matmul
// CHECK: arith.negf
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 1, 3]
func.func @dft_real(%x: tensor<2x4x3x1xf32>) -> tensor<2x4x3x2xf32> {
  %none = "onnx.NoValue"() : () -> none
  %0 = "onnx.DFT"(%x, %none) <{axis = 1 : i64, inverse = 0 : i64, onesided = 0 : i64}> : (tensor<2x4x3x1xf32>, none) -> tensor<2x4x3x2xf32>
  return %0 : tensor<2x4x3x2xf32>
}

// -----

// STFT: the frames are a gather at constant offsets (frame f, sample j:
// 2f + j), times the window, then a one-sided DFT of each frame (3 bins).
// CHECK-LABEL: func.func @stft
// CHECK: arith.constant dense<{{\[}}[0, 1, 2, 3], [2, 3, 4, 5]]> : tensor<2x4xi64>
// CHECK: linalg.generic
// CHECK: tensor.extract
// CHECK: arith.mulf
// CHECK-COUNT-2: linalg.matmul ins(%{{.*}} : tensor<2x4xf32>, tensor<4x3xf32>)
func.func @stft(%s: tensor<1x6x1xf32>, %w: tensor<4xf32>) -> tensor<1x2x3x2xf32> {
  %step = "onnx.Constant"() <{value = dense<2> : tensor<i64>}> : () -> tensor<i64>
  %none = "onnx.NoValue"() : () -> none
  %0 = "onnx.STFT"(%s, %step, %w, %none) <{onesided = 1 : i64}> : (tensor<1x6x1xf32>, tensor<i64>, tensor<4xf32>, none) -> tensor<1x2x3x2xf32>
  return %0 : tensor<1x2x3x2xf32>
}

// -----

// MelWeightMatrix with constant inputs is a constant: 2 mel bins over a
// 16-point DFT at 1600 Hz from 0 to 800 Hz have their edges at bins 1, 2, 3
// and 5 (as ONNX's reference floors them), two overlapping triangles.
// CHECK-LABEL: func.func @mel_weight_matrix
// CHECK: arith.constant dense<{{\[}}[0.000000e+00, 0.000000e+00], [1.000000e+00, 0.000000e+00], [5.000000e-01, 5.000000e-01], [0.000000e+00, 1.000000e+00], [0.000000e+00, 5.000000e-01], [0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00]]> : tensor<9x2xf32>
// CHECK-NOT: onnx.MelWeightMatrix
func.func @mel_weight_matrix() -> tensor<9x2xf32> {
  %mels = "onnx.Constant"() <{value = dense<2> : tensor<i32>}> : () -> tensor<i32>
  %len = "onnx.Constant"() <{value = dense<16> : tensor<i32>}> : () -> tensor<i32>
  %rate = "onnx.Constant"() <{value = dense<1600> : tensor<i32>}> : () -> tensor<i32>
  %lo = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
  %hi = "onnx.Constant"() <{value = dense<800.0> : tensor<f32>}> : () -> tensor<f32>
  %0 = "onnx.MelWeightMatrix"(%mels, %len, %rate, %lo, %hi) <{output_datatype = 1 : i64}> : (tensor<i32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>) -> tensor<9x2xf32>
  return %0 : tensor<9x2xf32>
}
