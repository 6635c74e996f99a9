//===- Register.cpp - NVIDIA GPUs as a Prism target -----------------------===//
//
// A placed phase through prism-lower-gpu (Prism's kernels, PTX or cubin for
// the device's SM), emitted as a launch plan (JSON) with its weights in
// <plan>.weights (docs/gpu-target.md).
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Gpu/Register.h"

#include "prism/Target/Gpu/LaunchPlan.h"
#include "prism/Target/Gpu/Pipelines.h"
#include "prism/Target/TargetBackend.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace prism;
using namespace prism::target;

namespace {

class GpuBackend final : public TargetBackend {
public:
  llvm::StringRef deviceClass() const override { return "gpu"; }
  llvm::StringRef name() const override { return "gpu"; }
  llvm::StringRef programExtension() const override { return ".json"; }

  plan::WeightDtype defaultWeightDtype() const override { return plan::WeightDtype::bf16; }
  llvm::Error checkWeightDtype(plan::WeightDtype dtype) const override {
    if (dtype == plan::WeightDtype::bf16 || dtype == plan::WeightDtype::fp32 ||
        dtype == plan::WeightDtype::fp8)
      return llvm::Error::success();
    return llvm::createStringError("the GPU target stores weights as bf16 (the default), fp32 or fp8, not " +
                                   plan::stringifyWeightDtype(dtype));
  }

  /// The pipeline's options for the placement: tiled for the placed GPU,
  /// PTX for its SM.
  static llvm::Expected<GpuPipelineOptions> optionsFor(const PlacedPhase &placed,
                                                       const EmitOptions &emit) {
    auto options = gpuPipelineOptionsFor(placed.device->path, "");
    if (!options)
      return options.takeError();
    // The pipeline spells fp32 as f32.
    options->weights = placed.weightDtype == plan::WeightDtype::fp32
                           ? std::string("f32")
                           : plan::stringifyWeightDtype(placed.weightDtype).str();
    auto format = emit.settings.find("format");
    if (format != emit.settings.end())
      options->format = format->second;
    if (auto err = checkGpuPipelineOptions(*options))
      return std::move(err);
    return options;
  }

  int64_t maxChips() const override { return 1; }

  llvm::Error buildPipeline(OpPassManager &pm, const PlacedPhase &placed,
                            const EmitOptions &emit) const override {
    if (placed.chips != 1)
      return llvm::createStringError(
          llvm::formatv("@{0} is placed on {1} GPUs: the GPU target compiles for one "
                        "(tensor and pipeline parallelism across GPUs are not built)",
                        placed.function, placed.chips)
              .str());
    auto options = optionsFor(placed, emit);
    if (!options)
      return options.takeError();
    buildLowerToGpuPipeline(pm, *options);
    return llvm::Error::success();
  }

  llvm::Expected<EmittedProgram> emit(ModuleOp lowered, const PlacedPhase &placed,
                                      const EmitOptions &options) const override {
    if (options.path.empty() || options.path == "-")
      return llvm::createStringError("the GPU target writes the launch plan and its weights "
                                     "beside it: give -o FILE");
    auto phase = lowered.lookupSymbol<func::FuncOp>(placed.function);
    FailureOr<gpu::LaunchPlan> plan = failure();
    if (phase)
      plan = gpu::buildLaunchPlan(lowered, phase);
    if (failed(plan))
      return llvm::createStringError("the launch plan of @" + placed.function +
                                     " could not be built (see the error above)");
    std::string error;
    auto output = openOutputFile(options.path, &error);
    auto weights = output ? openOutputFile(options.path + ".weights", &error) : nullptr;
    if (!output || !weights)
      return llvm::createStringError(error);
    output->os() << llvm::formatv("{0:2}", gpu::toJson(*plan)) << "\n";
    gpu::writeWeights(weights->os(), *plan);
    output->keep();
    weights->keep();
    EmittedProgram emitted;
    emitted.format = "gpu-launch-plan";
    emitted.files = {options.path, options.path + ".weights"};
    emitted.kvLayout = llvm::json::Object{
        {"memory", "device memory (hbm)"},
        {"dtype", "f32"},
        {"order", "[layers, 2, batch, heads, positions, head_dim]"},
        {"placement", "one buffer, row-major, as the launch plan's kv_cache value"}};
    return emitted;
  }
};

} // namespace

void prism::gpu::registerGpuTarget() { registerTarget(std::make_unique<GpuBackend>()); }
