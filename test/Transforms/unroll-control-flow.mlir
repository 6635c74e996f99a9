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


// -----

// Sequences are lists known at compile time: SequenceAt reads an element,
// SequenceLength is a constant, ConcatFromSequence a Concat.
// CHECK-LABEL: func.func @sequence
// CHECK-NOT: onnx.Sequence
// CHECK: %[[C:.*]] = "onnx.Concat"(%arg0, %arg1, %arg0) <{axis = 0 : i64}> : (tensor<2xf32>, tensor<3xf32>, tensor<2xf32>) -> tensor<7xf32>
// CHECK: return %arg1, %{{.*}}, %[[C]] : tensor<3xf32>, tensor<i64>, tensor<7xf32>
func.func @sequence(%a: tensor<2xf32>, %b: tensor<3xf32>) -> (tensor<*xf32>, tensor<i64>, tensor<*xf32>) {
  %s = "onnx.SequenceConstruct"(%a, %b) : (tensor<2xf32>, tensor<3xf32>) -> !onnx.seq<tensor<*xf32>>
  %none = onnx.NoValue
  %t = "onnx.SequenceInsert"(%s, %a, %none) : (!onnx.seq<tensor<*xf32>>, tensor<2xf32>, none) -> !onnx.seq<tensor<*xf32>>
  %one = "onnx.Constant"() <{value = dense<1> : tensor<i64>}> : () -> tensor<i64>
  %at = "onnx.SequenceAt"(%t, %one) : (!onnx.seq<tensor<*xf32>>, tensor<i64>) -> tensor<*xf32>
  %n = "onnx.SequenceLength"(%t) : (!onnx.seq<tensor<*xf32>>) -> tensor<i64>
  %c = "onnx.ConcatFromSequence"(%t) <{axis = 0 : i64, new_axis = 0 : i64}> : (!onnx.seq<tensor<*xf32>>) -> tensor<*xf32>
  return %at, %n, %c : tensor<*xf32>, tensor<i64>, tensor<*xf32>
}

// -----

// SequenceMap runs its body once per element; a returned sequence becomes
// one result per element, indexed by onnx.sequence_index.
// CHECK-LABEL: func.func @sequence_map
// CHECK-SAME: -> (tensor<2xf32> {onnx.name = "out", onnx.sequence_index = 0 : i64}, tensor<3xf32> {onnx.name = "out", onnx.sequence_index = 1 : i64})
// CHECK-COUNT-2: onnx.Add
func.func @sequence_map(%a: tensor<2xf32>, %b: tensor<3xf32>, %x: tensor<f32>) -> (!onnx.seq<tensor<*xf32>> {onnx.name = "out"}) {
  %s = "onnx.SequenceConstruct"(%a, %b) : (tensor<2xf32>, tensor<3xf32>) -> !onnx.seq<tensor<*xf32>>
  %m = "onnx.SequenceMap"(%s, %x) ({
  ^bb0(%e: tensor<*xf32>, %y: tensor<f32>):
    %r = "onnx.Add"(%e, %y) : (tensor<*xf32>, tensor<f32>) -> tensor<*xf32>
    onnx.Yield %r : tensor<*xf32>
  }) : (!onnx.seq<tensor<*xf32>>, tensor<f32>) -> !onnx.seq<tensor<*xf32>>
  return %m : !onnx.seq<tensor<*xf32>>
}

// -----

// An Optional of a tensor has an element, which OptionalGetElement reads.
// CHECK-LABEL: func.func @optional
// CHECK: %[[T:.*]] = "onnx.Constant"() <{value = dense<true> : tensor<i1>}>
// CHECK: return %[[T]], %arg0
func.func @optional(%a: tensor<2xf32>) -> (tensor<i1>, tensor<*xf32>) {
  %o = "onnx.Optional"(%a) <{type = tensor<2xf32>}> : (tensor<2xf32>) -> !onnx.opt<tensor<2xf32>>
  %h = "onnx.OptionalHasElement"(%o) : (!onnx.opt<tensor<2xf32>>) -> tensor<i1>
  %g = "onnx.OptionalGetElement"(%o) : (!onnx.opt<tensor<2xf32>>) -> tensor<*xf32>
  return %h, %g : tensor<i1>, tensor<*xf32>
}

// -----

// Resolving a list can make its users fold (Not of OptionalHasElement) and
// an If's condition constant; a returned optional becomes what it holds,
// marked onnx.optional, and an empty one is listed by name.
// CHECK-LABEL: func.func @optional_if
// CHECK-SAME: -> (tensor<2xf32> {onnx.name = "held", onnx.optional})
// CHECK-SAME: onnx.empty_optionals = ["none"]
// CHECK-NOT: onnx.If
// CHECK: return %arg0
func.func @optional_if(%a: tensor<2xf32>) -> (!onnx.opt<tensor<2xf32>> {onnx.name = "held"}, !onnx.opt<tensor<2xf32>> {onnx.name = "none"}) {
  %o = "onnx.Optional"(%a) <{type = tensor<2xf32>}> : (tensor<2xf32>) -> !onnx.opt<tensor<2xf32>>
  %n = onnx.NoValue
  %e = "onnx.Optional"(%n) <{type = tensor<2xf32>}> : (none) -> !onnx.opt<tensor<2xf32>>
  %h = "onnx.OptionalHasElement"(%o) : (!onnx.opt<tensor<2xf32>>) -> tensor<i1>
  %not = "onnx.Not"(%h) : (tensor<i1>) -> tensor<i1>
  %r = "onnx.If"(%not) ({
    %z = "onnx.Optional"(%n) <{type = tensor<2xf32>}> : (none) -> !onnx.opt<tensor<2xf32>>
    onnx.Yield %z : !onnx.opt<tensor<2xf32>>
  }, {
    onnx.Yield %o : !onnx.opt<tensor<2xf32>>
  }) : (tensor<i1>) -> !onnx.opt<tensor<2xf32>>
  return %r, %e : !onnx.opt<tensor<2xf32>>, !onnx.opt<tensor<2xf32>>
}
