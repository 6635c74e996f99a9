//===- Layout.cpp -----------------------------------------------------------===//
//
// Layout ops: columns renamed, no data moved.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

llvm::Error Codegen::lowerLayout(Operation *op) {
  Value in = op->getOperand(0);
  auto entry = values.lookup(in);
  if (!entry)
    return fail(op, "its input was not lowered");
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  ArrayRef<int64_t> outShape = outType.getShape();
  if (auto *c = std::get_if<Const>(entry.get())) {
    Const out = *c;
    if (op->getName().getStringRef() == "onnx.Transpose")
      return fail(op, "transposed constants are not lowered");
    out.shape.assign(outShape.begin(), outShape.end());
    values[op->getResult(0)] = std::make_shared<Entry>(out);
    return llvm::Error::success();
  }
  if (auto *cache = std::get_if<CacheEntry>(entry.get())) {
    // A slice of the presents along the positions: the new entries.
    auto slice = dyn_cast<tensor::ExtractSliceOp>(op);
    if (!slice)
      return fail(op, "only slices of a cache along its positions are lowered");
    CacheEntry out = *cache;
    auto offsets = slice.getStaticOffsets();
    out.from = cache->from + offsets[2];
    out.length = outShape[2];
    values[op->getResult(0)] = std::make_shared<Entry>(out);
    return llvm::Error::success();
  }
  Act a = std::get<Act>(*entry);
  Act out = a;
  out.id = nextAct++;
  out.shape.assign(outShape.begin(), outShape.end());
  StringRef name = op->getName().getStringRef();
  if (name == "onnx.Transpose") {
    SmallVector<int64_t> perm;
    for (Attribute p : cast<ArrayAttr>(op->getAttr("perm")))
      perm.push_back(cast<IntegerAttr>(p).getInt());
    int tokenOut = -1;
    for (auto [i, p] : llvm::enumerate(perm))
      if (p == a.tokenAxis)
        tokenOut = i;
    out.tokenAxis = a.tokenAxis < 0 ? -1 : tokenOut;
    for (Piece &p : out.pieces)
      for (int64_t &col : p.cols) {
        if (col < 0)
          continue;
        auto idx = unflatten(col, a.shape, a.tokenAxis);
        SmallVector<int64_t> moved(perm.size());
        for (auto [i, pi] : llvm::enumerate(perm))
          moved[i] = idx[pi];
        col = flatten(moved, out.shape, out.tokenAxis);
      }
  } else {
    // Reshape, unsqueeze, squeeze: the flat order is kept; the token axis
    // must stay outermost.
    int axis = tokenAxisOf(outShape, a.rows);
    if (axis == -2 || (a.tokenAxis >= 0 && !llvm::all_of(ArrayRef(a.shape).take_front(a.tokenAxis),
                                                         [](int64_t d) { return d == 1; })))
      return fail(op, "the tokens would not stay an outer axis");
    out.tokenAxis = axis;
  }
  out.shape.assign(outShape.begin(), outShape.end());
  values[op->getResult(0)] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

} // namespace prism::lpu::detail
