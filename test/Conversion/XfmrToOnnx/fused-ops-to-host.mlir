// RUN: prism-opt %s --split-input-file --xfmr-raise --convert-xfmr-to-onnx --convert-onnx-to-linalg | FileCheck %s

// The fused com.microsoft operators reach the host through xfmr: raised,
// rewritten as onnx ops, lowered to linalg.

// FastGelu adds its bias and takes the tanh approximation.
// CHECK-LABEL: func.func @fast_gelu
// CHECK: arith.addf
// CHECK: math.tanh
// CHECK-NOT: math.erf
func.func @fast_gelu(%x: tensor<2x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = "onnx.ms.FastGelu"(%x, %b) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// BiasGelu and Gelu are the exact (erf) form.
// CHECK-LABEL: func.func @bias_gelu
// CHECK: math.erf
// CHECK-NOT: math.tanh
func.func @bias_gelu(%x: tensor<2x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = "onnx.ms.BiasGelu"(%x, %b) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// com.microsoft Attention with a past state: the QKV projection, K and V
// appended to the past ([2, B, N, P, H]), scaled scores, the causal mask
// offset by the past length (masked scores set to the lowest float),
// softmax, and present = past + this step.
// CHECK-LABEL: func.func @attention_past
// CHECK-DAG: %[[LOWEST:.*]] = arith.constant -3.40282347E+38 : f32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<1x2x8xf32> into tensor<2x8xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8x24xf32>)
// CHECK: tensor.expand_shape
// CHECK-COUNT-3: tensor.extract_slice %{{.*}}[0, 0, {{0|8|16}}] [1, 2, 8]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [1, 2, 3, 4]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 3, 0] [1, 2, 2, 4]
// CHECK: ins(%{{.*}}, %[[SCALE]] :
// CHECK: %[[I:.*]] = linalg.index 2
// CHECK: %[[J:.*]] = linalg.index 3
// CHECK: %[[LIMIT:.*]] = arith.addi %[[I]], %c3
// CHECK: %[[MASKED:.*]] = arith.cmpi sgt, %[[J]], %[[LIMIT]]
// CHECK: arith.select %[[MASKED]], %[[LOWEST]]
// CHECK: math.exp
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0, 0] [1, 1, 2, 5, 4]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[1, 0, 0, 0, 0] [1, 1, 2, 5, 4]
// CHECK-NOT: onnx.
// CHECK: return
func.func @attention_past(%x: tensor<1x2x8xf32>, %w: tensor<8x24xf32>, %b: tensor<24xf32>, %past: tensor<2x1x2x3x4xf32>) -> (tensor<1x2x8xf32>, tensor<2x1x2x5x4xf32>) {
  %n = onnx.NoValue
  %o, %p = "onnx.ms.Attention"(%x, %w, %b, %n, %past, %n, %n) <{do_rotary = 0 : i64, num_heads = 2 : i64, past_present_share_buffer = 0 : i64, rotary_embedding_dim = 0 : i64, unidirectional = 1 : i64}> : (tensor<1x2x8xf32>, tensor<8x24xf32>, tensor<24xf32>, none, tensor<2x1x2x3x4xf32>, none, none) -> (tensor<1x2x8xf32>, tensor<2x1x2x5x4xf32>)
  return %o, %p : tensor<1x2x8xf32>, tensor<2x1x2x5x4xf32>
}

// -----

// A [batch, total] 0/1 mask becomes 0 / mask_filter_value added to the scores.
// CHECK-LABEL: func.func @attention_key_padding
// CHECK-DAG: %[[FILL:.*]] = arith.constant dense<-1.000000e+09> : tensor<f32>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<f32>
// CHECK: arith.cmpi sgt
// CHECK: ins(%{{.*}}, %[[ZERO]], %[[FILL]] : tensor<1x3xi1>, tensor<f32>, tensor<f32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.select
func.func @attention_key_padding(%x: tensor<1x3x8xf32>, %w: tensor<8x24xf32>, %m: tensor<1x3xi32>) -> tensor<1x3x8xf32> {
  %n = onnx.NoValue
  %o, %p = "onnx.ms.Attention"(%x, %w, %n, %m, %n, %n, %n) <{do_rotary = 0 : i64, mask_filter_value = -1.0e9 : f32, num_heads = 2 : i64, past_present_share_buffer = 0 : i64, rotary_embedding_dim = 0 : i64, unidirectional = 0 : i64}> : (tensor<1x3x8xf32>, tensor<8x24xf32>, none, tensor<1x3xi32>, none, none, none) -> (tensor<1x3x8xf32>, none)
  return %o : tensor<1x3x8xf32>
}

// -----

// MultiHeadAttention with per-head cross-attention keys ([B, N, L, H]) uses
// only the query's part of the bias; the present outputs are the keys and
// values attended to.
// CHECK-LABEL: func.func @mha_cross
// CHECK: tensor.extract_slice %{{.*}}[0] [8] [1] : tensor<24xf32> to tensor<8xf32>
// CHECK-NOT: tensor.extract_slice %{{.*}}[8] [8] [1]
// CHECK: return
func.func @mha_cross(%q: tensor<1x1x8xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %b: tensor<24xf32>) -> tensor<1x1x8xf32> {
  %n = onnx.NoValue
  %o, %pk, %pv, %qk = "onnx.ms.MultiHeadAttention"(%q, %k, %v, %b, %n, %n, %n, %n, %n, %n) <{num_heads = 2 : i64, unidirectional = 0 : i64}> : (tensor<1x1x8xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>, tensor<24xf32>, none, none, none, none, none, none) -> (tensor<1x1x8xf32>, none, none, none)
  return %o : tensor<1x1x8xf32>
}

// -----

// EmbedLayerNormalization without position ids reads positions 0..S-1; its
// mask index counts each row's ones.
// CHECK-LABEL: func.func @embed_layer_norm
// CHECK-DAG: arith.constant dense<{{\[\[}}0, 1, 2]]> : tensor<1x3xi32>
// CHECK: tensor.extract
// CHECK: arith.cmpi eq
// CHECK: arith.addi
func.func @embed_layer_norm(%ids: tensor<2x3xi32>, %we: tensor<10x4xf32>, %pe: tensor<8x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<2x3xi32>) -> (tensor<2x3x4xf32>, tensor<2xi32>) {
  %n = onnx.NoValue
  %o, %mi, %s = "onnx.ms.EmbedLayerNormalization"(%ids, %n, %we, %pe, %n, %g, %b, %m, %n) <{epsilon = 1.0e-12 : f32, mask_index_type = 1 : i64}> : (tensor<2x3xi32>, none, tensor<10x4xf32>, tensor<8x4xf32>, none, tensor<4xf32>, tensor<4xf32>, tensor<2x3xi32>, none) -> (tensor<2x3x4xf32>, tensor<2xi32>, none)
  return %o, %mi : tensor<2x3x4xf32>, tensor<2xi32>
}

// -----

// Megatron's 4-D mask [B, 1, M, M] over absolute positions: with a past of
// 2 and 2 new tokens, query i reads row 2 + i, keys the first 4 columns.
// CHECK-LABEL: func.func @megatron_mask
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 2, 0] [1, 1, 2, 8] [1, 1, 1, 1] : tensor<1x1x8x8xi32> to tensor<1x1x2x8xi32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, 1, 2, 4] [1, 1, 1, 1] : tensor<1x1x2x8xi32> to tensor<1x1x2x4xi32>
// CHECK: arith.cmpi sgt
func.func @megatron_mask(%x: tensor<1x2x8xf32>, %w: tensor<8x24xf32>, %m: tensor<1x1x8x8xi32>, %past: tensor<2x1x2x2x4xf32>) -> tensor<1x2x8xf32> {
  %n = onnx.NoValue
  %o, %p = "onnx.ms.Attention"(%x, %w, %n, %m, %past, %n, %n) <{do_rotary = 0 : i64, num_heads = 2 : i64, past_present_share_buffer = 0 : i64, rotary_embedding_dim = 0 : i64, unidirectional = 0 : i64}> : (tensor<1x2x8xf32>, tensor<8x24xf32>, none, tensor<1x1x8x8xi32>, tensor<2x1x2x2x4xf32>, none, none) -> (tensor<1x2x8xf32>, tensor<2x1x2x4x4xf32>)
  return %o : tensor<1x2x8xf32>
}
