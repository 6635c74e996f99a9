//===- Bundle.cpp - Every placed phase compiled for its target ------------===//

#include "prism/Driver/Bundle.h"

#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace prism;
using namespace prism::target;

namespace {

llvm::json::Array toJson(const std::vector<TensorSignature> &tensors) {
  llvm::json::Array array;
  for (const TensorSignature &t : tensors)
    array.push_back(llvm::json::Object{
        {"name", t.name}, {"dtype", t.dtype}, {"shape", llvm::json::Array(t.shape)}});
  return array;
}

llvm::Error writeJson(llvm::StringRef path, llvm::json::Value value) {
  std::string error;
  auto out = openOutputFile(path, &error);
  if (!out)
    return llvm::createStringError(error);
  out->os() << llvm::formatv("{0:2}", value) << "\n";
  out->keep();
  return llvm::Error::success();
}

/// The cache @prefill returns, or the one @decode reads (`read`).
xfmr::KvCacheType kvCacheOf(func::FuncOp phase, bool read) {
  for (Type t : read ? phase.getArgumentTypes() : phase.getResultTypes())
    if (auto kv = dyn_cast<xfmr::KvCacheType>(t))
      return kv;
  return {};
}

} // namespace

llvm::Expected<EmittedProgram> prism::driver::emitPhase(ModuleOp module, llvm::StringRef phase,
                                                         const cost::DeviceLibrary &devices,
                                                         const EmitOptions &emit) {
  auto fn = module.lookupSymbol<func::FuncOp>(phase);
  if (!fn)
    return llvm::createStringError("no @" + phase + " phase to emit");
  auto placed = readPlacement(fn, devices);
  if (!placed)
    return placed.takeError();
  return emitPlacedPhase(module, *placed, emit);
}

llvm::Expected<EmittedProgram> prism::driver::emitPlacedPhase(ModuleOp module,
                                                              const PlacedPhase &placed,
                                                              const EmitOptions &emit) {
  llvm::StringRef phase = placed.function;
  auto fn = module.lookupSymbol<func::FuncOp>(phase);
  if (!fn)
    return llvm::createStringError("no @" + phase + " phase to emit");
  auto backend = targetFor(*placed.device);
  if (!backend)
    return llvm::createStringError("@" + phase + ": " + llvm::toString(backend.takeError()));
  std::vector<TensorSignature> inputs = signatureOf(fn, false), outputs = signatureOf(fn, true);
  OwningOpRef<ModuleOp> lowered = extractPhase(module, phase);
  PassManager pm(module.getContext());
  pm.enableVerifier((*backend)->verifyEachPass(emit));
  if (auto err = (*backend)->buildPipeline(pm, placed, emit))
    return llvm::createStringError("@" + phase + " on " + placed.device->kind + ": " +
                                   llvm::toString(std::move(err)));
  if (failed(pm.run(*lowered)))
    return llvm::createStringError("lowering @" + phase + " for " + placed.device->kind +
                                   " failed (see the error above)");
  auto emitted = (*backend)->emit(*lowered, placed, emit);
  if (!emitted)
    return emitted.takeError();
  emitted->inputs = std::move(inputs);
  emitted->outputs = std::move(outputs);
  return emitted;
}

