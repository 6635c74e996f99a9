//===- Bundle.cpp - Run a compiled bundle, phase by phase -----------------===//

#include "prism/Runtime/Bundle.h"

#include "prism/Runtime/Cuda/Runner.h"
#include "prism/Runtime/RandomTensor.h"
#include "prism/Runtime/TensorIO.h"
#include "prism/Sim/Lpu/Simulator.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

using namespace prism::runtime;
namespace sim = prism::sim;
namespace gpu = prism::gpu;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

char TargetUnavailableError::ID = 0;

namespace {

Error fail(const llvm::Twine &msg) { return llvm::createStringError(msg.str()); }

struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

/// One phase of the manifest.
struct PhaseSpec {
  std::string name, target, format, program, device;
  std::vector<TensorSpec> inputs, outputs;
  const TensorSpec *input(StringRef n) const {
    for (const TensorSpec &t : inputs)
      if (t.name == n)
        return &t;
    return nullptr;
  }
};

std::optional<DType> dtypeNamed(StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Case("f32", DType::F32)
      .Case("i64", DType::I64)
      .Case("i32", DType::I32)
      .Default(std::nullopt);
}

Expected<std::vector<TensorSpec>> readTensors(const llvm::json::Array *array, StringRef what) {
  std::vector<TensorSpec> tensors;
  if (!array)
    return fail("the manifest's " + what + " are missing");
  for (const llvm::json::Value &v : *array) {
    const llvm::json::Object *o = v.getAsObject();
    auto name = o ? o->getString("name") : std::nullopt;
    auto dtype = o ? o->getString("dtype") : std::nullopt;
    const llvm::json::Array *shape = o ? o->getArray("shape") : nullptr;
    if (!name || !dtype || !shape)
      return fail("a tensor of the manifest's " + what + " lacks name, dtype or shape");
    TensorSpec t;
    t.name = name->str();
    auto d = dtypeNamed(*dtype);
    if (!d)
      return fail("the bundle runner passes f32, i64 and i32 tensors; '" + t.name + "' is " +
                  *dtype);
    t.dtype = *d;
    for (const llvm::json::Value &dim : *shape) {
      auto n = dim.getAsInteger();
      if (!n || *n < 0)
        return fail("tensor '" + t.name + "' has a bad shape in the manifest");
      t.shape.push_back(*n);
    }
    tensors.push_back(std::move(t));
  }
  return tensors;
}

Tensor zeros(const TensorSpec &spec) {
  Tensor t;
  t.dtype = spec.dtype;
  t.shape.assign(spec.shape.begin(), spec.shape.end());
  t.data.assign(spec.elements() * getDTypeSize(spec.dtype), 0);
  return t;
}

double elementAt(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::F32:
    return reinterpret_cast<const float *>(t.data.data())[i];
  case DType::I64:
    return (double)reinterpret_cast<const int64_t *>(t.data.data())[i];
  case DType::I32:
    return reinterpret_cast<const int32_t *>(t.data.data())[i];
  default:
    return 0;
  }
}

void setElement(Tensor &t, int64_t i, double v) {
  switch (t.dtype) {
  case DType::F32:
    reinterpret_cast<float *>(t.data.data())[i] = (float)v;
    break;
  case DType::I64:
    reinterpret_cast<int64_t *>(t.data.data())[i] = (int64_t)v;
    break;
  case DType::I32:
    reinterpret_cast<int32_t *>(t.data.data())[i] = (int32_t)v;
    break;
  default:
    break;
  }
}

/// Runs one phase's program.
class PhaseRunner {
public:
  virtual ~PhaseRunner() = default;
  virtual Expected<llvm::StringMap<Tensor>> run(const llvm::StringMap<Tensor> &inputs) = 0;
  /// What the last run reported (a simulator's cycles and use), if anything.
  virtual std::string report() const { return ""; }
};

