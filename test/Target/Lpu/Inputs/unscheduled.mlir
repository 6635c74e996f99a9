lpu.program @p <{chips = 1, slices = 88, slice_bytes = 2621440, streams = 32, ports = 16, alus = 16, sxms = 4, planes = 4, plane_streams = 16, tokens = 1, shape_only = false, clock_mhz = 900.0, latency = {"mem.read" = 1 : i64, "mem.write" = 1 : i64, vxm = 2 : i64, sxm = 2 : i64, mxm = 4 : i64, c2c = 900 : i64, "c2c.vector" = 20 : i64}}> {
  %0 = lpu.chain on 0 {
    %x = lpu.read <{chip = 0, slice = 4, address = 0, count = 1}> : !lpu.stream
    lpu.write %x <{slice = 5, address = 0}>
  }
}
