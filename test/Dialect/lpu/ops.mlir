// RUN: prism-opt %s | prism-opt | FileCheck %s

// The tensor level: chains of instructions on streams, SRAM contents and
// bindings; a chain after the one whose results it reads.

// CHECK-LABEL: lpu.program @matmul
// CHECK: lpu.data chip 0 slice 0 address 0 dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf16>
// CHECK: lpu.input "x"
// CHECK: lpu.output "y"
// CHECK: %[[MM:.*]] = lpu.chain on 0 {
// CHECK:   %[[W:.*]]:2 = lpu.read <{{.*}}slice = 0 : i64}> : !lpu.stream, !lpu.stream
// CHECK:   lpu.mxm_load %[[W]]#0, %[[W]]#1 <{columns = true, dtype = "f16"}>
// CHECK:   %[[Y:.*]] = lpu.matmul %{{.*}} <{dtype = "f16"}> : !lpu.stream
// CHECK:   lpu.write %[[Y]] <{address = 0 : i64, slice = 6 : i64}>
// CHECK: lpu.chain on 0 after(%[[MM]]) {
// CHECK:   lpu.vxm %{{.*}} <{dtype = "f32", immediate = 0.000000e+00 : f64, op = "max"}>
lpu.program @matmul <{chips = 1, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  lpu.data chip 0 slice 0 address 0 dense<[1.0, 2.0, 3.0]> : tensor<3xf16>
  lpu.data chip 0 slice 1 address 0 dense<[0.5, 0.0, -1.0]> : tensor<3xf16>
  lpu.input "x" <{chip = 0, slice = 4, address = 0, lane = 0, dtype = "f16", offset = 0, count = 3, repeat = 1, offset_stride = 0}>
  lpu.output "y" <{chip = 0, slice = 7, address = 0, lane = 0, dtype = "f32", offset = 0, count = 2, repeat = 1, offset_stride = 0}>
  %done = lpu.chain on 0 {
    %w:2 = lpu.read <{chip = 0, slice = 0, address = 0, count = 1}> : !lpu.stream, !lpu.stream
    lpu.mxm_load %w#0, %w#1 <{dtype = "f16", columns = true}>
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    %y = lpu.matmul %x <{dtype = "f16"}> : !lpu.stream
    lpu.write %y <{slice = 6, address = 0}>
  }
  %relu = lpu.chain on 0 after(%done) {
    %y = lpu.read <{chip = 0, slice = 6, address = 0, count = 1}> : !lpu.stream
    %r = lpu.vxm %y <{op = "max", dtype = "f32", immediate = 0.0}>
    lpu.write %r <{slice = 7, address = 0}>
  }
}
