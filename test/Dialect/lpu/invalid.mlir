// RUN: prism-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{latency has no 'c2c.vector'}}
lpu.program @p <{chips = 1, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64}}> {
}

// -----

// expected-error @+1 {{slice_bytes must be a multiple of the vector's 320 bytes}}
lpu.program @p <{chips = 1, slices = 88, slice_bytes = 1000, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  // expected-error @+1 {{holds 'bf16' values; the vectors hold f16, f32, i8 or i32}}
  lpu.data chip 0 slice 0 address 0 dense<[1.0]> : tensor<1xbf16>
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  // expected-error @+1 {{chip 2 is not one of the program's 2}}
  %0 = lpu.chain on 2 {
  }
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  %0 = lpu.chain on 0 {
    // expected-error @+1 {{slices [87, 89) are not within the machine's 88}}
    %w:2 = lpu.read <{chip = 0, slice = 87, address = 0, count = 1}> : !lpu.stream, !lpu.stream
  }
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  %0 = lpu.chain on 0 {
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    // expected-error @+1 {{'add' takes 1 to 2 operands (an immediate counts as one)}}
    %y = lpu.vxm %x, %x <{op = "add", dtype = "f32", immediate = 1.0}>
  }
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  %0 = lpu.chain on 0 {
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    // expected-error @+1 {{needs an lpu.mxm_load earlier in its chain}}
    %y = lpu.matmul %x <{dtype = "f16"}> : !lpu.stream
  }
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  %0 = lpu.chain on 0 {
    %x = lpu.read <{chip = 1, slice = 4, address = 0, count = 1}> : !lpu.stream
    // expected-error @+1 {{sends to the chip it is on}}
    %y = lpu.transfer %x to 1
  }
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  %0 = lpu.chain on 0 {
    // expected-error @+1 {{is not an LPU instruction}}
    %c = arith.constant 0 : i32
  }
}

// -----

lpu.program @p <{chips = 2, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  // expected-error @+1 {{expects parent op 'lpu.chain'}}
  %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
}
