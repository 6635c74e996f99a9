// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// GroupQueryAttention in decode: past_seqlen = seqlens_k + 1 - S at run
// time; the present cache takes the past before it and the new token at it;
// each query head reads KV head n floordiv 2; keys after past_seqlen + i are
// -inf before the softmax.
// CHECK-DAG: #[[KV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-LABEL: func.func @gqa_decode
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.extract %arg5
// CHECK: arith.maxsi
// CHECK: arith.cmpi slt
// CHECK: tensor.extract %arg3
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KV]], #{{.*}}]
// CHECK: %[[KEEP:.*]] = arith.cmpi sle
// CHECK: arith.select %[[KEEP]], %{{.*}}, %[[NEGINF]]
// CHECK: math.exp
// CHECK-NOT: onnx.
func.func @gqa_decode(%q: tensor<2x1x32xf32>, %k: tensor<2x1x16xf32>, %v: tensor<2x1x16xf32>, %pk: tensor<2x2x6x8xf32>, %pv: tensor<2x2x6x8xf32>, %sl: tensor<2xi32>, %t: tensor<i32>) -> (tensor<2x1x32xf32>, tensor<2x2x6x8xf32>) {
  %n = onnx.NoValue
  %o, %pkey, %pval, %qk = "onnx.ms.GroupQueryAttention"(%q, %k, %v, %pk, %pv, %sl, %t, %n, %n, %n, %n, %n) <{do_rotary = 0 : i64, kv_num_heads = 2 : i64, local_window_size = -1 : i64, num_heads = 4 : i64, rotary_interleaved = 0 : i64, smooth_softmax = 0 : i64, softcap = 0.000000e+00 : f32}> : (tensor<2x1x32xf32>, tensor<2x1x16xf32>, tensor<2x1x16xf32>, tensor<2x2x6x8xf32>, tensor<2x2x6x8xf32>, tensor<2xi32>, tensor<i32>, none, none, none, none, none) -> (tensor<2x1x32xf32>, tensor<2x2x6x8xf32>, tensor<2x2x6x8xf32>, none)
  return %o, %pkey : tensor<2x1x32xf32>, tensor<2x2x6x8xf32>
}

// -----

// RotaryEmbedding (not interleaved): channel h pairs with h + 4 (rotary dim
// 8), cos/sin read at the position of (b, s).
// CHECK-LABEL: func.func @rotary
// CHECK: tensor.extract %arg1
// CHECK: arith.cmpi ult, %{{.*}}, %c4
// CHECK: tensor.extract %arg2
// CHECK: tensor.extract %arg3
// CHECK-DAG: arith.subf
// CHECK-DAG: arith.addf
func.func @rotary(%x: tensor<1x3x16xf32>, %p: tensor<1x3xi64>, %c: tensor<32x4xf32>, %s: tensor<32x4xf32>) -> tensor<1x3x16xf32> {
  %0 = "onnx.ms.RotaryEmbedding"(%x, %p, %c, %s) <{interleaved = 0 : i64, is_packed_batching = 0 : i64, num_heads = 2 : i64, rotary_embedding_dim = 0 : i64, scale = 1.0 : f32}> : (tensor<1x3x16xf32>, tensor<1x3xi64>, tensor<32x4xf32>, tensor<32x4xf32>) -> tensor<1x3x16xf32>
  return %0 : tensor<1x3x16xf32>
}
