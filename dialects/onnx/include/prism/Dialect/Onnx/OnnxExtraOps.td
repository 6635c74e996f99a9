//===- OnnxExtraOps.td - Hand-written onnx ops -------------*- tablegen -*-===//
//
// ai.onnx operators whose newest form is newer than the schema registry that
// generates OnnxSchemaOps.td (opset 18 and later), and the com.microsoft
// operators that LLM exports carry (`onnx.ms.*`). Their result types are
// inferred in OnnxExtraOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_ONNX_EXTRA_OPS
#define PRISM_ONNX_EXTRA_OPS

include "prism/Dialect/Onnx/OnnxBase.td"

defvar AnyFloatTensor = TensorOf<[F16, BF16, F32, F64]>;
defvar OptAnyTensor = AnyTypeOf<[AnyTensor, NoneType]>;
defvar OptFloatTensor = AnyTypeOf<[AnyFloatTensor, NoneType]>;
defvar OptI64Tensor = AnyTypeOf<[TensorOf<[I64]>, NoneType]>;
defvar OptIntTensor = AnyTypeOf<[TensorOf<[I32, I64]>, NoneType]>;

class ONNX_ExtraOp<string mnemonic, int opset, list<Trait> traits = []>
    : ONNX_Op<mnemonic, !listconcat([Pure,
          DeclareOpInterfaceMethods<ONNX_InferTypesOpInterface>], traits)> {
  code extraDecls = "static constexpr int kOnnxOpset = " # opset # ";";
  let extraClassDeclaration = extraDecls;
}

//===----------------------------------------------------------------------===//
// ai.onnx, opset 18 and later
//===----------------------------------------------------------------------===//

class ONNX_ReduceOp<string name, int opset, bit folds = 0>
    : ONNX_ExtraOp<name, opset> {
  // The integer reductions of shape arithmetic (ReduceProd of a Shape's
  // dims, as tf2onnx writes Tensordot) fold on small constants.
  let hasFolder = folds;
  let summary = "ONNX " # name # " (ai.onnx, opset " # opset # ")";
  let description = [{
    Reduces `data` over `axes` (an int64 tensor; all axes when omitted unless
    `noop_with_empty_axes` is set). Older opsets gave `axes` as an attribute;
    the importer turns it into a constant input.
  }];
  let arguments = (ins TensorOf<[UI32, UI64, I32, I64, F16, BF16, F32, F64, I8, UI8, I1]>:$data,
                       OptI64Tensor:$axes,
                       DefaultValuedAttr<I64Attr, "1">:$keepdims,
                       DefaultValuedAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs AnyTensor:$reduced);
}

def ONNXReduceL1Op : ONNX_ReduceOp<"ReduceL1", 18>;
def ONNXReduceL2Op : ONNX_ReduceOp<"ReduceL2", 18>;
def ONNXReduceLogSumOp : ONNX_ReduceOp<"ReduceLogSum", 18>;
def ONNXReduceLogSumExpOp : ONNX_ReduceOp<"ReduceLogSumExp", 18>;
def ONNXReduceMaxOp : ONNX_ReduceOp<"ReduceMax", 20, 1>;
def ONNXReduceMeanOp : ONNX_ReduceOp<"ReduceMean", 18>;
def ONNXReduceMinOp : ONNX_ReduceOp<"ReduceMin", 20, 1>;
def ONNXReduceProdOp : ONNX_ReduceOp<"ReduceProd", 18, 1>;
def ONNXReduceSumOp : ONNX_ReduceOp<"ReduceSum", 13, 1>;
def ONNXReduceSumSquareOp : ONNX_ReduceOp<"ReduceSumSquare", 18>;

def ONNXSplitOp : ONNX_ExtraOp<"Split", 18> {
  let summary = "ONNX Split (ai.onnx, opset 18)";
  let description = [{
    Splits `input` along `axis` into parts of the sizes in `split`, or into
    `num_outputs` parts (the last one smaller when the size does not divide),
    or into as many equal parts as there are results.
  }];
  let arguments = (ins AnyTensor:$input, OptI64Tensor:$split,
                       DefaultValuedAttr<I64Attr, "0">:$axis,
                       OptionalAttr<I64Attr>:$num_outputs);
  let results = (outs Variadic<AnyTensor>:$outputs);
}

