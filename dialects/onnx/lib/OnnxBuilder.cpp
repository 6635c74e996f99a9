//===- OnnxBuilder.cpp - Helpers of the onnx op builder -------------------===//

#include "prism/Dialect/Onnx/OnnxBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace prism::onnx {

RankedTensorType staticType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

bool allStatic(Operation *op) {
  // None stands for an absent optional operand or result.
  auto isStatic = [](Type t) {
    auto r = dyn_cast<RankedTensorType>(t);
    return isa<NoneType>(t) || (r && r.hasStaticShape());
  };
  return llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

/// The values of a constant int operand.
std::optional<SmallVector<int64_t>> constInts(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &x : attr.getValues<APInt>())
    out.push_back(x.getSExtValue());
  return out;
}

Value reshapeTo(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> shape) {
  auto t = cast<RankedTensorType>(x.getType());
  if (t.getShape() == shape)
    return x;
  auto shapeType = RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
  Value s = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(shapeType, shape));
  return tensor::ReshapeOp::create(b, loc, t.clone(shape), x, s);
}

Value transposeTo(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> perm) {
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(t.getDimSize(p));
  Value init = tensor::EmptyOp::create(b, loc, shape, t.getElementType());
  return linalg::TransposeOp::create(b, loc, x, init, perm)->getResult(0);
}

double lowestFloat(Type elem) {
  return APFloat::getLargest(cast<FloatType>(elem).getFloatSemantics(),
                             /*Negative=*/true)
      .convertToDouble();
}

} // namespace prism::onnx
