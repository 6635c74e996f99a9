//===- FuseAttention.cpp - The gpu-fuse-attention pass --------------------===//
//
// Each xfmr.attention on static f32 tensors becomes one launch of Prism's
// flash-attention kernel (and, when the device would otherwise idle, its
// split-KV variant and the combine kernel) instead of the dozen kernels of
// its linalg form. This runs on tensors, before bufferization: the operands
// enter the launch through bufferization.to_buffer and the result leaves
// through bufferization.to_tensor. The presents (past followed by this
// step's keys and values) stay tensor ops.
//
//===----------------------------------------------------------------------===//

#include "prism/Dialect/Xfmr/XfmrOps.h"
#include "prism/Target/Gpu/Kernels.h"
#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/bit.h"

namespace prism {
#define GEN_PASS_DEF_GPUFUSEATTENTION
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism::gpu;
namespace xfmr = prism::xfmr;

namespace {


/// `past` followed by `step` along the sequence dim (2).
Value appendAlongSequence(ImplicitLocOpBuilder &b, Value past, Value step) {
  auto pastType = cast<RankedTensorType>(past.getType());
  auto stepType = cast<RankedTensorType>(step.getType());
  SmallVector<int64_t> shape(pastType.getShape());
  shape[2] += stepType.getDimSize(2);
  Value all = tensor::EmptyOp::create(b, shape, pastType.getElementType());
  SmallVector<OpFoldResult> zeros(4, b.getIndexAttr(0)), ones(4, b.getIndexAttr(1));
  auto sizes = [&](RankedTensorType t) {
    SmallVector<OpFoldResult> s;
    for (int64_t d : t.getShape())
      s.push_back(b.getIndexAttr(d));
    return s;
  };
  all = tensor::InsertSliceOp::create(b, past, all, zeros, sizes(pastType), ones);
  SmallVector<OpFoldResult> at = zeros;
  at[2] = b.getIndexAttr(pastType.getDimSize(2));
  return tensor::InsertSliceOp::create(b, step, all, at, sizes(stepType), ones);
}


struct GpuFuseAttentionPass : prism::impl::GpuFuseAttentionBase<GpuFuseAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<xfmr::AttentionOp> ops;
    module.walk([&](xfmr::AttentionOp op) {
      // A scalar mask has no dims to expand to rank 4 from.
      if (llvm::all_of(op->getOperands(), [](Value v) { return bool(staticF32Tensor(v)); }) &&
          (!op.getMask() || op.getMask().getType().getRank() > 0))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    llvm::Expected<GpuFigures> figures = loadGpuFigures(device, hardwareDir);
    if (!figures) {
      module.emitError() << "gpu-fuse-attention: " << llvm::toString(figures.takeError());
      return signalPassFailure();
    }
    KernelModule kernels(module);
    for (xfmr::AttentionOp op : ops)
      fuse(op, kernels, *figures);
  }

  void fuse(xfmr::AttentionOp op, KernelModule &kernels, const GpuFigures &gpu) {
    ImplicitLocOpBuilder b(op.getLoc(), op);
    Value key = op.getKey(), value = op.getValue();
    if (op.getPastKey()) {
      key = appendAlongSequence(b, op.getPastKey(), key);
      value = appendAlongSequence(b, op.getPastValue(), value);
    }
    auto queryType = op.getQuery().getType();
    auto keyType = cast<RankedTensorType>(key.getType());
    AttentionShape shape;
    shape.batch = queryType.getDimSize(0);
    shape.heads = queryType.getDimSize(1);
    shape.queries = queryType.getDimSize(2);
    shape.headDim = queryType.getDimSize(3);
    shape.kvHeads = keyType.getDimSize(1);
    shape.keys = keyType.getDimSize(2);
    shape.valueDim = cast<RankedTensorType>(value.getType()).getDimSize(3);
    shape.scale = op.getScale().convertToDouble();
    shape.softcap = op.getSoftcap().convertToDouble();
    shape.causal = op.getCausal();
    shape.window = op.getWindow();
    if (Value mask = op.getMask()) {
      // Broadcast to rank 4 from the right, as the host path does.
      auto maskShape = cast<RankedTensorType>(mask.getType()).getShape();
      shape.mask.assign(4 - maskShape.size(), 1);
      shape.mask.append(maskShape.begin(), maskShape.end());
    }
    AttentionTile tile = chooseAttentionTile(shape.batch * shape.heads, shape.queries,
                                             shape.keys, shape.headDim, shape.valueDim, gpu);

    SmallVector<Value> args = {tensorAsOperand(b, op.getQuery()), tensorAsOperand(b, key),
                               tensorAsOperand(b, value)};
    if (Value mask = op.getMask()) {
      auto type = cast<RankedTensorType>(mask.getType());
      if (type.getRank() < 4)
        mask = tensor::ExpandShapeOp::create(
            b, RankedTensorType::get(shape.mask, type.getElementType()), mask,
            expandToRank4(type.getRank()));
      args.push_back(tensorAsOperand(b, mask));
    }
    Type f32 = b.getF32Type();
    auto outType = MemRefType::get({shape.batch, shape.heads, shape.queries, shape.valueDim}, f32);
    Value out = memref::AllocOp::create(b, outType);
    Kernel attention = kernelFor(kernels, op.getLoc(), shape, tile);
    double predicted = attentionSeconds(shape.batch * shape.heads, shape.queries, shape.keys,
                                        shape.headDim, shape.valueDim,
                                        shape.batch * shape.kvHeads, gpu);
    if (tile.splits == 1) {
      args.push_back(out);
      attention.launch(b, args, predicted);
    } else {
      Value partial = memref::AllocOp::create(
          b, MemRefType::get({shape.batch, shape.heads, tile.splits, shape.queries,
                              shape.valueDim}, f32));
      Value stats = memref::AllocOp::create(
          b, MemRefType::get({shape.batch, shape.heads, tile.splits, shape.queries, 2}, f32));
      args.append({partial, stats});
      attention.launch(b, args, predicted);
      buildAttentionCombineKernel(kernels, op.getLoc(), shape, tile.splits)
          .launch(b, {partial, stats, out});
    }
    Value result = bufferization::ToTensorOp::create(b, op.getOutput().getType(), out,
                                                     /*restrict=*/true, /*writable=*/true);
    SmallVector<Value> results = {result};
    if (op.getPastKey())
      results.append({key, value});
    op->replaceAllUsesWith(results);
    op.erase();
  }

  /// Reassociation that prepends unit dims up to rank 4.
  static SmallVector<ReassociationIndices> expandToRank4(int64_t rank) {
    SmallVector<ReassociationIndices> groups;
    int64_t lead = 4 - rank;
    for (int64_t i = 0; i < rank; ++i) {
      ReassociationIndices g;
      if (i == 0)
        for (int64_t j = 0; j < lead; ++j)
          g.push_back(j);
      g.push_back(lead + i);
      groups.push_back(g);
    }
    return groups;
  }

  Kernel kernelFor(KernelModule &kernels, Location loc, const AttentionShape &s,
                   const AttentionTile &t) {
    std::string key;
    llvm::raw_string_ostream os(key);
    os << s.batch << ',' << s.heads << ',' << s.kvHeads << ',' << s.queries << ',' << s.keys
       << ',' << s.headDim << ',' << s.valueDim << ',' << llvm::bit_cast<uint64_t>(s.scale)
       << ',' << llvm::bit_cast<uint64_t>(s.softcap) << ',' << s.causal << ',' << s.window
       << ',' << t.queries << ',' << t.keys << ',' << t.splits;
    for (int64_t m : s.mask)
      os << ",m" << m;
    auto [it, fresh] = built.try_emplace(key);
    if (fresh)
      it->second = buildAttentionKernel(kernels, loc, s, t);
    return it->second;
  }

  llvm::StringMap<Kernel> built;
};

} // namespace
