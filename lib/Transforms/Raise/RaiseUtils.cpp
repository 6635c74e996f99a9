//===- RaiseUtils.cpp - Shared by the xfmr raising patterns ---------------===//

#include "RaiseUtils.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;

LogicalResult prism::raise::nearMiss(Operation *op, StringRef pattern,
                                     const Twine &why) {
  if (isDebugEnabled(kDebugType)) {
    std::string loc;
    llvm::raw_string_ostream os(loc);
    op->getLoc().print(os);
    dbgs(kDebugType) << pattern << " did not match '" << op->getName()
                     << "' at " << loc << ": " << why << "\n";
  }
  return failure();
}

std::optional<double> prism::raise::constFloat(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  if (!attr.isSplat() && attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.getValues<APFloat>().begin()).convertToDouble();
}

bool prism::raise::isConstNear(Value v, double expected) {
  auto c = constFloat(v);
  return c && std::fabs(*c - expected) <= 1e-3 * std::fabs(expected);
}

Value prism::raise::skipCasts(Value v) {
  while (auto cast = v.getDefiningOp<ONNXCastOp>())
    v = cast.getInput();
  return v;
}

Value prism::raise::widenTo32(OnnxBuilder &b, Value x) {
  Type elem = tensorType(x).getElementType();
  if (elem.isF16() || elem.isBF16())
    return b.castTo(x, b.rw.getF32Type());
  return x;
}

prism::xfmr::AttentionOp
prism::raise::buildAttention(OnnxBuilder &b, Value q, Value k, Value v,
                             Value pastKey, Value pastValue, Value mask,
                             double scale, bool causal, int64_t window,
                             double softcap) {
  auto qt = tensorType(q), kt = tensorType(k), vt = tensorType(v);
  int64_t past = pastKey ? tensorType(pastKey).getDimSize(2) : 0;
  SmallVector<Type> results = {RankedTensorType::get(
      {qt.getDimSize(0), qt.getDimSize(1), qt.getDimSize(2), vt.getDimSize(3)},
      qt.getElementType())};
  if (pastKey) {
    SmallVector<int64_t> pk(kt.getShape()), pv(vt.getShape());
    pk[2] += past;
    pv[2] += past;
    results.push_back(kt.clone(pk));
    results.push_back(vt.clone(pv));
  }
  if (mask) {
    auto mt = tensorType(mask);
    if (mt.getRank() < 4) {
      SmallVector<int64_t> shape(4 - mt.getRank(), 1);
      llvm::append_range(shape, mt.getShape());
      mask = b.reshape(mask, shape);
    }
  }
  return xfmr::AttentionOp::create(
      b.rw, b.loc, results, q, k, v, pastKey, pastValue, mask,
      b.rw.getF64FloatAttr(scale), b.rw.getBoolAttr(causal),
      b.rw.getI64IntegerAttr(window), b.rw.getF64FloatAttr(softcap));
}

Value prism::raise::widenCache(OnnxBuilder &b, Value cache, Value positions, int64_t seq,
                 bool interleaved, bool headsFirst) {
  Value g = positions ? b.gather(cache, positions) : cache; // [rows, S, R/2]
  auto gt = tensorType(g);
  int64_t rows = gt.getDimSize(0), half = gt.getDimSize(2), rotary = 2 * half;
  Value full;
  if (interleaved) {
    Value g4 = b.reshape(g, {rows, seq, half, 1});
    full = b.reshape(b.concat({g4, g4}, 3), {rows, seq, rotary});
  } else {
    full = b.concat({g, g}, 2);
  }
  return headsFirst ? b.reshape(full, {rows, 1, seq, rotary})
                    : b.reshape(full, {rows, seq, 1, rotary});
}
