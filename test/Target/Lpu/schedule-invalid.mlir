// RUN: prism-opt %s --split-input-file --verify-diagnostics --lpu-schedule
// RUN: not prism-translate --lpu-to-program %S/Inputs/unscheduled.mlir 2>&1 | FileCheck %s --check-prefix=EMIT

// Chains no schedule can meet are errors at the instruction to blame, or
// at the chain.

lpu.program @p <{chips = 1, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  %0 = lpu.chain on 0 {
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    %a = lpu.vxm %x <{op = "mov", dtype = "f32"}>
    %b0 = lpu.vxm %x <{op = "neg", dtype = "f32"}>
    %b = lpu.vxm %b0 <{op = "neg", dtype = "f32"}>
    // expected-error @+1 {{'lpu.vxm' op cannot be scheduled: its operands appear in different cycles (3 and 5 from the chain's start)}}
    %c = lpu.vxm %a, %b <{op = "add", dtype = "f32"}>
    lpu.write %c <{slice = 5, address = 0}>
  }
}

// -----

// One slice has one port: two reads of it cannot meet one instruction.
lpu.program @p <{chips = 1, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  // expected-error @+1 {{cannot be scheduled: the chain uses one MEM slice or link twice at once}}
  %0 = lpu.chain on 0 {
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    %y = lpu.read <{chip = 0, slice = 4, address = 320, count = 1}> : !lpu.stream
    %c = lpu.vxm %x, %y <{op = "add", dtype = "f32"}>
    lpu.write %c <{slice = 5, address = 0}>
  }
}

// -----

lpu.program @p <{chips = 1, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  // expected-error @+1 {{cannot be scheduled: a MEM read that no instruction of its chain consumes}}
  %0 = lpu.chain on 0 {
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
  }
}

// -----

lpu.program @p <{chips = 1, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  // expected-error @+1 {{is already scheduled}}
  %0 = lpu.chain on 0 <{start = 3}> {
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    lpu.write %x <{slice = 5, address = 0}>
  }
}

// EMIT: error: 'lpu.read' op is not scheduled (run lpu-schedule first)
