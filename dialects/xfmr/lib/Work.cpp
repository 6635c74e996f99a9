//===- Work.cpp - FLOPs and bytes by class of any op ----------------------===//

#include "prism/Dialect/Xfmr/Work.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace prism;
using namespace prism::xfmr;

llvm::Expected<double> prism::xfmr::tensorBytes(Value v) {
  if (auto cache = dyn_cast<KvCacheType>(v.getType()))
    return cache.getBytes();
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return 0.0; // None and other non-tensor values carry no data.
  if (!t.hasStaticShape())
    return llvm::createStringError("a tensor of dynamic shape has no size");
  Type elem = t.getElementType();
  if (auto c = dyn_cast<ComplexType>(elem))
    elem = c.getElementType();
  double bits = elem.isIntOrIndexOrFloat() ? elem.getIntOrFloatBitWidth() : 8;
  if (elem.isIndex())
    bits = 64;
  if (isa<ComplexType>(t.getElementType()))
    bits *= 2;
  return std::ceil((double)t.getNumElements() * bits / 8.0);
}

bool prism::xfmr::isWeight(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<arith::ConstantOp, onnx::ONNXConstantOp,
            ml_program::GlobalLoadConstOp>(def))
      return true;
    // Views and conversions of a weight are the weight.
    if (isa<onnx::ONNXCastOp, onnx::ONNXTransposeOp, onnx::ONNXReshapeOp,
            onnx::ONNXUnsqueezeOp, onnx::ONNXSqueezeOp, onnx::ONNXFlattenOp,
            onnx::ONNXIdentityOp, tensor::ReshapeOp, tensor::CollapseShapeOp,
            tensor::ExpandShapeOp, linalg::TransposeOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    return false;
  }
  return false;
}

llvm::Error prism::xfmr::addRead(Work &work, Value v) {
  auto bytes = tensorBytes(v);
  if (!bytes)
    return bytes.takeError();
  if (isa<KvCacheType>(v.getType()))
    work.kvBytesRead += *bytes;
  else
    (isWeight(v) ? work.weightBytesRead : work.activationBytesRead) += *bytes;
  return llvm::Error::success();
}

namespace {

/// Ops that move no data and compute nothing: constants, views, and shape
/// bookkeeping.
bool doesNoWork(Operation *op) {
  return op->hasTrait<OpTrait::ConstantLike>() ||
         isa<onnx::ONNXConstantOp, onnx::ONNXNoValueOp, onnx::ONNXReshapeOp,
             onnx::ONNXUnsqueezeOp, onnx::ONNXSqueezeOp, onnx::ONNXFlattenOp,
             onnx::ONNXIdentityOp, onnx::ONNXShapeOp, onnx::ONNXSizeOp,
             tensor::ReshapeOp, tensor::CollapseShapeOp, tensor::ExpandShapeOp,
             tensor::EmptyOp, tensor::ExtractSliceOp,
             ml_program::GlobalLoadConstOp, KvCachePackOp,
             KvCacheReadOp>(op) ||
         op->hasTrait<OpTrait::IsTerminator>();
}

double numElements(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? (double)t.getNumElements() : 0;
}

/// linalg ops: one multiply-add (2 FLOPs) per iteration of a contraction,
/// one operation per iteration otherwise.
template <typename OpTy>
struct LinalgWorkModel
    : public XfmrWorkInterface::ExternalModel<LinalgWorkModel<OpTy>, OpTy> {
  llvm::Expected<Work> getWork(Operation *op) const {
    auto linalgOp = cast<linalg::LinalgOp>(op);
    SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
    double iterations = 1;
    for (int64_t r : ranges) {
      if (ShapedType::isDynamic(r))
        return llvm::createStringError("'" + op->getName().getStringRef().str() +
                                       "' has dynamic loop bounds");
      iterations *= (double)r;
    }
    bool contraction = linalgOp.getNumReductionLoops() > 0;
    // The outs are destinations, not data read.
    return streamWork(op, iterations * (contraction ? 2 : 1),
                      linalgOp.getDpsInputs());
  }
};

} // namespace

llvm::Expected<Work> prism::xfmr::streamWork(Operation *op, double flops) {
  return streamWork(op, flops, op->getOperands());
}

llvm::Expected<Work> prism::xfmr::streamWork(Operation *op, double flops,
                                             ValueRange reads) {
  Work work;
  work.flops = flops;
  for (Value v : reads)
    if (auto err = addRead(work, v))
      return std::move(err);
  for (Value r : op->getResults()) {
    auto bytes = tensorBytes(r);
    if (!bytes)
      return bytes.takeError();
    work.activationBytesWritten += *bytes;
  }
  return work;
}

llvm::Expected<Work> prism::xfmr::getWorkOf(Operation *op) {
  if (auto iface = dyn_cast<XfmrWorkInterface>(op))
    return iface.getWork();
  if (doesNoWork(op))
    return Work();
  for (Type t : llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto r = dyn_cast<RankedTensorType>(t); r && !r.hasStaticShape())
      return llvm::createStringError("'" + op->getName().getStringRef().str() +
                                     "' has a dynamic shape");
  // Contractions of the onnx dialect: 2 FLOPs per multiply-add.
  if (isa<onnx::ONNXMatMulOp, onnx::ONNXGemmOp, onnx::ONNXMatMulIntegerOp>(op)) {
    auto a = cast<RankedTensorType>(op->getOperand(0).getType());
    int64_t k = a.getDimSize(a.getRank() - 1);
    if (auto gemm = dyn_cast<onnx::ONNXGemmOp>(op); gemm && gemm.getTransA())
      k = a.getDimSize(0);
    return streamWork(op, 2.0 * numElements(op->getResult(0)) * (double)k);
  }
  if (auto nbits = dyn_cast<onnx::ONNXMsMatMulNBitsOp>(op))
    return streamWork(op, 2.0 * numElements(op->getResult(0)) *
                              (double)nbits.getK());
  // Everything else: one operation per result element.
  return streamWork(op, op->getNumResults() ? numElements(op->getResult(0)) : 0);
}

WeightFootprint prism::xfmr::weightFootprint(Operation *root) {
  WeightFootprint f;
  llvm::DenseSet<Attribute> seen;
  root->walk([&](Operation *op) {
    Attribute key;
    Type type;
    if (auto load = dyn_cast<ml_program::GlobalLoadConstOp>(op)) {
      key = load.getGlobalAttr();
      type = load.getType();
    } else if (auto c = dyn_cast<onnx::ONNXConstantOp>(op);
               c && c->hasAttr("onnx.initializer") && c.getValueAttr()) {
      key = c.getValueAttr();
      type = c.getType();
    }
    auto t = dyn_cast_or_null<RankedTensorType>(type);
    if (!t || !t.hasStaticShape() || !seen.insert(key).second)
      return;
    double n = (double)t.getNumElements();
    f.elements += n;
    f.bytes += n * t.getElementType().getIntOrFloatBitWidth() / 8.0;
    if (isa<FloatType>(t.getElementType()))
      f.floatElements += n;
  });
  return f;
}

void prism::xfmr::registerLinalgWorkModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    linalg::MatmulOp::attachInterface<LinalgWorkModel<linalg::MatmulOp>>(*ctx);
    linalg::BatchMatmulOp::attachInterface<
        LinalgWorkModel<linalg::BatchMatmulOp>>(*ctx);
    linalg::MatvecOp::attachInterface<LinalgWorkModel<linalg::MatvecOp>>(*ctx);
    linalg::GenericOp::attachInterface<LinalgWorkModel<linalg::GenericOp>>(*ctx);
  });
}
