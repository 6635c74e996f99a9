// RUN: prism-opt %s --split-input-file --verify-diagnostics

func.func @type_parameter(%a: tensor<2xf32>, %b: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{input 'B' has element type 'i64' but input 'A' has 'f32' (both are 'T')}}
  %0 = "onnx.Add"(%a, %b) : (tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @matmul_dims(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{breaks ONNX's rules for MatMul: Incompatible dimensions for matrix multiplication}}
  %0 = "onnx.MatMul"(%a, %b) : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @declared_result(%a: tensor<2x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{result #0 has type 'tensor<3x3xf32>' but ONNX infers 'tensor<2x3xf32>'}}
  %0 = "onnx.Relu"(%a) : (tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @transpose_rank(%a: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{breaks ONNX's rules for Transpose}}
  %0 = "onnx.Transpose"(%a) <{perm = [0, 1, 2]}> : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gqa_heads(%q: tensor<1x4x64xf32>, %k: tensor<1x4x32xf32>, %v: tensor<1x4x32xf32>,
                     %s: tensor<1xi32>, %t: tensor<i32>) -> tensor<*xf32> {
  %n = onnx.NoValue
  // expected-error @+1 {{num_heads (4) must be a positive multiple of kv_num_heads (3)}}
  %0:4 = "onnx.ms.GroupQueryAttention"(%q, %k, %v, %n, %n, %s, %t, %n, %n, %n, %n, %n) <{kv_num_heads = 3 : i64, num_heads = 4 : i64}> : (tensor<1x4x64xf32>, tensor<1x4x32xf32>, tensor<1x4x32xf32>, none, none, tensor<1xi32>, tensor<i32>, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, none)
  return %0#0 : tensor<*xf32>
}

// -----

func.func @reduce_axis(%a: tensor<2x3xf32>) -> tensor<*xf32> {
  %axes = "onnx.Constant"() <{value = dense<2> : tensor<1xi64>}> : () -> tensor<1xi64>
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = "onnx.ReduceMean"(%a, %axes) : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