/// A host object (the host target's emission), loaded with ORC and called
/// through its packed C entry.
class HostObjectRunner final : public PhaseRunner {
public:
  static Expected<std::unique_ptr<PhaseRunner>> load(const PhaseSpec &phase, StringRef path) {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto jit = llvm::orc::LLJITBuilder().create();
    if (!jit)
      return fail("cannot start the loader: " + llvm::toString(jit.takeError()));
    char prefix = (*jit)->getDataLayout().getGlobalPrefix();
    llvm::orc::JITDylib &lib = (*jit)->getMainJITDylib();
    // MLIR's C runner utilities (memrefCopy, ...) and libm come from here.
    auto utils = llvm::orc::DynamicLibrarySearchGenerator::Load(PRISM_C_RUNNER_UTILS, prefix);
    if (!utils)
      return fail(llvm::toString(utils.takeError()));
    lib.addGenerator(std::move(*utils));
    auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
    if (!process)
      return fail(llvm::toString(process.takeError()));
    lib.addGenerator(std::move(*process));
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      return fail("cannot read " + path + ": " + buffer.getError().message());
    if (Error err = (*jit)->addObjectFile(std::move(*buffer)))
      return fail(path + ": " + llvm::toString(std::move(err)));
    std::string entry = "_mlir__mlir_ciface_" + phase.name;
    auto symbol = (*jit)->lookup(entry);
    if (!symbol)
      return fail(path + " has no entry " + entry + ": " + llvm::toString(symbol.takeError()));
    auto runner = std::make_unique<HostObjectRunner>();
    runner->phase = phase;
    runner->entry = symbol->toPtr<void (*)(void **)>();
    runner->jit = std::move(*jit);
    return std::unique_ptr<PhaseRunner>(std::move(runner));
  }

  Expected<llvm::StringMap<Tensor>> run(const llvm::StringMap<Tensor> &inputs) override {
    // Memref descriptors {allocated, aligned, offset, sizes, strides}.
    std::vector<std::vector<int64_t>> descriptors;
    for (const TensorSpec &spec : phase.inputs) {
      auto it = inputs.find(spec.name);
      if (it == inputs.end())
        return fail("@" + phase.name + " needs input '" + spec.name + "'");
      const Tensor &t = it->second;
      if (t.dtype != spec.dtype || llvm::ArrayRef<int64_t>(t.shape) != llvm::ArrayRef(spec.shape))
        return fail("@" + phase.name + ": input '" + spec.name + "' is " + t.getTypeString() +
                    ", not the manifest's shape");
      int64_t data = (int64_t)(intptr_t)t.data.data();
      std::vector<int64_t> d = {data, data, 0};
      d.insert(d.end(), spec.shape.begin(), spec.shape.end());
      std::vector<int64_t> strides(spec.shape.size());
      int64_t stride = 1;
      for (int64_t i = (int64_t)spec.shape.size() - 1; i >= 0; --i) {
        strides[i] = stride;
        stride *= spec.shape[i];
      }
      d.insert(d.end(), strides.begin(), strides.end());
      descriptors.push_back(std::move(d));
    }
    size_t words = 0;
    for (const TensorSpec &spec : phase.outputs)
      words += 3 + 2 * spec.shape.size();
    std::vector<int64_t> results(words);
    void *resultPtr = results.data();
    std::vector<void *> pointers;
    for (auto &d : descriptors)
      pointers.push_back(d.data());
    std::vector<void *> args = {&resultPtr};
    for (void *&p : pointers)
      args.push_back(&p);
    entry(args.data());
    llvm::StringMap<Tensor> outputs;
    size_t at = 0;
    for (const TensorSpec &spec : phase.outputs) {
      Tensor out = zeros(spec);
      auto *aligned = (const char *)(intptr_t)results[at + 1];
      size_t size = getDTypeSize(spec.dtype);
      std::memcpy(out.data.data(), aligned + results[at + 2] * size, out.data.size());
      // Results are the caller's to free.
      std::free((void *)(intptr_t)results[at]);
      at += 3 + 2 * spec.shape.size();
      outputs[spec.name] = std::move(out);
    }
    return outputs;
  }

private:
  PhaseSpec phase;
  void (*entry)(void **) = nullptr;
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

/// An LPU program, run by the LPU simulator (bit-accurate, timed).
class LpuRunner final : public PhaseRunner {
public:
  static Expected<std::unique_ptr<PhaseRunner>> load(const PhaseSpec &phase, StringRef path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      return fail("cannot read " + path + ": " + buffer.getError().message());
    auto program = sim::lpu::parseProgram((*buffer)->getBuffer(), path);
    if (!program)
      return program.takeError();
    if (program->machine.shapeOnly)
      return fail(path + " is shape-only (its weights were absent when it was compiled): "
                         "the simulator can time it (prism-sim lpu --timing-only) but "
                         "not run it");
    auto runner = std::make_unique<LpuRunner>();
    runner->phase = phase;
    runner->program = std::make_unique<sim::lpu::Program>(std::move(*program));
    return std::unique_ptr<PhaseRunner>(std::move(runner));
  }

