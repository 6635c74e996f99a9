//===- PrismcMain.cpp - Prism's compiler driver ---------------------------===//
//
// prismc MODEL.onnx --compile-to=onnx|static|xfmr --bind name=value,... -o OUT.mlir
// prismc MODEL.onnx --compile-to=phases --prompt P --context C --batch B
// prismc MODEL.onnx --compile-to=bundle --system S --prompt P --context C -o DIR
//
// Runs the pipeline up to the requested stage and writes its IR, or a
// phase's program (emit), or every placed phase's program (bundle);
// --summary prints what the model holds, --stats the work of each phase.
// Nothing is written when a step fails. The targets are reached through
// their registry (prism/Target/TargetBackend.h) only. tools/prismc is
// this function's main, as IREE's iree-compile is over iree_compile_lib.
//
//===----------------------------------------------------------------------===//

#include "prism/Cost/CostModel.h"
#include "prism/Cost/HardwareDescription.h"
#include "prism/Partition/Partitioner.h"
#include "prism/Driver/Bundle.h"
#include "prism/Driver/Diagnostics.h"
#include "prism/Driver/Main.h"
#include "prism/Driver/Summary.h"
#include "prism/Driver/WorkStats.h"
#include "prism/Import/OnnxImporter.h"
#include "prism/RegisterAll.h"
#include "prism/Target/TargetBackend.h"
#include "prism/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
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
enum class Phase { Onnx, Static, Xfmr, Phases, Plan, Target, Lpu, LpuIr, Emit, Bundle };

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
               clEnumValN(Phase::Target, "target",
                          "one phase (--phase) lowered by the target of the "
                          "--system group that runs it (its pipeline, before "
                          "emission), as IR"),
               clEnumValN(Phase::Lpu, "lpu",
                          "one phase (--phase) as a scheduled LPU "
                          "program for prism-sim (docs/lpu-program.md), on "
                          "the chips of the --system group that runs it or "
                          "--lpu-chips (needs --prompt and --context)"),
               clEnumValN(Phase::LpuIr, "lpu-ir",
                          "the same phase as the scheduled lpu dialect "
                          "(convert-xfmr-to-lpu, lpu-schedule), before its "
                          "emission as a program"),
               clEnumValN(Phase::Emit, "emit",
                          "one phase (--phase) as the program of the target "
                          "of the --system group that runs it, on all the "
                          "group's chips: an sram-lpu group's LPU program, a "
                          "gpu group's launch plan (JSON with the PTX; "
                          "weights in <output>.weights), a cpu group's "
                          "object file"),
               clEnumValN(Phase::Bundle, "bundle",
                          "the phases placed on the --system by the "
                          "partitioner, each asked of its target, then each "
                          "compiled by it, into the folder -o: a program per "
                          "phase, manifest.json (the programs, groups, chips, "
                          "weights and the KV-cache hand-off) and plan.json "
                          "(docs/bundle.md); prism-run --bundle runs it")),
    cl::cat(category));

cl::opt<std::string> lpuFunction(
    "phase", cl::init("decode"),
    cl::desc("--compile-to=target, lpu, lpu-ir or emit: the phase to compile "
             "(decode or prefill)"),
    cl::cat(category));
cl::alias lpuFunctionAlias("lpu-function", cl::desc("Alias for --phase"),
                           cl::aliasopt(lpuFunction), cl::cat(category));

cl::opt<Phase> compileFrom(
    "compile-from",
    cl::desc("Start from a module saved at this stage (an .mlir file written "
             "by --compile-to=STAGE) instead of importing a model"),
    cl::values(clEnumValN(Phase::Onnx, "onnx", "the imported onnx dialect"),
               clEnumValN(Phase::Static, "static", "the static module"),
               clEnumValN(Phase::Xfmr, "xfmr", "the raised module"),
               clEnumValN(Phase::Phases, "phases", "@prefill and @decode"),
               clEnumValN(Phase::Plan, "plan",
                          "the placed phases (for target and emit: the "
                          "placement of the phase is used)")),
    cl::init(Phase::Onnx), cl::cat(category));
