// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Bilinear: one generic over the output reading the grid's x and y through
// constant map results, then four taps with tensor.extract, each zero
// outside the image.
// CHECK-DAG: #[[GX:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, 0)>
// CHECK-DAG: #[[GY:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, 1)>
// CHECK-LABEL: func.func @bilinear
// CHECK: linalg.generic {indexing_maps = [#[[GX]], #[[GY]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-COUNT-2: math.floor
// CHECK-COUNT-4: tensor.extract %arg0
func.func @bilinear(%x: tensor<1x2x4x4xf32>, %grid: tensor<1x3x3x2xf32>) -> tensor<1x2x3x3xf32> {
  %0 = "onnx.GridSample"(%x, %grid) <{align_corners = 0 : i64, mode = "bilinear", padding_mode = "zeros"}> : (tensor<1x2x4x4xf32>, tensor<1x3x3x2xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// Nearest with reflection padding: the position is reflected (fmod, floor
// of the flips), clipped, rounded half to even, then read once.
// CHECK-LABEL: func.func @nearest_reflection
// CHECK: arith.remf
// CHECK: math.roundeven
// CHECK-COUNT-1: tensor.extract %arg0
// CHECK-NOT: tensor.extract %arg0
func.func @nearest_reflection(%x: tensor<1x1x3x2xf32>, %grid: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %0 = "onnx.GridSample"(%x, %grid) <{align_corners = 1 : i64, mode = "nearest", padding_mode = "reflection"}> : (tensor<1x1x3x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// Bicubic reads a 4x4 neighbourhood.
// CHECK-LABEL: func.func @bicubic
// CHECK-COUNT-16: tensor.extract %arg0
func.func @bicubic(%x: tensor<1x1x3x2xf32>, %grid: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %0 = "onnx.GridSample"(%x, %grid) <{align_corners = 0 : i64, mode = "bicubic", padding_mode = "border"}> : (tensor<1x1x3x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}
