//===- Passes.td - GPU target passes -----------------------*- tablegen -*-===//

#ifndef PRISM_TARGET_GPU_PASSES
#define PRISM_TARGET_GPU_PASSES

include "mlir/Pass/PassBase.td"

def GpuMatmulToMma : Pass<"gpu-matmul-to-mma", "mlir::ModuleOp"> {
  let summary = "Bufferized f32 matmuls as tensor-core (mma.sync, tf32) kernels";
  let description = [{
    Every `linalg.matmul` on memrefs with static f32 operands, no
    user-defined indexing maps and M, N, K multiples of the instruction's
    16, 8 and 4 becomes a `gpu.launch` of one warp per 16x8 output tile:
    the K dimension in steps of 4, each step an `nvgpu.mma.sync` (m16n8k4,
    tf32 inputs, f32 accumulation) fed from global memory. Upstream
    transform ops do the work (`tile_using_forall` onto blocks,
    `tile_using_for` over K, `nvgpu.rewrite_matmul_as_mma_sync`,
    `gpu.map_forall_to_blocks`). Other matmuls are left for the SIMT path
    of `prism-lower-gpu`.

    Not yet: shared-memory staging, several warps per block, bf16/fp8
    inputs and tile sizes chosen by the cost model.
  }];
  let dependentDialects = [
    "::mlir::transform::TransformDialect", "::mlir::gpu::GPUDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect", "::mlir::affine::AffineDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
  ];
}

#endif // PRISM_TARGET_GPU_PASSES
