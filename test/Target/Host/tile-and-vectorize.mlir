// RUN: prism-opt %s --split-input-file --host-tile-and-vectorize="m-tile=4 n-tile=16 k-tile=64" | FileCheck %s --check-prefix=SPLIT
// RUN: prism-opt %s --split-input-file --host-tile-and-vectorize="m-tile=4 n-tile=32 k-tile=64" | FileCheck %s
// RUN: prism-opt %s --split-input-file --host-tile-and-vectorize="m-tile=2 n-tile=8 k-tile=4" | FileCheck %s --check-prefix=SMALL
// RUN: prism-opt %s --split-input-file --host-tile-and-vectorize | FileCheck %s --check-prefix=DEFAULT

// A matmul: loops over 32-column panels, 4-row tiles and 64-deep slices of
// K (columns outside rows, so a panel of B stays in cache), each tile one
// contraction lowered to FMAs on 32-wide rows.
// CHECK-LABEL: func.func @matmul
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c4
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c64
// CHECK: vector.transfer_read {{.*}} : tensor<8x128xf32>, vector<4x64xf32>
// CHECK: vector.fma {{.*}} : vector<32xf32>
// CHECK: vector.transfer_write {{.*}} : vector<4x32xf32>, tensor<8x64xf32>
// CHECK-NOT: linalg.matmul
// SMALL-LABEL: func.func @matmul
// SMALL: scf.for %{{.*}} = %c0 to %c64 step %c8
// SMALL: scf.for %{{.*}} = %c0 to %c8 step %c2
// SMALL: scf.for %{{.*}} = %c0 to %c128 step %c4
// SMALL: vector.fma {{.*}} : vector<8xf32>
// The defaults (8 x 32 x 128): all 8 rows and all of K in one tile, the
// only loop over column panels.
// DEFAULT-LABEL: func.func @matmul
// DEFAULT: scf.for %{{.*}} = %c0 to %c64 step %c32
// DEFAULT-NOT: scf.for
// DEFAULT: vector.transfer_read {{.*}} : tensor<128x64xf32>, vector<128x32xf32>
// DEFAULT: vector.fma {{.*}} : vector<32xf32>
func.func @matmul(%a: tensor<8x128xf32>, %b: tensor<128x64xf32>, %c: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<8x128xf32>, tensor<128x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  return %0 : tensor<8x64xf32>
}

// -----

// 40 columns with 16-column tiles: the op splits at column 32, two full
// tiles on the left and one 8-column tile on the right, all static.
// SPLIT-LABEL: func.func @split_columns
// SPLIT: tensor.extract_slice %arg2[0, 0] [4, 32] [1, 1]
// SPLIT: scf.for %{{.*}} = %c0 to %c32 step %c16
// SPLIT: vector.fma {{.*}} : vector<16xf32>
// SPLIT: vector.transfer_read %arg1[%c0, %c32]{{.*}} : tensor<8x40xf32>, vector<8x8xf32>
// SPLIT: vector.fma {{.*}} : vector<8xf32>
// SPLIT-NOT: linalg.matmul
// CHECK-LABEL: func.func @split_columns
func.func @split_columns(%a: tensor<4x8xf32>, %b: tensor<8x40xf32>, %c: tensor<4x40xf32>) -> tensor<4x40xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x40xf32>) outs(%c : tensor<4x40xf32>) -> tensor<4x40xf32>
  return %0 : tensor<4x40xf32>
}
// SMALL-LABEL: func.func @split_columns
// DEFAULT-LABEL: func.func @split_columns

// -----

// Elementwise: one row at a time, the innermost dim (96) whole (at most
// vector-width * 8 = 128 elements).
// CHECK-LABEL: func.func @add
// SMALL-LABEL: func.func @add
// DEFAULT-LABEL: func.func @add
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: vector.transfer_read {{.*}} : tensor<3x96xf32>, vector<96xf32>
// CHECK: arith.addf {{.*}} : vector<96xf32>
func.func @add(%a: tensor<3x96xf32>, %b: tensor<3x96xf32>) -> tensor<3x96xf32> {
  %e = tensor.empty() : tensor<3x96xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%a, %b : tensor<3x96xf32>, tensor<3x96xf32>) outs(%e : tensor<3x96xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<3x96xf32>
  return %0 : tensor<3x96xf32>
}

