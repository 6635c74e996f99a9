//===- XfmrOps.cpp - Verifiers and work of the xfmr ops -------------------===//

#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace prism::xfmr;

#include "prism/Dialect/Xfmr/XfmrInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Xfmr/XfmrOps.cpp.inc"

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

double elements(Value v) { return (double)tensorType(v).getNumElements(); }

/// Every operand and result statically shaped, else an error naming the op.
llvm::Error requireStatic(Operation *op) {
  for (Type t : llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto r = dyn_cast<RankedTensorType>(t); r && !r.hasStaticShape())
      return llvm::createStringError(
          "'" + op->getName().getStringRef().str() +
          "' has a dynamic shape: its work is unknown (bind the dims first)");
  return llvm::Error::success();
}

/// Every operand read and every result written, with `flopsPerElement`
/// of the first result.
llvm::Expected<Work> elementwiseWork(Operation *op, double flopsPerElement) {
  if (auto err = requireStatic(op))
    return std::move(err);
  return streamWork(op, flopsPerElement * elements(op->getResult(0)));
}

/// Whether `shape` broadcasts to `target` (NumPy rules, right-aligned).
bool broadcastsTo(ArrayRef<int64_t> shape, ArrayRef<int64_t> target) {
  if (shape.size() > target.size())
    return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t s = shape[shape.size() - 1 - i], t = target[target.size() - 1 - i];
    if (s != 1 && s != t && !ShapedType::isDynamic(s) && !ShapedType::isDynamic(t))
      return false;
  }
  return true;
}

bool isFloatTensor(Value v) {
  return isa<FloatType>(tensorType(v).getElementType());
}

/// The norms' shared checks: float input, scale (and bias) of the last dim,
/// residual of the input's shape and a sum result only with a residual.
LogicalResult verifyNorm(Operation *op, Value input, Value residual,
                         Value scale, Value bias, Value output, Value sum) {
  auto in = tensorType(input);
  if (!isFloatTensor(input) || in.getRank() < 1)
    return op->emitOpError("input must be a float tensor of rank >= 1");
  int64_t width = in.getDimSize(in.getRank() - 1);
  for (Value v : {scale, bias}) {
    if (!v)
      continue;
    auto t = tensorType(v);
    if (t.getRank() != 1 || t.getDimSize(0) != width)
      return op->emitOpError("scale and bias must be 1-D of the normalized "
                             "dim's size ")
             << width << ", got " << t;
  }
  if (residual && tensorType(residual) != in)
    return op->emitOpError("residual must have the input's type ") << in;
  if (tensorType(output).getShape() != in.getShape())
    return op->emitOpError("output must have the input's shape");
  if (bool(sum) != bool(residual))
    return op->emitOpError("the residual sum result comes with a residual "
                           "operand, and only with it");
  if (sum && sum.getType() != in)
    return op->emitOpError("residual sum must have the input's type");
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  auto q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType();
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOpError("query, key and value must be 4-D [batch, heads, "
                       "sequence, head_size]");
  if (!isFloatTensor(getQuery()))
    return emitOpError("query must be a float tensor");
  int64_t batch = q.getDimSize(0), hq = q.getDimSize(1), seq = q.getDimSize(2),
          d = q.getDimSize(3);
  int64_t hkv = k.getDimSize(1), t = k.getDimSize(2), dv = v.getDimSize(3);
  if (k.getDimSize(0) != batch || v.getDimSize(0) != batch)
    return emitOpError("query, key and value must have the same batch");
  if (v.getDimSize(1) != hkv || v.getDimSize(2) != t)
    return emitOpError("key and value must have the same heads and length");
  if (k.getDimSize(3) != d)
    return emitOpError("query and key head sizes differ: ")
           << d << " vs " << k.getDimSize(3);
  if (hkv <= 0 || hq % hkv != 0)
    return emitOpError("query heads (")
           << hq << ") must be a multiple of key/value heads (" << hkv << ")";
  if (bool(getPastKey()) != bool(getPastValue()))
    return emitOpError("past_key and past_value come together");
  int64_t past = 0;
  if (getPastKey()) {
    auto pk = getPastKey().getType(), pv = getPastValue().getType();
    past = pk.getRank() == 4 ? pk.getDimSize(2) : -1;
    SmallVector<int64_t> ek = {batch, hkv, past, d}, ev = {batch, hkv, past, dv};
    if (pk.getShape() != ArrayRef(ek) || pv.getShape() != ArrayRef(ev))
      return emitOpError("past key/value must be [batch, kv_heads, past, "
                         "head_size] with the key's and value's dims");
    if (getPresents().size() != 2)
      return emitOpError("a cache read (past) returns the present key and value");
    SmallVector<int64_t> ck = {batch, hkv, past + t, d},
                         cv = {batch, hkv, past + t, dv};
    if (getPresentKey().getType().getShape() != ArrayRef(ck) ||
        getPresentValue().getType().getShape() != ArrayRef(cv))
      return emitOpError("present key/value must be [batch, kv_heads, past + "
                         "length, head_size]");
  } else if (!getPresents().empty()) {
    return emitOpError("present key/value need past key/value");
  }
  SmallVector<int64_t> outShape = {batch, hq, seq, dv};
  if (getOutput().getType().getShape() != ArrayRef(outShape) ||
      getOutput().getType().getElementType() != q.getElementType())
    return emitOpError("output must be [batch, heads, sequence, value_size] "
                       "of the query's element type");
  if (getMask()) {
    SmallVector<int64_t> scores = {batch, hq, seq, past + t};
    if (!broadcastsTo(getMask().getType().getShape(), scores))
      return emitOpError("mask ")
             << getMask().getType() << " does not broadcast to the scores ["
             << batch << ", " << hq << ", " << seq << ", " << past + t << "]";
  }
  if ((int64_t)getWindow() < 0 || getSoftcap().isNegative())
    return emitOpError("window and softcap must be >= 0");
  return success();
}

