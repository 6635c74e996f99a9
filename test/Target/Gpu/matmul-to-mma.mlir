// RUN: prism-opt %s --gpu-matmul-to-mma | FileCheck %s

// A 32x16 result from K = 64: 2x2 blocks of one warp, each stepping K by 4
// with mma.sync (tf32 in, f32 accumulated in place).
// CHECK-LABEL: func.func @projection
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c2{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c32{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}})
// CHECK:   scf.for
// CHECK:     nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 4], tf32Enabled}
// CHECK-NOT: linalg.matmul
func.func @projection(%x: memref<32x64xf32>, %w: memref<64x16xf32>, %y: memref<32x16xf32>) {
  linalg.matmul ins(%x, %w : memref<32x64xf32>, memref<64x16xf32>) outs(%y : memref<32x16xf32>)
  return
}

// What the tensor cores do not take as it is stays a linalg.matmul (for the
// SIMT kernels): a decode row (M = 1), N = 172, f16 operands, tensors.
// CHECK-LABEL: func.func @left
// CHECK-NOT: nvgpu.mma.sync
// CHECK-COUNT-4: linalg.matmul
func.func @left(%r: memref<1x64xf32>, %w: memref<64x16xf32>, %o: memref<1x16xf32>,
                %x: memref<16x64xf32>, %w2: memref<64x172xf32>, %o2: memref<16x172xf32>,
                %h: memref<16x64xf16>, %wh: memref<64x16xf16>, %oh: memref<16x16xf16>,
                %t: tensor<16x64xf32>, %wt: tensor<64x16xf32>, %ot: tensor<16x16xf32>) -> tensor<16x16xf32> {
  linalg.matmul ins(%r, %w : memref<1x64xf32>, memref<64x16xf32>) outs(%o : memref<1x16xf32>)
  linalg.matmul ins(%x, %w2 : memref<16x64xf32>, memref<64x172xf32>) outs(%o2 : memref<16x172xf32>)
  linalg.matmul ins(%h, %wh : memref<16x64xf16>, memref<64x16xf16>) outs(%oh : memref<16x16xf16>)
  %0 = linalg.matmul ins(%t, %wt : tensor<16x64xf32>, tensor<64x16xf32>) outs(%ot : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}
