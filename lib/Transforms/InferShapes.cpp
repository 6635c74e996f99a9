//===- InferShapes.cpp - Infer shapes and fold shape arithmetic -----------===//

#include "prism/Transforms/Passes.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Iterators.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace prism {
#define GEN_PASS_DEF_ONNXINFERSHAPES
#include "prism/Transforms/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism::onnx;

/// Folds `op` into constants or existing values, which it returns (none if
/// it did not fold).
static SmallVector<Value> foldOp(Operation *op, OpBuilder &b) {
  if (matchPattern(op, m_Constant()) || op->getNumRegions() != 0)
    return {};
  SmallVector<OpFoldResult> folded;
  if (failed(op->fold(folded)) || folded.empty())
    return {};
  SmallVector<Value> replacements;
  b.setInsertionPoint(op);
  for (auto [result, f] : llvm::zip(op->getResults(), folded)) {
    if (auto v = dyn_cast<Value>(f)) {
      if (v == result || v.getType() != result.getType())
        return {};
      replacements.push_back(v);
      continue;
    }
    Operation *cst = op->getDialect()->materializeConstant(
        b, cast<Attribute>(f), result.getType(), op->getLoc());
    if (!cst)
      return {};
    replacements.push_back(cst->getResult(0));
  }
  op->replaceAllUsesWith(replacements);
  op->erase();
  return replacements;
}

LogicalResult prism::refineAndFold(Operation *op, OpBuilder &b, bool &changed,
                                  SmallVectorImpl<Value> *replacements) {
  SmallVector<Type> types;
  if (failed(inferResultTypes(op, types)))
    return failure();
  for (auto [result, t] : llvm::zip(op->getResults(), types)) {
    if (!t || isa<NoneType>(result.getType()) || t == result.getType())
      continue;
    if (!areCompatibleTypes(result.getType(), t))
      return op->emitOpError("result type ")
             << result.getType() << " conflicts with the inferred " << t;
    Type refined = refineType(result.getType(), t);
    if (refined != result.getType()) {
      result.setType(refined);
      changed = true;
    }
  }
  SmallVector<Value> folded = foldOp(op, b);
  if (replacements)
    replacements->assign(folded.empty() ? SmallVector<Value>(op->getResults())
                                        : folded);
  if (!folded.empty())
    changed = true;
  return success();
}

namespace {

struct OnnxInferShapes
    : public prism::impl::OnnxInferShapesBase<OnnxInferShapes> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    OpBuilder b(&getContext());
    // One sweep in program order propagates most shapes; folding can expose
    // more, so sweep until nothing changes.
    for (int sweep = 0; sweep < 16; ++sweep) {
      bool changed = false;
      WalkResult walk = func.walk([&](Operation *op) {
        if (!isa<ONNXDialect>(op->getDialect()) || isa<ONNXYieldOp>(op))
          return WalkResult::advance();
        if (failed(prism::refineAndFold(op, b, changed)))
          return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return signalPassFailure();
      changed |= eraseDeadOps(func);
      if (!changed)
        break;
    }
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                   ret.getOperandTypes()));
  }

  bool eraseDeadOps(func::FuncOp func) {
    bool erased = false;
    SmallVector<Operation *> ops;
    func.walk<WalkOrder::PostOrder, ReverseIterator>(
        [&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops)
      if (op->use_empty() && isa<ONNXDialect>(op->getDialect()) &&
          isMemoryEffectFree(op) && !op->hasTrait<OpTrait::IsTerminator>()) {
        op->erase();
        erased = true;
      }
    return erased;
  }
};

} // namespace
