// RUN: prism-opt %s --pass-pipeline="builtin.module(func.func(gpu-copy-to-linalg))" | FileCheck %s

// A copy into a strided view (a concatenation's half) becomes a
// linalg.copy, which prism-lower-gpu turns into a kernel.
// CHECK-LABEL: func.func @concat
// CHECK: %[[VIEW:.*]] = memref.subview
// CHECK-NEXT: linalg.copy ins(%arg0 : memref<2x3xf32>) outs(%[[VIEW]] : memref<2x3xf32, strided<[6, 1], offset: 3>>)
// CHECK-NOT: memref.copy
func.func @concat(%a: memref<2x3xf32>, %out: memref<2x6xf32>) {
  %view = memref.subview %out[0, 3] [2, 3] [1, 1] : memref<2x6xf32> to memref<2x3xf32, strided<[6, 1], offset: 3>>
  memref.copy %a, %view : memref<2x3xf32> to memref<2x3xf32, strided<[6, 1], offset: 3>>
  return
}
