//===- LaunchPlan.h - The GPU launch plan format -----------------*- C++ -*-===//
//
// What the host does to run a GPU phase, as data: the buffers with their
// sizes and contents, every launch with its grid, block and arguments (a
// view: buffer, offset, sizes, strides), the inputs and outputs, and the
// kernels' PTX (or cubin). The GPU target builds it (prism/Target/Gpu/
// LaunchPlan.h) and writes it as JSON with the weights in a file beside
// it; the CUDA runner (prism/Runtime/Cuda/Runner.h) reads and runs it. No
// MLIR here: this is the format both sides share. docs/gpu-target.md
// describes the JSON.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_TARGET_GPU_FORMAT_LAUNCHPLAN_H
#define PRISM_TARGET_GPU_FORMAT_LAUNCHPLAN_H

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <string>
#include <vector>

namespace prism::gpu {


/// A device buffer.
struct PlanBuffer {
  enum class Kind { Input, Weight, Scratch };
  Kind kind = Kind::Scratch;
  /// The input's onnx.name or the weight's global.
  std::string name;
  /// The weight the global holds, when bufferization named the global for
  /// its type: the model's name for it (its dense_resource key).
  std::string weight;
  int64_t bytes = 0;
  /// A weight's contents (empty when left out of the IR).
  std::vector<char> data;
  bool elided = false;
  /// Where a weight's bytes start in the weights file (a multiple of 64,
  /// so that a loader may keep the file in one allocation while the
  /// kernels read 16-byte vectors).
  int64_t weightsOffset = 0;
};

/// A strided view of a buffer, in elements: a memref descriptor.
struct PlanView {
  int64_t buffer = -1;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
  /// "f32", "bf16", "i64", ...
  std::string dtype;
  int64_t elementBytes = 0;
};

/// A kernel argument: a view, or an integer or float immediate.
struct PlanArg {
  enum class Kind { View, Int, Float };
  Kind kind = Kind::View;
  PlanView view;
  int64_t intValue = 0;
  double floatValue = 0;
  /// An immediate's width in bits (index is 64).
  int bits = 64;
};

struct PlanLaunch {
  /// The gpu.binary and the kernel in it.
  std::string module, kernel;
  std::array<int64_t, 3> grid{1, 1, 1}, block{1, 1, 1};
  std::vector<PlanArg> args;
  /// The tiling model's time for the launch (Prism's GEMM, GEMV and
  /// attention kernels; 0 for others).
  double predictedSeconds = 0;
};

/// The kernels of one gpu.binary: PTX text, or a cubin (ELF) image.
struct PlanModule {
  std::string name;
  bool cubin = false;
  std::string data;
};

/// An input or output of the phase.
struct PlanValue {
  std::string name;
  PlanView view;
};

struct LaunchPlan {
  std::string phase;
  std::vector<PlanBuffer> buffers;
  std::vector<PlanValue> inputs, outputs;
  std::vector<PlanLaunch> launches;
  /// The gpu.binary ops the launches use.
  std::vector<PlanModule> modules;

  /// The size of the weights file: the weights the plan holds (not those
  /// left out), each at its offset.
  int64_t weightBytes() const;
};

/// The plan as JSON. Weights are named with their byte range in the
/// weights file `writeWeights` writes (in buffer order, each starting on a
/// multiple of 64 bytes, zeros between); weights left out of the IR are
/// marked `elided` and take no bytes there.
llvm::json::Value toJson(const LaunchPlan &plan);
void writeWeights(llvm::raw_ostream &os, const LaunchPlan &plan);

/// A plan from its JSON (`origin` names it in errors), and from a file
/// with its weights read from `<path>.weights`. Floats that are not finite
/// are the strings "inf", "-inf" and "nan".
llvm::Expected<LaunchPlan> fromJson(const llvm::json::Value &json, llvm::StringRef origin);
llvm::Expected<LaunchPlan> readLaunchPlan(llvm::StringRef path);

} // namespace prism::gpu

#endif // PRISM_TARGET_GPU_FORMAT_LAUNCHPLAN_H
