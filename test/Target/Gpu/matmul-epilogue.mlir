// RUN: prism-opt %s --split-input-file --gpu-matmul-to-kernels | FileCheck %s
// RUN: prism-opt %s --split-input-file --gpu-matmul-to-kernels="fuse-epilogues=false" | FileCheck %s --check-prefix=OFF

// The bias add and activation reading a projection's result become its
// GEMM's epilogue: the kernel takes the generic's output and bias instead
// of C, and C, its zero fill, its view and the generic are gone.
memref.global "private" constant @w : memref<64x48xf32> = dense<1.0>
memref.global "private" constant @bias : memref<48xf32> = dense<0.5>

// CHECK-LABEL: func.func @bias_tanh
// CHECK-NOT: memref.alloc
// CHECK-DAG: %[[W:.*]] = memref.get_global @w_t_bf16
// CHECK-DAG: %[[B:.*]] = memref.get_global @bias
// CHECK: gpu.launch_func @prism_kernels::@[[K:gemm_[0-9]+]] {{.*}} args(%arg0 : memref<32x64xf32>, %[[W]] : memref<48x64xbf16>, %arg1 : memref<2x16x48xf32>, %[[B]] : memref<48xf32>)
// CHECK-NOT: linalg.
// CHECK: return
// The epilogue: row r of the product is (r / 16, r % 16) of the generic's
// loops; the bias is read at its map's index (the column), the constant is
// cloned into the kernel, the body computed on the accumulator.
// CHECK: gpu.func @[[K]](%[[A:.*]]: memref<32x64xf32>, %{{.*}}: memref<48x64xbf16>, %[[OUT:.*]]: memref<2x16x48xf32>, %[[BIAS:.*]]: memref<48xf32>)
// CHECK: nvvm.mma.sync
// CHECK: scf.if
// CHECK: %[[D1:.*]] = arith.remui %[[ROW:.*]], %c16
// CHECK: %[[D0:.*]] = arith.divui %[[ROW]], %c16
// CHECK: %[[BV:.*]] = memref.load %[[BIAS]][%[[COL:.*]]] : memref<48xf32>
// CHECK: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[SUM:.*]] = arith.addf %[[ACC:.*]], %[[BV]] : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[SUM]], %[[HALF]] : f32
// CHECK: %[[T:.*]] = math.tanh %[[SCALED]] : f32
// CHECK: memref.store %[[T]], %[[OUT]][%[[D0]], %[[D1]], %[[COL]]] : memref<2x16x48xf32>
// OFF-LABEL: func.func @bias_tanh
// OFF: linalg.fill
// OFF: gpu.launch_func @prism_kernels::@gemm_{{[0-9]+}} {{.*}} args(%arg0 : memref<32x64xf32>, %{{.*}} : memref<48x64xbf16>, %{{.*}} : memref<32x48xf32>)
// OFF: linalg.generic
func.func @bias_tanh(%x: memref<32x64xf32>, %y: memref<2x16x48xf32>) {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %w = memref.get_global @w : memref<64x48xf32>
  %b = memref.get_global @bias : memref<48xf32>
  %c = memref.alloc() : memref<32x48xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<32x48xf32>)
  linalg.matmul ins(%x, %w : memref<32x64xf32>, memref<64x48xf32>) outs(%c : memref<32x48xf32>)
  %v = memref.expand_shape %c [[0, 1], [2]] output_shape [2, 16, 48] : memref<32x48xf32> into memref<2x16x48xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%b, %v : memref<48xf32>, memref<2x16x48xf32>) outs(%y : memref<2x16x48xf32>) {
  ^bb0(%bias: f32, %acc: f32, %out: f32):
    %s = arith.addf %acc, %bias : f32
    %h = arith.mulf %s, %half : f32
    %t = math.tanh %h : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// Decode's GEMV takes an epilogue too: a residual add and a body that
// reads a host memref (passed to the kernel) at linalg.index's column.
memref.global "private" constant @w : memref<64x48xf32> = dense<1.0>
memref.global "private" constant @table : memref<4x48xf32> = dense<2.0>

// CHECK-LABEL: func.func @residual
// CHECK: %[[T:.*]] = memref.get_global @table
// CHECK: gpu.launch_func @prism_kernels::@[[K:gemv_[0-9]+]] {{.*}} args(%arg0 : memref<1x64xf32>, %{{.*}} : memref<48x64xbf16>, %arg2 : memref<1x48xf32>, %arg1 : memref<1x48xf32>, %[[T]] : memref<4x48xf32>)
// CHECK-NOT: linalg.
// CHECK: gpu.func @[[K]](%{{.*}}: memref<1x64xf32>, %{{.*}}: memref<48x64xbf16>, %[[OUT:.*]]: memref<1x48xf32>, %[[RES:.*]]: memref<1x48xf32>, %[[TABLE:.*]]: memref<4x48xf32>)
// CHECK: gpu.shuffle xor
// CHECK: %[[R:.*]] = memref.load %[[RES]][%[[ROW:.*]], %[[COL:.*]]] : memref<1x48xf32>
// CHECK: %[[E:.*]] = memref.load %[[TABLE]][%{{.*}}, %[[COL]]] : memref<4x48xf32>
// CHECK: arith.addf
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[ROW]], %[[COL]]] : memref<1x48xf32>
func.func @residual(%x: memref<1x64xf32>, %r: memref<1x48xf32>, %y: memref<1x48xf32>) {
  %zero = arith.constant 0.0 : f32
  %c3 = arith.constant 3 : index
  %w = memref.get_global @w : memref<64x48xf32>
  %table = memref.get_global @table : memref<4x48xf32>
  %c = memref.alloc() : memref<1x48xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<1x48xf32>)
  linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%c : memref<1x48xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%r, %c : memref<1x48xf32>, memref<1x48xf32>) outs(%y : memref<1x48xf32>) {
  ^bb0(%res: f32, %acc: f32, %out: f32):
    %col = linalg.index 1 : index
    %e = memref.load %table[%c3, %col] : memref<4x48xf32>
    %s = arith.addf %acc, %res : f32
    %t = arith.addf %s, %e : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// Left as separate kernels: C read twice; C filled with something else
// than zero; a kernel writing a buffer between the matmul and its reader;
// a body that reads its output; an output that is A (other blocks still
// read it).
memref.global "private" constant @w : memref<64x48xf32> = dense<1.0>
memref.global "private" constant @square : memref<48x48xf32> = dense<1.0>

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @unfused
// CHECK-COUNT-6: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @unfused(%x: memref<1x64xf32>, %r: memref<1x48xf32>, %y: memref<1x48xf32>, %z: memref<1x48xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %w = memref.get_global @w : memref<64x48xf32>
  %c = memref.alloc() : memref<1x48xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<1x48xf32>)
  linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%c : memref<1x48xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<1x48xf32>) outs(%y : memref<1x48xf32>) {
  ^bb0(%acc: f32, %out: f32):
    linalg.yield %acc : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<1x48xf32>) outs(%z : memref<1x48xf32>) {
  ^bb0(%acc: f32, %out: f32):
    linalg.yield %acc : f32
  }
  %d = memref.alloc() : memref<1x48xf32>
  linalg.fill ins(%one : f32) outs(%d : memref<1x48xf32>)
  linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%d : memref<1x48xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : memref<1x48xf32>) outs(%y : memref<1x48xf32>) {
  ^bb0(%acc: f32, %out: f32):
    linalg.yield %acc : f32
  }
  %e = memref.alloc() : memref<1x48xf32>
  linalg.fill ins(%zero : f32) outs(%e : memref<1x48xf32>)
  linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%e : memref<1x48xf32>)
  linalg.fill ins(%one : f32) outs(%r : memref<1x48xf32>)
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%e, %r : memref<1x48xf32>, memref<1x48xf32>) outs(%y : memref<1x48xf32>) {
  ^bb0(%acc: f32, %res: f32, %out: f32):
    %s = arith.addf %acc, %res : f32
    linalg.yield %s : f32
  }
  %f = memref.alloc() : memref<1x48xf32>
  linalg.fill ins(%zero : f32) outs(%f : memref<1x48xf32>)
  linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%f : memref<1x48xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%f : memref<1x48xf32>) outs(%y : memref<1x48xf32>) {
  ^bb0(%acc: f32, %out: f32):
    %s = arith.addf %acc, %out : f32
    linalg.yield %s : f32
  }
  %sq = memref.get_global @square : memref<48x48xf32>
  %g = memref.alloc() : memref<1x48xf32>
  linalg.fill ins(%zero : f32) outs(%g : memref<1x48xf32>)
  linalg.matmul ins(%z, %sq : memref<1x48xf32>, memref<48x48xf32>) outs(%g : memref<1x48xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<1x48xf32>) outs(%z : memref<1x48xf32>) {
  ^bb0(%acc: f32, %out: f32):
    linalg.yield %acc : f32
  }
  return
}

