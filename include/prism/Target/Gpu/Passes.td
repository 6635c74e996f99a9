//===- Passes.td - GPU target passes -----------------------*- tablegen -*-===//

#ifndef PRISM_TARGET_GPU_PASSES
#define PRISM_TARGET_GPU_PASSES

include "mlir/Pass/PassBase.td"

def GpuMatmulToKernels : Pass<"gpu-matmul-to-kernels", "mlir::ModuleOp"> {
  let summary = "Bufferized f32 matmuls as Prism's tensor-core GEMM or weight-streaming GEMV";
  let description = [{
    Every `linalg.matmul` on static f32 memrefs, with plain maps or B
    transposed ([N, K], as a tied LM head is exported), becomes a
    `gpu.launch_func` of a kernel in the `@prism_kernels` gpu.module, with
    linalg's semantics (C += A B):

    - the **GEMM**: blocks of `bm x bn` outputs, K staged `bk` at a time
      through shared memory as bf16, each warp's tile computed with
      `mma.sync` m16n8k16 (bf16 inputs, f32 accumulation); partial tiles
      at the edges are zero-filled, so any M, N and K work;
    - the **GEMV**: one warp per output column streams its weight row in
      16-byte vectors and reduces with shuffles; for decode's few rows.

    A constant weight (`memref.get_global` of a constant global) is stored
    again in the weight dtype as [N, K]: `<global>_t_<weights>` when it was
    [K, N], `<global>_<weights>` when it already was [N, K]. Both kernels
    then read it along K. Other B operands are read as they are (GEMM
    only).

    **fp8** (`weights=fp8`; compute capability 8.9 or later): the weight is
    stored as e4m3 (`f8E4M3FN`) with a scale per output channel (its
    largest magnitude / 448, `<name>_scale`), rounded to nearest even. The
    GEMM first quantizes A per row (a `quantize_rows` launch into two new
    buffers: the e4m3 bits as i8 and the row scales), then multiplies with
    the m16n8k32 e4m3 `mma.sync` and scales the f32 products back; the GEMV
    converts the streamed e4m3 weights to f32 in registers and scales each
    column's sum. Non-constant B operands stay bf16.

    The tile and the choice between GEMM and GEMV come from Tiling.h's
    model of the device (`device`: its `gpu` figures, bf16 and fp32 peaks
    and HBM bandwidth), not from constants here.

    **Epilogues** (`fuse-epilogues`, on by default): when the matmul's C is
    a zero-filled allocation whose only reader is one all-parallel
    `linalg.generic` (a bias add, an activation, a residual add), directly
    or through an `expand_shape` that keeps N the last dim, and nothing
    between the two touches a buffer, the kernel computes the generic's
    body on each product element and stores that to the generic's output.
    The generic, C and its fill go away. The body may read the generic's
    other inputs (through their indexing maps), constants and host memrefs
    (passed to the kernel).
  }];
  let options = [
    Option<"device", "device", "std::string", /*default=*/"\"h100-sxm\"",
           "The GPU's device kind, or a .json device description">,
    Option<"hardwareDir", "hardware-dir", "std::string", /*default=*/"\"\"",
           "Folder of device descriptions (default: Prism's hardware/devices)">,
    Option<"weights", "weights", "std::string", /*default=*/"\"bf16\"",
           "Dtype constant weights are stored in: bf16, f32 or fp8 (e4m3, a scale per output channel)">,
    Option<"fuseEpilogues", "fuse-epilogues", "bool", /*default=*/"true",
           "Fuse the elementwise op reading a matmul's result into its kernel">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
  ];
}