def ONNXPadOp : ONNX_ExtraOp<"Pad", 19> {
  let summary = "ONNX Pad (ai.onnx, opset 19)";
  let description = [{
    Pads `data` by `pads` (begin values of every padded axis, then end values)
    over `axes` (all axes when omitted) with `mode` constant, reflect, edge or
    wrap.
  }];
  let arguments = (ins AnyTensor:$data, TensorOf<[I64]>:$pads,
                       OptAnyTensor:$constant_value, OptIntTensor:$axes,
                       DefaultValuedAttr<StrAttr, "\"constant\"">:$mode);
  let results = (outs AnyTensor:$output);
}

def ONNXQuantizeLinearOp : ONNX_ExtraOp<"QuantizeLinear", 21> {
  let summary = "ONNX QuantizeLinear (ai.onnx, opset 21)";
  let description = [{
    `saturate(round(x / y_scale) + y_zero_point)` in the type of
    `y_zero_point` (or `output_dtype`, else uint8), per tensor, per `axis`
    (1-D scale) or per block of `block_size` along `axis`.
  }];
  let arguments = (ins TensorOf<[F32, F16, BF16, I32]>:$x,
                       TensorOf<[F32, F16, BF16, I32]>:$y_scale,
                       AnyTypeOf<[TensorOf<[I8, UI8, I16, UI16]>, NoneType]>:$y_zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       DefaultValuedAttr<I64Attr, "0">:$output_dtype,
                       DefaultValuedAttr<I64Attr, "1">:$saturate);
  let results = (outs TensorOf<[I8, UI8, I16, UI16]>:$y);
}

def ONNXDequantizeLinearOp : ONNX_ExtraOp<"DequantizeLinear", 21> {
  let summary = "ONNX DequantizeLinear (ai.onnx, opset 21)";
  let description = [{
    `(x - x_zero_point) * x_scale` in the type of `x_scale`, per tensor, per
    `axis` (1-D scale) or per block of `block_size` along `axis`.
  }];
  let arguments = (ins TensorOf<[I8, UI8, I16, UI16, I32]>:$x,
                       TensorOf<[F32, F16, BF16]>:$x_scale,
                       AnyTypeOf<[TensorOf<[I8, UI8, I16, UI16, I32]>, NoneType]>:$x_zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs TensorOf<[F32, F16, BF16]>:$y);
}

def ONNXGeluOp : ONNX_ExtraOp<"Gelu", 20> {
  let summary = "ONNX Gelu (ai.onnx, opset 20)";
  let description = [{
    `0.5 * X * (1 + erf(X / sqrt(2)))`, or its tanh approximation when
    `approximate` is "tanh".
  }];
  let arguments = (ins AnyFloatTensor:$X,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$approximate);
  let results = (outs AnyFloatTensor:$Y);
}

def ONNXAttentionOp : ONNX_ExtraOp<"Attention", 23> {
  let summary = "ONNX Attention (ai.onnx, opset 23)";
  let description = [{
    Scaled dot-product attention with optional mask, causal masking, KV cache
    (`past_key`/`past_value` in, `present_key`/`present_value` out), softcap
    and grouped-query heads. Q, K, V are 4-D `[batch, heads, seq, head_size]`
    or 3-D `[batch, seq, heads * head_size]` (then `q_num_heads` and
    `kv_num_heads` are required).
  }];
  let arguments = (ins AnyFloatTensor:$Q, AnyFloatTensor:$K, AnyFloatTensor:$V,
                       OptAnyTensor:$attn_mask, OptFloatTensor:$past_key,
                       OptFloatTensor:$past_value,
                       DefaultValuedAttr<I64Attr, "0">:$is_causal,
                       OptionalAttr<I64Attr>:$kv_num_heads,
                       OptionalAttr<I64Attr>:$q_num_heads,
                       DefaultValuedAttr<I64Attr, "0">:$qk_matmul_output_mode,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<F32Attr, "0.0">:$softcap,
                       OptionalAttr<I64Attr>:$softmax_precision);
  let results = (outs AnyFloatTensor:$Y, OptFloatTensor:$present_key,
                      OptFloatTensor:$present_value,
                      OptFloatTensor:$qk_matmul_output);
}

