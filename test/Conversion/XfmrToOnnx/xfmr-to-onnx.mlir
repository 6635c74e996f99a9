// RUN: prism-opt %s --split-input-file --convert-xfmr-to-onnx | FileCheck %s

// Grouped-query attention over a past: keys appended to the cache, each
// key/value head repeated for its two query heads, scores scaled, soft-capped
// and masked by position (causal, sliding window of 4), softmax, values.
// CHECK-LABEL: func.func @attention
// CHECK: %[[K:.*]] = "onnx.Concat"(%arg3, %arg1) <{axis = 2 : i64}>
// CHECK: %[[V:.*]] = "onnx.Concat"(%arg4, %arg2) <{axis = 2 : i64}>
// CHECK: "onnx.Concat"(%{{.*}}, %{{.*}}) <{axis = 2 : i64}> : (tensor<1x2x1x5x16xf32>, tensor<1x2x1x5x16xf32>) -> tensor<1x2x2x5x16xf32>
// CHECK: "onnx.MatMul"
// CHECK: "onnx.Tanh"
// CHECK: linalg.generic
// CHECK: arith.cmpi sgt
// CHECK: arith.cmpi slt
// CHECK: arith.ori
// CHECK: "onnx.Softmax"
// CHECK: "onnx.MatMul"
// CHECK: return %{{.*}}, %[[K]], %[[V]]
func.func @attention(%q: tensor<1x4x2x16xf32>, %k: tensor<1x2x2x16xf32>, %v: tensor<1x2x2x16xf32>,
                     %pk: tensor<1x2x3x16xf32>, %pv: tensor<1x2x3x16xf32>)
    -> (tensor<1x4x2x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>) {
  %o, %p:2 = xfmr.attention %q, %k, %v past %pk, %pv {scale = 0.25 : f64, causal = true, window = 4 : i64, softcap = 30.0 : f64}
      : (tensor<1x4x2x16xf32>, tensor<1x2x2x16xf32>, tensor<1x2x2x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>)
      -> (tensor<1x4x2x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>)
  return %o, %p#0, %p#1 : tensor<1x4x2x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>
}

// -----

// f16 attention computes its scores and softmax in f32; the mask is added
// and clamped to the lowest float.
// CHECK-LABEL: func.func @attention_f16
// CHECK: "onnx.Cast"(%arg0) <{to = 1 : i64}> : (tensor<1x2x1x8xf16>) -> tensor<1x2x1x8xf32>
// CHECK: "onnx.Add"
// CHECK: "onnx.Max"
// CHECK: "onnx.Softmax"{{.*}}tensor<1x2x1x3xf32>
// CHECK: "onnx.Cast"{{.*}} <{to = 10 : i64}>
func.func @attention_f16(%q: tensor<1x2x1x8xf16>, %k: tensor<1x2x3x8xf16>, %m: tensor<1x1x1x3xf32>) -> tensor<1x2x1x8xf16> {
  %o = xfmr.attention %q, %k, %k mask %m {scale = 0.25 : f64}
      : (tensor<1x2x1x8xf16>, tensor<1x2x3x8xf16>, tensor<1x2x3x8xf16>, tensor<1x1x1x3xf32>) -> tensor<1x2x1x8xf16>
  return %o : tensor<1x2x1x8xf16>
}

// -----

// Interleaved rotary on the first 8 of 16 channels: pairs (x0, x1) become
// (-x1, x0), the other 8 channels pass through.
// CHECK-LABEL: func.func @rotary_interleaved
// CHECK: tensor.extract_slice %arg0[0, 0, 0, 0] [1, 2, 3, 8]
// CHECK: tensor.reshape {{.*}} -> tensor<1x2x3x4x2xf32>
// CHECK: "onnx.Neg"
// CHECK: "onnx.Concat"{{.*}}<{axis = 4 : i64}>
// CHECK: tensor.extract_slice %arg0[0, 0, 0, 8] [1, 2, 3, 8]
// CHECK: "onnx.Concat"{{.*}}<{axis = 3 : i64}>{{.*}}-> tensor<1x2x3x16xf32>
func.func @rotary_interleaved(%x: tensor<1x2x3x16xf32>, %c: tensor<1x1x3x8xf32>, %s: tensor<1x1x3x8xf32>) -> tensor<1x2x3x16xf32> {
  %r = xfmr.rotary %x, %c, %s {interleaved = true} : (tensor<1x2x3x16xf32>, tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x2x3x16xf32>
  return %r : tensor<1x2x3x16xf32>
}

// -----

// RMS norm with a residual: the sum is normalized and returned.
// CHECK-LABEL: func.func @rms_norm_residual
// CHECK: %[[SUM:.*]] = "onnx.Add"(%arg0, %arg1)
// CHECK: "onnx.ReduceMean"
// CHECK: "onnx.Sqrt"
// CHECK: "onnx.Reciprocal"
// CHECK: return %{{.*}}, %[[SUM]]
func.func @rms_norm_residual(%x: tensor<2x8xf32>, %r: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %y, %sum = xfmr.rms_norm %x residual %r, %w {epsilon = 1.0e-6 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  return %y, %sum : tensor<2x8xf32>, tensor<2x8xf32>
}