def GpuFuseAttention : Pass<"gpu-fuse-attention", "mlir::ModuleOp"> {
  let summary = "xfmr.attention as one launch of Prism's flash-attention kernel";
  let description = [{
    On tensors, before the host path's lowering: each `xfmr.attention` on
    static f32 tensors becomes a `gpu.launch_func` of a flash-attention
    kernel in `@prism_kernels`. A block takes a tile of one head's queries,
    stages them in shared memory, and walks the keys a tile at a time
    (keys, then values, in shared memory) with an online softmax: running
    row max and sum, earlier output rescaled as the max grows. Grouped-query
    heads, the mask (added, then clamped to the lowest float), causal and
    sliding-window masking and the softcap follow `xfmr.attention`.

    When one block per query tile would leave SMs idle (decode: one query
    per head), the keys are split across blocks (split-KV); each writes its
    unnormalized output, max and sum, and a combine kernel merges them.

    The tile and the split come from Tiling.h's model of `device`. The
    operands enter through `bufferization.to_buffer`, the output leaves
    through `bufferization.to_tensor`; the presents (past followed by this
    step's keys and values) stay `tensor.insert_slice`s.
  }];
  let options = [
    Option<"device", "device", "std::string", /*default=*/"\"h100-sxm\"",
           "The GPU's device kind, or a .json device description">,
    Option<"hardwareDir", "hardware-dir", "std::string", /*default=*/"\"\"",
           "Folder of device descriptions (default: Prism's hardware/devices)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect",
  ];
}

def GpuExpandMath : Pass<"gpu-expand-math", "mlir::gpu::GPUModuleOp"> {
  let summary = "Math ops in kernels as PTX instructions and polynomials, without libdevice";
  let description = [{
    The NVVM lowering would turn math ops into calls of CUDA's libdevice
    (`__nv_expf`, `__nv_tanhf`, `__nv_sqrtf`), left in the PTX as externs
    that nothing resolves without the CUDA toolkit. This pass gives kernels
    what the PTX ISA has: f32 `math.sqrt`, `floor`, `ceil`, `roundeven`
    and `exp2` become inline PTX (`nvvm.inline_ptx`: `sqrt.rn.f32`,
    `cvt.rmi.f32.f32`, `ex2.approx.f32`, ...; the NVVM lowering would send
    their LLVM intrinsics to libdevice too), `fma` LLVM's `llvm.fma`,
    `absf` and `copysign` sign-bit arithmetic, `rsqrt` a division of one by
    the square root, and `exp`, `tanh`, `erf`, `log` and the other
    transcendental ops upstream's
    polynomial approximations. A math op left over is an error naming it.
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::vector::VectorDialect"];
}

def GpuCopyToLinalg : Pass<"gpu-copy-to-linalg", "mlir::func::FuncOp"> {
  let summary = "memref.copy as linalg.copy, so that copies run as kernels";
  let description = [{
    Bufferization copies buffers with `memref.copy` (concatenations, the
    KV cache's append, results that alias). On the GPU a copy between
    device buffers is a kernel like any other: as `linalg.copy`, it takes
    the parallel-loops path of `prism-lower-gpu`, and the host is left with
    allocations, views and launches only.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def GpuLeaveOutExternalWeights : Pass<"gpu-leave-out-external-weights", "mlir::ModuleOp"> {
  let summary = "External-data weights as values left out (the GPU target does not load them yet)";
  let description = [{
    Weights an ONNX model keeps in external data stay `#onnx.external_data`
    references, which the host lowering cannot take. The GPU target does
    not load external data yet: each such `ml_program.global` becomes a
    `dense_resource` handle without values (as `--elide-weights` leaves
    inline weights), tagged `prism.external_data` with the reference. The
    phase compiles; its launch plan marks the buffer as left out, and
    `prism-run --device=cuda` refuses to run it except with
    `--elided-weights-as-zeros` (for timing).
  }];
  let dependentDialects = ["::mlir::ml_program::MLProgramDialect"];
}

def GpuFuseNormRotary : Pass<"gpu-fuse-norm-rotary", "mlir::ModuleOp"> {
  let summary = "xfmr norms and rotary as one launch each of Prism's fused kernels";
  let description = [{
    On tensors, before the host path's lowering: `xfmr.rms_norm` and
    `xfmr.layer_norm` on static f32 tensors (with their residual add, whose
    sum they also return, and LayerNorm's bias) become a launch of a row
    kernel: a block per row, the row's sums reduced by warp shuffles and
    shared memory (two passes for the variance), then the row normalized.
    `xfmr.rotary` becomes a launch of an elementwise kernel (half rotation
    or interleaved pairs, the part past cos/sin's width passed through;
    cos/sin one row per position, shared by the leading dims or given for
    each). The linalg path makes several kernels of each. Others are left
    to it.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect",
  ];
}

def GpuFlattenParallelLoops : Pass<"gpu-flatten-parallel-loops", "mlir::func::FuncOp"> {
  let summary = "Parallel loops as one linear index over blocks of up to 256 threads";
  let description = [{
    `gpu-map-parallel-loops` puts the first three dims of a parallel loop
    on blocks and only a nested loop's dims on threads. The loops
    `convert-linalg-to-parallel-loops` makes are single: each block ran one
    thread, and dims past the third ran sequentially in it. Each outermost
    `scf.parallel` with static bounds from 0 by 1 (and no reductions)
    becomes two nested ones, blocks and threads (up to 256, whole warps),
    over one linear index; a guard skips the tail, and the original
    indices are recovered from the linear one (row-major).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect"];
}

def GpuFuseElementwise : Pass<"gpu-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Chains of elementwise linalg ops as one op (one kernel), matmuls left as they are";
  let description = [{
    Upstream's elementwise fusion of linalg on tensors, without the
    reshape propagation of `linalg-fuse-elementwise-ops` (which turns a
    `linalg.matmul` behind an `expand_shape` into a generic contraction
    that `gpu-matmul-to-kernels` no longer sees): a producer is fused into
    its consumer when both are elementwise `linalg.generic`s (all loops
    parallel). A bias add and a decomposed GELU's eight steps become one
    op, so one kernel. A producer that some other kind of op reads too (a
    norm, a matmul, the attention) is stored anyway: it is not fused into
    its elementwise readers, which load it instead of computing it again.
    (Recomputed, each residual add of a model redid the residual stream
    before it, embedding gather included.)
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

#endif // PRISM_TARGET_GPU_PASSES
