// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Linear (bilinear) resize with half_pixel coordinates: per resized dim the
// source coordinate (x + 0.5) / scale - 0.5, clamped, its floor and the
// next cell with their weights: four reads in all.
// CHECK-LABEL: func.func @resize_linear
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: math.floor
// CHECK-COUNT-4: tensor.extract %arg0
func.func @resize_linear(%x: tensor<1x1x2x2xf32>, %s: tensor<4xf32>) -> tensor<1x1x4x4xf32> {
  %n = onnx.NoValue
  %0 = "onnx.Resize"(%x, %n, %s, %n) <{coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -0.75 : f32, exclude_outside = 0 : i64, extrapolation_value = 0.0 : f32, mode = "linear", nearest_mode = "round_prefer_floor"}> : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Nearest with floor: one read per output.
// CHECK-LABEL: func.func @resize_nearest
// CHECK: math.floor
// CHECK-COUNT-1: tensor.extract %arg0
// CHECK-NOT: tensor.extract %arg0
func.func @resize_nearest(%x: tensor<1x1x2x2xf32>, %sz: tensor<4xi64>) -> tensor<1x1x3x3xf32> {
  %n = onnx.NoValue
  %0 = "onnx.Resize"(%x, %n, %n, %sz) <{coordinate_transformation_mode = "align_corners", cubic_coeff_a = -0.75 : f32, exclude_outside = 0 : i64, extrapolation_value = 0.0 : f32, mode = "nearest", nearest_mode = "floor"}> : (tensor<1x1x2x2xf32>, none, none, tensor<4xi64>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}
