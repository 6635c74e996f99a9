// RUN: prism-opt %s --gpu-matmul-to-kernels="weights=fp8" | FileCheck %s
// RUN: not prism-opt %s --gpu-matmul-to-kernels="weights=fp8 device=a100-80g" 2>&1 | FileCheck %s --check-prefix=AMPERE
// RUN: %python -c "import json, sys; d = json.load(open(sys.argv[1])); del d['peak_ops_per_s']['fp8']; json.dump(d, open(sys.argv[2], 'w'))" %src/hardware/devices/h100-sxm.json %t.no-fp8.json
// RUN: not prism-opt %s --gpu-matmul-to-kernels="weights=fp8 device=%t.no-fp8.json" 2>&1 | FileCheck %s --check-prefix=NO-PEAK

// fp8 weights: each constant weight stored again as e4m3 [N, K] with a
// scale per output channel (its largest magnitude / 448), rounded to
// nearest even. Column 0 is [1, 2, -3, 0.3]: scale 3/448, and
// x * 448 / 3 = [149.3, 298.7, -448, 44.8] rounds to e4m3's
// [144, 288, -448, 44]; column 1, [0.5, -0.25, 0.125, 1] * 448, is exact.
// CHECK-DAG: memref.global "private" constant @w_t_fp8 : memref<2x4xf8E4M3FN> = dense<{{\[}}[1.440000e+02, 2.880000e+02, -4.480000e+02, 4.400000e+01], [2.240000e+02, -1.120000e+02, 5.600000e+01, 4.480000e+02]]> {alignment = 64 : i64, prism.weight_of = "w"}
// CHECK-DAG: memref.global "private" constant @w_t_fp8_scale : memref<2xf32> = dense<[0.00669642864, 0.00223214296]> {alignment = 64 : i64, prism.weight_of = "w"}
// AMPERE: error: gpu-matmul-to-kernels: fp8 weights need compute capability 8.9 or later; device 'a100-80g' has 8.0
// The tiling prices fp8 GEMMs at the device's fp8 peak: one it lacks is an
// error, not the bf16 peak in its place.
// NO-PEAK: error: gpu-matmul-to-kernels: fp8 weights: device 'h100-sxm' has no fp8 peak (peak_ops_per_s.fp8) to tile for
memref.global "private" constant @w : memref<4x2xf32> = dense<[[1.0, 0.5], [2.0, -0.25], [-3.0, 0.125], [0.3, 1.0]]>

// 32 rows: A's rows are quantized to e4m3 into new buffers (bits and a
// scale per row), then the fp8 GEMM takes both scales.
// CHECK-LABEL: func.func @prefill
// CHECK-DAG: %[[W:.*]] = memref.get_global @w_t_fp8 : memref<2x4xf8E4M3FN>
// CHECK-DAG: %[[WS:.*]] = memref.get_global @w_t_fp8_scale : memref<2xf32>
// CHECK: %[[Q:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32x4xi8>
// CHECK: %[[QS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32xf32>
// CHECK: gpu.launch_func @prism_kernels::@[[QUANT:quantize_rows_[0-9]+]] blocks in (%c32{{.*}} threads in (%c32, {{.*}} args(%arg0 : memref<32x4xf32>, %[[Q]] : memref<32x4xi8>, %[[QS]] : memref<32xf32>)
// CHECK: gpu.launch_func @prism_kernels::@[[GEMM:gemm_[0-9]+]] {{.*}} args(%[[Q]] : memref<32x4xi8>, %[[W]] : memref<2x4xf8E4M3FN>, %[[QS]] : memref<32xf32>, %[[WS]] : memref<2xf32>, %arg1 : memref<32x2xf32>)
func.func @prefill(%x: memref<32x4xf32>, %y: memref<32x2xf32>) {
  %w = memref.get_global @w : memref<4x2xf32>
  linalg.matmul ins(%x, %w : memref<32x4xf32>, memref<4x2xf32>) outs(%y : memref<32x2xf32>)
  return
}

