//===- MsAttentionForms.cpp - Operands of the com.microsoft attention ops -===//

#include "prism/Dialect/Onnx/MsAttentionForms.h"

using namespace mlir;
using namespace prism::onnx;

LogicalResult prism::onnx::replaceWithOptional(PatternRewriter &rw, Operation *op,
                                  ArrayRef<Value> values) {
  SmallVector<Value> results;
  for (auto [result, v] : llvm::zip(op->getResults(), values)) {
    if (isa<NoneType>(result.getType())) {
      results.push_back(ONNXNoValueOp::create(rw, op->getLoc(), result.getType()));
      continue;
    }
    if (!v) {
      // Callers check before building that such outputs are unused; one
      // that is used here would leave the built ops behind.
      assert(result.use_empty() && "an output that is not produced is used");
      results.push_back(Value());
      continue;
    }
    results.push_back(OnnxBuilder(rw, op->getLoc()).match(v, result.getType()));
  }
  rw.replaceOp(op, results);
  return success();
}

FailureOr<Value> prism::onnx::additiveMask(OnnxBuilder &b, Value mask, int64_t batch,
                              int64_t seq, int64_t total, Type elem,
                              double filter) {
  auto t = tensorType(mask);
  auto i32 = b.rw.getI32Type();
  Value zero = b.scalar(elem, 0.0), fill = b.scalar(elem, filter);
  auto boolType = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.rw.getI1Type());
  };
  auto select = [&](Value keep) {
    auto kt = tensorType(keep);
    return ONNXWhereOp::create(b.rw, b.loc, kt.clone(elem), keep, zero, fill)
        .getResult();
  };
  Value m = b.castTo(mask, i32);
  if (t.getRank() == 2 && t.getDimSize(1) == 1 && total != 1)
    return Value();
  if (t.getRank() == 2 && t.getDimSize(0) == batch &&
      t.getDimSize(1) == total) {
    Value keep = ONNXGreaterOp::create(b.rw, b.loc, boolType(t.getShape()), m,
                                       b.scalar(i32, 0));
    return b.reshape(select(keep), {batch, 1, 1, total});
  }
  if (t.getRank() == 3 && t.getDimSize(0) == batch && t.getDimSize(1) == seq &&
      t.getDimSize(2) == total) {
    Value keep = ONNXGreaterOp::create(b.rw, b.loc, boolType(t.getShape()), m,
                                       b.scalar(i32, 0));
    return b.reshape(select(keep), {batch, 1, seq, total});
  }
  if (t.getRank() == 4 && t.getDimSize(0) == batch && t.getDimSize(1) == 1 &&
      t.getDimSize(2) == t.getDimSize(3) && t.getDimSize(2) >= total) {
    // Megatron's mask over absolute positions, as ONNX Runtime's CUDA
    // kernel reads it: query i is row past + i, key j column j.
    Value rows = b.slice(b.slice(m, 2, total - seq, seq), 3, 0, total);
    Value keep = ONNXGreaterOp::create(b.rw, b.loc,
                                       boolType({batch, 1, seq, total}), rows,
                                       b.scalar(i32, 0));
    return select(keep);
  }
  if (t.getRank() == 1 &&
      (t.getDimSize(0) == batch || t.getDimSize(0) == 2 * batch)) {
    // Key position j is kept when start <= j < end.
    SmallVector<int32_t> positions;
    for (int64_t j = 0; j < total; ++j)
      positions.push_back((int32_t)j);
    auto posType = RankedTensorType::get({1, total}, i32);
    Value pos = arith::ConstantOp::create(
        b.rw, b.loc, DenseElementsAttr::get(posType, ArrayRef(positions)));
    Value ends = b.reshape(b.slice(m, 0, 0, batch), {batch, 1});
    Value keep = ONNXLessOp::create(b.rw, b.loc, boolType({batch, total}), pos,
                                    ends);
    if (t.getDimSize(0) == 2 * batch) {
      Value starts = b.reshape(b.slice(m, 0, batch, batch), {batch, 1});
      Value after = ONNXGreaterOrEqualOp::create(
          b.rw, b.loc, boolType({batch, total}), pos, starts);
      keep = ONNXAndOp::create(b.rw, b.loc, boolType({batch, total}), keep,
                               after);
    }
    return b.reshape(select(keep), {batch, 1, 1, total});
  }
  return failure();
}

bool prism::onnx::isSupportedMask(Value mask, int64_t batch, int64_t seq, int64_t total) {
  if (isNone(mask))
    return true;
  ArrayRef<int64_t> s = tensorType(mask).getShape();
  return (s.size() == 1 && (s[0] == batch || s[0] == 2 * batch)) ||
         (s.size() == 2 && (s[1] == 1 || (s[0] == batch && s[1] == total))) ||
         (s.size() == 3 && s[0] == batch && s[1] == seq && s[2] == total) ||
         (s.size() == 4 && s[0] == batch && s[1] == 1 && s[2] == s[3] &&
          s[2] >= total);
}

const char *const prism::onnx::kMaskForms =
    "the host takes [batch], [2 * batch], [batch, total_sequence], "
    "[batch, sequence, total_sequence] and Megatron's [batch, 1, "
    "max_sequence, max_sequence] with max_sequence >= total_sequence";

Value prism::onnx::splitHeads(OnnxBuilder &b, Value x, int64_t heads) {
  auto t = tensorType(x);
  int64_t batch = t.getDimSize(0), seq = t.getDimSize(1);
  Value r = b.reshape(x, {batch, seq, heads, t.getDimSize(2) / heads});
  return b.transpose(r, {0, 2, 1, 3});
}

Value prism::onnx::mergeHeads(OnnxBuilder &b, Value x) {
  auto t = tensorType(x);
  Value r = b.transpose(x, {0, 2, 1, 3});
  return b.reshape(r, {t.getDimSize(0), t.getDimSize(2),
                       t.getDimSize(1) * t.getDimSize(3)});
}
