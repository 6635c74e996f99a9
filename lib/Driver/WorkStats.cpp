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
    xfmr::WeightFootprint weights = xfmr::weightFootprint(f);
    stats.parameters = weights.elements;
    stats.weightBytes = weights.bytes;
    WalkResult walk = f.walk([&](Operation *op) -> WalkResult {
      if (op == f.getOperation())
        return WalkResult::advance();
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