def ONNXRMSNormalizationOp : ONNX_ExtraOp<"RMSNormalization", 23> {
  let summary = "ONNX RMSNormalization (ai.onnx, opset 23)";
  let description = [{
    `X / sqrt(mean(X^2 over axes >= axis) + epsilon) * scale`, computed in the
    precision of `stash_type`.
  }];
  let arguments = (ins AnyFloatTensor:$X, AnyFloatTensor:$scale,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                       DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs AnyFloatTensor:$Y);
}

def ONNXRotaryEmbeddingOp : ONNX_ExtraOp<"RotaryEmbedding", 23> {
  let summary = "ONNX RotaryEmbedding (ai.onnx, opset 23)";
  let description = [{
    Rotates the first `rotary_embedding_dim` (all when 0) features of each
    head of `X` (`[batch, heads, seq, head]` or `[batch, seq, hidden]` with
    `num_heads`) by the angles in `cos_cache`/`sin_cache`, gathered by
    `position_ids` when given; `interleaved` selects pairs (x0,x1) rather than
    halves.
  }];
  let arguments = (ins AnyFloatTensor:$X, AnyFloatTensor:$cos_cache,
                       AnyFloatTensor:$sin_cache, OptI64Tensor:$position_ids,
                       DefaultValuedAttr<I64Attr, "0">:$interleaved,
                       OptionalAttr<I64Attr>:$num_heads,
                       DefaultValuedAttr<I64Attr, "0">:$rotary_embedding_dim);
  let results = (outs AnyFloatTensor:$Y);
}

//===----------------------------------------------------------------------===//
// com.microsoft (ONNX Runtime contrib operators)
//===----------------------------------------------------------------------===//

class ONNX_MsOp<string name, list<Trait> traits = []>
    : ONNX_ExtraOp<"ms." # name, 1, traits> {
  let summary = "com.microsoft " # name # " (ONNX Runtime contrib op)";
}

def ONNXMsAttentionOp : ONNX_MsOp<"Attention"> {
  let description = [{
    Multi-head self-attention with the Q/K/V projection fused in: `input`
    `[batch, seq, in_hidden]` times `weights` `[in_hidden, q+k+v hidden]`
    plus `bias`, optional `mask_index`, `past` `[2, batch, heads, past, head]`
    and `attention_bias`; `present` is `past` with this step appended.
  }];
  let arguments = (ins AnyFloatTensor:$input, AnyFloatTensor:$weights,
                       OptFloatTensor:$bias, OptAnyTensor:$mask_index,
                       OptFloatTensor:$past, OptFloatTensor:$attention_bias,
                       OptAnyTensor:$past_sequence_length,
                       I64Attr:$num_heads,
                       DefaultValuedAttr<I64Attr, "0">:$do_rotary,
                       OptionalAttr<F32Attr>:$mask_filter_value,
                       DefaultValuedAttr<I64Attr, "0">:$past_present_share_buffer,
                       OptionalAttr<I64ArrayAttr>:$qkv_hidden_sizes,
                       DefaultValuedAttr<I64Attr, "0">:$rotary_embedding_dim,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<I64Attr, "0">:$unidirectional);
  let results = (outs AnyFloatTensor:$output, OptFloatTensor:$present);
}

def ONNXMsMultiHeadAttentionOp : ONNX_MsOp<"MultiHeadAttention"> {
  let description = [{
    Multi-head attention on projected `query` `[batch, seq, hidden]` and
    `key`/`value` (`[batch, kv_seq, hidden]` or `[batch, heads, kv_seq,
    head]`), with optional bias, key padding mask, attention bias and KV cache.
  }];
  let arguments = (ins AnyFloatTensor:$query, OptFloatTensor:$key,
                       OptFloatTensor:$value, OptFloatTensor:$bias,
                       OptAnyTensor:$key_padding_mask,
                       OptFloatTensor:$attention_bias,
                       OptFloatTensor:$past_key, OptFloatTensor:$past_value,
                       OptAnyTensor:$past_sequence_length,
                       OptAnyTensor:$cache_indirection,
                       I64Attr:$num_heads,
                       OptionalAttr<F32Attr>:$mask_filter_value,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<I64Attr, "0">:$unidirectional);
  let results = (outs AnyFloatTensor:$output, OptFloatTensor:$present_key,
                      OptFloatTensor:$present_value, OptFloatTensor:$qk);
}

