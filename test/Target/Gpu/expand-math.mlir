// RUN: prism-opt %s --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(gpu.module(gpu-expand-math))" | FileCheck %s

// f32 math the PTX ISA has becomes inline PTX, abs a sign-bit mask; exp
// and tanh become polynomials of arith ops (and llvm.fma); rsqrt divides
// one by a square root.
// CHECK-LABEL: gpu.func @math
// CHECK: nvvm.inline_ptx "sqrt.rn.f32 $0, $1;" ro(%{{.*}} : f32) -> f32
// CHECK: arith.andi %{{.*}}, %c2147483647_i32 : i32
// CHECK: nvvm.inline_ptx "cvt.rmi.f32.f32 $0, $1;"
// CHECK: nvvm.inline_ptx "ex2.approx.f32 $0, $1;"
// CHECK: nvvm.inline_ptx "sqrt.rn.f32 $0, $1;"
// CHECK: arith.divf
// CHECK-NOT: math.
// CHECK: gpu.return
gpu.module @kernels {
  gpu.func @math(%x: f32, %out: memref<8xf32>) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %c5 = arith.constant 5 : index
    %c6 = arith.constant 6 : index
    %0 = math.sqrt %x : f32
    %1 = math.absf %x : f32
    %2 = math.floor %x : f32
    %3 = math.exp2 %x : f32
    %4 = math.rsqrt %x : f32
    %5 = math.exp %x : f32
    %6 = math.tanh %x : f32
    memref.store %0, %out[%c0] : memref<8xf32>
    memref.store %1, %out[%c1] : memref<8xf32>
    memref.store %2, %out[%c2] : memref<8xf32>
    memref.store %3, %out[%c3] : memref<8xf32>
    memref.store %4, %out[%c4] : memref<8xf32>
    memref.store %5, %out[%c5] : memref<8xf32>
    memref.store %6, %out[%c6] : memref<8xf32>
    gpu.return
  }
}

// -----

// What has neither an instruction nor a polynomial is an error, not a call
// of libdevice.
gpu.module @kernels {
  gpu.func @f64(%x: f64, %out: memref<1xf64>) kernel {
    %c0 = arith.constant 0 : index
    // expected-error @+1 {{gpu-expand-math: no lowering of 'math.sqrt' for kernels without CUDA's libdevice}}
    %0 = math.sqrt %x : f64
    memref.store %0, %out[%c0] : memref<1xf64>
    gpu.return
  }
}
