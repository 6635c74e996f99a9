//===- Passes.td - Host (CPU) target passes ----------------*- tablegen -*-===//

#ifndef PRISM_TARGET_HOST_PASSES
#define PRISM_TARGET_HOST_PASSES

include "mlir/Pass/PassBase.td"

def HostTileAndVectorize : Pass<"host-tile-and-vectorize", "mlir::func::FuncOp"> {
  let summary = "Tile linalg ops on tensors into register-sized tiles and "
                "vectorize them";
  let description = [{
    For the host CPU. Each statically shaped linalg op becomes `scf.for`
    loops around a tile that the linalg vectorizer turns into vector ops:

    - contractions (matmul, batch_matmul, and generics with one reduction
      loop that multiply and add): `m-tile` rows by `n-tile` columns by
      `k-tile` of the reduction, a `vector.contract`;
    - other reductions (softmax, normalisation statistics): one row at a
      time, the reduced dim in chunks of up to `vector-width * 8`, a
      `vector.multi_reduction`;
    - elementwise generics and fills: the innermost dim in chunks of up to
      `vector-width * 8`.

    A parallel dim that its tile does not divide is first split at the last
    multiple of the tile (the op becomes two, the rest one smaller static
    tile); a reduction dim takes the largest divisor up to the limit. So
    every tile is full and static and needs no masks. Ops whose body reads with
    `tensor.extract` (Gather, general Slice) and transposes stay scalar.

    With `threads` > 1, a contraction of at least 2^23 multiply-adds (or whose
    weight, the operand without the rows, has at least 2^20 elements) whose
    columns split evenly into `threads` chunks of whole tiles is first
    tiled by an `scf.forall` over those chunks; host-lower-to-llvm runs its
    iterations on MLIR's async runtime.
  }];
  let options = [
    // 8x32x128 ran fastest of 23 sizes tried on GPT-2 small's LM head (a
    // 128x768x50257 matmul); benchmarks/matmul_throughput.py printed 50.8
    // GFLOP/s with 16x32x32 and 78.7 with these. Tiles with all of K ran
    // faster still but took minutes to compile on GPT-2 small.
    Option<"mTile", "m-tile", "int64_t", /*default=*/"8",
           "Rows of a contraction tile">,
    Option<"nTile", "n-tile", "int64_t", /*default=*/"32",
           "Columns of a contraction tile">,
    Option<"kTile", "k-tile", "int64_t", /*default=*/"128",
           "Reduction depth of a contraction tile">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Elements of a hardware vector (f32 on AVX-512)">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Split each large contraction's columns into this many "
           "scf.forall iterations (run in parallel by host-lower-to-llvm)">,
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect",
  ];
}

def HostExposeEntry : Pass<"host-expose-entry", "mlir::ModuleOp"> {
  let summary = "Give each phase a C entry point and drop its ONNX attributes";
  let description = [{
    Marks every defined function `llvm.emit_c_interface`, so that its
    lowering has the `_mlir_ciface_<name>` entry taking memref descriptors
    by pointer (the one `prism-run` calls, JIT-compiled or loaded from an
    object file), and removes the argument and result attributes (ONNX names
    and dim names) that the LLVM lowering has no use for. The names stay in
    the bundle's manifest.
  }];
}

#endif // PRISM_TARGET_HOST_PASSES
