// RUN: prism-opt %s --gpu-fuse-attention | FileCheck %s
// RUN: prism-opt %s --gpu-fuse-attention="device=a100-80g" | FileCheck %s --check-prefix=A100
// RUN: not prism-opt %s --gpu-fuse-attention="device=host-cpu" 2>&1 | FileCheck %s --check-prefix=NOT-GPU

// Decode, one query per head against 4096 keys: 8 blocks would leave an
// H100's 132 SMs idle, so each head's keys are split over 32 blocks (two
// 64-key tiles each), and a combine kernel merges their partials. The
// presents stay tensor ops (past, then this step's key).
// CHECK-LABEL: func.func @decode
// CHECK: %[[K:.*]] = tensor.insert_slice %arg1 into %{{.*}}[0, 0, 4095, 0] [1, 2, 1, 64]
// CHECK: %[[V:.*]] = tensor.insert_slice %arg2 into %{{.*}}[0, 0, 4095, 0] [1, 2, 1, 64]
// CHECK: %[[Q:.*]] = bufferization.to_buffer %arg0 read_only : tensor<1x8x1x64xf32> to memref<1x8x1x64xf32, strided<[?, ?, ?, ?], offset: ?>>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x8x1x64xf32>
// CHECK: %[[PART:.*]] = memref.alloc() : memref<1x8x32x1x64xf32>
// CHECK: %[[STATS:.*]] = memref.alloc() : memref<1x8x32x1x2xf32>
// CHECK: gpu.launch_func @prism_kernels::@[[SPLIT:attention_split_[0-9]+]] blocks in (%c1{{.*}}, %c8{{.*}}, %c32{{.*}}) threads in (%c128
// CHECK: gpu.launch_func @prism_kernels::@[[COMBINE:attention_combine_[0-9]+]] blocks in (%c1{{.*}}, %c8{{.*}}, %c1{{.*}}) threads in (%c64{{.*}}) args(%[[PART]] : {{.*}}, %[[STATS]] : {{.*}}, %[[OUT]] : {{.*}})
// CHECK: %[[O:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[O]], %[[K]], %[[V]]
// A100 (108 SMs): ceil(216 / 8) = 27 splits.
// A100-LABEL: func.func @decode
// A100: memref.alloc() : memref<1x8x27x1x64xf32>
func.func @decode(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x1x64xf32>, %v: tensor<1x2x1x64xf32>,
                  %pk: tensor<1x2x4095x64xf32>, %pv: tensor<1x2x4095x64xf32>, %m: tensor<1x1x1x4096xf32>)
    -> (tensor<1x8x1x64xf32>, tensor<1x2x4096x64xf32>, tensor<1x2x4096x64xf32>) {
  %o, %p:2 = xfmr.attention %q, %k, %v past %pk, %pv mask %m {scale = 0.125 : f64}
      : (tensor<1x8x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x1x64xf32>, tensor<1x2x4095x64xf32>, tensor<1x2x4095x64xf32>, tensor<1x1x1x4096xf32>)
      -> (tensor<1x8x1x64xf32>, tensor<1x2x4096x64xf32>, tensor<1x2x4096x64xf32>)
  return %o, %p#0, %p#1 : tensor<1x8x1x64xf32>, tensor<1x2x4096x64xf32>, tensor<1x2x4096x64xf32>
}

// Prefill: 64 queries a block (2 x 4 heads x 2 batches), no split; a
// rank-1 mask is expanded to rank 4.
// CHECK-LABEL: func.func @prefill
// CHECK: tensor.expand_shape %arg3 {{\[\[}}0, 1, 2, 3]] output_shape [1, 1, 1, 128]
// CHECK: gpu.launch_func @prism_kernels::@[[PREFILL:attention_[0-9]+]] blocks in (%c2{{.*}}, %c4{{.*}}, %c2{{.*}}) threads in (%c256
// CHECK-NOT: attention_combine
// CHECK: return
func.func @prefill(%q: tensor<2x4x128x32xf32>, %k: tensor<2x4x128x32xf32>, %v: tensor<2x4x128x32xf32>, %m: tensor<128xf32>) -> tensor<2x4x128x32xf32> {
  %o = xfmr.attention %q, %k, %v mask %m {scale = 0.25 : f64, causal = true, window = 64 : i64, softcap = 30.0 : f64}
      : (tensor<2x4x128x32xf32>, tensor<2x4x128x32xf32>, tensor<2x4x128x32xf32>, tensor<128xf32>) -> tensor<2x4x128x32xf32>
  return %o : tensor<2x4x128x32xf32>
}

// f16 attention is left to the linalg path.
// CHECK-LABEL: func.func @left
// CHECK: xfmr.attention
func.func @left(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  %o = xfmr.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  return %o : tensor<1x2x4x8xf16>
}

// The kernels. The split kernel stages queries, a key-or-value tile, the
// scores, the output rows and the row statistics in shared memory; the key
// tile is read, scored, and replaced by the value tile.
// CHECK: gpu.module @prism_kernels
// CHECK: gpu.func @[[SPLIT]]({{.*}}) workgroup(%[[QS:.*]] : memref<1x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[KV:.*]] : memref<64x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[SC:.*]] : memref<1x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[OS:.*]] : memref<1x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[ST:.*]] : memref<1x3xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[KV]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[SC]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[KV]]
// Online softmax: the running max, exp(score - max), the rescale factor.
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: math.exp
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[OS]]
// CHECK: gpu.barrier
// Partials and their statistics, unnormalized.
// CHECK: memref.store {{.*}} : memref<1x8x32x1x64xf32>
// CHECK: memref.store {{.*}} : memref<1x8x32x1x2xf32>
// CHECK: gpu.func @[[COMBINE]]
// CHECK: math.exp
// CHECK: arith.divf
// The prefill kernel: softcap (tanh), the mask clamped to the lowest float,
// and causal and window masking; each row normalized by its sum at the end.
// CHECK: gpu.func @[[PREFILL]]
// CHECK: math.tanh
// CHECK: arith.maximumf %{{.*}}, %cst{{.*}} : f32
// Positions compare signed (regression: with fewer keys than queries a
// position is negative).
// CHECK: arith.cmpi sgt
// CHECK: arith.cmpi slt
// CHECK: arith.divf

// NOT-GPU: error: gpu-fuse-attention: device 'host-cpu' is a cpu, not a gpu
