//===- MatmulToMma.cpp - The gpu-matmul-to-mma pass -------------------------===//
//
// Marks the matmuls the tensor cores take as they are, then runs a
// transform script of upstream ops on them: each becomes a gpu.launch of
// one warp per 16x8 output tile, stepping K by 4 with mma.sync (tf32).
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/GPU/TransformOps/GPUTransformOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/TransformOps/DialectExtension.h"
#include "mlir/Dialect/NVGPU/TransformOps/NVGPUTransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

namespace prism {
#define GEN_PASS_DEF_GPUMATMULTOMMA
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

/// The attribute that selects a matmul for the script.
constexpr llvm::StringLiteral kMarker = "prism.mma";

// m16n8k4: a warp's output tile is 16x8 and each step takes 4 of K.
constexpr const char *kScript = R"mlir(
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} attributes{prism.mma} in %root
        : (!transform.any_op) -> !transform.any_op
    %tile, %forall = transform.structured.tile_using_forall %mm tile_sizes [16, 8]
        (mapping = [#gpu.block<y>, #gpu.block<x>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %step, %loop = transform.structured.tile_using_for %tile tile_sizes [0, 0, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.nvgpu.rewrite_matmul_as_mma_sync %step : (!transform.any_op) -> ()
    %launch = transform.gpu.map_forall_to_blocks %forall generate_gpu_launch
        : (!transform.any_op) -> !transform.any_op
    %warp = transform.gpu.map_nested_forall_to_threads %launch block_dims = [32, 1, 1]
        : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
)mlir";

/// Static f32 memref operands, the plain matmul maps and whole m16n8k4 tiles.
bool fitsMmaSync(linalg::MatmulOp mm) {
  if (mm.hasUserDefinedMaps() || !mm.hasPureBufferSemantics())
    return false;
  for (Value v : mm->getOperands()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return false;
  }
  ArrayRef<int64_t> a = cast<MemRefType>(mm.getInputs()[0].getType()).getShape();
  ArrayRef<int64_t> b = cast<MemRefType>(mm.getInputs()[1].getType()).getShape();
  return a[0] % 16 == 0 && b[1] % 8 == 0 && a[1] % 4 == 0;
}

struct GpuMatmulToMmaPass : prism::impl::GpuMatmulToMmaBase<GpuMatmulToMmaPass> {
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    // The script's ops.
    linalg::registerTransformDialectExtension(registry);
    gpu::registerTransformDialectExtension(registry);
    nvgpu::registerTransformDialectExtension(registry);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool any = false;
    module.walk([&](linalg::MatmulOp mm) {
      if (fitsMmaSync(mm)) {
        mm->setAttr(kMarker, UnitAttr::get(&getContext()));
        any = true;
      }
    });
    if (!any)
      return;
    OwningOpRef<ModuleOp> script = parseSourceString<ModuleOp>(kScript, &getContext());
    if (!script) {
      module.emitError("gpu-matmul-to-mma: its transform script does not parse");
      return signalPassFailure();
    }
    Operation *entry = transform::detail::findTransformEntryPoint(*script, *script);
    if (!entry ||
        failed(transform::applyTransformNamedSequence(module, entry, *script,
                                                      transform::TransformOptions())))
      return signalPassFailure();
  }
};

} // namespace
