// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// ArgMax: one reduction carrying the best value and its index; the first
// element seeds it (index -1 means "none yet"); keepdims reshapes.
// CHECK-LABEL: func.func @argmax
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}}outs(%{{.*}}, %{{.*}} : tensor<3xf32>, tensor<3xi64>)
// CHECK: arith.cmpf ogt
// CHECK: linalg.index 1
// CHECK: tensor.reshape {{.*}} -> tensor<3x1xi64>
func.func @argmax(%x: tensor<3x4xf32>) -> tensor<3x1xi64> {
  %0 = "onnx.ArgMax"(%x) <{axis = 1 : i64, keepdims = 1 : i64, select_last_index = 0 : i64}> : (tensor<3x4xf32>) -> tensor<3x1xi64>
  return %0 : tensor<3x1xi64>
}

// -----

// select_last_index takes ties too (>=); ArgMin compares the other way.
// CHECK-LABEL: func.func @argmin_last
// CHECK: arith.cmpi sle
func.func @argmin_last(%x: tensor<3x4xi32>) -> tensor<4xi64> {
  %0 = "onnx.ArgMin"(%x) <{axis = 0 : i64, keepdims = 0 : i64, select_last_index = 1 : i64}> : (tensor<3x4xi32>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// Trilu (lower): keep where column - row <= k.
// CHECK-LABEL: func.func @tril
// CHECK: %[[K:.*]] = arith.index_cast
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.subi
// CHECK: arith.cmpi sle, %{{.*}}, %[[K]]
func.func @tril(%x: tensor<4x5xf32>, %k: tensor<i64>) -> tensor<4x5xf32> {
  %0 = "onnx.Trilu"(%x, %k) <{upper = 0 : i64}> : (tensor<4x5xf32>, tensor<i64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// GatherElements reads data at the index along the axis, wrapped and clamped.
// CHECK-LABEL: func.func @gather_elements
// CHECK: arith.index_cast
// CHECK: arith.select
// CHECK: arith.minsi
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}] : tensor<3x4xf32>
func.func @gather_elements(%x: tensor<3x4xf32>, %i: tensor<2x4xi64>) -> tensor<2x4xf32> {
  %0 = "onnx.GatherElements"(%x, %i) <{axis = 0 : i64}> : (tensor<3x4xf32>, tensor<2x4xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Tile: the input read at each coordinate modulo its size.
// CHECK-LABEL: func.func @tile
// CHECK: arith.remui %{{.*}}, %c2
// CHECK: arith.remui %{{.*}}, %c3
// CHECK: tensor.extract %arg0
func.func @tile(%x: tensor<2x3xf32>, %r: tensor<2xi64>) -> tensor<4x3xf32> {
  %0 = "onnx.Tile"(%x, %r) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// ScatterND: the output starts as a copy of data; a reduction over the
// index tuples replaces (or combines) the slices they select.
// CHECK-LABEL: func.func @scatter_nd
// CHECK: linalg.copy
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.cmpi eq
// CHECK: arith.addf
// CHECK: arith.select
func.func @scatter_nd(%x: tensor<4x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %0 = "onnx.ScatterND"(%x, %i, %u) <{reduction = "add"}> : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// GatherND reads data at the index tuple of each output row.
// CHECK-LABEL: func.func @gather_nd
// CHECK: tensor.extract %arg1
// CHECK: tensor.extract %arg1
// CHECK: tensor.extract %arg0
func.func @gather_nd(%x: tensor<2x3x4xf32>, %i: tensor<5x2xi64>) -> tensor<5x4xf32> {
  %0 = "onnx.GatherND"(%x, %i) <{batch_dims = 0 : i64}> : (tensor<2x3x4xf32>, tensor<5x2xi64>) -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}

// -----

// TopK (constant k): rank each element against all others along the axis
// (larger first, ties by lower index), then pick the element of each rank.
// CHECK-LABEL: func.func @topk
// CHECK: linalg.transpose {{.*}} permutation = [1, 0]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}}outs(%{{.*}} : tensor<5x3xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: linalg.generic {{.*}}outs(%{{.*}}, %{{.*}} : tensor<5x2xf32>, tensor<5x2xi64>)
// CHECK: arith.select
// CHECK-COUNT-2: linalg.transpose
func.func @topk(%x: tensor<3x5xf32>) -> (tensor<2x5xf32>, tensor<2x5xi64>) {
  %k = "onnx.Constant"() <{value = dense<2> : tensor<1xi64>}> : () -> tensor<1xi64>
  %v, %i = "onnx.TopK"(%x, %k) <{axis = 0 : i64, largest = 1 : i64, sorted = 1 : i64}> : (tensor<3x5xf32>, tensor<1xi64>) -> (tensor<2x5xf32>, tensor<2x5xi64>)
  return %v, %i : tensor<2x5xf32>, tensor<2x5xi64>
}

// -----

// ReverseSequence reads each batch's length at run time and reverses the
// first `length` steps along the time axis.
// CHECK-LABEL: func.func @reverse_sequence
// CHECK: linalg.generic {{.*}}ins(%arg1 : tensor<4xi64>)
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: tensor.extract %arg0
func.func @reverse_sequence(%x: tensor<4x3xf32>, %lens: tensor<4xi64>) -> tensor<4x3xf32> {
  %0 = "onnx.ReverseSequence"(%x, %lens) <{batch_axis = 0 : i64, time_axis = 1 : i64}> : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