// -----

// Gathers (tensor.extract in the body) and boolean tensors stay scalar.
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @gather(%t: tensor<10x4xf32>, %i: tensor<3xindex>) -> tensor<3x4xf32> {
  %e = tensor.empty() : tensor<3x4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%i : tensor<3xindex>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%r: index, %o: f32):
    %j = linalg.index 1 : index
    %v = tensor.extract %t[%r, %j] : tensor<10x4xf32>
    linalg.yield %v : f32
  } -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func.func @bools
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @bools(%a: tensor<64xi1>, %b: tensor<64xi1>) -> tensor<64xi1> {
  %e = tensor.empty() : tensor<64xi1>
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]} ins(%a, %b : tensor<64xi1>, tensor<64xi1>) outs(%e : tensor<64xi1>) {
  ^bb0(%x: i1, %y: i1, %o: i1):
    %s = arith.xori %x, %y : i1
    linalg.yield %s : i1
  } -> tensor<64xi1>
  return %0 : tensor<64xi1>
}

// -----

// An empty dim: nothing to tile (the tiler would crash on it), left as is.
// CHECK-LABEL: func.func @empty
// CHECK: linalg.generic
// CHECK-NOT: scf.for
func.func @empty(%a: tensor<3x0x5xf32>) -> tensor<3x0x5xf32> {
  %e = tensor.empty() : tensor<3x0x5xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (i, j, k)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%a : tensor<3x0x5xf32>) outs(%e : tensor<3x0x5xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.negf %x : f32
    linalg.yield %s : f32
  } -> tensor<3x0x5xf32>
  return %0 : tensor<3x0x5xf32>
}

// -----

// With threads, a contraction of at least 2^23 multiply-adds, or one that
// reads a weight of 2^20 elements (a decode-shaped GEMV), first splits its
// columns into one scf.forall chunk per thread; each chunk is then tiled
// and vectorized as usual. A small one does not, nor one of 2^20
// multiply-adds over many rows.
// RUN: prism-opt %s --split-input-file --host-tile-and-vectorize="threads=2" | FileCheck %s --check-prefix=THREADS
// CHECK-LABEL: func.func @threaded
// THREADS-LABEL: func.func @threaded
// THREADS: scf.forall (%{{.*}}) = (0) to (256) step (128)
// THREADS: scf.for
// THREADS: vector.fma
// THREADS: tensor.parallel_insert_slice
// THREADS-LABEL: func.func @gemv
// THREADS: scf.forall (%{{.*}}) = (0) to (1024) step (512)
// THREADS-LABEL: func.func @small
// THREADS-NOT: scf.forall
// THREADS-LABEL: func.func @many_rows
// THREADS-NOT: scf.forall
func.func @threaded(%a: tensor<128x256xf32>, %b: tensor<256x256xf32>, %c: tensor<128x256xf32>) -> tensor<128x256xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<128x256xf32>, tensor<256x256xf32>) outs(%c : tensor<128x256xf32>) -> tensor<128x256xf32>
  return %0 : tensor<128x256xf32>
}
func.func @gemv(%a: tensor<1x1024xf32>, %b: tensor<1024x1024xf32>, %c: tensor<1x1024xf32>) -> tensor<1x1024xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<1x1024xf32>, tensor<1024x1024xf32>) outs(%c : tensor<1x1024xf32>) -> tensor<1x1024xf32>
  return %0 : tensor<1x1024xf32>
}
func.func @small(%a: tensor<8x128xf32>, %b: tensor<128x64xf32>, %c: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<8x128xf32>, tensor<128x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  return %0 : tensor<8x64xf32>
}
func.func @many_rows(%a: tensor<128x128xf32>, %b: tensor<128x64xf32>, %c: tensor<128x64xf32>) -> tensor<128x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<128x128xf32>, tensor<128x64xf32>) outs(%c : tensor<128x64xf32>) -> tensor<128x64xf32>
  return %0 : tensor<128x64xf32>
}
