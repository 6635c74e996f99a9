// RUN: prism-opt %s --gpu-matmul-to-kernels="weights=f32" | FileCheck %s

// Regression: a square constant weight, stored again as f32 [N, K], and a
// square B read as it is, [K, N], have the same memref types but not the
// same layout: they need two kernels, not one shared.
// CHECK-LABEL: func.func @square
// CHECK: memref.get_global @w_t_f32 : memref<64x64xf32>
// CHECK: gpu.launch_func @prism_kernels::@[[TRANSPOSED:gemm_[0-9]+]]
// CHECK: gpu.launch_func @prism_kernels::@[[PLAIN:gemm_[0-9]+]]
// CHECK: gpu.func @[[TRANSPOSED]](
// CHECK: gpu.func @[[PLAIN]](
memref.global "private" constant @w : memref<64x64xf32> = dense<1.0>
func.func @square(%x: memref<16x64xf32>, %b: memref<64x64xf32>, %y: memref<16x64xf32>) {
  %w = memref.get_global @w : memref<64x64xf32>
  linalg.matmul ins(%x, %w : memref<16x64xf32>, memref<64x64xf32>) outs(%y : memref<16x64xf32>)
  linalg.matmul ins(%x, %b : memref<16x64xf32>, memref<64x64xf32>) outs(%y : memref<16x64xf32>)
  return
}
