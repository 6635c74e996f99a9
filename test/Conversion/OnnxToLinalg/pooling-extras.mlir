// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// MaxUnpool with output_shape: the values scattered by an scf.for into the
// flat inferred 4x4 block (out-of-range indices rewrite a cell's own value),
// which is then padded with zeros at the end to 5x5.
// CHECK-LABEL: func.func @max_unpool
// CHECK: %[[ZEROS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<16xf32>)
// CHECK: %[[SCATTERED:.*]] = scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(%[[ACC:.*]] = %[[ZEROS]]) -> (tensor<16xf32>)
// CHECK: %[[INSIDE:.*]] = arith.andi
// CHECK: %[[OLD:.*]] = tensor.extract %[[ACC]]
// CHECK: %[[NEW:.*]] = arith.select %[[INSIDE]], %{{.*}}, %[[OLD]] : f32
// CHECK: tensor.insert %[[NEW]] into %[[ACC]]
// CHECK: %[[BLOCK:.*]] = tensor.reshape %[[SCATTERED]]{{.*}} -> tensor<1x1x4x4xf32>
// CHECK: tensor.pad %[[BLOCK]] low[0, 0, 0, 0] high[0, 0, 1, 1]
func.func @max_unpool(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>) -> tensor<1x1x5x5xf32> {
  %s = "onnx.Constant"() <{value = dense<[1, 1, 5, 5]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %0 = "onnx.MaxUnpool"(%x, %i, %s) <{kernel_shape = [2, 2], strides = [2, 2]}> : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, tensor<4xi64>) -> tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x5x5xf32>
}

// -----

// MaxUnpool without output_shape: the inferred shape is the result's, no pad.
// CHECK-LABEL: func.func @max_unpool_inferred
// CHECK: scf.for
// CHECK: tensor.reshape %{{.*}} -> tensor<2x3x5x5xf32>
// CHECK-NOT: tensor.pad
func.func @max_unpool_inferred(%x: tensor<2x3x3x3xf32>, %i: tensor<2x3x3x3xi64>) -> tensor<2x3x5x5xf32> {
  %n = onnx.NoValue
  %0 = "onnx.MaxUnpool"(%x, %i, %n) <{kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]}> : (tensor<2x3x3x3xf32>, tensor<2x3x3x3xi64>, none) -> tensor<2x3x5x5xf32>
  return %0 : tensor<2x3x5x5xf32>
}

// -----

// RoiAlign, avg, half_pixel, fixed sampling ratio: one generic over the
// output reading the box and batch index with tensor.extract, a 2x2 scf.for
// nest of samples each summing four bilinear taps, divided by the count.
// CHECK-LABEL: func.func @roi_align_avg
// CHECK: linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<3x2x2x2xf32>)
// CHECK: tensor.extract %arg2
// CHECK-COUNT-4: tensor.extract %arg1
// CHECK: scf.for %{{.*}} = %c0 to %c2
// CHECK: scf.for %{{.*}} = %c0 to %c2
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK: scf.yield
// CHECK: scf.yield
// CHECK: arith.divf
// CHECK: linalg.yield
func.func @roi_align_avg(%x: tensor<1x2x8x8xf32>, %rois: tensor<3x4xf32>, %b: tensor<3xi64>) -> tensor<3x2x2x2xf32> {
  %0 = "onnx.RoiAlign"(%x, %rois, %b) <{coordinate_transformation_mode = "half_pixel", mode = "avg", output_height = 2 : i64, output_width = 2 : i64, sampling_ratio = 2 : i64, spatial_scale = 5.000000e-01 : f32}> : (tensor<1x2x8x8xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x2x2x2xf32>
  return %0 : tensor<3x2x2x2xf32>
}

// -----

// RoiAlign, max, output_half_pixel, adaptive sampling: the grid is
// ceil(bin size) per box at run time, boxes are at least 1x1, each sample
// is the maximum of its weighted taps, and no sample gives 0.
// CHECK-LABEL: func.func @roi_align_max
// CHECK: arith.maximumf %{{.*}}, %cst
// CHECK: math.ceil
// CHECK: arith.fptosi
// CHECK: %[[ROWS:.*]] = scf.for
// CHECK: scf.for
// CHECK-COUNT-4: arith.maximumf
// CHECK: %[[ANY:.*]] = arith.andi
// CHECK: arith.select %[[ANY]], %[[ROWS]]
func.func @roi_align_max(%x: tensor<1x2x8x8xf32>, %rois: tensor<3x4xf32>, %b: tensor<3xi64>) -> tensor<3x2x2x2xf32> {
  %0 = "onnx.RoiAlign"(%x, %rois, %b) <{coordinate_transformation_mode = "output_half_pixel", mode = "max", output_height = 2 : i64, output_width = 2 : i64, sampling_ratio = 0 : i64, spatial_scale = 1.000000e+00 : f32}> : (tensor<1x2x8x8xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x2x2x2xf32>
  return %0 : tensor<3x2x2x2xf32>
}
