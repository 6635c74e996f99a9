//===- Runner.h - Run a launch plan through the CUDA driver -------*- C++ -*-===//
//
// `prism-run --device=cuda` runs a phase's launch plan (LaunchPlan.h) on an
// NVIDIA GPU: the CUDA driver (libcuda.so.1, opened at run time, so Prism
// builds without a CUDA toolkit) JIT-compiles the plan's PTX, the plan's
// buffers are allocated on the device and filled (inputs, weights), the
// launches run in order on one stream, and CUDA events time them.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_RUNTIME_CUDA_RUNNER_H
#define PRISM_RUNTIME_CUDA_RUNNER_H

#include "prism/Runtime/TensorIO.h"
#include "prism/Target/Gpu/Format/LaunchPlan.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace prism::gpu {

/// The error `prism-run` reports with exit code kNoCudaExitCode (tests
/// skip on it): no CUDA driver, or no device.
class NoCudaError : public llvm::ErrorInfo<NoCudaError> {
public:
  static char ID;
  explicit NoCudaError(std::string text) : text(std::move(text)) {}
  void log(llvm::raw_ostream &os) const override { os << text; }
  std::error_code convertToErrorCode() const override { return llvm::inconvertibleErrorCode(); }

private:
  std::string text;
};
constexpr int kNoCudaExitCode = 77;

struct RunOptions {
  /// Timed repetitions after one warm-up run (0: run once, untimed).
  unsigned timedRuns = 0;
  /// Run a plan whose weights were left out of the IR, with zeros (for
  /// timing only; the outputs mean nothing).
  bool allowElidedWeights = false;
};

struct RunResult {
  /// The plan's outputs by name.
  llvm::StringMap<runtime::Tensor> outputs;
  std::string deviceName;
  /// Mean time of one run of all launches (CUDA events), and of each launch
  /// (in plan order), over the timed runs.
  double milliseconds = 0;
  std::vector<double> launchMilliseconds;
};

/// Runs `plan` on GPU 0 with `inputs` (by name; each must match the plan's
/// dtype and shape). A NoCudaError when there is no driver or device.
llvm::Expected<RunResult> runOnCuda(const LaunchPlan &plan,
                                    const llvm::StringMap<runtime::Tensor> &inputs,
                                    const RunOptions &options);

} // namespace prism::gpu

#endif // PRISM_RUNTIME_CUDA_RUNNER_H