// Two projections of one A (q and k, say) share its quantized copy; after
// A is written (here a fill), it is quantized again.
// CHECK-LABEL: func.func @shared
// CHECK: gpu.launch_func @prism_kernels::@quantize_rows_{{[0-9]+}} {{.*}} args(%arg0 : memref<32x4xf32>, %[[Q1:.*]] : memref<32x4xi8>, %[[S1:.*]] : memref<32xf32>)
// CHECK: gpu.launch_func @prism_kernels::@gemm_{{[0-9]+}} {{.*}} args(%[[Q1]] : memref<32x4xi8>, {{.*}}, %[[S1]] : memref<32xf32>, {{.*}}, %arg1 : memref<32x2xf32>)
// CHECK-NOT: quantize_rows
// CHECK: gpu.launch_func @prism_kernels::@gemm_{{[0-9]+}} {{.*}} args(%[[Q1]] : memref<32x4xi8>, {{.*}}, %[[S1]] : memref<32xf32>, {{.*}}, %arg2 : memref<32x2xf32>)
// CHECK: linalg.fill
// CHECK: gpu.launch_func @prism_kernels::@quantize_rows_{{[0-9]+}} {{.*}} args(%arg0 : memref<32x4xf32>, %[[Q2:.*]] : memref<32x4xi8>, %[[S2:.*]] : memref<32xf32>)
// CHECK: gpu.launch_func @prism_kernels::@gemm_{{[0-9]+}} {{.*}} args(%[[Q2]] : memref<32x4xi8>, {{.*}}, %[[S2]] : memref<32xf32>, {{.*}}, %arg1 : memref<32x2xf32>)
func.func @shared(%x: memref<32x4xf32>, %y: memref<32x2xf32>, %z: memref<32x2xf32>) {
  %one = arith.constant 1.0 : f32
  %w = memref.get_global @w : memref<4x2xf32>
  linalg.matmul ins(%x, %w : memref<32x4xf32>, memref<4x2xf32>) outs(%y : memref<32x2xf32>)
  linalg.matmul ins(%x, %w : memref<32x4xf32>, memref<4x2xf32>) outs(%z : memref<32x2xf32>)
  linalg.fill ins(%one : f32) outs(%x : memref<32x4xf32>)
  linalg.matmul ins(%x, %w : memref<32x4xf32>, memref<4x2xf32>) outs(%y : memref<32x2xf32>)
  return
}

// A read from a mutable global is quantized for each matmul: another
// get_global of it may write it unseen (here a fill between).
memref.global "private" @state : memref<32x4xf32> = dense<0.0>
// CHECK-LABEL: func.func @global_a
// CHECK: quantize_rows
// CHECK: linalg.fill
// CHECK: quantize_rows
func.func @global_a(%y: memref<32x2xf32>) {
  %one = arith.constant 1.0 : f32
  %w = memref.get_global @w : memref<4x2xf32>
  %a = memref.get_global @state : memref<32x4xf32>
  linalg.matmul ins(%a, %w : memref<32x4xf32>, memref<4x2xf32>) outs(%y : memref<32x2xf32>)
  %again = memref.get_global @state : memref<32x4xf32>
  linalg.fill ins(%one : f32) outs(%again : memref<32x4xf32>)
  linalg.matmul ins(%a, %w : memref<32x4xf32>, memref<4x2xf32>) outs(%y : memref<32x2xf32>)
  return
}

// One row: the GEMV streams the e4m3 weights, activations stay f32.
// CHECK-LABEL: func.func @decode
// CHECK: gpu.launch_func @prism_kernels::@[[GEMV:gemv_[0-9]+]] {{.*}} args(%arg0 : memref<1x4xf32>, %{{.*}} : memref<2x4xf8E4M3FN>, %{{.*}} : memref<2xf32>, %arg1 : memref<1x2xf32>)
func.func @decode(%x: memref<1x4xf32>, %y: memref<1x2xf32>) {
  %w = memref.get_global @w : memref<4x2xf32>
  linalg.matmul ins(%x, %w : memref<1x4xf32>, memref<4x2xf32>) outs(%y : memref<1x2xf32>)
  return
}

