//===- CheckStatic.cpp - Require statically shaped tensors ----------------===//

#include "prism/Transforms/Passes.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "llvm/ADT/StringExtras.h"

namespace prism {
#define GEN_PASS_DEF_ONNXCHECKSTATIC
#include "prism/Transforms/Passes.h.inc"
} // namespace prism

using namespace mlir;
namespace onnx = prism::onnx;

namespace {

bool isStatic(Type t) {
  if (isa<NoneType>(t))
    return true;
  // A sequence's length is a run-time value; its tensors must be static.
  if (auto seq = dyn_cast<onnx::SeqType>(t))
    return isStatic(seq.getElementType());
  if (auto opt = dyn_cast<onnx::OptType>(t))
    return isStatic(opt.getElementType());
  // Scalars (the constants a lowered xfmr op captures) have no shape.
  if (t.isIntOrIndexOrFloat())
    return true;
  auto ranked = dyn_cast<RankedTensorType>(t);
  return ranked && ranked.hasStaticShape();
}

/// The first op of the function (in program order) that uses `v`.
Operation *firstUser(Value v) {
  Operation *first = nullptr;
  for (Operation *user : v.getUsers()) {
    Operation *top = user;
    while (top->getParentOp() && !isa<func::FuncOp>(top->getParentOp()))
      top = top->getParentOp();
    if (!first || top->isBeforeInBlock(first))
      first = top;
  }
  return first;
}

struct OnnxCheckStatic
    : public prism::impl::OnnxCheckStaticBase<OnnxCheckStatic> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    bool failedAny = false;
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (type && type.hasStaticShape())
        continue;
      auto names = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(),
                                                    "onnx.dim_names");
      auto inputName = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                         "onnx.name");
      std::vector<std::string> unbound;
      if (type && names && names.size() == (size_t)type.getRank())
        for (auto [d, n] : llvm::enumerate(names))
          if (type.isDynamicDim(d))
            unbound.push_back(cast<StringAttr>(n).str());
      Operation *user = firstUser(arg);
      Location loc = user ? user->getLoc() : func.getLoc();
      InFlightDiagnostic diag = emitError(loc);
      std::string input = inputName ? inputName.str() : "#" +
                                      std::to_string(arg.getArgNumber());
      if (!type) {
        diag << "input '" << input << "' has unknown rank";
      } else if (!unbound.empty() &&
                 llvm::none_of(unbound, [](auto &s) { return s.empty(); })) {
        diag << "unbound symbolic dim" << (unbound.size() > 1 ? "s " : " ");
        for (auto [i, n] : llvm::enumerate(unbound))
          diag << (i ? ", " : "") << "'" << n << "'";
        diag << " of input '" << input << "' (" << arg.getType() << ")";
        diag << "; bind with --bind " << unbound[0] << "=N";
      } else {
        diag << "input '" << input << "' has unnamed dynamic dims ("
             << arg.getType() << ")";
      }
      if (user)
        diag << "; first needed by this node";
      failedAny = true;
    }
    if (failedAny)
      return signalPassFailure();
    func.walk([&](Operation *op) {
      for (Type t : op->getResultTypes())
        if (!isStatic(t)) {
          op->emitError("shape stays dynamic after binding every dim: ")
              << t << " (it depends on tensor values)";
          failedAny = true;
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
