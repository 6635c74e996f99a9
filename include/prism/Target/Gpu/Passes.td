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

    The tile and the choice between GEMM and GEMV come from Tiling.h's
    model of the device (`device`: its `gpu` figures, bf16 and fp32 peaks
    and HBM bandwidth), not from constants here.
  }];
  let options = [
    Option<"device", "device", "std::string", /*default=*/"\"h100-sxm\"",
           "The GPU's device kind, or a .json device description">,
    Option<"hardwareDir", "hardware-dir", "std::string", /*default=*/"\"\"",
           "Folder of device descriptions (default: Prism's hardware/devices)">,
    Option<"weights", "weights", "std::string", /*default=*/"\"bf16\"",
           "Dtype constant weights are stored in: bf16 or f32">,
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
    what the PTX ISA has: f32 `math.sqrt`, `fma`, `absf`, `copysign`,
    `floor`, `ceil`, `roundeven` and `exp2` become inline PTX (`nvvm.inline_ptx`:
    `sqrt.rn.f32`, `ex2.approx.f32`, ...; the NVVM lowering would send their
    LLVM intrinsics to libdevice too), `math.rsqrt` a division of one by
    the square root, and `exp`,
    `tanh`, `erf`, `log` and the other transcendental ops upstream's
    polynomial approximations. A math op left over is an error naming it.
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::vector::VectorDialect"];
}

#endif // PRISM_TARGET_GPU_PASSES