// Eight rows (a GEMV's most): 8 e4m3 a lane a step, not 16, so that the
// lane's sums (a vector per row) stay within 64 registers (regression: 16
// a step took 188 registers), loaded 8-byte aligned.
memref.global "private" constant @w32 : memref<32x2xf32> = dense<1.0>
// CHECK-LABEL: func.func @decode8
// CHECK: gpu.launch_func @prism_kernels::@[[GEMV8:gemv_[0-9]+]]
func.func @decode8(%x: memref<8x32xf32>, %y: memref<8x2xf32>) {
  %w = memref.get_global @w32 : memref<32x2xf32>
  linalg.matmul ins(%x, %w : memref<8x32xf32>, memref<32x2xf32>) outs(%y : memref<8x2xf32>)
  return
}

// The quantization: the row's largest magnitude over the block (max by
// shuffles and shared slots), 448 / max kept finite (regression: a zero or
// subnormal max gave inf, and 0 * inf a NaN row), the scale max / 448, and
// cvt.rn.satfinite to e4m3.
// CHECK: gpu.func @[[QUANT]](
// CHECK: math.absf
// CHECK: gpu.shuffle xor
// CHECK: arith.maximumf
// CHECK-DAG: %[[BIG:.*]] = arith.constant 3.40282347E+38 : f32
// CHECK-DAG: %[[INV:.*]] = arith.divf %{{.*}}, %[[MAX:.*]] : f32
// CHECK: %[[TO:.*]] = arith.minimumf %[[INV]], %[[BIG]] : f32
// CHECK: arith.divf %[[MAX]], %{{.*}} : f32
// CHECK: arith.mulf %{{.*}}, %[[TO]] : f32
// CHECK: nvvm.convert.f32x2.to.f8x2 {{.*}} {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : vector<2xi8>(f8E4M3FN)
// The GEMM: e4m3 bytes staged in shared memory (rows padded by 16), four
// to a fragment register, the m16n8k32 e4m3 mma (LLVM's intrinsic:
// NVVM's mma.sync op has no e4m3 form), the products scaled back.
// CHECK: gpu.func @[[GEMM]](%{{.*}}: memref<32x4xi8>, %{{.*}}: memref<2x4xf8E4M3FN>, %[[AS:.*]]: memref<32xf32>, %[[BS:.*]]: memref<2xf32>, %{{.*}}: memref<32x2xf32>) workgroup(%{{.*}} : memref<16x48xi8, #gpu.address_space<workgroup>> {{.*}}, %{{.*}} : memref<32x48xi8, #gpu.address_space<workgroup>>
// CHECK: arith.bitcast %{{.*}} : f8E4M3FN to i8
// CHECK: vector.load %{{.*}} : memref<16x48xi8, #gpu.address_space<workgroup>>, vector<4xi8>
// CHECK: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"
// CHECK: memref.load %[[AS]]
// CHECK: memref.load %[[BS]]
// The GEMV: 16-byte vectors of e4m3 converted two at a time through f16,
// the sum scaled by its column's scale. (K = 4 here: one at a time.)
// CHECK: gpu.func @[[GEMV]](%{{.*}}: memref<1x4xf32>, %{{.*}}: memref<2x4xf8E4M3FN>, %[[GS:.*]]: memref<2xf32>, %{{.*}}: memref<1x2xf32>)
// CHECK: nvvm.convert.f8x2.to.f16x2 %{{.*}} : vector<2xi8>(f8E4M3FN) -> vector<2xf16>
// CHECK: memref.load %[[GS]]
// CHECK: gpu.func @[[GEMV8]](
// CHECK: vector.load %{{.*}} {alignment = 8 : i64} : memref<2x32xf8E4M3FN>, vector<8xf8E4M3FN>
// CHECK-COUNT-8: vector.load %{{.*}} {alignment = 16 : i64} : memref<8x32xf32>, vector<8xf32>