cl::opt<bool> anyGroup(
    "any-group",
    cl::desc("--compile-to=plan and bundle: price every phase on every group; by "
             "default a phase with a group named after it (prefill=..., "
             "decode=...) runs on that group"),
    cl::cat(category));
cl::opt<bool> targetPrices(
    "target-prices",
    cl::desc("--compile-to=plan and bundle: price each candidate with its target's exact "
             "time where the target has one (the LPU: its own cycle-exact schedule, the "
             "time prism-sim reports) instead of the cost model's; the decision trace "
             "keeps both"),
    cl::cat(category));
cl::opt<bool> checkTargets(
    "check-targets",
    cl::desc("--compile-to=plan: ask each candidate's target, best first, "
             "whether it compiles the phase as placed (--compile-to=bundle "
             "always does)"),
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
                        cl::desc("--compile-to=phases and later stages: new tokens per "
                                 "sequence in @prefill (P)"),
                        cl::init(0), cl::cat(category));
cl::opt<int64_t> context("context",
                         cl::desc("--compile-to=phases and later stages: cached positions "
                                  "@decode reads (C)"),
                         cl::init(0), cl::cat(category));
cl::opt<int64_t> batch("batch",
                       cl::desc("--compile-to=phases and later stages: sequences (B)"),
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
cl::opt<std::string> estimateJson(
    "estimate-json",
    cl::desc("Write what --estimate prints, with the terms behind it, as JSON: "
             "per phase the kernels (FLOPs, bytes, rows, peak, count), the memory "
             "level and bandwidth, the all-reduces and the predicted time "
             "(python/check_calibration.py fits the devices' efficiencies on it)"),
    cl::value_desc("file.json"), cl::cat(category));
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
    cl::desc("The dtype the weights are stored in on the devices: fp32, "
             "bf16, fp16, fp8, int8, int4. Default: each target's own (GPU "
             "bf16, LPU fp16, host fp32; bf16 where no target compiles for "
             "the device, and for --estimate and --explain-op). A target "
             "that cannot store it says so (the LPU: fp16, int8; the GPU: "
             "bf16, fp32, fp8 as e4m3 with a scale per output channel)"),
    cl::init(""), cl::cat(category));
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

