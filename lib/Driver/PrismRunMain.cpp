//===- PrismRunMain.cpp - Run a model, a phase or a bundle ----------------===//
//
// prism-run MODEL --input NAME=FILE ... [--bind DIMS] [--random-inputs=SEED]
//           --output-dir DIR [--output-format=npy|pb]
// prism-run --bundle DIR --prompt-ids FILE|--random-prompt SEED [--steps N]
//
// Imports the model (or parses an MLIR module of the onnx dialect, at any
// phase the host can run), binds its dims from --bind and the inputs'
// shapes, lowers it (convert-onnx-to-linalg, then bufferization and LLVM),
// JIT-compiles it with MLIR's ExecutionEngine and writes each output as
// <name>.npy (or .pb). Operators the host lowering does not handle fail at
// compile time, naming the node. With --bundle, the phases of a bundle run
// on their targets (prism/Runtime/Bundle.h). tools/prism-run is this
// function's main.
//
//===----------------------------------------------------------------------===//

#include "prism/Conversion/Passes.h"
#include "prism/Dialect/Onnx/OnnxDialect.h"
#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"
#include "prism/Driver/Diagnostics.h"
#include "prism/Driver/Main.h"
#include "prism/Driver/InputRanges.h"
#include "prism/Import/OnnxImporter.h"
#include "prism/RegisterAll.h"
#include "prism/Runtime/Bundle.h"
#include "prism/Runtime/RandomTensor.h"
#include "prism/Runtime/TensorIO.h"
#include "prism/Target/Gpu/LaunchPlan.h"
#include "prism/Target/Gpu/Pipelines.h"
#include "prism/Runtime/Cuda/Runner.h"
#include "prism/Target/Host/Passes.h"
#include "prism/Transforms/DimExpression.h"
#include "prism/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <map>

using namespace mlir;
using namespace prism::runtime;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("prism-run options");
cl::opt<std::string> modelFile(
    cl::Positional,
    cl::desc("<model.onnx | model.onnxtxt | module.mlir (onnx dialect)>"),
    cl::cat(category));
cl::list<std::string> inputs("input",
                             cl::desc("An input: NAME=FILE (.npy or ONNX "
                                      "TensorProto .pb)"),
                             cl::cat(category));
cl::list<std::string> bindings(
    "bind", cl::CommaSeparated, cl::value_desc("name=value,..."),
    cl::desc("Bind symbolic dims (the inputs' shapes bind the others)"),
    cl::cat(category));
cl::opt<uint64_t> randomSeed(
    "random-inputs", cl::value_desc("SEED"),
    cl::desc("Generate every input not given with --input, deterministically "
             "from SEED (floats in [-1, 1), indices within the table they "
             "index, other integers 1), and write them to "
             "DIR/inputs/<name>.npy"),
    cl::cat(category));
cl::opt<std::string> outputDir(
    "output-dir",
    cl::desc("Where the outputs go, as <name>.npy (or .pb): characters other "
             "than letters, digits, '.', '_' and '-' become '_'"),
    cl::cat(category));
cl::opt<unsigned> timeRuns(
    "time", cl::value_desc("RUNS"),
    cl::desc("After the first run, time RUNS more (compilation excluded) and "
             "print their median as `prism median_ms=<ms>`"),
    cl::init(0), cl::cat(category));
cl::opt<unsigned> threadCount(
    "num-threads",
    cl::desc("Threads for the large contractions (default 1; MLIR's async "
             "runtime)"),
    cl::init(1), cl::cat(category));
cl::opt<bool> noVectorize(
    "no-vectorize",
    cl::desc("Lower to scalar loops (skip host-tile-and-vectorize)"),
    cl::init(false), cl::cat(category));
enum class OutputFormat { Npy, Pb };
cl::opt<bool> noSpecialize(
    "no-specialize",
    cl::desc("Where the model does not compile without input values (Range's "
             "limits, TopK's k, reduction axes given as inputs), do not "
             "compile it for the given values of its integer inputs of at "
             "most 64 elements and its scalar inputs: fail instead"),
    cl::cat(category));
cl::opt<OutputFormat> outputFormat(
    "output-format", cl::desc("The outputs' file format"),
    cl::values(clEnumValN(OutputFormat::Npy, "npy", "NumPy .npy (default)"),
               clEnumValN(OutputFormat::Pb, "pb", "ONNX TensorProto .pb")),
    cl::init(OutputFormat::Npy), cl::cat(category));

cl::opt<std::string> functionName(
    "function",
    cl::desc("The function of an MLIR module to run (e.g. prefill or decode "
             "of prismc --compile-to=phases); default: the first"),
    cl::value_desc("name"), cl::cat(category));

