//===- Epilogue.cpp - Elementwise consumers fused into GEMM/GEMV stores ---===//
//
// A projection is mostly followed by an elementwise op on its result: a
// bias add, GPT-2's GELU, a residual add. Run as a kernel of its own, it
// reads back the M x N product the GEMM just wrote. Fused, the GEMM's (or
// GEMV's) store computes it instead: the generic's body is cloned per
// element, reading its other inputs where its indexing maps say.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace prism::gpu;

namespace {

bool isZeroFill(Operation *op, Value c) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  return fill && fill.getOutputs()[0] == c && matchPattern(fill.value(), m_AnyZeroFloat());
}

/// Ops a fused generic may be moved across: they neither read nor write
/// buffers (allocations, views, casts, constants, get_global).
bool isInert(Operation *op) { return isa<memref::AllocOp>(op) || isMemoryEffectFree(op); }

} // namespace

Value prism::gpu::viewedBuffer(Value v) {
  while (Operation *op = v.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(op))
      v = view.getViewSource();
    else if (auto cast = dyn_cast<memref::CastOp>(op))
      v = cast.getSource();
    else
      break;
  }
  return v;
}

SmallVector<Value> Epilogue::operands() const {
  linalg::GenericOp generic = this->generic;
  SmallVector<Value> values = {generic.getDpsInits()[0]};
  for (OpOperand *input : generic.getDpsInputOperands())
    if (input->getOperandNumber() != accInput)
      values.push_back(input->get());
  values.append(captured.begin(), captured.end());
  return values;
}

std::optional<Epilogue> prism::gpu::matchEpilogue(linalg::MatmulOp mm) {
  Value c = mm.getOutputs()[0];
  auto cType = cast<MemRefType>(c.getType());
  if (!c.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  // C's users: a zero fill before the matmul in its block (the kernel
  // stores the product itself), the matmul, and the generic (maybe through
  // one expand_shape that leaves N alone in the last dim).
  Value view;
  Operation *reader = nullptr;
  bool zeroed = false;
  for (Operation *user : c.getUsers()) {
    if (user == mm)
      continue;
    if (isZeroFill(user, c) && user->getBlock() == mm->getBlock() &&
        user->isBeforeInBlock(mm)) {
      zeroed = true;
      continue;
    }
    if (reader)
      return std::nullopt;
    view = c;
    reader = user;
    if (auto expand = dyn_cast<memref::ExpandShapeOp>(user)) {
      if (expand.getReassociationIndices().back().size() != 1 || !expand->hasOneUse())
        return std::nullopt;
      view = expand.getResult();
      reader = *view.getUsers().begin();
    }
  }
  auto generic = dyn_cast_or_null<linalg::GenericOp>(reader);
  if (!zeroed || !generic || generic->getBlock() != mm->getBlock() ||
      !mm->isBeforeInBlock(generic) || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return std::nullopt;
  auto viewType = cast<MemRefType>(view.getType());
  OpOperand *out = generic.getDpsInitOperand(0);
  auto outType = dyn_cast<MemRefType>(out->get().getType());
  // Other blocks still read A and B, and the bias, while one writes its
  // outputs: the output must be none of them (an input read at the same
  // element only is fine).
  Value outRoot = viewedBuffer(out->get());
  if (outRoot == viewedBuffer(mm.getInputs()[0]) || outRoot == viewedBuffer(mm.getInputs()[1]) ||
      outRoot == c)
    return std::nullopt;
  if (!outType || outType.getShape() != viewType.getShape() ||
      !generic.getMatchingIndexingMap(out).isIdentity() ||
      !generic.getMatchingBlockArgument(out).use_empty())
    return std::nullopt;
  Epilogue epilogue;
  epilogue.generic = generic;
  bool found = false;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    if (!isa<MemRefType>(input->get().getType()))
      return std::nullopt;
    if (input->get() != view) {
      // Read where it is written, the output itself is fine; another view
      // of its buffer is not.
      if (viewedBuffer(input->get()) == outRoot &&
          (input->get() != out->get() || !generic.getMatchingIndexingMap(input).isIdentity()))
        return std::nullopt;
      continue;
    }
    if (found || !generic.getMatchingIndexingMap(input).isIdentity() ||
        !generic.getMatchingBlockArgument(input).getType().isF32())
      return std::nullopt;
    found = true;
    epilogue.accInput = input->getOperandNumber();
  }
  if (!found || cType.getDimSize(1) != viewType.getShape().back())
    return std::nullopt;
  // The generic runs at the matmul's place in effect: nothing between them
  // may touch a buffer.
  for (Operation *op = mm->getNextNode(); op != generic; op = op->getNextNode())
    if (!isInert(op))
      return std::nullopt;
  // Its body: operands, constants (cloned into the kernel) and memrefs
  // (passed to it) only. (linalg.index sits at its top level: the
  // verifier sees to that.)
  SetVector<Value> above;
  getUsedValuesDefinedAbove(generic.getRegion(), above);
  for (Value v : above) {
    if (matchPattern(v, m_Constant())) {
      epilogue.constants.push_back(v);
      continue;
    }
    if (!isa<MemRefType>(v.getType()) || viewedBuffer(v) == outRoot)
      return std::nullopt;
    epilogue.captured.push_back(v);
  }
  return epilogue;
}

void prism::gpu::storeProduct(KernelBuilder &kb, const Epilogue *epilogue, ValueRange args,
                              Value row, Value col, Value acc) {
  ImplicitLocOpBuilder &b = kb.b;
  if (!epilogue) {
    kb.store(kb.fadd(kb.load(args[0], {row, col}), acc), args[0], {row, col});
    return;
  }
  linalg::GenericOp generic = epilogue->generic;
  // The generic's loop indices: N the last, the rows spread over the rest.
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  SmallVector<Value> indices(ranges.size());
  indices.back() = col;
  for (int64_t d = int64_t(ranges.size()) - 2; d > 0; --d) {
    indices[d] = kb.rem(row, ranges[d]);
    row = kb.div(row, ranges[d]);
  }
  if (ranges.size() > 1)
    indices[0] = row;

  IRMapping mapping;
  Block &body = generic.getRegion().front();
  unsigned next = 1;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    BlockArgument arg = generic.getMatchingBlockArgument(input);
    if (input->getOperandNumber() == epilogue->accInput) {
      mapping.map(arg, acc);
      continue;
    }
    SmallVector<Value> at;
    for (AffineExpr e : generic.getMatchingIndexingMap(input).getResults())
      at.push_back(affine::expandAffineExpr(b, b.getLoc(), e, indices, {}));
    mapping.map(arg, kb.load(args[next++], at));
  }
  for (Value captured : epilogue->captured)
    mapping.map(captured, args[next++]);
  for (Value constant : epilogue->constants)
    mapping.map(constant, b.clone(*constant.getDefiningOp())->getResult(0));
  for (Operation &op : body.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(op)) {
      mapping.map(index.getResult(), indices[index.getDim()]);
      continue;
    }
    b.clone(op, mapping);
  }
  Value result = mapping.lookup(body.getTerminator()->getOperand(0));
  kb.store(result, args[0], indices);
}