llvm::Expected<Work> AttentionOp::getWork() {
  if (auto err = requireStatic(*this))
    return std::move(err);
  double batch = getQuery().getType().getDimSize(0);
  double hq = getNumQueryHeads(), d = getHeadSize();
  double dv = getValue().getType().getDimSize(3);
  int64_t seq = getQuery().getType().getDimSize(2);
  int64_t total = getPastLength() + getKey().getType().getDimSize(2);
  // Query-key pairs that are computed: all of them, or the causal triangle
  // (and sliding window) when the op masks by position.
  double pairs = 0;
  for (int64_t i = 0; i < seq; ++i) {
    int64_t last = getCausal() ? std::min(total - 1, total - seq + i) : total - 1;
    int64_t window = (int64_t)getWindow();
    int64_t first = window > 0 ? std::max<int64_t>(0, last - window + 1) : 0;
    pairs += (double)std::max<int64_t>(0, last - first + 1);
  }
  Work work;
  // Q K^T and P V (multiply-adds), plus scale, mask, max, exp, sum and
  // normalize per score.
  work.flops = batch * hq * pairs * (2 * d + 2 * dv + 6);
  for (Value v : {getQuery(), getKey(), getValue(), getMask()})
    if (v)
      if (auto err = addRead(work, v))
        return std::move(err);
  auto out = tensorBytes(getOutput());
  if (!out)
    return out.takeError();
  work.activationBytesWritten += *out;
  if (getPastKey()) {
    for (Value v : {getPastKey(), getPastValue()}) {
      auto b = tensorBytes(v);
      if (!b)
        return b.takeError();
      work.kvBytesRead += *b;
    }
    // Appending writes this step's keys and values only.
    for (Value v : {getKey(), getValue()}) {
      auto b = tensorBytes(v);
      if (!b)
        return b.takeError();
      work.kvBytesWritten += *b;
    }
  }
  return work;
}

//===----------------------------------------------------------------------===//
// Norms, rotary, activations, embedding
//===----------------------------------------------------------------------===//

LogicalResult RmsNormOp::verify() {
  return verifyNorm(*this, getInput(), getResidual(), getScale(), Value(),
                    getOutput(), getResidualSum());
}

// Square, sum, scale by 1/rms, scale by the weight (+ the residual add).
llvm::Expected<Work> RmsNormOp::getWork() {
  return elementwiseWork(*this, getResidual() ? 5 : 4);
}

LogicalResult LayerNormOp::verify() {
  return verifyNorm(*this, getInput(), getResidual(), getScale(), getBias(),
                    getOutput(), getResidualSum());
}

// Mean, subtract, square, sum, scale, weight, bias (+ the residual add).
llvm::Expected<Work> LayerNormOp::getWork() {
  return elementwiseWork(*this, getResidual() ? 8 : 7);
}