cl::opt<bool> noRaise(
    "no-raise",
    cl::desc("Run the graph as imported, without raising transformer blocks "
             "to xfmr ops (xfmr-raise); the fused com.microsoft attention "
             "and embedding operators need raising"),
    cl::cat(category));

enum class Device { Cpu, Cuda };
cl::opt<Device> device(
    "device", cl::desc("Where the model runs"),
    cl::values(clEnumValN(Device::Cpu, "cpu", "the host CPU, JIT-compiled (default)"),
               clEnumValN(Device::Cuda, "cuda",
                          "an NVIDIA GPU: one phase of an MLIR module (--function) "
                          "through prism-lower-gpu, its launch plan run with the "
                          "CUDA driver (docs/gpu-target.md); exits with 77 when "
                          "there is no driver or GPU")),
    cl::init(Device::Cpu), cl::cat(category));
cl::opt<std::string> gpuKind(
    "gpu", cl::init("h100-sxm"),
    cl::desc("--device=cuda: the device kind (or .json description) the kernels "
             "are tiled and compiled for"),
    cl::cat(category));
cl::opt<std::string> weightDtype(
    "weight-dtype", cl::init("bf16"),
    cl::desc("--device=cuda: the dtype the weights are stored in: bf16 (default), fp32, "
             "or fp8 (e4m3 with a scale per output channel; the GEMMs quantize their "
             "activations per row; compute capability 8.9 or later)"),
    cl::cat(category));
