//===- FuseNormRotary.cpp - The gpu-fuse-norm-rotary pass -----------------===//
//
// xfmr.rms_norm and xfmr.layer_norm (with their residual add and bias) and
// xfmr.rotary on static f32 tensors become one launch each of Prism's row
// normalization and rotary kernels, where the linalg path makes several
// (sum of squares, mean, rsqrt, scale, ... each its own kernel). Like
// gpu-fuse-attention it runs on tensors, through bufferization.to_buffer
// and to_tensor; the operands are collapsed to the kernels' ranks first.
//
//===----------------------------------------------------------------------===//

#include "prism/Dialect/Xfmr/XfmrOps.h"
#include "prism/Target/Gpu/Kernels.h"
#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"

namespace prism {
#define GEN_PASS_DEF_GPUFUSENORMROTARY
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism::gpu;
namespace xfmr = prism::xfmr;

namespace {


/// `v` with its leading dims merged so that `keep` trailing dims remain.
Value mergeLeading(ImplicitLocOpBuilder &b, Value v, int64_t keep) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  if (rank == keep + 1)
    return v;
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t d = 0; d < rank - keep; ++d)
    groups[0].push_back(d);
  for (int64_t d = rank - keep; d < rank; ++d)
    groups.push_back({d});
  return tensor::CollapseShapeOp::create(b, v, groups);
}


/// A launch's result buffer as a tensor of `type` (it has the kernel's
/// merged shape, expanded back).
Value asTensor(ImplicitLocOpBuilder &b, Value buffer, RankedTensorType type) {
  auto memref = cast<MemRefType>(buffer.getType());
  Value t = bufferization::ToTensorOp::create(
      b, RankedTensorType::get(memref.getShape(), memref.getElementType()), buffer,
      /*restrict=*/true, /*writable=*/true);
  if (memref.getShape() == type.getShape())
    return t;
  int64_t keep = memref.getRank() - 1;
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t d = 0; d < type.getRank() - keep; ++d)
    groups[0].push_back(d);
  for (int64_t d = type.getRank() - keep; d < type.getRank(); ++d)
    groups.push_back({d});
  return tensor::ExpandShapeOp::create(b, type, t, groups);
}

