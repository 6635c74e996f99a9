// RUN: prism-opt %s --gpu-fuse-norm-rotary | FileCheck %s

// RMSNorm with a residual: the rows merged to [16, 64], a block per row,
// the normalized rows and the residual sum both returned.
// CHECK-LABEL: func.func @rms
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<1x16x64xf32> into tensor<16x64xf32>
// CHECK: %[[Y:.*]] = memref.alloc() : memref<16x64xf32>
// CHECK: %[[S:.*]] = memref.alloc() : memref<16x64xf32>
// CHECK: gpu.launch_func @prism_kernels::@[[RMS:rms_norm_[0-9]+]] blocks in (%c16, %c1{{.*}}, %c1{{.*}}) threads in (%c64, %c1{{.*}}, %c1{{.*}}) args({{.*}}, %[[Y]] : memref<16x64xf32>, %[[S]] : memref<16x64xf32>)
// CHECK: tensor.expand_shape {{.*}} into tensor<1x16x64xf32>
// CHECK: tensor.expand_shape {{.*}} into tensor<1x16x64xf32>
func.func @rms(%x: tensor<1x16x64xf32>, %r: tensor<1x16x64xf32>, %w: tensor<64xf32>) -> (tensor<1x16x64xf32>, tensor<1x16x64xf32>) {
  %y, %s = xfmr.rms_norm %x residual %r, %w {epsilon = 1.0e-5 : f64}
      : (tensor<1x16x64xf32>, tensor<1x16x64xf32>, tensor<64xf32>) -> (tensor<1x16x64xf32>, tensor<1x16x64xf32>)
  return %y, %s : tensor<1x16x64xf32>, tensor<1x16x64xf32>
}

// LayerNorm with a bias, 768 wide: 256 threads a row.
// CHECK-LABEL: func.func @layer
// CHECK: gpu.launch_func @prism_kernels::@[[LN:layer_norm_[0-9]+]] blocks in (%c4, {{.*}}) threads in (%c256,
func.func @layer(%x: tensor<4x768xf32>, %w: tensor<768xf32>, %b: tensor<768xf32>) -> tensor<4x768xf32> {
  %y = xfmr.layer_norm %x, %w bias %b {epsilon = 1.0e-5 : f64} : (tensor<4x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<4x768xf32>
  return %y : tensor<4x768xf32>
}

// Rotary on [1, 4, 16, 16] with cos/sin [1, 1, 16, 16] shared by the heads:
// 1024 elements, 4 blocks of 256.
// CHECK-LABEL: func.func @rope
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3]] : tensor<1x4x16x16xf32> into tensor<4x16x16xf32>
// CHECK: gpu.launch_func @prism_kernels::@[[ROT:rotary_[0-9]+]] blocks in (%c4, {{.*}}) threads in (%c256,
// CHECK: tensor.expand_shape {{.*}} into tensor<1x4x16x16xf32>
func.func @rope(%x: tensor<1x4x16x16xf32>, %c: tensor<1x1x16x16xf32>, %s: tensor<1x1x16x16xf32>) -> tensor<1x4x16x16xf32> {
  %y = xfmr.rotary %x, %c, %s : (tensor<1x4x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>) -> tensor<1x4x16x16xf32>
  return %y : tensor<1x4x16x16xf32>
}

// Left to the linalg path: f16, and cos/sin whose leading dims neither
// broadcast nor match x's.
// CHECK-LABEL: func.func @left
// CHECK: xfmr.rms_norm
// CHECK: xfmr.rotary
func.func @left(%x: tensor<2x8xf16>, %w: tensor<8xf16>, %q: tensor<2x4x16x16xf32>, %c: tensor<1x4x16x16xf32>) -> (tensor<2x8xf16>, tensor<2x4x16x16xf32>) {
  %y = xfmr.rms_norm %x, %w {epsilon = 1.0e-5 : f64} : (tensor<2x8xf16>, tensor<8xf16>) -> tensor<2x8xf16>
  %r = xfmr.rotary %q, %c, %c : (tensor<2x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  return %y, %r : tensor<2x8xf16>, tensor<2x4x16x16xf32>
}

// The row kernel: two block reductions (shuffles, a slot per warp), then
// the normalized row.
// CHECK: gpu.func @[[RMS]]({{.*}}) workgroup(%[[SLOTS:.*]] : memref<2x1xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK: gpu.shuffle  xor
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[SLOTS]]
// CHECK: gpu.barrier
// CHECK: math.rsqrt
// The rotary kernel's partner element, negated in the low half.
// CHECK: gpu.func @[[ROT]]
// CHECK: arith.negf