namespace {

int fail(const llvm::Twine &msg) {
  llvm::errs() << "prismc: " << msg << "\n";
  return 1;
}

/// --compile-to=target, lpu, lpu-ir and emit: the phase placed as the
/// flags say (the group of --system that runs it, on all its chips or
/// --lpu-chips; lpu-v1 for --compile-to=lpu without --system), or as its
/// #plan.placement says (--compile-from=plan).
llvm::Expected<prism::target::PlacedPhase>
placementFromFlags(ModuleOp module, const std::optional<prism::cost::System> &system,
                   const prism::cost::DeviceLibrary &devices,
                   std::optional<prism::plan::WeightDtype> dtype) {
  auto fn = module.lookupSymbol<func::FuncOp>(lpuFunction);
  if (!fn)
    return llvm::createStringError("no @" + lpuFunction + " phase to compile");
  if (compileFrom == Phase::Plan && fn->hasAttr("plan.placement"))
    return prism::target::readPlacement(fn, devices);
  prism::target::PlacedPhase placed;
  placed.function = lpuFunction;
  bool lpuOnly = compileTo == Phase::Lpu || compileTo == Phase::LpuIr;
  if (system) {
    auto group = prism::cost::groupFor(*system, lpuFunction);
    if (!group)
      return group.takeError();
    placed.group = (*group)->name;
    placed.device = (*group)->kind;
    placed.chips = (*group)->count;
  } else if (lpuOnly) {
    placed.group = "all";
    placed.device = devices.lookup("lpu-v1");
    if (!placed.device)
      return llvm::createStringError("no lpu-v1 device description in the hardware folder");
  } else {
    return llvm::createStringError("--compile-to=" +
                                   std::string(compileTo == Phase::Emit ? "emit" : "target") +
                                   " needs --system: the group that runs the phase picks "
                                   "the target");
  }
  auto backend = prism::target::targetFor(*placed.device);
  if (!backend)
    return llvm::createStringError("@" + lpuFunction + " runs on " + placed.device->kind +
                                   ": " + llvm::toString(backend.takeError()));
  if (lpuOnly && (*backend)->name() != "lpu")
    return llvm::createStringError("the --system has no SRAM-LPU group for @" + lpuFunction);
  if (lpuChips)
    placed.chips = lpuChips;
  // 0: the target's own default layout.
  placed.tensorParallel = lpuTensorParallel;
  placed.pipelineParallel = 0;
  placed.weightDtype = dtype ? *dtype : (*backend)->defaultWeightDtype();
  if (auto err = (*backend)->checkWeightDtype(placed.weightDtype))
    return std::move(err);
  return placed;
}

/// --compile-to=target and lpu-ir: the target's pipeline, printed.
int printTargetIR(ModuleOp module, const prism::target::PlacedPhase &placed,
                  const prism::target::EmitOptions &emit) {
  const prism::target::TargetBackend *backend = *prism::target::targetFor(*placed.device);
  OwningOpRef<ModuleOp> lowered = prism::target::extractPhase(module, placed.function);
  PassManager pm(module.getContext());
  pm.enableVerifier(backend->verifyEachPass(emit));
  if (auto err = backend->buildPipeline(pm, placed, emit))
    return fail(llvm::toString(std::move(err)));
  if (failed(pm.run(*lowered)))
    return 1;
  std::string error;
  auto output = openOutputFile(outputFile.empty() ? std::string("-") : outputFile.getValue(),
                               &error);
  if (!output)
    return fail(error);
  // A target that replaces the phase with its own program op (the LPU's
  // lpu.program): that op; else the whole module.
  Operation *program = lowered->lookupSymbol(placed.function);
  if (program && !isa<func::FuncOp>(program))
    program->print(output->os());
  else
    lowered->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}

} // namespace