  Expected<llvm::StringMap<Tensor>> run(const llvm::StringMap<Tensor> &inputs) override {
    sim::lpu::RunOptions options;
    for (const TensorSpec &spec : phase.inputs) {
      auto it = inputs.find(spec.name);
      if (it == inputs.end())
        return fail("@" + phase.name + " needs input '" + spec.name + "'");
      std::vector<double> &values = options.inputs[spec.name];
      for (int64_t i = 0, e = it->second.getNumElements(); i < e; ++i)
        values.push_back(elementAt(it->second, i));
    }
    std::map<std::string, std::vector<double>> values;
    options.outputs = &values;
    std::string report;
    llvm::raw_string_ostream os(report);
    if (Error err = sim::lpu::runProgram(*program, os, options))
      return fail("the LPU simulator: " + llvm::toString(std::move(err)));
    lastReport = report;
    llvm::StringMap<Tensor> outputs;
    for (const TensorSpec &spec : phase.outputs) {
      auto it = values.find(spec.name);
      if (it == values.end() || (int64_t)it->second.size() != spec.elements())
        return fail("the LPU program of @" + phase.name + " did not produce output '" +
                    spec.name + "' with its manifest shape");
      Tensor out = zeros(spec);
      for (int64_t i = 0; i < spec.elements(); ++i)
        setElement(out, i, it->second[i]);
      outputs[spec.name] = std::move(out);
    }
    return outputs;
  }

  std::string report() const override { return lastReport; }

private:
  std::string lastReport;
  PhaseSpec phase;
  std::unique_ptr<sim::lpu::Program> program;
};

/// A GPU launch plan, run by the CUDA driver (a GPU of this machine).
class GpuRunner final : public PhaseRunner {
public:
  static Expected<std::unique_ptr<PhaseRunner>> load(const PhaseSpec &phase, StringRef path) {
    // The plan is read (and checked) whether or not a GPU is here.
    auto plan = gpu::readLaunchPlan(path);
    if (!plan)
      return plan.takeError();
    // The CUDA driver is opened at run time; without it nothing can run.
    std::string error;
    if (!llvm::sys::DynamicLibrary::getLibrary("libcuda.so.1", &error).isValid())
      return llvm::make_error<TargetUnavailableError>(
          "@" + phase.name + " runs on " + phase.device +
          " (a GPU launch plan) and this machine has no CUDA driver (libcuda.so.1)");
    auto runner = std::make_unique<GpuRunner>();
    runner->phase = phase;
    runner->plan = std::move(*plan);
    return std::unique_ptr<PhaseRunner>(std::move(runner));
  }

  Expected<llvm::StringMap<Tensor>> run(const llvm::StringMap<Tensor> &inputs) override {
    auto result = gpu::runOnCuda(plan, inputs, gpu::RunOptions());
    if (!result) {
      Error err = result.takeError();
      if (err.isA<gpu::NoCudaError>())
        return llvm::make_error<TargetUnavailableError>(llvm::toString(std::move(err)));
      return fail("@" + phase.name + " on the GPU: " + llvm::toString(std::move(err)));
    }
    return std::move(result->outputs);
  }

private:
  PhaseSpec phase;
  gpu::LaunchPlan plan;
};

Expected<std::unique_ptr<PhaseRunner>> loadPhase(const PhaseSpec &phase, StringRef dir) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, phase.program);
  if (phase.format == "host-object")
    return HostObjectRunner::load(phase, path);
  if (phase.format == "lpu-program")
    return LpuRunner::load(phase, path);
  if (phase.format == "gpu-launch-plan")
    return GpuRunner::load(phase, path);
  return llvm::make_error<TargetUnavailableError>(
      "@" + phase.name + " is a '" + phase.format + "' program (" + phase.target +
      " target): prism-run cannot run that format");
}

