// RUN: prism-opt %s --split-input-file --onnx-unroll-control-flow --verify-diagnostics

// A Loop whose condition is computed from data cannot be unrolled.
func.func @loop_data_condition(%x: tensor<f32>) -> tensor<f32> {
  %m = "onnx.Constant"() <{value = dense<3> : tensor<i64>}> : () -> tensor<i64>
  %c = "onnx.Constant"() <{value = dense<true> : tensor<i1>}> : () -> tensor<i1>
  // expected-error @+1 {{Loop's condition is not a compile-time constant after iteration 0}}
  %0 = "onnx.Loop"(%m, %c, %x) ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<f32>):
    %z = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
    %more = "onnx.Greater"(%v, %z) : (tensor<f32>, tensor<f32>) -> tensor<i1>
    onnx.Yield %more, %v : tensor<i1>, tensor<f32>
  }) : (tensor<i64>, tensor<i1>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @loop_too_long(%x: tensor<f32>) -> tensor<f32> {
  %m = "onnx.Constant"() <{value = dense<5000> : tensor<i64>}> : () -> tensor<i64>
  %none = onnx.NoValue
  // expected-error @+1 {{Loop runs more than 4096 iterations: too many to unroll}}
  %0 = "onnx.Loop"(%m, %none, %x) ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %v: tensor<f32>):
    onnx.Yield %cond, %v : tensor<i1>, tensor<f32>
  }) : (tensor<i64>, none, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