int prism::driver::prismcMain(int argc, char **argv) {
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
      "--batch 1 --stats -o phases.mlir\n"
      "  prismc model.onnx --compile-to=bundle --prompt 8 --context 32 "
      "--system \"prefill=host-cpu*1,decode=lpu-v1*8,link=rdma:100GBps\" -o out/\n");
  prism::target::registerAllTargets();
  // The host target's pipeline names upstream passes by their text.
  mlir::registerAllPasses();

  std::optional<prism::cost::System> targetSystem;
  std::optional<prism::cost::DeviceLibrary> devices;
  bool placing = compileTo == Phase::Plan || compileTo == Phase::Bundle;
  if (placing && systemSpec.empty())
    return fail(std::string("--compile-to=") + (compileTo == Phase::Plan ? "plan" : "bundle") +
                " needs --system");
  if (!reportFile.empty() && compileTo != Phase::Plan)
    return fail("--report is an output of --compile-to=plan (a bundle holds plan.json)");
  if ((estimate || !explainOp.empty() || !estimateJson.empty()) && systemSpec.empty())
    return fail("--estimate, --estimate-json and --explain-op need --system");
  std::optional<prism::plan::WeightDtype> dtype;
  if (!weightDtype.empty()) {
    auto parsed = prism::target::parseWeightDtype(weightDtype);
    if (!parsed)
      return fail("--weight-dtype: " + llvm::toString(parsed.takeError()));
    dtype = *parsed;
  }
  bool targetStage = compileTo == Phase::Target || compileTo == Phase::Lpu ||
                     compileTo == Phase::LpuIr || compileTo == Phase::Emit ||
                     compileTo == Phase::Bundle;
  if (listDevices || !systemSpec.empty() || describeSystem || targetStage) {
    auto library = prism::cost::DeviceLibrary::load(
        hardwareDir.empty() ? prism::cost::defaultHardwareDir() : hardwareDir);
    if (!library)
      return fail(llvm::toString(library.takeError()));
    if (listDevices)
      for (const std::string &kind : library->kinds()) {
        const prism::cost::DeviceKind &d = *library->lookup(kind);
        const prism::target::TargetBackend *backend = prism::target::lookupTarget(d.deviceClass);
        llvm::outs() << kind << ": " << d.name << " (" << d.deviceClass << "; target: "
                     << (backend ? backend->name() : llvm::StringRef("none yet")) << ")\n";
      }
    if (describeSystem && systemSpec.empty())
      return fail("--describe-system needs --system");
    // The system's groups point at the library's device kinds, which stay
    // where they are when the library moves.
    devices = std::move(*library);
    if (!systemSpec.empty()) {
      auto system = prism::cost::parseSystem(systemSpec, *devices);
      if (!system)
        return fail(llvm::toString(system.takeError()));
      if (describeSystem)
        prism::cost::printSystem(llvm::outs(), *system);
      targetSystem = std::move(*system);
    }
    if (inputFile.empty()) {
      if (estimate || !explainOp.empty() || !estimateJson.empty())
        return fail("--estimate, --estimate-json and --explain-op need a model");
      return 0;
    }
  }
  if (inputFile.empty())
    return fail("no model given (see --help)");
  if (compileFrom > Phase::Onnx && compileTo < compileFrom)
    return fail("--compile-to must come after --compile-from");

  DialectRegistry registry;
  prism::registerAllDialects(registry);
  // The targets' pipelines: upstream dialects, their bufferization and
  // NVVM-target models, and the translation to LLVM IR.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  for (const prism::target::TargetBackend *backend : prism::target::registeredTargets())
    backend->registerDialects(registry);
  MLIRContext ctx(registry);
  ctx.printOpOnDiagnostic(false);
  prism::installOnnxDiagnosticHandler(ctx);

  OwningOpRef<ModuleOp> module;
  prism::OnnxImportOptions importOptions;
  importOptions.generationDecoder = true; // a BeamSearch model's decoder
  if (compileFrom.getNumOccurrences())
    module = parseSourceFile<ModuleOp>(inputFile, &ctx);
  else
    module = prism::importOnnxFile(&ctx, inputFile, importOptions);
  if (!module)
    return 1;
  prism::ModelSummary before = prism::summarizeModule(*module);

  bool phases = compileTo >= Phase::Phases;
  // --bind "" (a script with no dims to bind) binds nothing.
  bool anyBinding = llvm::any_of(
      bindings, [](const std::string &b) { return !llvm::StringRef(b).trim().empty(); });
  if (phases && anyBinding)
    return fail("--compile-to=phases binds the dims itself (--prompt, --context, --batch): "
                "drop --bind");
  if (!phases &&
      (prompt.getNumOccurrences() || context.getNumOccurrences() || batch.getNumOccurrences()))
    return fail("--prompt, --context and --batch are options of --compile-to=phases (use "
                "--bind for the other phases)");
  if (compileTo >= Phase::Static && compileFrom < Phase::Phases) {
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

  prism::partition::PartitionOptions partitionOptions;
  std::optional<prism::partition::Plan> plan;
  if (placing) {
    if (compileFrom == Phase::Plan)
      return fail("--compile-from=plan places nothing again: start from phases");
    partitionOptions.objective = objective;
    partitionOptions.ttftSloS = ttftSlo;
    partitionOptions.tpotSloS = tpotSlo;
    partitionOptions.weightDtype = dtype;
    partitionOptions.cost.weightDtype = dtype ? weightDtype.getValue() : "each target's own";
    partitionOptions.checkTargets = checkTargets || targetPrices || compileTo == Phase::Bundle;
    partitionOptions.targetPrices = targetPrices;
    partitionOptions.phasesOnNamedGroups = !anyGroup;
    auto placed = prism::partition::partition(*module, *targetSystem, partitionOptions);
    if (!placed)
      return fail(llvm::toString(placed.takeError()));
    plan = std::move(*placed);
    prism::partition::annotate(*module, *plan, *targetSystem, partitionOptions);
    if (!reportFile.empty()) {
      std::string error;
      auto out = openOutputFile(reportFile, &error);
      if (!out)
        return fail(error);
      if (StringRef(reportFile).ends_with(".html"))
        out->os() << prism::partition::planToHtml(*plan, *targetSystem, partitionOptions,
                                                  llvm::sys::path::filename(inputFile));
      else
        out->os() << llvm::formatv("{0:2}", prism::partition::planToJson(
                                                *plan, *targetSystem, partitionOptions))
                  << "\n";
      out->keep();
    }
  }

  if (estimate || !explainOp.empty() || !estimateJson.empty()) {
    prism::cost::CostOptions options;
    options.weightDtype = dtype ? weightDtype.getValue() : "bf16";
    if (!estimateJson.empty()) {
      auto json = prism::cost::estimatesToJson(*module, *targetSystem, options);
      if (!json)
        return fail(llvm::toString(json.takeError()));
      std::string error;
      auto out = openOutputFile(estimateJson, &error);
      if (!out)
        return fail(error);
      out->os() << llvm::formatv("{0:2}", *json) << "\n";
      out->keep();
    }
    if (estimate)
      if (auto err = prism::cost::printEstimates(llvm::outs(), *module, *targetSystem, options))
        return fail(llvm::toString(std::move(err)));
    if (!explainOp.empty())
      if (auto err = prism::cost::explainOps(llvm::outs(), *module, *targetSystem, options,
                                             explainOp))
        return fail(llvm::toString(std::move(err)));
  }

  prism::target::EmitOptions emit;
  emit.verify = lpuVerify;
  emit.binary = lpuBinary;
  emit.settings["format"] = gpuFormat;
  if (compileTo == Phase::Bundle) {
    if (outputFile.empty() || outputFile == "-")
      return fail("--compile-to=bundle writes a folder: give -o DIR");
    prism::driver::BundleOptions options;
    options.directory = outputFile;
    options.model = llvm::sys::path::filename(inputFile).str();
    options.prompt = prompt;
    options.context = context;
    options.batch = batch;
    options.emit = emit;
    if (auto err = prism::driver::writeBundle(*module, *targetSystem, *devices, *plan,
                                              partitionOptions, options))
      return fail(llvm::toString(std::move(err)));
    return 0;
  }
  if (targetStage) {
    auto placed = placementFromFlags(*module, targetSystem, *devices, dtype);
    if (!placed)
      return fail(llvm::toString(placed.takeError()));
    if (compileTo == Phase::Target || compileTo == Phase::LpuIr)
      return printTargetIR(*module, *placed, emit);
    emit.path = outputFile.empty() ? std::string("-") : outputFile.getValue();
    auto emitted = prism::driver::emitPlacedPhase(*module, *placed, emit);
    if (!emitted)
      return fail(llvm::toString(emitted.takeError()));
    return 0;
  }

  bool printStats = llvm::AreStatisticsEnabled();
  // Nothing for LLVM to report at exit.
  stats->setValue(false);
  if (printStats) {
    auto phaseStats = prism::computePhaseStats(*module);
    if (failed(phaseStats))
      return 1;
    prism::printPhaseStats(llvm::outs(), *phaseStats);
  }

  if (outputFile.empty() &&
      (summary || printStats || noIR || estimate || !explainOp.empty() || !estimateJson.empty()))
    return 0;
  std::string error;
  auto output = openOutputFile(outputFile.empty() ? std::string("-") : outputFile.getValue(),
                               &error);
  if (!output)
    return fail(error);
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
