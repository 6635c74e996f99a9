//===- XfmrOps.td - Ops of the xfmr dialect ----------------*- tablegen -*-===//

#ifndef PRISM_XFMR_OPS
#define PRISM_XFMR_OPS

include "prism/Dialect/Xfmr/XfmrBase.td"

class Xfmr_WorkOp<string mnemonic, list<Trait> traits = []>
    : Xfmr_Op<mnemonic, !listconcat(traits, [Pure,
          DeclareOpInterfaceMethods<Xfmr_WorkInterface>])>;

def Xfmr_AttentionOp : Xfmr_WorkOp<"attention", [AttrSizedOperandSegments]> {
  let summary = "Scaled dot-product attention (MHA, GQA, MQA) with an optional KV cache";
  let description = [{
    `softmax(scale * Q K^T + mask) V` per head. `query` is `[B, Hq, S, D]`,
    `key` and `value` are `[B, Hkv, T, D]` and `[B, Hkv, T, Dv]` with `Hq` a
    multiple of `Hkv` (query head `h` reads key/value head `h / (Hq / Hkv)`:
    grouped-query attention; `Hkv = 1` is multi-query).

    With `past_key`/`past_value` (`[B, Hkv, P, D]`), the keys and values
    attended to are the past followed by this step's, and the results
    `present_key`/`present_value` are that concatenation (`[B, Hkv, P + T,
    D]`): the op reads the cache and appends to it.

    `mask` is added to the scores and broadcasts to `[B, Hq, S, P + T]`
    (padding masks, ALiBi-style biases); masked scores are clamped to the
    lowest finite value, as exporters clamp them. `causal` masks key `j` for query `i`
    when `j > P + T - S + i`; `window > 0` also masks keys more than
    `window - 1` positions before the query's (sliding window). `softcap >
    0` replaces the scores by `softcap * tanh(scores / softcap)` before the
    mask. The result is `[B, Hq, S, Dv]`.

    ```mlir
    %o, %pk, %pv = xfmr.attention %q, %k, %v past %past_k, %past_v mask %m
        {scale = 0.25 : f64}
        : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
           tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>, tensor<1x1x1x8xf32>)
        -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value,
                       Optional<AnyRankedTensor>:$past_key,
                       Optional<AnyRankedTensor>:$past_value,
                       Optional<AnyRankedTensor>:$mask,
                       F64Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedAttr<I64Attr, "0">:$window,
                       DefaultValuedAttr<F64Attr, "0.0">:$softcap);
  // With a past: present_key and present_value.
  let results = (outs AnyRankedTensor:$output,
                      Variadic<AnyRankedTensor>:$presents);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`past` $past_key^ `,` $past_value)?
    (`mask` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumQueryHeads() { return getQuery().getType().getDimSize(1); }
    int64_t getNumKvHeads() { return getKey().getType().getDimSize(1); }
    int64_t getHeadSize() { return getQuery().getType().getDimSize(3); }
    mlir::TypedValue<mlir::RankedTensorType> getPresentKey() {
      return getPresents().empty() ? nullptr
          : llvm::cast<mlir::TypedValue<mlir::RankedTensorType>>(getPresents()[0]);
    }
    mlir::TypedValue<mlir::RankedTensorType> getPresentValue() {
      return getPresents().size() < 2 ? nullptr
          : llvm::cast<mlir::TypedValue<mlir::RankedTensorType>>(getPresents()[1]);
    }
    /// Past positions (0 without a cache).
    int64_t getPastLength() {
      return getPastKey() ? getPastKey().getType().getDimSize(2) : 0;
    }
  }];
}

