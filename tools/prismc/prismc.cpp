//===- prismc.cpp - Prism's compiler driver -------------------------------===//
//
// prismc MODEL.onnx --compile-to=onnx|static|xfmr --bind name=value,... -o OUT.mlir
// prismc MODEL.onnx --compile-to=phases --prompt P --context C --batch B
//
// Runs the pipeline up to the requested phase and writes the IR; --summary
// prints what the model holds, --stats the work of each phase. Nothing is
// written when a step fails.
//
//===----------------------------------------------------------------------===//

#include "prism/Cost/CostModel.h"
#include "prism/Cost/HardwareDescription.h"
#include "prism/Partition/Partitioner.h"
#include "prism/Conversion/Passes.h"
#include "prism/Target/Gpu/LaunchPlan.h"
#include "prism/Target/Gpu/Pipelines.h"
#include "prism/Target/Lpu/Passes.h"
#include "prism/Driver/Diagnostics.h"
#include "prism/Driver/Summary.h"
#include "prism/Driver/WorkStats.h"
#include "prism/Import/OnnxImporter.h"
#include "prism/RegisterAll.h"
#include "prism/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Compiler.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Phase { Onnx, Static, Xfmr, Phases, Plan, Lpu, LpuIr, Emit };

cl::OptionCategory category("prismc options");

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<model.onnx | model.onnxtxt>"),
                               cl::cat(category));

cl::opt<Phase> compileTo(
    "compile-to", cl::desc("Stop after this phase and write its IR"),
    cl::init(Phase::Static),
    cl::values(clEnumValN(Phase::Onnx, "onnx",
                          "the imported onnx dialect, symbolic dims kept"),
               clEnumValN(Phase::Static, "static",
                          "dims bound, shapes inferred and folded: every "
                          "tensor static (default)"),
               clEnumValN(Phase::Xfmr, "xfmr",
                          "static, transformer blocks raised to xfmr ops"),
               clEnumValN(Phase::Phases, "phases",
                          "@prefill and @decode, static and raised, sharing "
                          "the weights, the KV cache at their boundary "
                          "(needs --prompt, and --context for a model with "
                          "a KV cache)"),
               clEnumValN(Phase::Plan, "plan",
                          "phases placed on the --system's groups by the "
                          "partitioner, as the plan dialect (needs --system, "
                          "--prompt and --context)"),
               clEnumValN(Phase::Lpu, "lpu",
                          "one phase (--lpu-function) as a scheduled LPU "
                          "program for prism-sim (docs/lpu-program.md), on "
                          "the chips of the --system group that runs it or "
                          "--lpu-chips (needs --prompt and --context)"),
               clEnumValN(Phase::LpuIr, "lpu-ir",
                          "the same phase as the scheduled lpu dialect "
                          "(convert-xfmr-to-lpu, lpu-schedule), before its "
                          "emission as a program"),
               clEnumValN(Phase::Emit, "emit",
                          "one phase (--lpu-function) as the program of the "
                          "device that runs it in --system: an sram-lpu "
                          "group's LPU program; a gpu group's launch plan "
                          "(JSON with the PTX; weights in <output>.weights, "
                          "docs/gpu-target.md); no other device class has "
                          "an emitter yet")),
    cl::cat(category));

cl::opt<std::string> lpuFunction(
    "lpu-function", cl::init("decode"),
    cl::desc("--compile-to=lpu: the phase to compile (decode or prefill)"),
    cl::cat(category));
cl::opt<int64_t> lpuChips(
    "lpu-chips", cl::init(0),
    cl::desc("--compile-to=lpu: chips (default: the count of the --system "
             "group running the phase, else 1)"),
    cl::cat(category));
cl::opt<int64_t> lpuTensorParallel(
    "lpu-tensor-parallel", cl::init(0),
    cl::desc("--compile-to=lpu: chips per pipeline stage sharing each "
             "matmul's columns (default: the largest divisor of the chip "
             "count up to the device's tensor_parallel_max)"),
    cl::cat(category));

cl::opt<bool> lpuBinary(
    "lpu-binary",
    cl::desc("--compile-to=lpu: write the program's binary form (also when "
             "-o ends in .lpub); prism-sim reads either"),
    cl::cat(category));