int64_t argmaxLast(const Tensor &logits, std::vector<float> &row) {
  int64_t vocab = logits.shape.back();
  int64_t from = logits.getNumElements() - vocab;
  row.assign(vocab, 0);
  int64_t best = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    row[i] = (float)elementAt(logits, from + i);
    if (row[i] > row[best])
      best = i;
  }
  return best;
}

} // namespace

Expected<BundleRunResult> prism::runtime::runBundle(const BundleRunOptions &options) {
  llvm::SmallString<256> manifestPath(options.directory);
  llvm::sys::path::append(manifestPath, "manifest.json");
  auto text = llvm::MemoryBuffer::getFile(manifestPath);
  if (!text)
    return fail("cannot read " + manifestPath + ": " + text.getError().message());
  auto json = llvm::json::parse((*text)->getBuffer());
  if (!json)
    return fail(manifestPath + ": " + llvm::toString(json.takeError()));
  const llvm::json::Object *manifest = json->getAsObject();
  if (!manifest || manifest->getString("format") != StringRef("prism-bundle"))
    return fail(manifestPath + " is not a Prism bundle manifest");
  const llvm::json::Array *phaseArray = manifest->getArray("phases");
  if (!phaseArray)
    return fail(manifestPath + " lists no phases");
  std::map<std::string, PhaseSpec> phases;
  for (const llvm::json::Value &v : *phaseArray) {
    const llvm::json::Object *o = v.getAsObject();
    if (!o || !o->getString("name") || !o->getString("format") || !o->getString("program"))
      return fail(manifestPath + ": a phase lacks name, format or program");
    PhaseSpec p;
    p.name = o->getString("name")->str();
    p.format = o->getString("format")->str();
    p.program = o->getString("program")->str();
    p.target = o->getString("target").value_or("").str();
    p.device = o->getString("device").value_or("").str();
    auto in = readTensors(o->getArray("inputs"), "inputs of @" + p.name);
    if (!in)
      return in.takeError();
    auto out = readTensors(o->getArray("outputs"), "outputs of @" + p.name);
    if (!out)
      return out.takeError();
    p.inputs = std::move(*in);
    p.outputs = std::move(*out);
    if (p.program.find('/') != std::string::npos || p.program.find("..") != std::string::npos)
      return fail(manifestPath + ": program '" + p.program + "' is not a file of the bundle");
    phases[p.name] = std::move(p);
  }
  if (!phases.count("prefill") || !phases.count("decode"))
    return fail(manifestPath + ": the runner needs a @prefill and a @decode phase");
  const PhaseSpec &prefill = phases["prefill"], &decode = phases["decode"];

  // The phases' protocol (xfmr-split-phases): the runner feeds these.
  for (const PhaseSpec *p : {&prefill, &decode})
    for (const TensorSpec &t : p->inputs)
      if (t.name != "input_ids" && t.name != "attention_mask" && t.name != "position_ids" &&
          t.name != "kv_cache")
        return fail("@" + p->name + " takes input '" + t.name +
                    "': the bundle runner feeds input_ids, attention_mask, position_ids "
                    "and the KV cache only");
  const TensorSpec *ids = prefill.input("input_ids");
  const TensorSpec *cache = decode.input("kv_cache");
  if (!ids || ids->shape.size() != 2 || ids->shape[0] != 1 || !cache ||
      cache->shape.size() != 6)
    return fail("the bundle runner runs batch-1 phases with input_ids [1, P] and a KV "
                "cache [layers, 2, 1, heads, positions, head_dim]");
  int64_t promptLength = ids->shape[1], context = cache->shape[4];
  std::vector<int64_t> prompt = options.prompt;
  if (prompt.empty()) {
    const TensorSpec *logits = nullptr;
    for (const TensorSpec &t : prefill.outputs)
      if (t.name == "logits")
        logits = &t;
    if (!logits || logits->shape.empty())
      return fail("@prefill has no logits output to draw a prompt's vocabulary from");
    Tensor drawn = makeRandomTensor(DType::I64, {1, promptLength}, options.randomSeed,
                                    logits->shape.back());
    const auto *data = reinterpret_cast<const int64_t *>(drawn.data.data());
    prompt.assign(data, data + promptLength);
  }
  if ((int64_t)prompt.size() != promptLength)
    return fail(llvm::formatv("the bundle was compiled for prompts of {0} tokens; {1} given",
                              promptLength, prompt.size())
                    .str());
  if (promptLength + options.steps - 1 > context)
    return fail(llvm::formatv("{0} decode steps after a {1}-token prompt do not fit the "
                              "{2} positions the decode phase reads",
                              options.steps, promptLength, context)
                    .str());

  BundleRunResult result;
  auto prefillRunner = loadPhase(prefill, options.directory);
  if (!prefillRunner)
    return prefillRunner.takeError();
  auto decodeRunner = loadPhase(decode, options.directory);
  if (!decodeRunner)
    return decodeRunner.takeError();

  // Prefill: the prompt, a full mask, positions 0..P-1.
  llvm::StringMap<Tensor> in;
  for (const TensorSpec &t : prefill.inputs) {
    Tensor x = zeros(t);
    for (int64_t i = 0; i < t.elements(); ++i)
      setElement(x, i,
                 t.name == "input_ids"        ? (double)prompt[i]
                 : t.name == "position_ids"   ? (double)(i % promptLength)
                 : t.name == "attention_mask" ? 1.0
                                              : 0.0);
    in[t.name] = std::move(x);
  }
  auto out = (*prefillRunner)->run(in);
  if (!out)
    return out.takeError();
  if (!out->count("logits") || !out->count("kv_cache"))
    return fail("@prefill returned no logits or kv_cache");
  result.logits.emplace_back();
  result.tokens.push_back(argmaxLast((*out)["logits"], result.logits.back()));
  result.log.push_back("prefill: " + prefill.format + " on " + prefill.device);

  // The hand-off: the prompt's positions into the decode buffer.
  const Tensor &filled = (*out)["kv_cache"];
  if (filled.shape.size() != 6 || filled.shape[4] != promptLength)
    return fail("@prefill's kv_cache is not [layers, 2, 1, heads, prompt, head_dim]");
  Tensor buffer = zeros(*cache);
  int64_t rows = buffer.getNumElements() / (context * cache->shape[5]);
  int64_t headDim = cache->shape[5];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < promptLength; ++p)
      for (int64_t d = 0; d < headDim; ++d)
        setElement(buffer, (r * context + p) * headDim + d,
                   elementAt(filled, (r * promptLength + p) * headDim + d));

  int64_t n = promptLength;
  for (int64_t step = 1; step <= options.steps; ++step) {
    llvm::StringMap<Tensor> stepInputs;
    for (const TensorSpec &t : decode.inputs) {
      if (t.name == "kv_cache")
        continue;
      Tensor x = zeros(t);
      if (t.name == "input_ids" || t.name == "position_ids")
        setElement(x, 0, t.name == "input_ids" ? (double)result.tokens.back() : (double)n);
      else // attention_mask [1, context + 1]: the cached positions and this token
        for (int64_t i = 0; i < t.elements(); ++i)
          setElement(x, i, i < n || i == t.elements() - 1 ? 1.0 : 0.0);
      stepInputs[t.name] = std::move(x);
    }
    stepInputs["kv_cache"] = buffer;
    auto stepOut = (*decodeRunner)->run(stepInputs);
    if (!stepOut)
      return stepOut.takeError();
    if (!stepOut->count("logits") || !stepOut->count("kv_cache_append"))
      return fail("@decode returned no logits or kv_cache_append");
    const Tensor &append = (*stepOut)["kv_cache_append"];
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t d = 0; d < headDim; ++d)
        setElement(buffer, (r * context + n) * headDim + d,
                   elementAt(append, r * headDim + d));
    ++n;
    result.logits.emplace_back();
    result.tokens.push_back(argmaxLast((*stepOut)["logits"], result.logits.back()));
  }
  result.log.push_back(llvm::formatv("decode: {0} on {1}, {2} steps", decode.format,
                                     decode.device, options.steps)
                           .str());
  if (std::string report = (*decodeRunner)->report(); !report.empty())
    result.log.push_back("the last decode step's report:\n" + report);
  return result;
}
