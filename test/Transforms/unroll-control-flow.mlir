// RUN: prism-opt %s --split-input-file --onnx-unroll-control-flow --onnx-infer-shapes | FileCheck %s

// An If with a constant condition becomes the branch it takes.
// CHECK-LABEL: func.func @if_true
// CHECK-NOT: onnx.If
// CHECK: %[[C:.*]] = "onnx.Constant"() <{value = dense<1.000000e+00> : tensor<2xf32>}>
// CHECK: return %[[C]]
func.func @if_true() -> tensor<2xf32> {
  %c = "onnx.Constant"() <{value = dense<true> : tensor<i1>}> : () -> tensor<i1>
  %0 = "onnx.If"(%c) ({
    %1 = "onnx.Constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<2xf32>
    onnx.Yield %1 : tensor<2xf32>
  }, {
    %1 = "onnx.Constant"() <{value = dense<2.0> : tensor<2xf32>}> : () -> tensor<2xf32>
    onnx.Yield %1 : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A Loop of 3 iterations: the carried value is added to three times (the
// iteration number folded into each copy), and the scan output stacks the
// three intermediate values.
// CHECK-LABEL: func.func @loop
// CHECK-NOT: onnx.Loop
// CHECK-COUNT-3: onnx.Add
// CHECK: %[[S:.*]] = "onnx.Concat"({{.*}}) <{axis = 0 : i64}> : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<3x2xf32>
// CHECK: return %{{.*}}, %[[S]] : tensor<2xf32>, tensor<3x2xf32>
func.func @loop(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  %m = "onnx.Constant"() <{value = dense<3> : tensor<i64>}> : () -> tensor<i64>
  %c = "onnx.Constant"() <{value = dense<true> : tensor<i1>}> : () -> tensor<i1>
  %0:2 = "onnx.Loop"(%m, %c, %x) ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<2xf32>):
    %f = "onnx.Cast"(%i) <{to = 1 : i64}> : (tensor<i64>) -> tensor<f32>
    %n = "onnx.Add"(%v, %f) : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
    onnx.Yield %cond, %n, %n : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  }) : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>)
  return %0#0, %0#1 : tensor<2xf32>, tensor<?x2xf32>
}

// -----

// A Scan over the rows of x: each iteration gathers one row; the scan
// output, reversed, stacks the running sums last to first.
// CHECK-LABEL: func.func @scan
// CHECK-NOT: onnx.Scan
// CHECK-COUNT-2: onnx.Gather
// CHECK: "onnx.Concat"({{.*}}) <{axis = 0 : i64}> {{.*}} -> tensor<2x3xf32>
func.func @scan(%init: tensor<3xf32>, %x: tensor<2x3xf32>) -> (tensor<3xf32>, tensor<2x3xf32>) {
  %0:2 = "onnx.Scan"(%init, %x) <{num_scan_inputs = 1 : i64, scan_output_directions = [1]}> ({
  ^bb0(%s: tensor<3xf32>, %row: tensor<3xf32>):
    %n = "onnx.Add"(%s, %row) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    onnx.Yield %n, %n : tensor<3xf32>, tensor<3xf32>
  }) : (tensor<3xf32>, tensor<2x3xf32>) -> (tensor<3xf32>, tensor<2x3xf32>)
  return %0#0, %0#1 : tensor<3xf32>, tensor<2x3xf32>
}

// -----

// A condition that is an input stays: the lowering reports the If.
// CHECK-LABEL: func.func @if_dynamic
// CHECK: onnx.If
func.func @if_dynamic(%c: tensor<i1>) -> tensor<2xf32> {
  %0 = "onnx.If"(%c) ({
    %1 = "onnx.Constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<2xf32>
    onnx.Yield %1 : tensor<2xf32>
  }, {
    %1 = "onnx.Constant"() <{value = dense<2.0> : tensor<2xf32>}> : () -> tensor<2xf32>
    onnx.Yield %1 : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