cl::opt<std::string> bundleDir(
    "bundle",
    cl::desc("Run the bundle of prismc --compile-to=bundle in this folder: @prefill on "
             "its target with the prompt, its KV cache handed to @decode's, then "
             "--steps greedy decode steps on @decode's target (host objects natively, "
             "LPU programs in the LPU simulator); prints the tokens and writes "
             "tokens.npy and logits.npy to --output-dir when given. Exits 77 when a "
             "phase's target cannot run here"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> promptIds(
    "prompt-ids",
    cl::desc("--bundle: the prompt's token ids, an int64 .npy of the bundle's prompt length"),
    cl::value_desc("file.npy"), cl::cat(category));
cl::opt<uint64_t> randomPrompt(
    "random-prompt",
    cl::desc("--bundle: a prompt of token ids drawn from SEED (uniform over the vocabulary)"),
    cl::value_desc("SEED"), cl::cat(category));
cl::opt<int64_t> steps("steps", cl::init(16),
                       cl::desc("--bundle: decode steps after the prefill's token"),
                       cl::cat(category));
cl::opt<std::string> gpuFormat(
    "gpu-format", cl::init("isa"),
    cl::desc("--device=cuda: load the kernels as PTX (isa, the default: the driver "
             "compiles it) or as cubin (bin: compiled here by CUDA's ptxas)"),
    cl::cat(category));
cl::opt<bool> elidedWeightsAsZeros(
    "elided-weights-as-zeros",
    cl::desc("--device=cuda: run a module whose weights were left out "
             "(--elide-weights) with zeros, for timing"),
    cl::cat(category));

int fail(const llvm::Twine &msg) {
  llvm::errs() << "prism-run: " << msg << "\n";
  return 1;
}

/// --device=cuda: the phase through prism-lower-gpu, its launch plan, and
/// the plan run by the CUDA driver.
int runOnGpu(ModuleOp module, func::FuncOp phase) {
  if (!llvm::StringRef(modelFile).ends_with(".mlir") || functionName.empty())
    return fail("--device=cuda runs one phase of an MLIR module (prismc "
                "--compile-to=phases): give module.mlir and --function");
  auto options = prism::gpuPipelineOptionsFor(gpuKind, "");
  if (!options)
    return fail("--gpu: " + llvm::toString(options.takeError()));
  // The pipeline spells fp32 as f32.
  options->weights = weightDtype == "fp32" ? std::string("f32") : weightDtype.getValue();
  options->format = gpuFormat;
  if (auto err = prism::checkGpuPipelineOptions(*options))
    return fail(llvm::toString(std::move(err)));
  PassManager pm(module.getContext());
  prism::buildLowerToGpuPipeline(pm, *options);
  if (failed(pm.run(module)))
    return 1;
  auto plan = prism::gpu::buildLaunchPlan(module, module.lookupSymbol<func::FuncOp>(functionName));
  if (failed(plan))
    return 1;
  llvm::StringMap<Tensor> given;
  for (const std::string &spec : inputs) {
    auto [name, file] = llvm::StringRef(spec).split('=');
    auto t = readTensorFile(file);
    if (!t)
      return fail("input '" + name + "': " + llvm::toString(t.takeError()));
    given[name] = std::move(*t);
  }
  for (const prism::gpu::PlanValue &in : plan->inputs) {
    if (given.count(in.name))
      continue;
    if (!randomSeed.getNumOccurrences())
      return fail("input '" + in.name + "' is missing (--input " + in.name +
                  "=FILE, or --random-inputs=SEED)");
    std::optional<DType> dtype = llvm::StringSwitch<std::optional<DType>>(in.view.dtype)
                                     .Case("f32", DType::F32)
                                     .Case("i64", DType::I64)
                                     .Case("i32", DType::I32)
                                     .Default(std::nullopt);
    if (!dtype)
      return fail("input '" + in.name + "': cannot generate " + in.view.dtype);
    given[in.name] = makeRandomTensor(*dtype, in.view.sizes, randomSeed, std::nullopt);
  }
  prism::gpu::RunOptions runOptions;
  runOptions.timedRuns = timeRuns;
  runOptions.allowElidedWeights = elidedWeightsAsZeros;
  auto result = prism::gpu::runOnCuda(*plan, given, runOptions);
  if (!result) {
    bool noCuda = false;
    std::string text;
    llvm::handleAllErrors(
        result.takeError(),
        [&](const prism::gpu::NoCudaError &e) {
          noCuda = true;
          text = e.message();
        },
        [&](const llvm::ErrorInfoBase &e) { text = e.message(); });
    llvm::errs() << "prism-run: --device=cuda: " << text << "\n";
    return noCuda ? prism::gpu::kNoCudaExitCode : 1;
  }
  if (timeRuns > 0) {
    llvm::outs() << "prism gpu=\"" << result->deviceName << "\" mean_ms="
                 << llvm::format("%.4f", result->milliseconds) << " launches="
                 << plan->launches.size() << "\n";
    for (auto [i, l] : llvm::enumerate(plan->launches))
      llvm::outs() << "prism launch " << i << " " << l.kernel << " ms="
                   << llvm::format("%.4f", result->launchMilliseconds[i]) << "\n";
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return fail("cannot create " + outputDir + ": " + ec.message());
  for (const prism::gpu::PlanValue &out : plan->outputs) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, sanitizeFileName(out.name) + ".npy");
    if (llvm::Error err = writeNpy(path, result->outputs[out.name]))
      return fail(llvm::toString(std::move(err)));
  }
  return 0;
}

std::optional<DType> toDType(Type t) {
  return getDTypeFromOnnx(prism::onnx::getOnnxDataType(t));
}

/// A memref descriptor for the C interface: {allocated, aligned, offset,
/// sizes[rank], strides[rank]}, every field 8 bytes.
std::vector<int64_t> descriptor(void *data, llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> d = {(int64_t)(intptr_t)data, (int64_t)(intptr_t)data, 0};
  d.insert(d.end(), shape.begin(), shape.end());
  int64_t stride = 1;
  std::vector<int64_t> strides(shape.size());
  for (int64_t i = (int64_t)shape.size() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  d.insert(d.end(), strides.begin(), strides.end());
  return d;
}
/// onnx-to-static and the lowering to linalg.
LogicalResult lowerToLinalg(ModuleOp module, llvm::ArrayRef<std::string> binds) {
  PassManager pm(module.getContext());
  prism::OnnxToStaticOptions options;
  options.dims = binds;
  prism::buildOnnxToStaticPipeline(pm, options);
  if (!noRaise)
    pm.addNestedPass<func::FuncOp>(prism::createXfmrRaise());
  pm.addPass(prism::createConvertXfmrToOnnx());
  pm.addNestedPass<func::FuncOp>(prism::createConvertOnnxToLinalg());
  return pm.run(module);
}

/// Whether an input is small enough, and of a kind, that shapes may depend
/// on its value: integer (and boolean) tensors of at most 64 elements, and
/// scalars.
bool isShapeLikeInput(RankedTensorType type) {
  if (!type.hasStaticShape())
    return false;
  Type elem = type.getElementType();
  if (!elem.isIntOrFloat())
    return false;
  return type.getRank() == 0 ||
         (isa<IntegerType>(elem) && type.getNumElements() <= 64);
}

/// --bundle: the bundle's phases, token by token.
int runBundle() {
  prism::runtime::BundleRunOptions options;
  options.directory = bundleDir;
  options.steps = steps;
  if (steps < 0)
    return fail("--steps must not be negative");
  if (!promptIds.empty() == (bool)randomPrompt.getNumOccurrences())
    return fail("--bundle needs the prompt: --prompt-ids FILE.npy or --random-prompt SEED");
  if (!promptIds.empty()) {
    auto ids = readNpy(promptIds);
    if (!ids)
      return fail("--prompt-ids: " + llvm::toString(ids.takeError()));
    if (ids->dtype != DType::I64)
      return fail("--prompt-ids: token ids are int64, not " + ids->getTypeString());
    const auto *data = reinterpret_cast<const int64_t *>(ids->data.data());
    options.prompt.assign(data, data + ids->getNumElements());
  } else {
    options.randomSeed = randomPrompt; // the runner draws it over the vocabulary
  }
  auto result = prism::runtime::runBundle(options);
  if (!result) {
    bool unavailable = false;
    std::string text;
    llvm::handleAllErrors(
        result.takeError(),
        [&](const prism::runtime::TargetUnavailableError &e) {
          unavailable = true;
          text = e.message();
        },
        [&](const llvm::ErrorInfoBase &e) { text = e.message(); });
    llvm::errs() << "prism-run: --bundle: " << text << "\n";
    return unavailable ? prism::runtime::kTargetUnavailableExitCode : 1;
  }
  for (const std::string &line : result->log)
    llvm::outs() << "prism " << line << "\n";
  llvm::outs() << "prism tokens:";
  for (int64_t t : result->tokens)
    llvm::outs() << " " << t;
  llvm::outs() << "\n";
  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return fail("cannot create " + outputDir + ": " + ec.message());
    Tensor tokens{DType::I64, {(int64_t)result->tokens.size()}, {}};
    tokens.data.resize(result->tokens.size() * sizeof(int64_t));
    std::memcpy(tokens.data.data(), result->tokens.data(), tokens.data.size());
    int64_t vocab = result->logits.empty() ? 0 : (int64_t)result->logits.front().size();
    Tensor logits{DType::F32, {(int64_t)result->logits.size(), vocab}, {}};
    for (const std::vector<float> &row : result->logits)
      logits.data.insert(logits.data.end(), (const char *)row.data(),
                         (const char *)(row.data() + row.size()));
    if (llvm::Error err = writeNpy(outputDir + "/tokens.npy", tokens))
      return fail(llvm::toString(std::move(err)));
    if (llvm::Error err = writeNpy(outputDir + "/logits.npy", logits))
      return fail(llvm::toString(std::move(err)));
  }
  return 0;
}

} // namespace

