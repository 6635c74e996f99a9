//===- Bundle.h - Run a compiled bundle, phase by phase ----------*- C++ -*-===//
//
// `prism-run --bundle DIR`: the manifest of `prismc --compile-to=bundle`
// names each phase's program and target. @prefill runs on its target with
// the prompt, its KV cache is converted into the buffer @decode reads (the
// prompt's positions first, in the decode side's layout), and @decode runs
// token by token on its target, each step appending its positions, greedy
// (argmax of the logits). Host objects run natively, LPU programs in the
// LPU simulator. A phase whose target cannot run here is a
// TargetUnavailableError (prism-run exits 77 on it, for tests to skip).
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_BUNDLE_H
#define PRISM_RUNTIME_BUNDLE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace prism::runtime {

/// A phase's target cannot execute on this machine (no GPU, no driver).
class TargetUnavailableError : public llvm::ErrorInfo<TargetUnavailableError> {
public:
  static char ID;
  explicit TargetUnavailableError(std::string text) : text(std::move(text)) {}
  void log(llvm::raw_ostream &os) const override { os << text; }
  std::error_code convertToErrorCode() const override { return llvm::inconvertibleErrorCode(); }

private:
  std::string text;
};
constexpr int kTargetUnavailableExitCode = 77;

struct BundleRunOptions {
  std::string directory;
  /// The prompt's token ids (the manifest's prompt length of them), or,
  /// when empty, ids drawn from `randomSeed` over the vocabulary.
  std::vector<int64_t> prompt;
  uint64_t randomSeed = 0;
  /// Decode steps after the prefill's token.
  int64_t steps = 16;
};

struct BundleRunResult {
  /// The prefill's token, then one per decode step.
  std::vector<int64_t> tokens;
  /// Each step's logits of the last position (prefill first), flat.
  std::vector<std::vector<float>> logits;
  /// One line per phase: where it ran.
  std::vector<std::string> log;
};

llvm::Expected<BundleRunResult> runBundle(const BundleRunOptions &options);

} // namespace prism::runtime

#endif // PRISM_RUNTIME_BUNDLE_H