def ONNXMsGroupQueryAttentionOp : ONNX_MsOp<"GroupQueryAttention"> {
  let description = [{
    Grouped-query attention with a KV cache: `query` `[batch, seq, heads *
    head]` (or packed Q/K/V when `key` is omitted), `key`/`value` `[batch,
    seq, kv_heads * head]`, `past_key`/`past_value` `[batch, kv_heads,
    max_seq, head]`, `seqlens_k` and `total_sequence_length`; optional fused
    rotary embedding and a local (sliding) window.
  }];
  let arguments = (ins AnyFloatTensor:$query, OptFloatTensor:$key,
                       OptFloatTensor:$value, OptFloatTensor:$past_key,
                       OptFloatTensor:$past_value, TensorOf<[I32]>:$seqlens_k,
                       TensorOf<[I32]>:$total_sequence_length,
                       OptFloatTensor:$cos_cache, OptFloatTensor:$sin_cache,
                       OptI64Tensor:$position_ids,
                       OptFloatTensor:$attention_bias,
                       OptFloatTensor:$head_sink,
                       DefaultValuedAttr<I64Attr, "0">:$do_rotary,
                       I64Attr:$kv_num_heads,
                       DefaultValuedAttr<I64Attr, "-1">:$local_window_size,
                       I64Attr:$num_heads,
                       DefaultValuedAttr<I64Attr, "0">:$rotary_interleaved,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<I64Attr, "0">:$smooth_softmax,
                       DefaultValuedAttr<F32Attr, "0.0">:$softcap);
  let results = (outs AnyFloatTensor:$output, AnyFloatTensor:$present_key,
                      AnyFloatTensor:$present_value,
                      OptFloatTensor:$output_qk);
}

def ONNXMsSkipLayerNormalizationOp : ONNX_MsOp<"SkipLayerNormalization"> {
  let description = [{
    `LayerNorm(input + skip + bias) * gamma + beta` over the last axis;
    optional outputs give the mean, the inverse standard deviation and the sum.
  }];
  let arguments = (ins AnyFloatTensor:$input, AnyFloatTensor:$skip,
                       AnyFloatTensor:$gamma, OptFloatTensor:$beta,
                       OptFloatTensor:$bias,
                       DefaultValuedAttr<F32Attr, "1e-12">:$epsilon);
  let results = (outs AnyFloatTensor:$output, OptFloatTensor:$mean,
                      OptFloatTensor:$inv_std_var,
                      OptFloatTensor:$input_skip_bias_sum);
}

def ONNXMsSimplifiedLayerNormalizationOp
    : ONNX_MsOp<"SimplifiedLayerNormalization"> {
  let description = [{
    RMS normalisation, `X / sqrt(mean(X^2) + epsilon) * scale`, over the axes
    from `axis`. ONNX Runtime registers it in the ai.onnx domain (opset 1);
    the importer accepts both domains.
  }];
  let arguments = (ins AnyFloatTensor:$X, AnyFloatTensor:$scale,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                       DefaultValuedAttr<I64Attr, "1">:$stash_type);
  let results = (outs AnyFloatTensor:$Y, OptFloatTensor:$inv_std_var);
}

def ONNXMsSkipSimplifiedLayerNormalizationOp
    : ONNX_MsOp<"SkipSimplifiedLayerNormalization"> {
  let description = [{
    RMS normalisation of `input + skip + bias` over the last axis, times
    `gamma`.
  }];
  let arguments = (ins AnyFloatTensor:$input, AnyFloatTensor:$skip,
                       AnyFloatTensor:$gamma, OptFloatTensor:$bias,
                       DefaultValuedAttr<F32Attr, "1e-12">:$epsilon);
  let results = (outs AnyFloatTensor:$output, OptFloatTensor:$mean,
                      OptFloatTensor:$inv_std_var,
                      OptFloatTensor:$input_skip_bias_sum);
}