struct GpuFuseNormRotaryPass : prism::impl::GpuFuseNormRotaryBase<GpuFuseNormRotaryPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<xfmr::RmsNormOp, xfmr::LayerNormOp, xfmr::RotaryOp>(op))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    KernelModule kernels(getOperation());
    for (Operation *op : ops) {
      if (auto norm = dyn_cast<xfmr::RmsNormOp>(op))
        fuseNorm(op, norm.getInput(), norm.getResidual(), norm.getScale(), Value(),
                 norm.getEpsilon().convertToDouble(), true, kernels);
      else if (auto norm = dyn_cast<xfmr::LayerNormOp>(op))
        fuseNorm(op, norm.getInput(), norm.getResidual(), norm.getScale(), norm.getBias(),
                 norm.getEpsilon().convertToDouble(), false, kernels);
      else
        fuseRotary(cast<xfmr::RotaryOp>(op), kernels);
    }
  }

  void fuseNorm(Operation *op, Value x, Value residual, Value scale, Value bias, double epsilon,
                bool rms, KernelModule &kernels) {
    RankedTensorType type = staticF32Tensor(x);
    if (!type || type.getRank() < 2 || (residual && staticF32Tensor(residual) != type))
      return;
    int64_t width = type.getShape().back();
    auto vector = RankedTensorType::get({width}, type.getElementType());
    if (staticF32Tensor(scale) != vector || (bias && staticF32Tensor(bias) != vector))
      return;
    NormShape shape;
    shape.rows = type.getNumElements() / width;
    shape.width = width;
    shape.rms = rms;
    shape.residual = bool(residual);
    shape.bias = bool(bias);
    shape.epsilon = epsilon;
    ImplicitLocOpBuilder b(op->getLoc(), op);
    SmallVector<Value> args = {tensorAsOperand(b, mergeLeading(b, x, 1))};
    if (residual)
      args.push_back(tensorAsOperand(b, mergeLeading(b, residual, 1)));
    args.push_back(tensorAsOperand(b, scale));
    if (bias)
      args.push_back(tensorAsOperand(b, bias));
    auto rowsType = MemRefType::get({shape.rows, width}, type.getElementType());
    Value y = memref::AllocOp::create(b, rowsType);
    args.push_back(y);
    Value sum;
    if (residual) {
      sum = memref::AllocOp::create(b, rowsType);
      args.push_back(sum);
    }
    std::string key = llvm::formatv("norm {0} {1} {2} {3} {4} {5}", shape.rows, width, rms,
                                    shape.residual, shape.bias,
                                    llvm::bit_cast<uint64_t>(epsilon));
    kernelFor(key, [&] { return buildNormKernel(kernels, op->getLoc(), shape); }).launch(b, args);
    SmallVector<Value> results = {asTensor(b, y, type)};
    if (residual)
      results.push_back(asTensor(b, sum, type));
    op->replaceAllUsesWith(results);
    op->erase();
  }

  void fuseRotary(xfmr::RotaryOp op, KernelModule &kernels) {
    RankedTensorType type = staticF32Tensor(op.getInput()), cosType = staticF32Tensor(op.getCos());
    if (!type || !cosType || staticF32Tensor(op.getSin()) != cosType || type.getRank() < 2 ||
        cosType.getRank() < 2)
      return;
    int64_t rank = type.getRank(), cosRank = cosType.getRank();
    RotaryShape shape;
    shape.positions = type.getDimSize(rank - 2);
    shape.width = type.getDimSize(rank - 1);
    shape.rotated = cosType.getDimSize(cosRank - 1);
    shape.outer = type.getNumElements() / (shape.positions * shape.width);
    shape.cosOuter = cosType.getNumElements() / (cosType.getDimSize(cosRank - 2) * shape.rotated);
    shape.interleaved = op.getInterleaved();
    // cos/sin: one row per position, shared by every leading index or
    // given for each.
    if (cosType.getDimSize(cosRank - 2) != shape.positions || shape.rotated % 2 ||
        shape.rotated > shape.width ||
        (shape.cosOuter != 1 &&
         !(cosRank == rank && cosType.getShape().drop_back(2) == type.getShape().drop_back(2))))
      return;
    ImplicitLocOpBuilder b(op.getLoc(), op);
    auto asRank3 = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      if (t.getRank() == 2)
        return Value(tensor::ExpandShapeOp::create(
            b, RankedTensorType::get({1, t.getDimSize(0), t.getDimSize(1)}, t.getElementType()),
            v, SmallVector<ReassociationIndices>{{0, 1}, {2}}));
      return mergeLeading(b, v, 2);
    };
    Value y = memref::AllocOp::create(
        b, MemRefType::get({shape.outer, shape.positions, shape.width}, type.getElementType()));
    std::string key = llvm::formatv("rotary {0} {1} {2} {3} {4} {5}", shape.outer,
                                    shape.positions, shape.width, shape.rotated, shape.cosOuter,
                                    shape.interleaved);
    kernelFor(key, [&] { return buildRotaryKernel(kernels, op.getLoc(), shape); })
        .launch(b, {tensorAsOperand(b, asRank3(op.getInput())), tensorAsOperand(b, asRank3(op.getCos())),
                    tensorAsOperand(b, asRank3(op.getSin())), y});
    Value result = bufferization::ToTensorOp::create(
        b, RankedTensorType::get({shape.outer, shape.positions, shape.width},
                                 type.getElementType()),
        y, /*restrict=*/true, /*writable=*/true);
    if (rank == 2) {
      result = tensor::CollapseShapeOp::create(b, type, result,
                                               SmallVector<ReassociationIndices>{{0, 1}, {2}});
    } else if (rank > 3) {
      SmallVector<ReassociationIndices> groups(1);
      for (int64_t d = 0; d < rank - 2; ++d)
        groups[0].push_back(d);
      groups.push_back({rank - 2});
      groups.push_back({rank - 1});
      result = tensor::ExpandShapeOp::create(b, type, result, groups);
    }
    op.replaceAllUsesWith(result);
    op.erase();
  }

  Kernel kernelFor(const std::string &key, llvm::function_ref<Kernel()> build) {
    auto [it, fresh] = built.try_emplace(key);
    if (fresh)
      it->second = build();
    return it->second;
  }

  llvm::StringMap<Kernel> built;
};

} // namespace
