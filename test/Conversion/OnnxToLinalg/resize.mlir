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

// -----

// tf_crop_and_resize with a run-time roi: the box's start and end of the
// two resized dims read once (the dims of 1 map to their one input), the
// coordinate x * (end - start) * (in - 1) / (out - 1) + start * (in - 1),
// and extrapolation_value (10) where a coordinate falls outside [0, in - 1].
// CHECK-LABEL: func.func @resize_crop
// CHECK-DAG: %[[EXTRA:.*]] = arith.constant 1.000000e+01 : f32
// CHECK-DAG: %[[LAST:.*]] = arith.constant 3.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[START:.*]] = tensor.extract %arg1[%c2]
// CHECK-DAG: %[[END:.*]] = tensor.extract %arg1[%c6]
// CHECK: linalg.generic
// CHECK: %[[WIDTH:.*]] = arith.subf %[[END]], %[[START]] : f32
// CHECK: %[[XW:.*]] = arith.mulf %{{.*}}, %[[WIDTH]] : f32
// CHECK: %[[EXTENT:.*]] = arith.mulf %[[XW]], %[[LAST]] : f32
// CHECK: %[[SCALED:.*]] = arith.divf %[[EXTENT]], %{{.*}} : f32
// CHECK: %[[OFFSET:.*]] = arith.mulf %[[START]], %[[LAST]] : f32
// CHECK: %[[X:.*]] = arith.addf %[[SCALED]], %[[OFFSET]] : f32
// CHECK: %[[ABOVE:.*]] = arith.cmpf ogt, %[[X]], %[[LAST]] : f32
// CHECK: %[[BELOW:.*]] = arith.cmpf olt, %[[X]], %[[ZERO]] : f32
// CHECK: %[[OUT:.*]] = arith.ori %[[BELOW]], %[[ABOVE]] : i1
// CHECK: %[[ANY:.*]] = arith.ori %[[OUT]], %{{.*}} : i1
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK: %[[SUM:.*]] = arith.addf
// CHECK: arith.select %[[ANY]], %[[EXTRA]], %[[SUM]] : f32
func.func @resize_crop(%x: tensor<1x1x4x4xf32>, %roi: tensor<8xf32>) -> tensor<1x1x3x3xf32> {
  %n = onnx.NoValue
  %sz = "onnx.Constant"() <{value = dense<[1, 1, 3, 3]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %0 = "onnx.Resize"(%x, %roi, %n, %sz) <{coordinate_transformation_mode = "tf_crop_and_resize", cubic_coeff_a = -0.75 : f32, exclude_outside = 0 : i64, extrapolation_value = 1.0e+01 : f32, mode = "linear", nearest_mode = "round_prefer_floor"}> : (tensor<1x1x4x4xf32>, tensor<8xf32>, none, tensor<4xi64>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}
