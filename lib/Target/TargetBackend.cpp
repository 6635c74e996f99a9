//===- TargetBackend.cpp - The target registry ----------------------------===//

#include "prism/Target/TargetBackend.h"

#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "llvm/ADT/StringExtras.h"

#include <map>
#include <mutex>

using namespace mlir;
using namespace prism;
using namespace prism::target;

TargetBackend::~TargetBackend() = default;

llvm::Error TargetBackend::checkPlacement(func::FuncOp, const PlacedPhase &) const {
  return llvm::Error::success();
}

namespace {
// Filled once, at start-up, by registerAllTargets; read-only after.
std::map<std::string, std::unique_ptr<TargetBackend>, std::less<>> &registry() {
  static std::map<std::string, std::unique_ptr<TargetBackend>, std::less<>> targets;
  return targets;
}
std::mutex registryMutex;
} // namespace

void prism::target::registerTarget(std::unique_ptr<TargetBackend> backend) {
  std::lock_guard<std::mutex> lock(registryMutex);
  std::string cls = backend->deviceClass().str();
  registry().try_emplace(cls, std::move(backend));
}

const TargetBackend *prism::target::lookupTarget(llvm::StringRef deviceClass) {
  std::lock_guard<std::mutex> lock(registryMutex);
  auto it = registry().find(deviceClass);
  return it == registry().end() ? nullptr : it->second.get();
}

std::vector<const TargetBackend *> prism::target::registeredTargets() {
  std::lock_guard<std::mutex> lock(registryMutex);
  std::vector<const TargetBackend *> all;
  for (auto &[cls, backend] : registry())
    all.push_back(backend.get());
  return all;
}

llvm::Expected<const TargetBackend *>
prism::target::targetFor(const cost::DeviceKind &device) {
  if (const TargetBackend *backend = lookupTarget(device.deviceClass))
    return backend;
  std::vector<std::string> classes;
  for (const TargetBackend *b : registeredTargets())
    classes.push_back(b->deviceClass().str());
  return llvm::createStringError("no target compiles for " + device.kind + " (class '" +
                                 device.deviceClass + "'); targets exist for: " +
                                 llvm::join(classes, ", "));
}

llvm::Expected<plan::WeightDtype> prism::target::parseWeightDtype(llvm::StringRef text) {
  if (auto dtype = plan::symbolizeWeightDtype(text))
    return *dtype;
  return llvm::createStringError("unknown weight dtype '" + text +
                                 "' (fp32, bf16, fp16, fp8, int8, int4)");
}

llvm::Expected<PlacedPhase> prism::target::readPlacement(func::FuncOp phase,
                                                         const cost::DeviceLibrary &devices) {
  auto placement = phase->getAttrOfType<plan::PlacementAttr>("plan.placement");
  if (!placement)
    return llvm::createStringError("@" + phase.getSymName() +
                                   " has no #plan.placement (run the partitioner first: "
                                   "--compile-to=plan)");
  const cost::DeviceKind *device = devices.lookup(placement.getDevice());
  if (!device)
    return llvm::createStringError("@" + phase.getSymName() + " is placed on device '" +
                                   placement.getDevice() +
                                   "', which the hardware folder does not describe");
  PlacedPhase placed;
  placed.function = phase.getSymName().str();
  placed.group = placement.getGroup().str();
  placed.device = device;
  placed.chips = placement.getChips();
  placed.tensorParallel = placement.getTensorParallel();
  placed.pipelineParallel = placement.getPipelineParallel();
  placed.weightDtype = placement.getWeightDtype();
  return placed;
}

static std::string dtypeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isF16())
    return "f16";
  if (t.isBF16())
    return "bf16";
  if (t.isF64())
    return "f64";
  if (auto i = dyn_cast<IntegerType>(t))
    return (i.getWidth() == 1 ? "bool" : "i" + std::to_string(i.getWidth()));
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

std::vector<TensorSignature> prism::target::signatureOf(func::FuncOp phase, bool results) {
  std::vector<TensorSignature> signature;
  unsigned n = results ? phase.getNumResults() : phase.getNumArguments();
  for (unsigned i = 0; i < n; ++i) {
    auto name = results ? phase.getResultAttrOfType<StringAttr>(i, "onnx.name")
                        : phase.getArgAttrOfType<StringAttr>(i, "onnx.name");
    Type type = results ? phase.getResultTypes()[i] : phase.getArgumentTypes()[i];
    TensorSignature s;
    s.name = name ? name.str() : (results ? "output" : "input") + std::to_string(i);
    if (auto kv = dyn_cast<xfmr::KvCacheType>(type)) {
      // The host's form of the cache: [layers, 2, batch, heads, length, head_dim].
      s.shape = {kv.getLayers(), 2, kv.getBatch(), kv.getHeads(), kv.getLength(),
                 kv.getHeadDim()};
      s.dtype = dtypeName(kv.getElementType());
    } else if (auto ranked = dyn_cast<RankedTensorType>(type)) {
      s.shape.assign(ranked.getShape().begin(), ranked.getShape().end());
      s.dtype = dtypeName(ranked.getElementType());
    } else {
      s.dtype = dtypeName(type);
    }
    signature.push_back(std::move(s));
  }
  return signature;
}

OwningOpRef<ModuleOp> prism::target::extractPhase(ModuleOp module, llvm::StringRef function) {
  OwningOpRef<ModuleOp> copy = module.clone();
  for (auto other : llvm::make_early_inc_range(copy->getOps<func::FuncOp>()))
    if (other.getSymName() != function && !other.isExternal())
      other.erase();
  // The plan's ops (system, transfers, prediction) were read already; a
  // target's lowering has no use for them.
  for (Operation &op : llvm::make_early_inc_range(*copy->getBody()))
    if (isa<plan::PlanDialect>(op.getDialect()))
      op.erase();
  return copy;
}
