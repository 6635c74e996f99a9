//===- Passes.td - Prism's conversion passes ---------------*- tablegen -*-===//

#ifndef PRISM_CONVERSION_PASSES
#define PRISM_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertOnnxToLinalg : Pass<"convert-onnx-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower statically shaped onnx ops to linalg on tensors";
  let description = [{
    The first step of the host pipeline. Elementwise operators with ONNX's
    broadcasting become `linalg.generic` (float, signed and unsigned
    integer arithmetic, comparisons, Where, Cast, the activation functions);
    MatMul becomes one `linalg.matmul` over all rows or one
    `linalg.batch_matmul` over equal batch dims (a generic when batch dims
    broadcast; a transposed weight is read through the indexing map);
    reductions, Softmax/LogSoftmax, ArgMax/ArgMin and CumSum become
    reduction generics; Gather, GatherElements, Slice, Tile, OneHot and the
    like read at computed coordinates; Concat, Split, Transpose and the
    reshapes become tensor ops.

    Composite operators are first rewritten as the simpler onnx ops they are
    made of (they are then lowered in turn): LayerNormalization, RMS
    normalisations, SkipLayerNormalization, BatchNormalization,
    InstanceNormalization, Gemm, the loss functions,
    ReduceL1/L2/LogSum/LogSumExp/SumSquare, MatMulInteger and MatMulNBits.
    The transformer operators (the GELUs, the com.microsoft Attention,
    MultiHeadAttention, GroupQueryAttention, EmbedLayerNormalization and
    RotaryEmbedding, the opset-23 Attention and RotaryEmbedding) reach the
    host raised to xfmr (`xfmr-raise`, then `convert-xfmr-to-onnx`): this
    pass reports them as such when they come unraised.
    DequantizeLinear and QuantizeLinear keep ONNX's exact integer semantics.

    Every onnx op it does not lower is an error naming the op and its node,
    and forms it does not handle (a 4-D attention mask, training Dropout)
    are reported before anything is rewritten: nothing is left
    half-converted. Shapes must be static (run `onnx-to-static` first).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
    "::mlir::cf::ControlFlowDialect", "::mlir::scf::SCFDialect",
  ];
}

def ConvertXfmrToOnnx : Pass<"convert-xfmr-to-onnx", "mlir::ModuleOp"> {
  let summary = "Rewrite xfmr ops as the onnx ops that compute them (the host's reference path)";
  let description = [{
    Each xfmr op becomes the primitive onnx ops of its definition, which
    `convert-onnx-to-linalg` then lowers: attention as MatMul, Softmax and
    MatMul (keys and values concatenated with the past, key/value heads
    repeated for grouped-query attention, causal and sliding-window masks as
    a `linalg.generic`, scores and softmax in f32 for 16-bit types); the
    norms as reductions; rotary as slices, Neg and Concat; the activations
    as Erf, Tanh and Sigmoid; embedding as Gather. An xfmr op it cannot
    rewrite (a dynamic shape) is an error.

    The phases' boundaries become host tensors too: a `!xfmr.kv_cache`
    argument or result is the tensor `[layers, 2, batch, heads, length,
    head_dim]` (kv_cache_read slices it, kv_cache_pack stacks it), and the
    `ml_program.global` weights become constants where they are loaded.
  }];
  let dependentDialects = [
    "::prism::onnx::ONNXDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::ml_program::MLProgramDialect",
  ];
}

def ConvertXfmrToLpu : Pass<"convert-xfmr-to-lpu", "mlir::ModuleOp"> {
  let summary = "Lower one phase to a tensor-level lpu.program of chains";
  let description = [{
    Lowers the phase function `function` (the `@prefill` or `@decode` of
    `xfmr-split-phases`) for `chips` SRAM-LPU chips of the device
    description `device`, and replaces it with the `lpu.program` of the
    same name. Activations live in SRAM as pieces, one 320-byte
    vector per token; matmuls are 320-column weight tiles on the MXM with
    K chunks accumulated through partial sums; norms and softmax reduce
    lanes on the SXM; attention keeps the KV cache in SRAM, a key/value
    head per chip of a stage. The ops are cut into pipeline stages of
    `tensor-parallel` chips balanced by weight bytes; within a stage the
    chips share every matmul's tiles, the embedding blocks and the
    attention heads, with C2C transfers between them.

    Each compute step is an `lpu.chain` after the chains it reads from
    (tokens); SRAM is allocated here, time by `lpu-schedule`. An op it
    cannot lower (LayerNorm, GELU, MoE, batch > 1) is an error at the op
    naming it; nothing is added then. docs/lpu-target.md has the details.
  }];
  let options = [
    Option<"function", "function", "std::string", /*default=*/"\"decode\"",
           "The phase function to lower">,
    Option<"chips", "chips", "int64_t", /*default=*/"1", "Chips to lower for">,
    Option<"tensorParallel", "tensor-parallel", "int64_t", /*default=*/"0",
           "Chips per pipeline stage (0: the largest divisor of chips up to the "
           "device's tensor_parallel_max)">,
    Option<"weightDtype", "weight-dtype", "std::string", /*default=*/"\"f16\"",
           "Weights on the MXM: f16 (or fp16; numerics) or i8 (or int8; static scale 1; "
           "timing)">,
    Option<"device", "device", "std::string", /*default=*/"\"lpu-v1\"",
           "The device description: a kind of hardware-dir, or a .json file">,
    Option<"hardwareDir", "hardware-dir", "std::string", /*default=*/"\"\"",
           "The folder of device descriptions (default: the shipped one)">,
  ];
  let dependentDialects = ["::prism::lpu::LpuDialect"];
}

#endif // PRISM_CONVERSION_PASSES
