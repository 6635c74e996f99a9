// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// A batched matmul: loops b, i, k (parallel) and j (reduced); each operand
// indexed by its labels.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @batch_matmul(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = "onnx.Einsum"(%a, %b) <{equation = "bij, bjk -> bik"}> : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// A repeated label reads the diagonal; the ellipsis is the leading dim.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1) -> (d0, d1, d1)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @diagonal
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[Y]]], iterator_types = ["parallel", "parallel"]}
func.func @diagonal(%x: tensor<3x5x5xf64>) -> tensor<3x5xf64> {
  %0 = "onnx.Einsum"(%x) <{equation = "...ii ->...i"}> : (tensor<3x5x5xf64>) -> tensor<3x5xf64>
  return %0 : tensor<3x5xf64>
}

// -----

// The implicit form sums the labels used twice: an inner product is a
// full reduction into a 0-d tensor (integers multiply and add as ints).
// CHECK-LABEL: func.func @inner
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]
// CHECK: arith.muli
// CHECK: arith.addi
func.func @inner(%x: tensor<5xi32>, %y: tensor<5xi32>) -> tensor<i32> {
  %0 = "onnx.Einsum"(%x, %y) <{equation = "i,i"}> : (tensor<5xi32>, tensor<5xi32>) -> tensor<i32>
  return %0 : tensor<i32>
}
