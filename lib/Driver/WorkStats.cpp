//===- WorkStats.cpp - FLOPs and bytes per token, for prismc --stats ------===//

#include "prism/Driver/WorkStats.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"

using namespace mlir;

FailureOr<std::vector<prism::PhaseStats>>
prism::computePhaseStats(ModuleOp module) {
  std::vector<PhaseStats> all;
  for (auto f : module.getOps<func::FuncOp>()) {
    if (f.isExternal())
      continue;
    PhaseStats stats;
    stats.name = f.getSymName().str();
    if (auto tokens = f->getAttrOfType<IntegerAttr>("xfmr.tokens")) {
      stats.tokens = tokens.getInt();
      stats.tokensKnown = true;
    }
    llvm::DenseSet<Attribute> weights;
    auto addWeight = [&](Attribute key, Type type) {
      auto t = dyn_cast<RankedTensorType>(type);
      if (!t || !t.hasStaticShape() || !weights.insert(key).second)
        return;
      stats.parameters += (double)t.getNumElements();
      stats.weightBytes += (double)t.getNumElements() *
                           t.getElementType().getIntOrFloatBitWidth() / 8.0;
    };
    WalkResult walk = f.walk([&](Operation *op) -> WalkResult {
      if (op == f.getOperation())
        return WalkResult::advance();
      if (auto load = dyn_cast<ml_program::GlobalLoadConstOp>(op))
        addWeight(load.getGlobalAttr(), load.getType());
      else if (auto c = dyn_cast<onnx::ONNXConstantOp>(op);
               c && c->hasAttr("onnx.initializer") && c.getValueAttr())
        addWeight(c.getValueAttr(), c.getType());
      auto work = xfmr::getWorkOf(op);
      if (!work) {
        op->emitError() << llvm::toString(work.takeError());
        return WalkResult::interrupt();
      }
      stats.work += *work;
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    all.push_back(std::move(stats));
  }
  return all;
}

void prism::printPhaseStats(llvm::raw_ostream &os,
                            const std::vector<PhaseStats> &stats) {
  auto line = [&](StringRef key, double value) {
    os << llvm::format("  %-38s %.6e\n", (key + ":").str().c_str(), value);
  };
  for (const PhaseStats &s : stats) {
    double t = (double)s.tokens;
    os << "@" << s.name << ": "
       << (s.tokensKnown ? std::to_string(s.tokens) +
                               (s.tokens == 1 ? " new token per call"
                                              : " new tokens per call")
                         : std::string("per call (token count unknown)"))
       << "\n";
    line("parameters", s.parameters);
    line("weight bytes (resident)", s.weightBytes);
    line("FLOPs per token", s.work.flops / t);
    line("weight bytes read per token", s.work.weightBytesRead / t);
    line("KV-cache bytes read per token", s.work.kvBytesRead / t);
    line("KV-cache bytes written per token", s.work.kvBytesWritten / t);
    line("activation bytes read per token", s.work.activationBytesRead / t);
    line("activation bytes written per token", s.work.activationBytesWritten / t);
  }
}