cl::opt<bool> lpuVerify(
    "lpu-verify",
    cl::desc("--compile-to=lpu: verify the lpu IR after each pass and check the "
             "schedule against every rule of the "
             "machine before writing it (prism-sim checks it again before it "
             "runs)"),
    cl::cat(category));

cl::list<std::string> bindings(
    "bind",
    cl::desc("Bind symbolic dims: name=value[,name=value...], names as the "
             "model spells them; a dim named by an expression of others "
             "(past_sequence_length+sequence_length) is computed"),
    cl::CommaSeparated, cl::cat(category));

cl::opt<int64_t> prompt("prompt",
                        cl::desc("--compile-to=phases, plan or lpu: new tokens per "
                                 "sequence in @prefill (P)"),
                        cl::init(0), cl::cat(category));
cl::opt<int64_t> context("context",
                         cl::desc("--compile-to=phases, plan or lpu: cached positions "
                                  "@decode reads (C)"),
                         cl::init(0), cl::cat(category));
cl::opt<int64_t> batch("batch",
                       cl::desc("--compile-to=phases, plan or lpu: sequences (B)"),
                       cl::init(1), cl::cat(category));

constexpr const char *kStatsHelp =
    "Print, per function (phase), the FLOPs and the bytes read and written "
    "by class (weights, KV cache, activations) per token, and the parameters "
    "it reads";

cl::opt<std::string> systemSpec(
    "system",
    cl::desc("The system: device groups and the link between them, inline "
             "(\"prefill=h100-sxm*4,decode=lpu-v1*576,link=rdma:100GBps\", "
             "or \"h100-sxm*2\" for one group serving both phases) or a "
             "JSON file; checked against the device descriptions"),
    cl::value_desc("spec"), cl::cat(category));
