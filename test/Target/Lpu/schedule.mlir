// RUN: prism-opt %s --lpu-schedule | FileCheck %s
// RUN: prism-opt %s --lpu-schedule | prism-translate --lpu-to-program | FileCheck %s --check-prefix=PROG
// RUN: prism-opt %s --lpu-schedule | prism-translate --lpu-to-program -o %t.lpu
// RUN: prism-sim lpu %t.lpu --input x=%S/Inputs/x3.txt | FileCheck %s --check-prefix=SIM
// RUN: prism-opt %s --lpu-schedule | prism-translate --lpu-to-binary -o %t.lpub
// RUN: prism-sim lpu %t.lpub --input x=%S/Inputs/x3.txt | FileCheck %s --check-prefix=SIM

// A two-column weight tile installed from two slices, x against it, a ReLU
// on the result, and the result sent to chip 1.

// The tile's read feeds the load the cycle after; x's read floats to meet
// the matmul, whose result is written when the MXM's 4 cycles are up.
// CHECK-LABEL: lpu.program @relu_matmul
// CHECK: %[[MM:.*]] = lpu.chain on 0 <{start = 0 : i64}>
// CHECK:   lpu.read <{{.*}}cycle = 0 : i64, slice = 0 : i64, streams = array<i32: 0, 1>}>
// CHECK:   lpu.mxm_load {{.*}}<{buffer = 0 : i64, columns = true, cycle = 1 : i64, dtype = "f16", unit = 0 : i64}>
// CHECK:   lpu.read <{{.*}}cycle = 1 : i64, slice = 4 : i64, streams = array<i32: 0>}>
// CHECK:   lpu.matmul {{.*}}<{buffer = 0 : i64, cycle = 2 : i64, dtype = "f16", streams = array<i32: 0>, unit = 0 : i64}>
// CHECK:   lpu.write {{.*}}<{address = 0 : i64, cycle = 6 : i64, slice = 6 : i64}>
// The ReLU waits for the write (its token): it starts the cycle after.
// CHECK: %[[RELU:.*]] = lpu.chain on 0 after(%[[MM]]) <{start = 7 : i64}>
// CHECK:   lpu.vxm {{.*}}cycle = 8 : i64, dtype = "f32", immediate = 0.000000e+00 : f64, op = "max", streams = array<i32: 0>, unit = 0 : i64}>
// The send leaves on the port wired to chip 1 and arrives 900 + 20 - 1
// cycles later.
// CHECK: lpu.chain on 0 after(%[[RELU]]) <{start = 11 : i64}>
// CHECK:   lpu.transfer %{{.*}} to 1 <{cycle = 12 : i64, streams = array<i32: 0>, unit = 1 : i64}>
// CHECK:   lpu.write {{.*}}<{address = 0 : i64, cycle = 932 : i64, slice = 8 : i64}>

// PROG: lpu-program chips=2
// PROG: 0 0 mem 0+2 read 0 -> e0+2
// PROG: 1 0 mxm 0 load.f16 cols e0+2 -> buf0
// PROG: 2 0 mxm 0 matmul.f16 buf0 e0 -> e0
// PROG: 8 0 vxm 0 max.f32 e0 #0 -> e0
// PROG: 12 0 c2c 1 send e0 -> 1:1
// PROG: 931 1 c2c 1 recv -> e0
// PROG: 932 1 mem 8 write e0 -> 0

// y = relu([1 1 1] . [[1 .5] [2 0] [3 -1]]) = relu([6, -0.5]).
// SIM: output y: 6 0
// SIM: cycles: 933

lpu.program @relu_matmul <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  lpu.data chip 0 slice 0 address 0 dense<[1.0, 2.0, 3.0]> : tensor<3xf16>
  lpu.data chip 0 slice 1 address 0 dense<[0.5, 0.0, -1.0]> : tensor<3xf16>
  lpu.input "x" <{chip = 0, slice = 4, address = 0, lane = 0, dtype = "f16", offset = 0, count = 3, repeat = 1, offset_stride = 0}>
  lpu.output "y" <{chip = 1, slice = 8, address = 0, lane = 0, dtype = "f32", offset = 0, count = 2, repeat = 1, offset_stride = 0}>
  %mm = lpu.chain on 0 {
    %w:2 = lpu.read <{chip = 0, slice = 0, address = 0, count = 1}> : !lpu.stream, !lpu.stream
    lpu.mxm_load %w#0, %w#1 <{dtype = "f16", columns = true}>
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    %y = lpu.matmul %x <{dtype = "f16"}> : !lpu.stream
    lpu.write %y <{slice = 6, address = 0}>
  }
  %relu = lpu.chain on 0 after(%mm) {
    %y = lpu.read <{chip = 0, slice = 6, address = 0, count = 1}> : !lpu.stream
    %r = lpu.vxm %y <{op = "max", dtype = "f32", immediate = 0.0}>
    lpu.write %r <{slice = 7, address = 0}>
  }
  %sent = lpu.chain on 0 after(%relu) {
    %r = lpu.read <{chip = 0, slice = 7, address = 0, count = 1}> : !lpu.stream
    %there = lpu.transfer %r to 1
    lpu.write %there <{slice = 8, address = 0}>
  }
}
