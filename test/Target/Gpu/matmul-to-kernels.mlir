// RUN: prism-opt %s --gpu-matmul-to-kernels | FileCheck %s
// RUN: prism-opt %s --gpu-matmul-to-kernels="weights=f32" | FileCheck %s --check-prefix=F32
// RUN: not prism-opt %s --gpu-matmul-to-kernels="weights=fp4" 2>&1 | FileCheck %s --check-prefix=BAD-DTYPE
// RUN: not prism-opt %s --gpu-matmul-to-kernels="device=lpu-v1" 2>&1 | FileCheck %s --check-prefix=NOT-GPU
// RUN: not prism-opt %s --gpu-matmul-to-kernels="device=h999" 2>&1 | FileCheck %s --check-prefix=NO-DEVICE

// Constant weights are stored again as bf16 [N, K]: transposed from
// [K, N], or as they are when the matmul already reads them transposed.
// CHECK-DAG: memref.global "private" constant @w_t_bf16 : memref<48x64xbf16> = dense<1.000000e+00> {alignment = 64 : i64, prism.weight_of = "w"}
// CHECK-DAG: memref.global "private" constant @head_bf16 : memref<40x64xbf16> = dense<2.000000e+00> {alignment = 64 : i64, prism.weight_of = "head"}
// Elided weights (no values here) are declared, uninitialized.
// CHECK-DAG: memref.global "private" @elided_t_bf16 : memref<48x64xbf16> = uninitialized
// F32-DAG: memref.global "private" constant @w_t_f32 : memref<48x64xf32>
memref.global "private" constant @w : memref<64x48xf32> = dense<1.0>
memref.global "private" constant @head : memref<40x64xf32> = dense<2.0>
memref.global "private" constant @elided : memref<64x48xf32> = dense_resource<__elided__>

// CHECK-LABEL: func.func @proj
// 32 rows: the tensor-core GEMM, one 16x32 block of one warp per tile
// (the tile the model picks for these sizes on an H100).
// CHECK: %[[W:.*]] = memref.get_global @w_t_bf16 : memref<48x64xbf16>
// CHECK: gpu.launch_func @prism_kernels::@[[GEMM:gemm_[0-9]+]] blocks in (%c2, %c2{{.*}}, %c1{{.*}}) threads in (%c32, %c1{{.*}}, %c1{{.*}}) args(%arg0 : memref<32x64xf32>, %[[W]] : memref<48x64xbf16>, %arg1 : memref<32x48xf32>)
// One row (decode): the GEMV, eight warps (columns) a block.
// CHECK: gpu.launch_func @prism_kernels::@[[GEMV:gemv_[0-9]+]] blocks in (%c6, {{.*}}) threads in (%c256, {{.*}}) args(%arg2 : memref<1x64xf32>, %{{.*}} : memref<48x64xbf16>, %arg3 : memref<1x48xf32>)
// CHECK: memref.get_global @head_bf16
// CHECK: gpu.launch_func @prism_kernels::@gemv_{{[0-9]+}} blocks in (%c5,
// A B that is no constant is read as it is, [K, N], by the GEMM.
// CHECK: gpu.launch_func @prism_kernels::@gemm_{{[0-9]+}} {{.*}} args(%arg5 : memref<32x64xf32>, %arg6 : memref<64x48xf32>, %arg1 : memref<32x48xf32>)
// CHECK: memref.get_global @elided_t_bf16
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @proj(%x: memref<32x64xf32>, %y: memref<32x48xf32>, %r: memref<1x64xf32>, %o: memref<1x48xf32>,
                %h: memref<1x40xf32>, %a: memref<32x64xf32>, %b: memref<64x48xf32>) {
  %w = memref.get_global @w : memref<64x48xf32>
  linalg.matmul ins(%x, %w : memref<32x64xf32>, memref<64x48xf32>) outs(%y : memref<32x48xf32>)
  linalg.matmul ins(%r, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%o : memref<1x48xf32>)
  %hw = memref.get_global @head : memref<40x64xf32>
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%r, %hw : memref<1x64xf32>, memref<40x64xf32>) outs(%h : memref<1x40xf32>)
  linalg.matmul ins(%a, %b : memref<32x64xf32>, memref<64x48xf32>) outs(%y : memref<32x48xf32>)
  %e = memref.get_global @elided : memref<64x48xf32>
  linalg.matmul ins(%r, %e : memref<1x64xf32>, memref<64x48xf32>) outs(%o : memref<1x48xf32>)
  return
}

// Left alone: f16 operands, other maps, tensors.
// CHECK-LABEL: func.func @left
// CHECK-COUNT-3: linalg.matmul
func.func @left(%h: memref<16x64xf16>, %wh: memref<64x16xf16>, %oh: memref<16x16xf16>,
                %x: memref<16x64xf32>, %wt: memref<16x64xf32>, %o: memref<64x64xf32>,
                %t: tensor<16x64xf32>, %tw: tensor<64x16xf32>, %to: tensor<16x16xf32>) -> tensor<16x16xf32> {
  linalg.matmul ins(%h, %wh : memref<16x64xf16>, memref<64x16xf16>) outs(%oh : memref<16x16xf16>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %wt : memref<16x64xf32>, memref<16x64xf32>) outs(%o : memref<64x64xf32>)
  %0 = linalg.matmul ins(%t, %tw : tensor<16x64xf32>, tensor<64x16xf32>) outs(%to : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %0 : tensor<16x16xf32>
}

// The kernels, in the @prism_kernels gpu.module after the functions.
// CHECK: gpu.module @prism_kernels
// The GEMM stages A and B through shared memory as bf16 (rows padded by 8),
// 16 bytes a thread where K allows (A: 4 f32 to 4 bf16; B: 8 bf16), and
// multiplies with mma.sync m16n8k16, accumulating onto C.
// CHECK: gpu.func @[[GEMM]](%{{.*}}: memref<32x64xf32>, %{{.*}}: memref<48x64xbf16>, %{{.*}}: memref<32x48xf32>) workgroup(%[[AS:.*]] : memref<16x40xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[BS:.*]] : memref<32x40xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK: scf.for
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<32x64xf32>, vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: vector.store %{{.*}}, %[[AS]]
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<48x64xbf16>, vector<8xbf16>
// CHECK: vector.store %{{.*}}, %[[BS]]
// CHECK: gpu.barrier
// CHECK: vector.load %[[AS]]
// CHECK: nvvm.mma.sync {{.*}} {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// CHECK: gpu.barrier
// CHECK: arith.addf
// CHECK: memref.store
// The GEMV loads 16 bytes of weights a lane a step and reduces by shuffles.
// CHECK: gpu.func @[[GEMV]]
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<48x64xbf16>, vector<8xbf16>
// CHECK: vector.fma
// CHECK: gpu.shuffle  xor

// BAD-DTYPE: error: gpu-matmul-to-kernels: weights must be bf16, f32 or fp8, not 'fp4'
// NOT-GPU: error: gpu-matmul-to-kernels: device 'lpu-v1' is a sram-lpu, not a gpu
// NO-DEVICE: error: gpu-matmul-to-kernels: no device description 'h999'
