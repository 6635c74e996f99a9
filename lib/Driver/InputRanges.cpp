//===- InputRanges.cpp - What values an input may take --------------------===//

#include "prism/Driver/InputRanges.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace prism::onnx;

namespace {

/// The static size of dim `d` of `v`, or nullopt.
std::optional<int64_t> staticDim(Value v, int64_t d) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || d < 0 || d >= t.getRank() || t.isDynamicDim(d))
    return std::nullopt;
  return t.getDimSize(d);
}

} // namespace

std::optional<int64_t> prism::getIndexBound(Value input) {
  std::optional<int64_t> bound;
  auto tighten = [&](std::optional<int64_t> b) {
    if (b && (!bound || *b < *bound))
      bound = b;
  };
  SmallVector<Value> work = {input};
  llvm::SmallPtrSet<Operation *, 8> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (!seen.insert(user).second)
        continue;
      // The values pass through unchanged.
      if (isa<ONNXCastOp, ONNXReshapeOp, ONNXUnsqueezeOp, ONNXSqueezeOp,
              ONNXFlattenOp, ONNXIdentityOp, ONNXExpandOp, ONNXTransposeOp>(
              user) &&
          use.getOperandNumber() == 0) {
        work.push_back(user->getResult(0));
        continue;
      }
      if (auto g = dyn_cast<ONNXGatherOp>(user)) {
        if (use.getOperandNumber() == 1) {
          auto rank = cast<ShapedType>(g.getData().getType()).getRank();
          int64_t axis = (int64_t)g.getAxis();
          tighten(staticDim(g.getData(), axis < 0 ? axis + rank : axis));
        }
        continue;
      }
      if (auto e = dyn_cast<ONNXMsEmbedLayerNormalizationOp>(user)) {
        unsigned n = use.getOperandNumber();
        if (n == 0)
          tighten(staticDim(e.getWordEmbedding(), 0));
        else if (n == 1)
          tighten(staticDim(e.getSegmentEmbedding(), 0));
        else if (n == 8)
          tighten(staticDim(e.getPositionEmbedding(), 0));
      }
    }
  }
  return bound;
}