def Xfmr_RmsNormOp : Xfmr_WorkOp<"rms_norm"> {
  let summary = "RMS normalization over the last dim, with an optional residual add";
  let description = [{
    `y = (x + residual) / sqrt(mean((x + residual)^2) + epsilon) * scale`
    over the last dim, computed in the element type of `x` (raising inserts
    the casts of a float16 model). With `residual`, the second result is the
    sum `x + residual` (the residual stream that SkipSimplifiedLayerNormalization
    returns).
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       Optional<AnyRankedTensor>:$residual,
                       AnyRankedTensor:$scale, F64Attr:$epsilon);
  let results = (outs AnyRankedTensor:$output,
                      Optional<AnyRankedTensor>:$residual_sum);
  let assemblyFormat = [{
    $input (`residual` $residual^)? `,` $scale attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Xfmr_LayerNormOp : Xfmr_WorkOp<"layer_norm", [AttrSizedOperandSegments]> {
  let summary = "Layer normalization over the last dim, with an optional residual add";
  let description = [{
    `y = (s - mean(s)) / sqrt(var(s) + epsilon) * scale + bias` over the last
    dim, for `s = x + residual` (or `x`). With `residual`, the second result
    is `s` (SkipLayerNormalization's residual stream).
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       Optional<AnyRankedTensor>:$residual,
                       AnyRankedTensor:$scale, Optional<AnyRankedTensor>:$bias,
                       F64Attr:$epsilon);
  let results = (outs AnyRankedTensor:$output,
                      Optional<AnyRankedTensor>:$residual_sum);
  let assemblyFormat = [{
    $input (`residual` $residual^)? `,` $scale (`bias` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Xfmr_RotaryOp : Xfmr_WorkOp<"rotary"> {
  let summary = "Rotary position embedding";
  let description = [{
    `y = x * cos + rotate(x) * sin` on the first `R` elements of the last dim
    of `x` (`[..., S, D]`), where `R` is the last dim of `cos` and `sin`
    (which broadcast to `x` there: one row per position, gathered by the
    position ids) and the other `D - R` elements pass through. `rotate` is
    the half rotation `[-x2, x1]` of the two halves, or with `interleaved`
    the rotation `(-x1, x0)` of each pair.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$cos,
                       AnyRankedTensor:$sin,
                       DefaultValuedAttr<BoolAttr, "false">:$interleaved);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Xfmr_GeluOp : Xfmr_WorkOp<"gelu", [SameOperandsAndResultType]> {
  let summary = "GELU: exact (erf), tanh-approximated or sigmoid-approximated";
  let description = [{
    `approximate = "none"`: `x / 2 * (1 + erf(x / sqrt(2)))`; `"tanh"`: `x / 2
    * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))`; `"sigmoid"`: `x *
    sigmoid(alpha * x)` (QuickGelu, `alpha` 1.702 by default).
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$approximate,
                       DefaultValuedAttr<F64Attr, "1.702">:$alpha);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Xfmr_SiluOp : Xfmr_WorkOp<"silu", [SameOperandsAndResultType]> {
  let summary = "SiLU (swish): x * sigmoid(x)";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Xfmr_SwiGluOp : Xfmr_WorkOp<"swiglu", [SameOperandsAndResultType]> {
  let summary = "Gated SiLU of a gated MLP: silu(gate) * up";
  let arguments = (ins AnyRankedTensor:$gate, AnyRankedTensor:$up);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($gate)";
}

def Xfmr_GeGluOp : Xfmr_WorkOp<"geglu", [SameOperandsAndResultType]> {
  let summary = "Gated GELU of a gated MLP: gelu(gate) * up";
  let arguments = (ins AnyRankedTensor:$gate, AnyRankedTensor:$up,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$approximate);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($gate)";
  let hasVerifier = 1;
}

def Xfmr_EmbeddingOp : Xfmr_WorkOp<"embedding"> {
  let summary = "Embedding lookup: rows of a table by integer ids";
  let description = [{
    `output[i..., :] = table[ids[i...], :]` for a `[V, D]` table; ids outside
    `[-V, V)` are clamped, negative ones count from the end (as ONNX Gather).
  }];
  let arguments = (ins AnyRankedTensor:$table, AnyRankedTensor:$ids);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$table `[` $ids `]` attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Xfmr_KvCachePackOp : Xfmr_Op<"kv_cache_pack", [Pure]> {
  let summary = "Make a KV cache value from each layer's keys and values";
  let description = [{
    Operands are layer 0's key and value, then layer 1's, ...: each
    `[batch, heads, length, head_dim]` as the result type says.
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$entries);
  let results = (outs Xfmr_KvCacheType:$cache);
  let assemblyFormat = "$entries attr-dict `:` type($entries) `->` qualified(type($cache))";
  let hasVerifier = 1;
}

def Xfmr_KvCacheReadOp : Xfmr_Op<"kv_cache_read", [Pure]> {
  let summary = "One layer's keys or values of a KV cache";
  let arguments = (ins Xfmr_KvCacheType:$cache,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
                       BoolAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$cache attr-dict `:` qualified(type($cache)) `->` type($result)";
  let hasVerifier = 1;
}

#endif // PRISM_XFMR_OPS
