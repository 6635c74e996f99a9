// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Conv with padding, strides and two groups: the input padded with zeros,
// one generic reading x[n, (m floordiv 2) * 2 + ci, o * 2 + k] and
// w[m, ci, k], then the bias along the channels.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, (d1 floordiv 2) * 2 + d4, d2 * 2 + d5, d3 * 2 + d6)>
// CHECK-LABEL: func.func @conv
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[X]], #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: arith.mulf
// CHECK: tensor.reshape %arg2
func.func @conv(%x: tensor<1x4x5x5xf32>, %w: tensor<4x2x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x3x3xf32> {
  %0 = "onnx.Conv"(%x, %w, %b) <{auto_pad = "NOTSET", group = 2 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]}> : (tensor<1x4x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

// MaxPool with ceil_mode: the last window runs past the input, which is
// padded with -inf there; a kernel-shaped operand gives the window loops.
// CHECK-LABEL: func.func @max_pool
// CHECK: %[[WINDOW:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK: tensor.pad %arg0 low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[WINDOW]] : tensor<1x1x6x6xf32>, tensor<2x2xf32>)
// CHECK: arith.maximumf
func.func @max_pool(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %0, %i = "onnx.MaxPool"(%x) <{auto_pad = "NOTSET", ceil_mode = 1 : i64, kernel_shape = [2, 2], storage_order = 0 : i64, strides = [2, 2]}> : (tensor<1x1x5x5xf32>) -> (tensor<1x1x3x3xf32>, none)
  return %0 : tensor<1x1x3x3xf32>
}

// -----

// AveragePool without count_include_pad: the sum over the zero-padded
// input divided by the window's count of real cells (a padded ones mask).
// CHECK-LABEL: func.func @average_pool
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK: arith.divf
func.func @average_pool(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %0 = "onnx.AveragePool"(%x) <{auto_pad = "SAME_UPPER", ceil_mode = 0 : i64, count_include_pad = 0 : i64, kernel_shape = [3, 3]}> : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Pad (reflect) with run-time pads: each output reads the reflected source.
// CHECK-LABEL: func.func @pad_reflect
// CHECK: tensor.extract %arg1
// CHECK: linalg.generic
// CHECK: arith.subi
// CHECK: tensor.extract %arg0
func.func @pad_reflect(%x: tensor<3x4xf32>, %p: tensor<4xi64>) -> tensor<3x8xf32> {
  %n = onnx.NoValue
  %0 = "onnx.Pad"(%x, %p, %n, %n) <{mode = "reflect"}> : (tensor<3x4xf32>, tensor<4xi64>, none, none) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// ConvTranspose: each output sums the input positions i and taps k with
// o = i * stride + k - pad_begin (checked at run time: divisible and in
// range), over a (c, k) extent operand.
// CHECK-LABEL: func.func @conv_transpose
// CHECK: tensor.empty() : tensor<1x3x3xf32>
// CHECK: linalg.generic
// CHECK: arith.remsi
// CHECK: tensor.extract %arg0
// CHECK: tensor.extract %arg1
// CHECK: arith.select
func.func @conv_transpose(%x: tensor<1x1x3x3xf32>, %w: tensor<1x2x3x3xf32>) -> tensor<1x2x7x7xf32> {
  %n = onnx.NoValue
  %0 = "onnx.ConvTranspose"(%x, %w, %n) <{auto_pad = "NOTSET", group = 1 : i64, strides = [2, 2], pads = [0, 0, 0, 0]}> : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>, none) -> tensor<1x2x7x7xf32>
  return %0 : tensor<1x2x7x7xf32>
}

// -----

// ConvInteger: an int32 Conv of the differences from the zero points.
// CHECK-LABEL: func.func @conv_integer
// CHECK: arith.extui
// CHECK: arith.subi
// CHECK: arith.muli
// CHECK: arith.addi
func.func @conv_integer(%x: tensor<1x1x3x3xui8>, %w: tensor<1x1x2x2xui8>, %xz: tensor<ui8>) -> tensor<1x1x2x2xi32> {
  %n = onnx.NoValue
  %0 = "onnx.ConvInteger"(%x, %w, %xz, %n) <{auto_pad = "NOTSET", group = 1 : i64}> : (tensor<1x1x3x3xui8>, tensor<1x1x2x2xui8>, tensor<ui8>, none) -> tensor<1x1x2x2xi32>
  return %0 : tensor<1x1x2x2xi32>
}

// -----

// MaxPool with Indices and storage_order = 1: one reduction with two
// results, the maximum and the lowest flat index (row-major) of an input
// cell holding it, padding cells never taken; then the spatial part
// renumbered column-major.
// CHECK-LABEL: func.func @max_pool_indices
// CHECK: %[[NONE:.*]] = linalg.fill ins(%c9223372036854775807_i64 : i64) outs(%{{.*}} : tensor<1x2x3x3xi64>)
// CHECK: %[[POOL:.*]]:2 = linalg.generic {{.*}} outs(%{{.*}}, %[[NONE]] : tensor<1x2x3x3xf32>, tensor<1x2x3x3xi64>)
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32, %[[Y:.*]]: f32, %[[I:.*]]: i64):
// CHECK: %[[CELL:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: arith.cmpf ogt, %[[X]], %[[Y]]
// CHECK: arith.cmpf oeq, %[[X]], %[[Y]]
// CHECK: %[[MAX:.*]] = arith.maximumf %[[X]], %[[Y]]
// CHECK: arith.cmpi slt, %[[CELL]], %[[I]]
// CHECK: %[[TAKEN:.*]] = arith.select %{{.*}}, %[[CELL]], %[[I]] : i64
// CHECK: linalg.yield %[[MAX]], %[[TAKEN]] : f32, i64
// CHECK: %[[COLUMN:.*]] = linalg.generic {{.*}} ins(%[[POOL]]#1 : tensor<1x2x3x3xi64>)
// CHECK: arith.remsi
// CHECK: return %[[POOL]]#0, %[[COLUMN]]
func.func @max_pool_indices(%x: tensor<1x2x5x5xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xi64>) {
  %0, %i = "onnx.MaxPool"(%x) <{auto_pad = "NOTSET", ceil_mode = 0 : i64, kernel_shape = [3, 3], pads = [1, 1, 1, 1], storage_order = 1 : i64, strides = [2, 2]}> : (tensor<1x2x5x5xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xi64>)
  return %0, %i : tensor<1x2x3x3xf32>, tensor<1x2x3x3xi64>
}
