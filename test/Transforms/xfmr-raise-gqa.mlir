// RUN: prism-opt %s --split-input-file --xfmr-raise | FileCheck %s
// RUN: prism-opt %s --split-input-file --xfmr-raise --convert-xfmr-to-onnx --convert-onnx-to-linalg | FileCheck %s --check-prefix=HOST

// GroupQueryAttention in decode: past_seqlen = seqlens_k + 1 - S at run
// time; the present cache takes the past before it and the new token at it
// (GatherElements at t - past_seqlen); keys after past_seqlen + i are
// masked; one xfmr.attention of 4 query heads over 2 KV heads reads the
// present cache.
// CHECK-LABEL: func.func @gqa_decode
// CHECK: "onnx.Cast"(%arg5) <{to = 7 : i64}>
// CHECK: "onnx.Max"
// CHECK: "onnx.GatherElements"{{.*}} <{axis = 2 : i64}>
// CHECK: "onnx.Where"
// CHECK: %[[PK:.*]] = "onnx.Where"
// CHECK: "onnx.GatherElements"
// CHECK: "onnx.Where"
// CHECK: %[[PV:.*]] = "onnx.Where"
// CHECK: "onnx.LessOrEqual"
// CHECK: %[[MASK:.*]] = "onnx.Where"
// CHECK: xfmr.attention %{{.*}}, %[[PK]], %[[PV]] mask %[[MASK]] {scale = 0.35355{{[0-9]*}} : f64}
// CHECK-SAME: (tensor<2x4x1x8xf32>, tensor<2x2x6x8xf32>, tensor<2x2x6x8xf32>, tensor<2x1x1x6xf32>) -> tensor<2x4x1x8xf32>
// CHECK-NOT: onnx.ms.
// HOST-LABEL: func.func @gqa_decode
// HOST-NOT: onnx.
// HOST: return
func.func @gqa_decode(%q: tensor<2x1x32xf32>, %k: tensor<2x1x16xf32>, %v: tensor<2x1x16xf32>, %pk: tensor<2x2x6x8xf32>, %pv: tensor<2x2x6x8xf32>, %sl: tensor<2xi32>, %t: tensor<i32>) -> (tensor<2x1x32xf32>, tensor<2x2x6x8xf32>) {
  %n = onnx.NoValue
  %o, %pkey, %pval, %qk = "onnx.ms.GroupQueryAttention"(%q, %k, %v, %pk, %pv, %sl, %t, %n, %n, %n, %n, %n) <{do_rotary = 0 : i64, kv_num_heads = 2 : i64, local_window_size = -1 : i64, num_heads = 4 : i64, rotary_interleaved = 0 : i64, smooth_softmax = 0 : i64, softcap = 0.000000e+00 : f32}> : (tensor<2x1x32xf32>, tensor<2x1x16xf32>, tensor<2x1x16xf32>, tensor<2x2x6x8xf32>, tensor<2x2x6x8xf32>, tensor<2xi32>, tensor<i32>, none, none, none, none, none) -> (tensor<2x1x32xf32>, tensor<2x2x6x8xf32>, tensor<2x2x6x8xf32>, none)
  return %o, %pkey : tensor<2x1x32xf32>, tensor<2x2x6x8xf32>
}

// -----

// RotaryEmbedding (not interleaved) of [B, S, N*H] with rotary dim 8 on
// heads of 8: cos/sin gathered at the positions, each half repeated.
// CHECK-LABEL: func.func @rotary
// CHECK: %[[X:.*]] = tensor.reshape %arg0{{.*}} -> tensor<1x3x2x8xf32>
// CHECK: "onnx.Gather"(%arg2, %arg1)
// CHECK: "onnx.Concat"{{.*}} -> tensor<1x3x8xf32>
// CHECK: xfmr.rotary %[[X]], %{{.*}}, %{{.*}} : (tensor<1x3x2x8xf32>, tensor<1x3x1x8xf32>, tensor<1x3x1x8xf32>) -> tensor<1x3x2x8xf32>
// HOST-LABEL: func.func @rotary
// HOST-NOT: onnx.
// HOST: return
func.func @rotary(%x: tensor<1x3x16xf32>, %p: tensor<1x3xi64>, %c: tensor<32x4xf32>, %s: tensor<32x4xf32>) -> tensor<1x3x16xf32> {
  %0 = "onnx.ms.RotaryEmbedding"(%x, %p, %c, %s) <{interleaved = 0 : i64, is_packed_batching = 0 : i64, num_heads = 2 : i64, rotary_embedding_dim = 0 : i64, scale = 1.0 : f32}> : (tensor<1x3x16xf32>, tensor<1x3xi64>, tensor<32x4xf32>, tensor<32x4xf32>) -> tensor<1x3x16xf32>
  return %0 : tensor<1x3x16xf32>
}