llvm::Error prism::driver::writeBundle(ModuleOp module, const cost::System &system,
                                       const cost::DeviceLibrary &devices,
                                       const partition::Plan &plan,
                                       const partition::PartitionOptions &partitionOptions,
                                       const BundleOptions &options) {
  if (std::error_code ec = llvm::sys::fs::create_directories(options.directory))
    return llvm::createStringError("cannot create " + options.directory + ": " + ec.message());
  llvm::json::Array phases;
  std::map<std::string, llvm::json::Object> kvLayouts;
  for (const partition::PhasePlacement &p : plan.phases) {
    auto fn = module.lookupSymbol<func::FuncOp>(p.phase);
    auto placed = readPlacement(fn, devices);
    if (!placed)
      return placed.takeError();
    auto backend = targetFor(*placed->device);
    if (!backend)
      return llvm::createStringError("@" + p.phase + ": " + llvm::toString(backend.takeError()));
    EmitOptions emit = options.emit;
    std::string program = p.phase + (*backend)->programExtension().str();
    llvm::SmallString<256> path(options.directory);
    llvm::sys::path::append(path, program);
    emit.path = path.str().str();
    auto emitted = emitPhase(module, p.phase, devices, emit);
    if (!emitted)
      return emitted.takeError();
    llvm::json::Array files;
    for (const std::string &f : emitted->files)
      files.push_back(llvm::sys::path::filename(f).str());
    kvLayouts[p.phase] = emitted->kvLayout;
    phases.push_back(llvm::json::Object{
        {"name", p.phase},
        {"target", (*backend)->name()},
        {"format", emitted->format},
        {"program", program},
        {"files", std::move(files)},
        {"group", placed->group},
        {"device", placed->device->kind},
        {"device_class", placed->device->deviceClass},
        {"chips", placed->chips},
        {"tensor_parallel", placed->tensorParallel},
        {"pipeline_parallel", placed->pipelineParallel},
        {"weight_dtype", plan::stringifyWeightDtype(placed->weightDtype)},
        {"predicted_s", p.cost.timeS},
        {"inputs", toJson(emitted->inputs)},
        {"outputs", toJson(emitted->outputs)}});
  }

  // The shape the phases were split for, as their caches say (a module
  // read back with --compile-from carries it too).
  auto prefill = module.lookupSymbol<func::FuncOp>("prefill");
  auto decode = module.lookupSymbol<func::FuncOp>("decode");
  llvm::json::Object shape{{"prompt", options.prompt},
                           {"context", options.context},
                           {"batch", options.batch}};
  if (auto kv = prefill ? kvCacheOf(prefill, false) : xfmr::KvCacheType()) {
    shape["prompt"] = kv.getLength();
    shape["batch"] = kv.getBatch();
  }
  if (auto kv = decode ? kvCacheOf(decode, true) : xfmr::KvCacheType())
    shape["context"] = kv.getLength();
  llvm::json::Object manifest{
      {"format", "prism-bundle"},
      {"version", 1},
      {"model", options.model},
      {"shape", std::move(shape)},
      {"phases", std::move(phases)},
      {"report", "plan.json"}};

  // The hand-off: @prefill's cache becomes the first positions of the
  // buffer @decode reads, in the decode side's layout.
  if (prefill && decode && kvCacheOf(prefill, false) && kvCacheOf(decode, true)) {
    xfmr::KvCacheType from = kvCacheOf(prefill, false), to = kvCacheOf(decode, true);
    const partition::PhasePlacement *pp = nullptr, *dp = nullptr;
    for (const partition::PhasePlacement &p : plan.phases)
      (p.phase == "decode" ? dp : pp) = &p;
    bool moves = pp && dp && pp->group != dp->group;
    double elementBytes = from.getElementType().getIntOrFloatBitWidth() / 8.0;
    double bytesPerToken = (double)from.getLayers() * 2 * from.getHeads() *
                           from.getHeadDim() * elementBytes;
    manifest["kv_cache"] = llvm::json::Object{
        {"from", "prefill"},
        {"to", "decode"},
        {"layers", from.getLayers()},
        {"batch", from.getBatch()},
        {"heads", from.getHeads()},
        {"head_dim", from.getHeadDim()},
        {"prompt_positions", from.getLength()},
        {"context_positions", to.getLength()},
        {"bytes_per_token", bytesPerToken},
        {"bytes", plan.kvBytes > 0 ? plan.kvBytes
                                   : bytesPerToken * from.getBatch() * from.getLength()},
        {"source", std::move(kvLayouts["prefill"])},
        {"destination", std::move(kvLayouts["decode"])},
        {"conversion", "the prompt's positions copied into the first positions of the "
                       "decode buffer (the rest zero), converted to the destination dtype"},
        {"link", moves ? system.linkKind : std::string("none (same group)")},
        {"link_bytes_per_s", moves ? system.linkBytesPerS.value : 0.0},
        {"predicted_s", plan.kvTransferS}};
  }

  llvm::SmallString<256> report(options.directory), manifestPath(options.directory);
  llvm::sys::path::append(report, "plan.json");
  llvm::sys::path::append(manifestPath, "manifest.json");
  if (auto err = writeJson(report, partition::planToJson(plan, system, partitionOptions)))
    return err;
  return writeJson(manifestPath, std::move(manifest));
}
