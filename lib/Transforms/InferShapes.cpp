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

namespace {

/// Folds `op` into constants or existing values. Returns whether it did.
bool foldOp(Operation *op, OpBuilder &b) {
  if (matchPattern(op, m_Constant()) || op->getNumRegions() != 0)
    return false;
  SmallVector<OpFoldResult> folded;
  if (failed(op->fold(folded)) || folded.empty())
    return false;
  SmallVector<Value> replacements;
  b.setInsertionPoint(op);
  for (auto [result, f] : llvm::zip(op->getResults(), folded)) {
    if (auto v = dyn_cast<Value>(f)) {
      if (v == result || v.getType() != result.getType())
        return false;
      replacements.push_back(v);
      continue;
    }
    Operation *cst = op->getDialect()->materializeConstant(
        b, cast<Attribute>(f), result.getType(), op->getLoc());
    if (!cst)
      return false;
    replacements.push_back(cst->getResult(0));
  }
  op->replaceAllUsesWith(replacements);
  op->erase();
  return true;
}

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
        SmallVector<Type> types;
        if (failed(inferResultTypes(op, types)))
          return WalkResult::interrupt();
        for (auto [result, t] : llvm::zip(op->getResults(), types)) {
          if (!t || isa<NoneType>(result.getType()) || t == result.getType())
            continue;
          if (!areCompatibleTypes(result.getType(), t)) {
            op->emitOpError("result type ")
                << result.getType() << " conflicts with the inferred " << t;
            return WalkResult::interrupt();
          }
          Type refined = refineType(result.getType(), t);
          if (refined != result.getType()) {
            result.setType(refined);
            changed = true;
          }
        }
        if (foldOp(op, b))
          changed = true;
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