int prism::driver::prismRunMain(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "prism-run: run a model on the host CPU (or one phase on a "
                              "GPU), or a compiled bundle on its targets\n");
  if (!bundleDir.empty()) {
    if (!modelFile.empty())
      return fail("--bundle runs the bundle's programs: give no model");
    return runBundle();
  }
  if (modelFile.empty())
    return fail("no model given (see --help)");
  if (outputDir.empty())
    return fail("--output-dir is required");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  prism::registerAllDialects(registry);
  mlir::registerAllPasses();
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ctx.printOpOnDiagnostic(false);
  prism::installOnnxDiagnosticHandler(ctx);

  OwningOpRef<ModuleOp> module;
  if (llvm::StringRef(modelFile).ends_with(".mlir"))
    module = parseSourceFile<ModuleOp>(modelFile, &ctx);
  else
    module = prism::importOnnxFile(&ctx, modelFile);
  if (!module)
    return 1;
  if (!functionName.empty()) {
    auto chosen = module->lookupSymbol<func::FuncOp>(functionName);
    if (!chosen)
      return fail(modelFile + ": no function '" + functionName + "'");
    // Only the chosen function is compiled.
    for (auto f : llvm::make_early_inc_range(module->getOps<func::FuncOp>()))
      if (f != chosen)
        f.erase();
  }
  if (device == Device::Cuda)
    return runOnGpu(*module, module->lookupSymbol<func::FuncOp>(functionName));
  // Phases' KV caches and shared weights as host tensors and constants
  // (only an MLIR module can hold them: an ONNX model has none).
  if (llvm::StringRef(modelFile).ends_with(".mlir")) {
    PassManager pm(&ctx);
    pm.addPass(prism::createConvertXfmrToOnnx());
    if (failed(pm.run(*module)))
      return 1;
  }
  auto funcs = module->getOps<func::FuncOp>();
  if (funcs.empty())
    return fail(modelFile + ": no function to run");
  auto func = *funcs.begin();
  auto nameAttrOf = [&](unsigned i) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(i, "onnx.name");
    return nameAttr ? nameAttr.str() : std::to_string(i);
  };

  // Dims: --bind first, then each given input's shape.
  std::map<std::string, int64_t> dims;
  for (const std::string &b : bindings) {
    // --bind "" (a script with no dims to bind) binds nothing.
    if (llvm::StringRef(b).trim().empty())
      continue;
    auto [name, value] = llvm::StringRef(b).split('=');
    int64_t v;
    if (name.empty() || value.getAsInteger(10, v) || v < 0)
      return fail("--bind " + b + ": expected NAME=VALUE with VALUE >= 0");
    dims[name.str()] = v;
  }

  // Input files by name.
  llvm::StringMap<std::string> files;
  for (const std::string &spec : inputs) {
    auto [name, file] = llvm::StringRef(spec).split('=');
    if (file.empty())
      return fail("--input " + spec + ": expected NAME=FILE");
    files[name] = file.str();
  }
  // A sequence input becomes one tensor input per element (named NAME[k])
  // gathered by a SequenceConstruct, an optional one an Optional of what it
  // holds: sequences and optionals are resolved at compile time.
  llvm::StringMap<Tensor> given;
  for (int i = 0; i < (int)func.getNumArguments(); ++i) {
    Type argType = func.getArgument(i).getType();
    if (!isa<prism::onnx::SeqType, prism::onnx::OptType>(argType))
      continue;
    std::string name = nameAttrOf(i);
    auto file = files.find(name);
    if (file == files.end())
      return fail("input '" + name + "' is " +
                  (isa<prism::onnx::SeqType>(argType) ? "a sequence" : "an optional") +
                  ": give it with --input " + name + "=FILE (an ONNX " +
                  (isa<prism::onnx::SeqType>(argType) ? "SequenceProto" : "OptionalProto") +
                  ")");
    OptionalValue value;
    if (isa<prism::onnx::SeqType>(argType)) {
      auto elements = readSequenceProto(file->second);
      if (!elements)
        return fail("input '" + name + "': " + llvm::toString(elements.takeError()));
      value = {true, true, std::move(*elements)};
    } else {
      auto read = readOptionalProto(file->second);
      if (!read)
        return fail("input '" + name + "': " + llvm::toString(read.takeError()));
      value = std::move(*read);
    }
    Location loc = func.getArgument(i).getLoc();
    Type held = argType;
    if (auto opt = dyn_cast<prism::onnx::OptType>(argType))
      held = opt.getElementType();
    auto seqType = dyn_cast<prism::onnx::SeqType>(held);
    if (value.isSequence != (bool)seqType && value.hasValue)
      return fail("input '" + name + "': the file holds a " +
                  (value.isSequence ? "sequence" : "tensor") +
                  " where the model takes the other");
    Type elem = cast<TensorType>(seqType ? seqType.getElementType() : held)
                    .getElementType();
    SmallVector<Value> parts;
    for (auto [k, t] : llvm::enumerate(value.elements)) {
      std::string part = name + (seqType ? "[" + std::to_string(k) + "]" : "");
      auto attrs = DictionaryAttr::get(
          &ctx, {NamedAttribute(StringAttr::get(&ctx, "onnx.name"),
                                StringAttr::get(&ctx, part))});
      unsigned at = i + 1 + k;
      if (failed(func.insertArgument(at, RankedTensorType::get(t.shape, elem),
                                     attrs, loc)))
        return fail("input '" + name + "': cannot expand it");
      parts.push_back(func.getArgument(at));
      given[part] = std::move(t);
    }
    OpBuilder builder = OpBuilder::atBlockBegin(&func.getBody().front());
    Value v;
    if (seqType && value.hasValue)
      v = parts.empty() ? prism::onnx::ONNXSequenceEmptyOp::create(
                              builder, loc, seqType, /*dtype=*/nullptr)
                              .getResult()
                        : prism::onnx::ONNXSequenceConstructOp::create(
                              builder, loc, seqType, parts)
                              .getResult();
    else if (value.hasValue)
      v = parts.front();
    if (isa<prism::onnx::OptType>(argType)) {
      Value none = prism::onnx::ONNXNoValueOp::create(builder, loc,
                                                      builder.getNoneType());
      v = prism::onnx::ONNXOptionalOp::create(builder, loc, argType,
                                              v ? v : none, TypeAttr::get(held));
    }
    func.getArgument(i).replaceAllUsesWith(v);
    if (failed(func.eraseArgument(i)))
      return fail("input '" + name + "': cannot expand it");
    files.erase(name);
    i += (int)value.elements.size() - 1;
  }
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (!isa<RankedTensorType>(func.getArgument(i).getType()))
      return fail("input '" + (nameAttrOf(i)) + "' is not a ranked tensor (" +
                  [&] {
                    std::string s;
                    llvm::raw_string_ostream os(s);
                    os << func.getArgument(i).getType();
                    return s;
                  }() +
                  "): the host runs tensor and sequence inputs only");
  // Inputs by name, checked against the model.
  for (auto &[name, file] : files) {
    auto t = readTensorFile(file);
    if (!t)
      return fail("input '" + name.str() + "': " + llvm::toString(t.takeError()));
    given[name] = std::move(*t);
  }
  auto argName = nameAttrOf;
  auto dimName = [&](unsigned i, int64_t d) -> std::string {
    auto names = func.getArgAttrOfType<ArrayAttr>(i, "onnx.dim_names");
    if (!names || d >= (int64_t)names.size())
      return "";
    return cast<StringAttr>(names[d]).str();
  };
  std::vector<Tensor *> args(func.getNumArguments());
  std::vector<unsigned> toGenerate;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    std::string name = argName(i);
    auto it = given.find(name);
    if (it == given.end()) {
      if (randomSeed.getNumOccurrences() == 0)
        return fail("input '" + name + "' is missing (--input " + name +
                    "=FILE, or --random-inputs=SEED)");
      toGenerate.push_back(i);
      continue;
    }
    Tensor &t = it->second;
    auto type = cast<RankedTensorType>(func.getArgument(i).getType());
    auto dtype = toDType(type.getElementType());
    // NumPy has no bfloat16: its bits come as uint16 (as in ONNX's test data).
    if (dtype == DType::BF16 && t.dtype == DType::U16)
      t.dtype = DType::BF16;
    if (!dtype || *dtype != t.dtype)
      return fail("input '" + name + "' is " + t.getTypeString() +
                  " but the model takes element type " +
                  (dtype ? getDTypeName(*dtype).str() : std::string("?")));
    if ((int64_t)t.shape.size() != type.getRank())
      return fail("input '" + name + "' is " + t.getTypeString() +
                  " but the model takes rank " + llvm::Twine(type.getRank()));
    for (int64_t d = 0; d < type.getRank(); ++d) {
      std::string dim = dimName(i, d);
      if (!type.isDynamicDim(d)) {
        if (type.getDimSize(d) != t.shape[d])
          return fail("input '" + name + "' is " + t.getTypeString() +
                      " but dim " + llvm::Twine(d) + " must be " +
                      llvm::Twine(type.getDimSize(d)));
      } else if (!dim.empty()) {
        auto [at, inserted] = dims.try_emplace(dim, t.shape[d]);
        if (!inserted && at->second != t.shape[d])
          return fail("input '" + name + "' is " + t.getTypeString() +
                      " but dim " + llvm::Twine(d) + " ('" + dim + "') is bound to " +
                      llvm::Twine(at->second));
      }
    }
    args[i] = &t;
  }

  // Generated inputs take their shapes from the model and the bound dims.
  std::vector<Tensor> generated;
  generated.reserve(toGenerate.size());
  for (unsigned i : toGenerate) {
    std::string name = argName(i);
    auto type = cast<RankedTensorType>(func.getArgument(i).getType());
    auto dtype = toDType(type.getElementType());
    if (!dtype)
      return fail("input '" + name + "': cannot generate element type " +
                  llvm::Twine(prism::onnx::getOnnxDataType(type.getElementType())));
    llvm::SmallVector<int64_t> shape;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        shape.push_back(type.getDimSize(d));
        continue;
      }
      std::string dim = dimName(i, d);
      auto at = dims.find(dim);
      if (at == dims.end() && !dim.empty()) {
        // An exporter's expression of bound dims ("past+seq").
        llvm::StringMap<int64_t> bound;
        for (auto &[n, v] : dims)
          bound[n] = v;
        if (auto v = prism::DimExpression(dim, bound).evaluate()) {
          shape.push_back(*v);
          continue;
        }
      }
      if (dim.empty() || at == dims.end())
        return fail("input '" + name + "': dim " + llvm::Twine(d) +
                    (dim.empty() ? std::string(" has no name")
                                 : " ('" + dim + "') is not bound") +
                    ": pass --bind " + (dim.empty() ? "NAME" : dim) +
                    "=N or give the input with --input");
      shape.push_back(at->second);
    }
    // One stream per input, so that adding an input keeps the others.
    uint64_t seed = randomSeed ^ (0x9e3779b97f4a7c15ull * (i + 1));
    generated.push_back(makeRandomTensor(
        *dtype, shape, seed, prism::getIndexBound(func.getArgument(i))));
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, "inputs");
    if (std::error_code ec = llvm::sys::fs::create_directories(path))
      return fail("cannot create " + path + ": " + ec.message());
    llvm::sys::path::append(path, sanitizeFileName(name) + ".npy");
    if (llvm::Error err = writeNpy(path, generated.back()))
      return fail(llvm::toString(std::move(err)));
    args[i] = &generated.back();
  }
  std::vector<std::string> binds;
  for (auto &[name, value] : dims)
    binds.push_back(name + "=" + std::to_string(value));

  // A JIT knows the inputs before it compiles: where the model needs
  // values that are inputs to have static shapes or to be lowered (Range's
  // limits, TopK's k, reduction axes given as inputs), compile it for the
  // given values of the inputs that may hold them.
  bool lowered = false;
  if (!noSpecialize) {
    OwningOpRef<ModuleOp> attempt = module->clone();
    ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
    if (succeeded(lowerToLinalg(*attempt, binds))) {
      module = std::move(attempt);
      lowered = true;
    }
  }
  if (!lowered && !noSpecialize) {
    OpBuilder builder = OpBuilder::atBlockBegin(&func.getBody().front());
    auto *onnxDialect = ctx.getLoadedDialect<prism::onnx::ONNXDialect>();
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto type = cast<RankedTensorType>(func.getArgument(i).getType());
      if (!isShapeLikeInput(type) || func.getArgument(i).use_empty())
        continue;
      DenseElementsAttr value;
      if (type.getElementType().isInteger(1)) // bytes, not MLIR's packed bits
        value = DenseElementsAttr::get(
            type, llvm::to_vector(llvm::map_range(
                      args[i]->data, [](char c) { return c != 0; })));
      else
        value = DenseElementsAttr::getFromRawBuffer(type, args[i]->data);
      Operation *constant = onnxDialect->materializeConstant(
          builder, value, type, func.getArgument(i).getLoc());
      func.getArgument(i).replaceAllUsesWith(constant->getResult(0));
      llvm::errs() << "prism-run: note: compiling for the given value of "
                   << "input '" << argName(i) << "'\n";
    }
  }
  if (!lowered && failed(lowerToLinalg(*module, binds)))
    return 1;
  func = *module->getOps<func::FuncOp>().begin();
  // Each result's output name, and its index in a returned sequence.
  std::vector<std::string> outputNames;
  std::vector<std::optional<int64_t>> sequenceIndex;
  std::vector<bool> optional;
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto n = func.getResultAttrOfType<StringAttr>(i, "onnx.name");
    outputNames.push_back(n ? n.str() : "output" + std::to_string(i));
    auto k = func.getResultAttrOfType<IntegerAttr>(i, "onnx.sequence_index");
    sequenceIndex.push_back(k ? std::optional<int64_t>(k.getInt()) : std::nullopt);
    optional.push_back((bool)func.getResultAttr(i, "onnx.optional"));
  }
  std::vector<std::string> emptyOptionals;
  if (auto names = func->getAttrOfType<ArrayAttr>("onnx.empty_optionals"))
    for (Attribute n : names)
      emptyOptionals.push_back(cast<StringAttr>(n).str());
  std::vector<RankedTensorType> resultTypes;
  for (Type t : func.getResultTypes())
    resultTypes.push_back(cast<RankedTensorType>(t));
  // The C interface is what the runner calls; ONNX names stay behind.
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(&ctx));
  std::string entry = ("_mlir_ciface_" + func.getName()).str();
  func.removeArgAttrsAttr();
  func.removeResAttrsAttr();
  PassManager lower(&ctx);
  if (threadCount == 0)
    return fail("--num-threads must be at least 1");
  prism::buildHostLowerToLLVMPipeline(lower, !noVectorize, threadCount);
  if (failed(lower.run(*module)))
    return 1;

  ExecutionEngineOptions engineOptions;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // LLVM's -O3 pipeline on the module (it also lowers the coroutines of
  // the async runtime that threads use); without it only codegen optimizes.
  // (`transformer` is a function_ref: the function must outlive create().)
  std::function<llvm::Error(llvm::Module *)> optimize = makeOptimizingTransformer(
      /*optLevel=*/3, /*sizeLevel=*/0, /*targetMachine=*/nullptr);
  engineOptions.transformer = optimize;
  llvm::SmallVector<llvm::StringRef> runtimeLibs = {PRISM_C_RUNNER_UTILS};
  if (threadCount > 1)
    runtimeLibs.push_back(PRISM_ASYNC_RUNTIME);
  engineOptions.sharedLibPaths = runtimeLibs;
  auto engine = ExecutionEngine::create(*module, engineOptions);
  if (!engine)
    return fail("JIT compilation failed: " + llvm::toString(engine.takeError()));

  // _mlir_ciface_<name>(results*, inputs*...): descriptors by pointer.
  std::vector<std::vector<int64_t>> inDescs;
  for (Tensor *t : args)
    inDescs.push_back(descriptor(t->data.data(), t->shape));
  size_t resultWords = 0;
  for (auto t : resultTypes)
    resultWords += 3 + 2 * t.getRank();
  std::vector<int64_t> results(resultWords);
  std::vector<void *> argPtrs;
  void *resultPtr = results.data();
  argPtrs.push_back(&resultPtr);
  std::vector<void *> inPtrs;
  for (auto &d : inDescs)
    inPtrs.push_back(d.data());
  for (void *&p : inPtrs)
    argPtrs.push_back(&p);
  if (llvm::Error err = (*engine)->invokePacked(entry, argPtrs))
    return fail("running the model failed: " + llvm::toString(std::move(err)));
  if (timeRuns > 0) {
    // Timed runs write into a scratch result area, freed after each run.
    std::vector<int64_t> scratch(resultWords);
    void *scratchPtr = scratch.data();
    std::vector<void *> timedArgs = argPtrs;
    timedArgs[0] = &scratchPtr;
    std::vector<double> ms;
    for (unsigned r = 0; r < timeRuns; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (llvm::Error err = (*engine)->invokePacked(entry, timedArgs))
        return fail("running the model failed: " +
                    llvm::toString(std::move(err)));
      auto end = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
      size_t at = 0;
      for (auto type : resultTypes) {
        std::free((void *)(intptr_t)scratch[at]);
        at += 3 + 2 * type.getRank();
      }
    }
    llvm::sort(ms);
    double median = ms.size() % 2 ? ms[ms.size() / 2]
                                  : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    llvm::outs() << "prism median_ms=" << llvm::format("%.3f", median) << "\n";
  }

  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return fail("cannot create " + outputDir + ": " + ec.message());
  std::vector<Tensor> outs;
  size_t at = 0;
  for (auto type : resultTypes) {
    Tensor out;
    out.dtype = *toDType(type.getElementType());
    out.shape.assign(type.getShape().begin(), type.getShape().end());
    size_t bytes = out.getNumElements() * getDTypeSize(out.dtype);
    auto *aligned = (const char *)(intptr_t)results[at + 1];
    int64_t offset = results[at + 2];
    out.data.assign(aligned + offset * getDTypeSize(out.dtype),
                    aligned + offset * getDTypeSize(out.dtype) + bytes);
    // Results are the caller's to free (the deallocation pipeline copies
    // any that alias inputs or constants).
    std::free((void *)(intptr_t)results[at]);
    at += 3 + 2 * type.getRank();
    outs.push_back(std::move(out));
  }
  bool pb = outputFormat == OutputFormat::Pb;
  // An optional output is an OptionalProto in .pb; in .npy, what it holds
  // (and no file when it is empty).
  for (const std::string &name : emptyOptionals) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, sanitizeFileName(name) + ".pb");
    if (!pb)
      llvm::errs() << "prism-run: note: output '" << name
                   << "' is an empty optional: no .npy file\n";
    else if (llvm::Error err = writeOptionalProto(path, OptionalValue(), name))
      return fail(llvm::toString(std::move(err)));
  }
  for (size_t i = 0; i < outs.size();) {
    const std::string &name = outputNames[i];
    llvm::SmallString<256> path(outputDir);
    if (!sequenceIndex[i]) {
      llvm::sys::path::append(path, sanitizeFileName(name) + (pb ? ".pb" : ".npy"));
      llvm::Error err = !pb ? writeNpy(path, outs[i])
                        : optional[i]
                            ? writeOptionalProto(path, {true, false, {outs[i]}}, name)
                            : writeTensorProto(path, outs[i], name);
      if (err)
        return fail(llvm::toString(std::move(err)));
      ++i;
      continue;
    }
    // A sequence: NAME.pb (a SequenceProto), or NAME/K.npy per element.
    size_t end = i;
    while (end < outs.size() && outputNames[end] == name && sequenceIndex[end])
      ++end;
    llvm::ArrayRef<Tensor> elements(outs.data() + i, end - i);
    if (pb) {
      llvm::sys::path::append(path, sanitizeFileName(name) + ".pb");
      llvm::Error err =
          optional[i] ? writeOptionalProto(path, {true, true, elements.vec()}, name)
                      : writeSequenceProto(path, elements, name);
      if (err)
        return fail(llvm::toString(std::move(err)));
    } else {
      llvm::sys::path::append(path, sanitizeFileName(name));
      if (std::error_code ec = llvm::sys::fs::create_directories(path))
        return fail("cannot create " + path + ": " + ec.message());
      for (auto [k, t] : llvm::enumerate(elements)) {
        llvm::SmallString<256> file(path);
        llvm::sys::path::append(file, std::to_string(k) + ".npy");
        if (llvm::Error err = writeNpy(file, t))
          return fail(llvm::toString(std::move(err)));
      }
    }
    i = end;
  }
  return 0;
}
