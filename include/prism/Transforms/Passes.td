//===- Passes.td - Prism's cross-dialect passes ------------*- tablegen -*-===//

#ifndef PRISM_TRANSFORMS_PASSES
#define PRISM_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def OnnxBindDims : Pass<"onnx-bind-dims", "mlir::ModuleOp"> {
  let summary = "Bind the model's named symbolic dims to values";
  let description = [{
    Sets the named dynamic dims of `@main_graph`'s arguments (recorded by the
    importer in `onnx.dim_names`) to the given values. A dim named by an
    expression of other dims, as exporters write them
    (`past_sequence_length+sequence_length`), is computed from them when it
    is not given. The bindings are recorded in the module's `onnx.bound_dims`
    attribute. Naming a dim the model does not have is an error.
  }];
  let options = [
    ListOption<"dims", "dims", "std::string",
               "Bindings name=value, comma-separated (names as the model spells them)">,
  ];
  let dependentDialects = ["::prism::onnx::ONNXDialect"];
}

def OnnxInferShapes : Pass<"onnx-infer-shapes", "mlir::func::FuncOp"> {
  let summary = "Infer result shapes and fold shape arithmetic";
  let description = [{
    Re-types every onnx op from its operands with ONNX's inference rules and
    folds the shape computations that become constant (Shape, Gather,
    Unsqueeze, Concat, Reshape, ConstantOfShape, Range, Expand, Where, ...),
    until nothing changes. Dead shape computations are erased and the
    function's result types are updated.
  }];
}

def OnnxUnrollControlFlow : Pass<"onnx-unroll-control-flow", "mlir::func::FuncOp"> {
  let summary = "Inline Ifs and unroll Loops and Scans whose control is constant";
  let description = [{
    An If whose condition is a constant becomes the ops of the branch it
    takes. A Loop whose trip count (or condition) is a constant, and whose
    condition stays constant from iteration to iteration, becomes its
    iterations, its scan outputs stacked by Unsqueeze and Concat. A Scan of
    static length becomes its iterations, reading each slice with Gather and
    stacking its outputs along their axes and directions. Each cloned op is
    re-typed and folded as it is cloned. Control that is not constant stays
    for the lowering to report; unrolling more than 4096 iterations is an
    error.
  }];
}

def OnnxCheckStatic : Pass<"onnx-check-static", "mlir::func::FuncOp"> {
  let summary = "Fail unless every tensor is statically shaped";
  let description = [{
    Reports each symbolic dim that is still unbound, naming the dim, the
    input that carries it and the first node that needs it, and each node
    whose shape stays dynamic after binding (a data-dependent shape).
  }];
}

def XfmrRaise : Pass<"xfmr-raise", "mlir::func::FuncOp"> {
  let summary = "Raise exported transformer graphs to xfmr ops";
  let description = [{
    Finds the transformer blocks in a statically shaped onnx graph and
    rewrites each as one xfmr op, leaving the rest as onnx ops:

    - decomposed attention as PyTorch exports it: MatMul(Q, K^T), a scale
      (Div or Mul, or Q and K^T scaled separately), a mask (Add, or Where
      with a constant fill, clamped with Max), Softmax (between Casts in
      16-bit models) and MatMul with V. Keys and values concatenated to a
      past cache along the sequence become the op's KV cache read and
      append (the Concat's other users, the `present` outputs, read the
      op's present results); keys and values repeated per query head by
      Unsqueeze/Expand/Reshape become grouped-query attention;
    - LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul,
      Add) and RMSNorm (Pow, ReduceMean, Add, Sqrt, Div or Reciprocal, Mul,
      Mul) over the last axis, with the Cast of 16-bit models;
    - GELU in its Erf and Tanh forms, SiLU as x * Sigmoid(x), and the gated
      MLP's product silu(gate) * up (swiglu) or gelu(gate) * up (geglu);
    - rotary embedding as x * cos + rotate_half(x) * sin;
    - Gather of rows of a 2-D weight table (embedding);
    - the fused operators: com.microsoft Attention, MultiHeadAttention,
      GroupQueryAttention, SkipLayerNormalization,
      SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization,
      EmbedLayerNormalization, FastGelu,
      BiasGelu, Gelu, QuickGelu and RotaryEmbedding; ai.onnx
      LayerNormalization (last axis), RMSNormalization, Gelu, and the
      opset-23 Attention and RotaryEmbedding.

    A form that almost matches is left as it is (the graph stays correct);
    `--prism-debug-only=xfmr-raise` prints why it did not match.
    GroupQueryAttention becomes the placement of this step's keys and values
    in the cache buffer at the run-time sequence lengths (onnx ops), a
    mask from those lengths, and one xfmr.attention over the buffer.
  }];
  let dependentDialects = ["::prism::xfmr::XfmrDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numAttention", "attention", "xfmr.attention ops after raising">,
    Statistic<"numNorms", "norms", "xfmr.rms_norm and xfmr.layer_norm ops after raising">,
  ];
}

def XfmrSplitPhases : Pass<"xfmr-split-phases", "mlir::ModuleOp"> {
  let summary = "Derive static @prefill and @decode programs from one decoder graph";
  let description = [{
    From the imported graph (`@main_graph`, symbolic dims), builds:

    - `@prefill`: `prompt` new tokens per sequence, an empty past; it returns
      the model's outputs and the KV cache of the prompt as one
      `!xfmr.kv_cache` value (length `prompt`);
    - `@decode`: one new token per sequence after `context` cached
      positions; it takes the cache as one `!xfmr.kv_cache` value (length
      `context`) and returns the model's outputs and this step's keys and
      values as a `!xfmr.kv_cache` of length 1, to be appended at the
      caller's position (the attention mask says which cached positions
      are valid).

    Both are fully static (bound, shape-inferred and folded as in
    `onnx-to-static`) and read the weights from shared `ml_program.global`
    constants instead of copies. The KV cache inputs are the arguments named
    `past...` (`[batch, kv_heads, past_sequence, head_size]`, a key then a
    value per layer, as PyTorch exports `past_key_values`) and the outputs
    named `present...`; the batch dim is their dim 0 and the sequence dim
    dim 1 of the first 2-D integer input (`input_ids`). Because `@decode`'s
    cache is a fixed buffer of which only some positions are filled, the
    graph must take `attention_mask` (`[batch, past + sequence]`) and
    `position_ids` inputs; a graph with a cache but without them is an
    error. A graph without a KV cache (an encoder) gives `@prefill` alone;
    adding a cache to a decoder exported without one is not done.
  }];
  let options = [
    Option<"prompt", "prompt", "int64_t", /*default=*/"0",
           "New tokens per sequence in @prefill (P)">,
    Option<"context", "context", "int64_t", /*default=*/"0",
           "Cached positions @decode reads (C)">,
    Option<"batch", "batch", "int64_t", /*default=*/"1", "Sequences (B)">,
  ];
  let dependentDialects = ["::prism::xfmr::XfmrDialect",
                           "::mlir::ml_program::MLProgramDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // PRISM_TRANSFORMS_PASSES