// -----

// Regressions (review of the first version), all left unfused:
// - C zero-filled outside the loop the matmul accumulates in: the fill's
//   block is not the matmul's (y is (i+1) x W at step i, not x W);
// - C never filled: the product adds to what C held;
// - an input that is another view of the output's buffer (a row apart):
//   other threads write what it reads.
memref.global "private" constant @w : memref<64x48xf32> = dense<1.0>

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @fill_outside
// CHECK: scf.for
// CHECK: linalg.generic
func.func @fill_outside(%x: memref<1x64xf32>, %y: memref<1x48xf32>) {
  %c = memref.alloc() : memref<1x48xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<1x48xf32>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %w = memref.get_global @w : memref<64x48xf32>
    %a1 = arith.constant 1 : index
    %a2 = arith.constant 2 : index
    %a3 = arith.constant 3 : index
    linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%c : memref<1x48xf32>)
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%c : memref<1x48xf32>) outs(%y : memref<1x48xf32>) {
    ^bb0(%acc: f32, %out: f32):
      linalg.yield %acc : f32
    }
  }
  return
}

// CHECK-LABEL: func.func @no_fill
// CHECK: linalg.generic
func.func @no_fill(%x: memref<1x64xf32>, %y: memref<1x48xf32>) {
  %w = memref.get_global @w : memref<64x48xf32>
  %c = memref.alloc() : memref<1x48xf32>
  linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%c : memref<1x48xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<1x48xf32>) outs(%y : memref<1x48xf32>) {
  ^bb0(%acc: f32, %out: f32):
    linalg.yield %acc : f32
  }
  return
}

