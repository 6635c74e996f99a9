// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// LayerNormalization over the last axis: mean and variance reductions, the
// normalised value times the scale plus the bias. Nothing onnx is left.
// CHECK-LABEL: func.func @layer_norm
// CHECK-NOT: onnx.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: math.sqrt
// CHECK-NOT: onnx.
// CHECK: return
func.func @layer_norm(%x: tensor<3x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<3x8xf32> {
  %y, %m, %i = "onnx.LayerNormalization"(%x, %s, %b) <{axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64}> : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<3x8xf32>, none, none)
  return %y : tensor<3x8xf32>
}

// -----

// An f16 LayerNormalization computes in f32 (stash_type = 1) and rounds the
// result back to f16.
// CHECK-LABEL: func.func @layer_norm_f16
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK: math.sqrt {{.*}} : f32
// CHECK: arith.truncf {{.*}} : f32 to f16
func.func @layer_norm_f16(%x: tensor<2x4xf16>, %s: tensor<4xf16>) -> tensor<2x4xf16> {
  %n = onnx.NoValue
  %y, %m, %i = "onnx.LayerNormalization"(%x, %s, %n) <{axis = -1 : i64, epsilon = 1.0e-5 : f32, stash_type = 1 : i64}> : (tensor<2x4xf16>, tensor<4xf16>, none) -> (tensor<2x4xf16>, none, none)
  return %y : tensor<2x4xf16>
}

// -----

// Gemm with transB, alpha and beta: a transpose, a matmul and two scalings.
// CHECK-LABEL: func.func @gemm
// CHECK-DAG: arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK: linalg.transpose
// CHECK: linalg.matmul
// CHECK-NOT: onnx.
func.func @gemm(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>, %c: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = "onnx.Gemm"(%a, %b, %c) <{alpha = 2.0 : f32, beta = 0.5 : f32, transA = 0 : i64, transB = 1 : i64}> : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Split: one slice per output, at the running offset.
// CHECK-LABEL: func.func @split
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [2, 2] [1, 1]
// CHECK: tensor.extract_slice %{{.*}}[0, 2] [2, 4] [1, 1]
func.func @split(%x: tensor<2x6xf32>, %s: tensor<2xi64>) -> (tensor<2x2xf32>, tensor<2x4xf32>) {
  %0:2 = "onnx.Split"(%x, %s) <{axis = 1 : i64}> : (tensor<2x6xf32>, tensor<2xi64>) -> (tensor<2x2xf32>, tensor<2x4xf32>)
  return %0#0, %0#1 : tensor<2x2xf32>, tensor<2x4xf32>
}

// -----

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
// offset by the past length, softmax, and present = past + this step.
// CHECK-LABEL: func.func @attention_past
// CHECK-DAG: %[[FILTER:.*]] = arith.constant -1.000000e+04 : f32
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
// CHECK: %[[PLUS:.*]] = arith.addf %{{.*}}, %[[FILTER]]
// CHECK: arith.select %[[MASKED]], %[[PLUS]]
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

// Shrink: two selects, x + bias below -lambd, x - bias above lambd, else 0.
// CHECK-LABEL: func.func @shrink
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: arith.cmpf olt
// CHECK: arith.select
func.func @shrink(%x: tensor<5xf32>) -> tensor<5xf32> {
  %0 = "onnx.Shrink"(%x) <{bias = 1.5 : f32, lambd = 1.5 : f32}> : (tensor<5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

// PRelu: slope * x where x < 0 (the slope broadcast along the last dim).
// CHECK-LABEL: func.func @prelu
// CHECK: arith.mulf
// CHECK: arith.cmpf olt
// CHECK: arith.select
func.func @prelu(%x: tensor<3x5xf32>, %slope: tensor<5xf32>) -> tensor<3x5xf32> {
  %0 = "onnx.PRelu"(%x, %slope) : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// MeanVarianceNormalization over the default axes 0, 2, 3: two means kept
// as [1, C, 1, 1], then (x - mean) / (sqrt(E[x²] - mean²) + 1e-9).
// CHECK-LABEL: func.func @mvn
// CHECK-COUNT-2: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: math.sqrt
// CHECK: arith.divf
func.func @mvn(%x: tensor<2x3x4x1xf32>) -> tensor<2x3x4x1xf32> {
  %0 = "onnx.MeanVarianceNormalization"(%x) <{axes = [0, 2, 3]}> : (tensor<2x3x4x1xf32>) -> tensor<2x3x4x1xf32>
  return %0 : tensor<2x3x4x1xf32>
}

// -----

// LRN of size 3: the squares padded with one zero channel on each side and
// summed over three shifted slices of the 4 channels.
// CHECK-LABEL: func.func @lrn
// CHECK: tensor.insert_slice {{.*}} into tensor<1x6x2x2xf32>
// CHECK-COUNT-3: tensor.extract_slice {{.*}} tensor<1x6x2x2xf32> to tensor<1x4x2x2xf32>
// CHECK: math.powf
func.func @lrn(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %0 = "onnx.LRN"(%x) <{alpha = 2.0e-04 : f32, beta = 0.5 : f32, bias = 2.0 : f32, size = 3 : i64}> : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// Det of 2x2 matrices: a00 a11 - a01 a10 over the batch.
// CHECK-LABEL: func.func @det2
// CHECK-COUNT-2: arith.mulf
// CHECK: arith.subf
func.func @det2(%x: tensor<3x2x2xf32>) -> tensor<3xf32> {
  %0 = "onnx.Det"(%x) : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Compress with a constant condition gathers the selected indices.
// CHECK-LABEL: func.func @compress
// CHECK: linalg.generic
// CHECK: tensor.extract %arg0
// CHECK: -> tensor<3x2xf32>
func.func @compress(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %c = "onnx.Constant"() <{value = dense<[false, true, true]> : tensor<3xi1>}> : () -> tensor<3xi1>
  %0 = "onnx.Compress"(%x, %c) <{axis = -1 : i64}> : (tensor<3x4xf32>, tensor<3xi1>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// NonZero of a constant is the constant of its coordinates.
// CHECK-LABEL: func.func @nonzero
// CHECK: arith.constant dense<{{\[}}[0, 1, 1], [0, 0, 1]]> : tensor<2x3xi64>
func.func @nonzero() -> tensor<2x3xi64> {
  %c = "onnx.Constant"() <{value = dense<[[true, false], [true, true]]> : tensor<2x2xi1>}> : () -> tensor<2x2xi1>
  %0 = "onnx.NonZero"(%c) : (tensor<2x2xi1>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// Dropout in training mode with a constant ratio of 0 drops nothing: the
// input, and an all-true mask.
// CHECK-LABEL: func.func @dropout_zero_ratio
// CHECK: %[[MASK:.*]] = arith.constant dense<true> : tensor<3xi1>
// CHECK: return %arg0, %[[MASK]]
func.func @dropout_zero_ratio(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>) {
  %r = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
  %t = "onnx.Constant"() <{value = dense<true> : tensor<i1>}> : () -> tensor<i1>
  %0, %1 = "onnx.Dropout"(%x, %r, %t) : (tensor<3xf32>, tensor<f32>, tensor<i1>) -> (tensor<3xf32>, tensor<3xi1>)
  return %0, %1 : tensor<3xf32>, tensor<3xi1>
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