cl::opt<std::string> hardwareDir(
    "hardware-dir",
    cl::desc("Folder of device descriptions (*.json; default: the ones "
             "shipped in hardware/devices)"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<bool> describeSystem(
    "describe-system",
    cl::desc("Print the --system's groups, their devices' figures and the "
             "groups' totals"),
    cl::cat(category));
cl::opt<bool> estimate(
    "estimate",
    cl::desc("Print each phase's predicted time (time to first token for "
             "@prefill, time per output token for @decode), its memory per "
             "chip and energy on its --system group (the group named like "
             "the phase, or the only one)"),
    cl::cat(category));
cl::opt<std::string> gpuFormat(
    "gpu-format",
    cl::desc("--compile-to=emit on a GPU: the kernels in the plan as PTX (isa, the "
             "default; the driver compiles it when it loads it) or cubin (bin; needs "
             "CUDA's ptxas here)"),
    cl::init("isa"), cl::cat(category));
cl::opt<std::string> explainOp(
    "explain-op",
    cl::desc("Print the terms of the predicted time of the ops from this "
             "ONNX node (a name or part of one) on the --system"),
    cl::value_desc("node"), cl::cat(category));
cl::opt<std::string> weightDtype(
    "weight-dtype",
    cl::desc("The dtype the weights are stored in on the devices, for "
             "--estimate, --explain-op and --compile-to=plan: bf16, fp16, "
             "fp8, int8, int4 (default bf16); for --compile-to=lpu: fp16 "
             "(the default there) or int8; for --compile-to=emit on a GPU: "
             "bf16, fp32 or fp8 (e4m3, a scale per output channel)"),
    cl::init("bf16"), cl::cat(category));
cl::opt<prism::partition::Objective> objective(
    "objective", cl::desc("What the partitioner minimises"),
    cl::values(clEnumValN(prism::partition::Objective::Latency, "latency",
                          "each phase's time (default)"),
               clEnumValN(prism::partition::Objective::Throughput, "throughput",
                          "chips per token per second"),
               clEnumValN(prism::partition::Objective::Cost, "cost",
                          "dollars per token"),
               clEnumValN(prism::partition::Objective::Energy, "energy",
                          "joules per token")),
    cl::init(prism::partition::Objective::Latency), cl::cat(category));
cl::opt<double> ttftSlo("ttft-slo",
                        cl::desc("Time-to-first-token limit in seconds (0: none)"),
                        cl::init(0), cl::cat(category));
cl::opt<double> tpotSlo("tpot-slo",
                        cl::desc("Time-per-output-token limit in seconds (0: none)"),
                        cl::init(0), cl::cat(category));
cl::opt<std::string> reportFile(
    "report",
    cl::desc("--compile-to=plan: write the predictions, the placement and "
             "the decision trace as JSON (file.json), or as a page with a "
             "timeline and a roofline chart (file.html)"),
    cl::value_desc("file.json|file.html"), cl::cat(category));
cl::opt<bool> listDevices("list-devices",
                          cl::desc("List the device kinds described"),
                          cl::cat(category));

cl::opt<std::string> outputFile("o", cl::desc("Write the IR to this file"),
                                cl::value_desc("file"), cl::cat(category));

cl::opt<bool> summary("summary",
                      cl::desc("Print a summary of the model: ops by type, "
                               "parameters, tensors, symbolic dims and their "
                               "bindings"),
                      cl::cat(category));

cl::opt<bool> noIR("no-ir",
                   cl::desc("Do not print the IR when no -o is given"),
                   cl::cat(category));

cl::opt<bool> elideWeights(
    "elide-weights",
    cl::desc("Leave the weight blobs out of the output: the IR keeps its "
             "dense_resource references and parses, but holds no weight "
             "values"),
    cl::cat(category));
} // namespace

/// --compile-to=emit for a phase a GPU group runs: the phase through
/// prism-lower-gpu, its launch plan as JSON to -o and the weights the plan
/// names beside it (<output>.weights).
int emitGpuPhase(ModuleOp module, const prism::cost::DeviceKind &gpu) {
  auto fn = module.lookupSymbol<func::FuncOp>(lpuFunction);
  if (!fn) {
    llvm::errs() << "prismc: no @" << lpuFunction << " phase to emit\n";
    return 1;
  }
  if (outputFile.empty() || outputFile == "-") {
    llvm::errs() << "prismc: --compile-to=emit for a GPU writes the launch plan and "
                    "its weights beside it: give -o FILE\n";
    return 1;
  }
  auto gpuOptions = prism::gpuPipelineOptionsFor(gpu.path, "");
  if (!gpuOptions) {
    llvm::errs() << "prismc: " << llvm::toString(gpuOptions.takeError()) << "\n";
    return 1;
  }
  prism::GpuPipelineOptions options = *gpuOptions;
  // --weight-dtype says fp32 where the pipeline says f32.
  options.weights = weightDtype == "fp32" ? std::string("f32") : weightDtype;
  options.format = gpuFormat;
  if (auto err = prism::checkGpuPipelineOptions(options)) {
    llvm::errs() << "prismc: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  // The other phase is not emitted.
  for (auto other : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    if (other != fn)
      other.erase();
  PassManager pm(module.getContext());
  prism::buildLowerToGpuPipeline(pm, options);
  if (failed(pm.run(module)))
    return 1;
  auto plan = prism::gpu::buildLaunchPlan(module, module.lookupSymbol<func::FuncOp>(lpuFunction));
  if (failed(plan))
    return 1;
  std::string error;
  auto output = openOutputFile(outputFile, &error);
  auto weights = output ? openOutputFile(outputFile + ".weights", &error) : nullptr;
  if (!output || !weights) {
    llvm::errs() << "prismc: " << error << "\n";
    return 1;
  }
  output->os() << llvm::formatv("{0:2}", prism::gpu::toJson(*plan)) << "\n";
  prism::gpu::writeWeights(weights->os(), *plan);
  output->keep();
  weights->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  // LLVM owns an option named "stats" (its statistics, compiled out of
  // release builds): prismc takes it over for its own --stats.
  // (It stores into LLVM's flag: cl::opt<bool, true>.)
  auto *stats =
      static_cast<cl::opt<bool, true> *>(cl::getRegisteredOptions()["stats"]);
  stats->setDescription(kStatsHelp);
  stats->addCategory(category);
  stats->setHiddenFlag(cl::NotHidden);
  if (cl::Option *debug = cl::getRegisteredOptions().lookup("prism-debug-only")) {
    debug->addCategory(category);
    debug->setHiddenFlag(cl::NotHidden);
  }
  cl::ParseCommandLineOptions(
      argc, argv,
      "prismc: Prism's compiler driver\n\n"
      "Imports an ONNX model (binary, or ONNX text syntax for .onnxtxt) and "
      "runs Prism's pipeline up to --compile-to.\n\n"
      "  prismc model.onnx --compile-to=static --bind batch_size=1,"
      "sequence_length=128 -o model.mlir\n"
      "  prismc model.onnx --compile-to=phases --prompt 128 --context 2048 "
      "--batch 1 --stats -o phases.mlir\n");

  std::optional<prism::cost::System> targetSystem;
  std::optional<prism::cost::DeviceLibrary> devices;
  if (compileTo == Phase::Plan && systemSpec.empty()) {
    llvm::errs() << "prismc: --compile-to=plan needs --system\n";
    return 1;
  }
  if (!reportFile.empty() && compileTo != Phase::Plan) {
    llvm::errs() << "prismc: --report is an output of --compile-to=plan\n";
    return 1;
  }
  if ((estimate || !explainOp.empty()) && systemSpec.empty()) {
    llvm::errs() << "prismc: --estimate and --explain-op need --system\n";
    return 1;
  }
  if (prism::cost::dtypeBytes(weightDtype) == 0) {
    llvm::errs() << "prismc: unknown --weight-dtype '" << weightDtype
                 << "' (bf16, fp16, fp8, int8, int4)\n";
    return 1;
  }
  bool lpuTarget = compileTo == Phase::Lpu || compileTo == Phase::LpuIr ||
                   compileTo == Phase::Emit;
  if (listDevices || !systemSpec.empty() || describeSystem || lpuTarget) {
    auto library = prism::cost::DeviceLibrary::load(
        hardwareDir.empty() ? prism::cost::defaultHardwareDir() : hardwareDir);
    if (!library) {
      llvm::errs() << "prismc: " << llvm::toString(library.takeError()) << "\n";
      return 1;
    }
    if (listDevices)
      for (const std::string &kind : library->kinds()) {
        const prism::cost::DeviceKind &d = *library->lookup(kind);
        llvm::outs() << kind << ": " << d.name << " (" << d.deviceClass << ")\n";
      }
    if (describeSystem && systemSpec.empty()) {
      llvm::errs() << "prismc: --describe-system needs --system\n";
      return 1;
    }
    // The system's groups point at the library's device kinds, which stay
    // where they are when the library moves.
    devices = std::move(*library);
    if (!systemSpec.empty()) {
      auto system = prism::cost::parseSystem(systemSpec, *devices);
      if (!system) {
        llvm::errs() << "prismc: " << llvm::toString(system.takeError()) << "\n";
        return 1;
      }
      if (describeSystem)
        prism::cost::printSystem(llvm::outs(), *system);
      targetSystem = std::move(*system);
    }
    if (inputFile.empty()) {
      if (estimate || !explainOp.empty()) {
        llvm::errs() << "prismc: --estimate and --explain-op need a model\n";
        return 1;
      }
      return 0;
    }
  }
  if (inputFile.empty()) {
    llvm::errs() << "prismc: no model given (see --help)\n";
    return 1;
  }

  DialectRegistry registry;
  prism::registerAllDialects(registry);
  // The GPU emitter's pipeline: upstream dialects, their bufferization and
  // NVVM-target models, and the translation to LLVM IR behind the PTX.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  MLIRContext ctx(registry);
  ctx.printOpOnDiagnostic(false);
  prism::installOnnxDiagnosticHandler(ctx);

  OwningOpRef<ModuleOp> module = prism::importOnnxFile(&ctx, inputFile);
  if (!module)
    return 1;
  prism::ModelSummary before = prism::summarizeModule(*module);

  bool phases = compileTo == Phase::Phases || compileTo == Phase::Plan ||
                lpuTarget;
  if (phases && !bindings.empty()) {
    llvm::errs() << "prismc: --compile-to=phases binds the dims itself "
                    "(--prompt, --context, --batch): drop --bind\n";
    return 1;
  }
  if (!phases &&
      (prompt.getNumOccurrences() || context.getNumOccurrences() ||
       batch.getNumOccurrences())) {
    llvm::errs() << "prismc: --prompt, --context and --batch are options of "
                    "--compile-to=phases (use --bind for the other phases)\n";
    return 1;
  }
  if (compileTo >= Phase::Static) {
    PassManager pm(&ctx);
    if (phases) {
      prism::OnnxToPhasesOptions options;
      options.prompt = prompt;
      options.context = context;
      options.batch = batch;
      prism::buildOnnxToPhasesPipeline(pm, options);
    } else {
      prism::OnnxToStaticOptions options;
      std::vector<std::string> dims(bindings.begin(), bindings.end());
      options.dims = dims;
      if (compileTo == Phase::Xfmr)
        prism::buildOnnxToXfmrPipeline(pm, options);
      else
        prism::buildOnnxToStaticPipeline(pm, options);
    }
    if (failed(pm.run(*module)))
      return 1;
  }

  if (summary)
    prism::printSummary(llvm::outs(), before, prism::summarizeModule(*module));

  if (compileTo == Phase::Plan) {
    prism::partition::PartitionOptions options;
    options.objective = objective;
    options.ttftSloS = ttftSlo;
    options.tpotSloS = tpotSlo;
    options.cost.weightDtype = weightDtype;
    auto plan = prism::partition::partition(*module, *targetSystem, options);
    if (!plan) {
      llvm::errs() << "prismc: " << llvm::toString(plan.takeError()) << "\n";
      return 1;
    }
    prism::partition::annotate(*module, *plan, *targetSystem, options);
    if (!reportFile.empty()) {
      std::string error;
      auto out = openOutputFile(reportFile, &error);
      if (!out) {
        llvm::errs() << "prismc: " << error << "\n";
        return 1;
      }
      if (StringRef(reportFile).ends_with(".html"))
        out->os() << prism::partition::planToHtml(
            *plan, *targetSystem, options, llvm::sys::path::filename(inputFile));
      else
        out->os() << llvm::formatv(
                         "{0:2}", prism::partition::planToJson(*plan, *targetSystem,
                                                               options))
                  << "\n";
      out->keep();
    }
  }

  if (estimate || !explainOp.empty()) {
    prism::cost::CostOptions options;
    options.weightDtype = weightDtype;
    if (estimate)
      if (auto err = prism::cost::printEstimates(llvm::outs(), *module,
                                                 *targetSystem, options)) {
        llvm::errs() << "prismc: " << llvm::toString(std::move(err)) << "\n";
        return 1;
      }
    if (!explainOp.empty())
      if (auto err = prism::cost::explainOps(llvm::outs(), *module,
                                             *targetSystem, options, explainOp)) {
        llvm::errs() << "prismc: " << llvm::toString(std::move(err)) << "\n";
        return 1;
      }
  }

  if (compileTo == Phase::Emit && targetSystem) {
    const prism::cost::DeviceGroup *group = nullptr;
    for (const auto &g : targetSystem->groups)
      if (g.name == lpuFunction || targetSystem->groups.size() == 1)
        group = &g;
    if (group && group->kind->deviceClass == "gpu")
      return emitGpuPhase(*module, *group->kind);
  }

  if (lpuTarget) {
    // The LPU's figures come from its description; the chips from the
    // system group that runs the phase.
    const prism::cost::DeviceKind *lpu = devices->lookup("lpu-v1");
    int64_t chips = lpuChips;
    if (compileTo == Phase::Emit && !targetSystem) {
      llvm::errs() << "prismc: --compile-to=emit needs --system: the group that "
                      "runs the phase picks the target\n";
      return 1;
    }
    if (targetSystem) {
      const prism::cost::DeviceGroup *group = nullptr;
      for (const auto &g : targetSystem->groups)
        if (g.name == lpuFunction || targetSystem->groups.size() == 1)
          group = &g;
      if (compileTo == Phase::Emit && group && group->kind->deviceClass != "sram-lpu") {
        llvm::errs() << "prismc: @" << lpuFunction << " runs on " << group->kind->kind
                     << " (" << group->kind->deviceClass
                     << "): no emitter for that device class yet (sram-lpu and gpu have one)\n";
        return 1;
      }
      if (!group || group->kind->deviceClass != "sram-lpu") {
        llvm::errs() << "prismc: the --system has no SRAM-LPU group for @"
                     << lpuFunction << "\n";
        return 1;
      }
      lpu = group->kind;
      if (!chips)
        chips = group->count;
    }
    if (!lpu) {
      llvm::errs() << "prismc: no lpu-v1 device description in the hardware folder\n";
      return 1;
    }
    auto fn = module->lookupSymbol<func::FuncOp>(lpuFunction);
    if (!fn) {
      llvm::errs() << "prismc: no @" << lpuFunction << " phase to compile for the LPU\n";
      return 1;
    }
    prism::ConvertXfmrToLpuOptions options;
    options.function = lpuFunction;
    options.chips = chips ? chips : 1;
    options.tensorParallel = lpuTensorParallel;
    options.device = lpu->path;
    if (weightDtype == "int8")
      options.weightDtype = "i8";
    else if (weightDtype == "fp16" || !weightDtype.getNumOccurrences())
      options.weightDtype = "f16";
    else {
      llvm::errs() << "prismc: the LPU takes --weight-dtype fp16 or int8, not '"
                   << weightDtype << "'\n";
      return 1;
    }
    PassManager pm(&ctx);
    // Verifying millions of instructions after each pass costs seconds:
    // only when asked (prism-sim checks every rule of what it runs).
    pm.enableVerifier(lpuVerify);
    pm.addPass(prism::createConvertXfmrToLpu(options));
    pm.nest<prism::lpu::ProgramOp>().addPass(prism::createLpuSchedule());
    if (failed(pm.run(*module)))
      return 1;
    auto programOp = module->lookupSymbol<prism::lpu::ProgramOp>(lpuFunction);
    std::string error;
    auto output = openOutputFile(outputFile.empty() ? std::string("-") : outputFile.getValue(),
                                 &error);
    if (!output) {
      llvm::errs() << "prismc: " << error << "\n";
      return 1;
    }
    if (compileTo == Phase::LpuIr) {
      programOp->print(output->os());
      output->os() << "\n";
      output->keep();
      return 0;
    }
    // Both held at once: the program is built from the ops.
    auto emitted = prism::lpu::emitProgram(programOp, lpuVerify);
    if (failed(emitted))
      return 1;
    auto program = std::make_unique<prism::sim::lpu::Program>(std::move(*emitted));
    if (lpuBinary || StringRef(outputFile).ends_with(".lpub"))
      prism::sim::lpu::writeBinary(*program, output->os());
    else
      prism::sim::lpu::printProgram(*program, output->os());
    output->keep();
    // The driver exits next: millions of ops and instructions are left to
    // the OS rather than freed one by one (as clang's -disable-free does;
    // not under a leak checker).
#if !LLVM_ADDRESS_SANITIZER_BUILD
    (void)program.release();
    (void)module.release();
#endif
    return 0;
  }

  bool printStats = llvm::AreStatisticsEnabled();
  // Nothing for LLVM to report at exit.
  stats->setValue(false);
  if (printStats) {
    auto phases = prism::computePhaseStats(*module);
    if (failed(phases))
      return 1;
    prism::printPhaseStats(llvm::outs(), *phases);
  }

  if (outputFile.empty() &&
      (summary || printStats || noIR || estimate || !explainOp.empty()))
    return 0;
  std::string error;
  auto output = openOutputFile(outputFile.empty() ? std::string("-") : outputFile.getValue(), &error);
  if (!output) {
    llvm::errs() << "prismc: " << error << "\n";
    return 1;
  }
  OpPrintingFlags flags;
  // Node names travel with the IR, so later tools still name the node.
  flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  if (elideWeights)
    flags.elideLargeResourceString(64);
  module->print(output->os(), flags);
  output->os() << "\n";
  output->keep();
  return 0;
}