// CHECK-LABEL: func.func @alias
// CHECK: linalg.generic
func.func @alias(%x: memref<4x64xf32>, %buf: memref<5x48xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = memref.get_global @w : memref<64x48xf32>
  %in = memref.subview %buf[0, 0] [4, 48] [1, 1] : memref<5x48xf32> to memref<4x48xf32, strided<[48, 1]>>
  %out = memref.subview %buf[1, 0] [4, 48] [1, 1] : memref<5x48xf32> to memref<4x48xf32, strided<[48, 1], offset: 48>>
  %c = memref.alloc() : memref<4x48xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x48xf32>)
  linalg.matmul ins(%x, %w : memref<4x64xf32>, memref<64x48xf32>) outs(%c : memref<4x48xf32>)
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %in : memref<4x48xf32>, memref<4x48xf32, strided<[48, 1]>>) outs(%out : memref<4x48xf32, strided<[48, 1], offset: 48>>) {
  ^bb0(%acc: f32, %r: f32, %o: f32):
    %s = arith.addf %acc, %r : f32
    linalg.yield %s : f32
  }
  return
}

// A bias read through memref.get_global between the matmul and the add
// (it touches no buffer) does not stop the fusion.
// CHECK-LABEL: func.func @global_between
// CHECK: gpu.launch_func @prism_kernels::@gemv_{{[0-9]+}} {{.*}} args(%arg0 : memref<1x64xf32>, %{{.*}} : memref<48x64xbf16>, %arg1 : memref<1x48xf32>, %{{.*}} : memref<48xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return
memref.global "private" constant @b : memref<48xf32> = dense<0.5>
func.func @global_between(%x: memref<1x64xf32>, %y: memref<1x48xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = memref.get_global @w : memref<64x48xf32>
  %c = memref.alloc() : memref<1x48xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<1x48xf32>)
  linalg.matmul ins(%x, %w : memref<1x64xf32>, memref<64x48xf32>) outs(%c : memref<1x48xf32>)
  %b = memref.get_global @b : memref<48xf32>
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d1)>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %b : memref<1x48xf32>, memref<48xf32>) outs(%y : memref<1x48xf32>) {
  ^bb0(%acc: f32, %bias: f32, %out: f32):
    %s = arith.addf %acc, %bias : f32
    linalg.yield %s : f32
  }
  return
}