LogicalResult RotaryOp::verify() {
  auto x = getInput().getType();
  if (!isFloatTensor(getInput()) || x.getRank() < 2)
    return emitOpError("input must be a float tensor [..., sequence, head_size]");
  auto c = getCos().getType(), s = getSin().getType();
  if (c != s)
    return emitOpError("cos and sin must have the same type");
  if (c.getRank() < 1)
    return emitOpError("cos and sin must have a rotary dim");
  int64_t r = c.getDimSize(c.getRank() - 1), d = x.getDimSize(x.getRank() - 1);
  if (r <= 0 || r % 2 != 0 || r > d)
    return emitOpError("the rotary dim (cos's last dim, ")
           << r << ") must be even and at most the head size " << d;
  SmallVector<int64_t> target(x.getShape());
  target.back() = r;
  if (!broadcastsTo(c.getShape(), target))
    return emitOpError("cos and sin ") << c << " do not broadcast to the "
                                          "input's rotated part";
  if (getOutput().getType() != x)
    return emitOpError("output must have the input's type");
  return success();
}

// Two multiplies and an add per rotated element.
llvm::Expected<Work> RotaryOp::getWork() { return elementwiseWork(*this, 3); }

static LogicalResult verifyApproximation(Operation *op, StringRef approximate,
                                         bool allowSigmoid) {
  if (approximate == "none" || approximate == "tanh" ||
      (allowSigmoid && approximate == "sigmoid"))
    return success();
  return op->emitOpError("approximate must be \"none\", \"tanh\"")
         << (allowSigmoid ? " or \"sigmoid\"" : "") << ", got \"" << approximate
         << "\"";
}

LogicalResult GeluOp::verify() {
  return verifyApproximation(*this, getApproximate(), /*allowSigmoid=*/true);
}
llvm::Expected<Work> GeluOp::getWork() { return elementwiseWork(*this, 8); }
llvm::Expected<Work> SiluOp::getWork() { return elementwiseWork(*this, 4); }
llvm::Expected<Work> SwiGluOp::getWork() { return elementwiseWork(*this, 5); }
LogicalResult GeGluOp::verify() {
  return verifyApproximation(*this, getApproximate(), /*allowSigmoid=*/false);
}
llvm::Expected<Work> GeGluOp::getWork() { return elementwiseWork(*this, 9); }

LogicalResult EmbeddingOp::verify() {
  auto table = getTable().getType(), ids = getIds().getType();
  if (table.getRank() != 2)
    return emitOpError("table must be 2-D [vocabulary, hidden]");
  if (!isa<IntegerType>(ids.getElementType()))
    return emitOpError("ids must be integers");
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  if (getOutput().getType().getShape() != ArrayRef(shape) ||
      getOutput().getType().getElementType() != table.getElementType())
    return emitOpError("output must be ids' shape + [hidden] of the table's "
                       "element type");
  return success();
}

// Only the rows looked up are read.
llvm::Expected<Work> EmbeddingOp::getWork() {
  if (auto err = requireStatic(*this))
    return std::move(err);
  Work work;
  if (auto err = addRead(work, getIds()))
    return std::move(err);
  auto out = tensorBytes(getOutput());
  if (!out)
    return out.takeError();
  (isWeight(getTable()) ? work.weightBytesRead : work.activationBytesRead) += *out;
  work.activationBytesWritten += *out;
  return work;
}

//===----------------------------------------------------------------------===//
// KV cache
//===----------------------------------------------------------------------===//

LogicalResult KvCachePackOp::verify() {
  auto cache = cast<KvCacheType>(getCache().getType());
  if ((int64_t)getEntries().size() != 2 * cache.getLayers())
    return emitOpError("expects a key and a value per layer: ")
           << 2 * cache.getLayers() << " operands, got " << getEntries().size();
  for (Value v : getEntries())
    if (v.getType() != cache.getLayerType())
      return emitOpError("entries must be ") << cache.getLayerType() << ", got "
                                             << v.getType();
  return success();
}

LogicalResult KvCacheReadOp::verify() {
  auto cache = cast<KvCacheType>(getCache().getType());
  if ((int64_t)getLayer() >= cache.getLayers())
    return emitOpError("layer ") << getLayer() << " of a cache of "
                                 << cache.getLayers() << " layers";
  if (getResult().getType() != cache.getLayerType())
    return emitOpError("result must be ") << cache.getLayerType();
  return success();
}
