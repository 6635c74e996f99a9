// RUN: prism-opt %s --pass-pipeline="builtin.module(func.func(gpu-flatten-parallel-loops))" | FileCheck %s

// A [1, 1, 1, 2, 32, 16] copy's loop: 1024 iterations as 4 blocks of 256
// threads over one linear index, the six indices recovered from it.
// CHECK-LABEL: func.func @copy
// CHECK: scf.parallel (%[[B:.*]]) = (%c0{{.*}}) to (%c4) step (%c1{{.*}})
// CHECK:   scf.parallel (%[[T:.*]]) = (%c0{{.*}}) to (%c256) step (%c1{{.*}})
// CHECK:     %[[M:.*]] = arith.muli %[[B]], %c256
// CHECK:     %[[I:.*]] = arith.addi %[[M]], %[[T]]
// CHECK:     %[[IN:.*]] = arith.cmpi ult, %[[I]], %c1024
// CHECK:     scf.if %[[IN]]
// CHECK:       %[[D5:.*]] = arith.remui %[[I]], %c16{{.*}}
// CHECK:       memref.load %arg0[{{.*}}, %[[D5]]]
// CHECK:       memref.store
// CHECK-NOT: scf.parallel
func.func @copy(%a: memref<1x1x1x2x32x16xf32>, %b: memref<1x1x1x2x32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%i, %j, %k, %l, %m, %n) = (%c0, %c0, %c0, %c0, %c0, %c0) to (%c1, %c1, %c1, %c2, %c32, %c16) step (%c1, %c1, %c1, %c1, %c1, %c1) {
    %v = memref.load %a[%i, %j, %k, %l, %m, %n] : memref<1x1x1x2x32x16xf32>
    memref.store %v, %b[%i, %j, %k, %l, %m, %n] : memref<1x1x1x2x32x16xf32>
    scf.reduce
  }
  return
}

// 40 iterations: one block of 64 threads (whole warps).
// CHECK-LABEL: func.func @small
// CHECK: scf.parallel ({{.*}}) = (%c0{{.*}}) to (%c1{{.*}}) step
// CHECK:   scf.parallel ({{.*}}) = (%c0{{.*}}) to (%c64) step
func.func @small(%a: memref<40xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c40 = arith.constant 40 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c40) step (%c1) {
    memref.store %z, %a[%i] : memref<40xf32>
    scf.reduce
  }
  return
}

// Dynamic bounds and reductions are left alone.
// CHECK-LABEL: func.func @left
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%arg1) step (%c1)
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8) step (%c1) init
func.func @left(%a: memref<?xf32>, %n: index, %b: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %z, %a[%i] : memref<?xf32>
    scf.reduce
  }
  %s = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%z) -> f32 {
    %v = memref.load %b[%i] : memref<8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%x: f32, %y: f32):
      %r = arith.addf %x, %y : f32
      scf.reduce.return %r : f32
    }
  }
  return %s : f32
}