def ONNXMsFastGeluOp : ONNX_MsOp<"FastGelu"> {
  let description = [{ Tanh-approximated GELU of `X + bias`. }];
  let arguments = (ins AnyFloatTensor:$X, OptFloatTensor:$bias);
  let results = (outs AnyFloatTensor:$Y);
}

def ONNXMsBiasGeluOp : ONNX_MsOp<"BiasGelu"> {
  let description = [{ Exact (erf) GELU of `A + B`, `B` a 1-D bias. }];
  let arguments = (ins AnyFloatTensor:$A, AnyFloatTensor:$B);
  let results = (outs AnyFloatTensor:$C);
}

def ONNXMsGeluOp : ONNX_MsOp<"Gelu"> {
  let description = [{ Exact (erf) GELU. }];
  let arguments = (ins AnyFloatTensor:$X);
  let results = (outs AnyFloatTensor:$Y);
}

def ONNXMsQuickGeluOp : ONNX_MsOp<"QuickGelu"> {
  let description = [{ `X * sigmoid(alpha * X)`. }];
  let arguments = (ins AnyFloatTensor:$X,
                       DefaultValuedAttr<F32Attr, "1.702">:$alpha);
  let results = (outs AnyFloatTensor:$Y);
}

def ONNXMsEmbedLayerNormalizationOp : ONNX_MsOp<"EmbedLayerNormalization"> {
  let description = [{
    BERT embeddings: word, position and segment embedding lookups summed and
    layer-normalised; also the mask index (number of valid tokens per batch).
  }];
  let arguments = (ins TensorOf<[I32]>:$input_ids, OptIntTensor:$segment_ids,
                       AnyFloatTensor:$word_embedding,
                       AnyFloatTensor:$position_embedding,
                       OptFloatTensor:$segment_embedding,
                       AnyFloatTensor:$gamma, AnyFloatTensor:$beta,
                       OptIntTensor:$mask, OptIntTensor:$position_ids,
                       DefaultValuedAttr<F32Attr, "1e-12">:$epsilon,
                       DefaultValuedAttr<I64Attr, "1">:$mask_index_type);
  let results = (outs AnyFloatTensor:$output,
                      AnyTypeOf<[TensorOf<[I32]>, NoneType]>:$mask_index,
                      OptFloatTensor:$embedding_sum);
}

def ONNXMsRotaryEmbeddingOp : ONNX_MsOp<"RotaryEmbedding"> {
  let description = [{
    Rotary embedding of `input` (`[batch, seq, hidden]` or `[batch, heads,
    seq, head]`) at `position_ids`, with `cos_cache`/`sin_cache` of shape
    `[max_position, rotary_dim / 2]`.
  }];
  let arguments = (ins AnyFloatTensor:$input, TensorOf<[I64]>:$position_ids,
                       AnyFloatTensor:$cos_cache, AnyFloatTensor:$sin_cache,
                       DefaultValuedAttr<I64Attr, "0">:$interleaved,
                       DefaultValuedAttr<I64Attr, "0">:$is_packed_batching,
                       DefaultValuedAttr<I64Attr, "0">:$num_heads,
                       DefaultValuedAttr<I64Attr, "0">:$rotary_embedding_dim,
                       DefaultValuedAttr<F32Attr, "1.0">:$scale);
  let results = (outs AnyFloatTensor:$output);
}

def ONNXMsMatMulNBitsOp : ONNX_MsOp<"MatMulNBits"> {
  let description = [{
    `A` times a block-quantised weight: `B` holds `N` rows of `K` weights in
    `bits`-bit groups of `block_size`, as `[N, K / block_size, block_size *
    bits / 8]` uint8, with per-block `scales` and optional `zero_points`.
  }];
  let arguments = (ins AnyFloatTensor:$A, TensorOf<[UI8, I32]>:$B,
                       AnyFloatTensor:$scales, OptAnyTensor:$zero_points,
                       OptAnyTensor:$g_idx, OptFloatTensor:$bias,
                       I64Attr:$K, I64Attr:$N,
                       DefaultValuedAttr<I64Attr, "0">:$accuracy_level,
                       DefaultValuedAttr<I64Attr, "4">:$bits,
                       I64Attr:$block_size);
  let results = (outs AnyFloatTensor:$Y);
}

#endif // PRISM_ONNX_EXTRA_OPS
