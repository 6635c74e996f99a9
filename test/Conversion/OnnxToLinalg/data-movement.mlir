// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Gather reads data at the (wrapped, clamped) index inside a generic.
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic
// CHECK: arith.index_cast
// CHECK: arith.select
// CHECK: tensor.extract %arg0
// CHECK-NOT: onnx.
func.func @gather(%d: tensor<5x4xf32>, %i: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %0 = "onnx.Gather"(%d, %i) <{axis = 0 : i64}> : (tensor<5x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x5xf32>
// CHECK: %[[A:.*]] = tensor.insert_slice %arg0 into %[[E]][0, 0] [2, 2] [1, 1]
// CHECK: tensor.insert_slice %arg1 into %[[A]][0, 2] [2, 3] [1, 1]
func.func @concat(%a: tensor<2x2xf32>, %b: tensor<2x3xf32>) -> tensor<2x5xf32> {
  %0 = "onnx.Concat"(%a, %b) <{axis = -1 : i64}> : (tensor<2x2xf32>, tensor<2x3xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// CHECK-LABEL: func.func @slice
// CHECK: tensor.extract_slice %arg0[0, 1] [4, 2] [1, 2] : tensor<4x6xf32> to tensor<4x2xf32>
func.func @slice(%x: tensor<4x6xf32>) -> tensor<4x2xf32> {
  %s = "onnx.Constant"() <{value = dense<1> : tensor<1xi64>}> : () -> tensor<1xi64>
  %e = "onnx.Constant"() <{value = dense<5> : tensor<1xi64>}> : () -> tensor<1xi64>
  %a = "onnx.Constant"() <{value = dense<1> : tensor<1xi64>}> : () -> tensor<1xi64>
  %st = "onnx.Constant"() <{value = dense<2> : tensor<1xi64>}> : () -> tensor<1xi64>
  %0 = "onnx.Slice"(%x, %s, %e, %a, %st) : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// ReduceMean: a sum reduction, a division by the count, a reshape (keepdims).
// CHECK-LABEL: func.func @reduce_mean
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: arith.divf
// CHECK: tensor.reshape {{.*}} -> tensor<3x1xf32>
func.func @reduce_mean(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %a = "onnx.Constant"() <{value = dense<-1> : tensor<1xi64>}> : () -> tensor<1xi64>
  %0 = "onnx.ReduceMean"(%x, %a) <{keepdims = 1 : i64}> : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}

// -----

// Comparisons give i1; Where selects; Cast converts.
// CHECK-LABEL: func.func @mask
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: arith.sitofp
func.func @mask(%a: tensor<4xi64>, %b: tensor<4x1xi64>, %x: tensor<4x4xf32>, %y: tensor<f32>) -> (tensor<4x4xf32>, tensor<4xf32>) {
  %0 = "onnx.Less"(%a, %b) : (tensor<4xi64>, tensor<4x1xi64>) -> tensor<4x4xi1>
  %1 = "onnx.Where"(%0, %x, %y) : (tensor<4x4xi1>, tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
  %2 = "onnx.Cast"(%a) <{saturate = 1 : i64, to = 1 : i64}> : (tensor<4xi64>) -> tensor<4xf32>
  return %1, %2 : tensor<4x4xf32>, tensor<4xf32>
}

// -----

// MatMul with broadcast batch dims: one generic, k the reduction loop.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d1, d2, d4)>
// CHECK-LABEL: func.func @batched
// CHECK: linalg.generic {indexing_maps = [#[[A]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
func.func @batched(%a: tensor<1x4x5x16xf32>, %b: tensor<2x4x16x5xf32>) -> tensor<2x4x5x5xf32> {
  %0 = "onnx.MatMul"(%a, %b) : (tensor<1x4x5x16xf32>, tensor<2x4x16x5xf32>) -> tensor<2x4x5x5xf32>
  return %0 : tensor<2x4x5x5xf32>
}
