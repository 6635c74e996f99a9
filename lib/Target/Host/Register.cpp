//===- Register.cpp - The host CPU as a Prism target ----------------------===//
//
// A placed phase through the host path (onnx to linalg, tiling and
// vectorization, LLVM) compiled to a relocatable object for this machine's
// CPU, with the C entry point `_mlir__mlir_ciface_<phase>` (packed
// arguments); prism-run loads it (docs/bundle.md).
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Host/Register.h"

#include "prism/Conversion/Passes.h"
#include "prism/Target/Host/Passes.h"
#include "prism/Target/TargetBackend.h"
#include "prism/Transforms/Passes.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"

#include <functional>

using namespace mlir;
using namespace prism;
using namespace prism::target;

namespace {

class HostBackend final : public TargetBackend {
public:
  llvm::StringRef deviceClass() const override { return "cpu"; }
  llvm::StringRef name() const override { return "host"; }
  llvm::StringRef programExtension() const override { return ".o"; }

  void registerDialects(DialectRegistry &registry) const override {
    registerBuiltinDialectTranslation(registry);
    registerLLVMDialectTranslation(registry);
  }

  plan::WeightDtype defaultWeightDtype() const override { return plan::WeightDtype::fp32; }
  llvm::Error checkWeightDtype(plan::WeightDtype dtype) const override {
    if (dtype == plan::WeightDtype::fp32)
      return llvm::Error::success();
    return llvm::createStringError("the host target keeps the model's fp32 weights, not " +
                                   plan::stringifyWeightDtype(dtype));
  }

  int64_t maxChips() const override { return 1; }

  llvm::Error buildPipeline(OpPassManager &pm, const PlacedPhase &placed,
                            const EmitOptions &) const override {
    if (placed.chips != 1)
      return llvm::createStringError("the host target runs a phase on one CPU, not " +
                                     std::to_string(placed.chips));
    // As prism-run lowers a phase: the cache and the xfmr ops as onnx, the
    // static pipeline and the raising again (what prism-run runs), linalg.
    pm.addPass(createConvertXfmrToOnnx());
    buildOnnxToStaticPipeline(pm, OnnxToStaticOptions());
    pm.addNestedPass<func::FuncOp>(createXfmrRaise());
    pm.addPass(createConvertXfmrToOnnx());
    pm.addNestedPass<func::FuncOp>(createConvertOnnxToLinalg());
    pm.addPass(createHostExposeEntry());
    buildHostLowerToLLVMPipeline(pm, /*vectorize=*/true, /*threads=*/1);
    return llvm::Error::success();
  }

  llvm::Expected<EmittedProgram> emit(ModuleOp lowered, const PlacedPhase &placed,
                                      const EmitOptions &options) const override {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    ExecutionEngineOptions engineOptions;
    engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
    // LLVM's -O3 on the module, as prism-run's JIT does.
    std::function<llvm::Error(llvm::Module *)> optimize =
        makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0, /*targetMachine=*/nullptr);
    engineOptions.transformer = optimize;
    engineOptions.enableObjectDump = true;
    // The object calls MLIR's C runner utilities (memrefCopy, ...): resolved
    // here to compile it, and again where it is loaded.
    llvm::SmallVector<llvm::StringRef> runtimeLibs = {PRISM_C_RUNNER_UTILS};
    engineOptions.sharedLibPaths = runtimeLibs;
    auto engine = ExecutionEngine::create(lowered, engineOptions);
    if (!engine)
      return llvm::createStringError("compiling @" + placed.function +
                                     " for the host failed: " +
                                     llvm::toString(engine.takeError()));
    // Looking the entry up compiles the module; the object is then cached.
    std::string entry = "_mlir_ciface_" + placed.function;
    if (auto fn = (*engine)->lookupPacked(entry); !fn)
      return llvm::createStringError("the host object has no entry " + entry + ": " +
                                     llvm::toString(fn.takeError()));
    (*engine)->dumpToObjectFile(options.path);
    if (!llvm::sys::fs::exists(options.path))
      return llvm::createStringError("could not write the host object " + options.path);
    EmittedProgram emitted;
    emitted.format = "host-object";
    emitted.files = {options.path};
    emitted.kvLayout = llvm::json::Object{
        {"memory", "host memory"},
        {"dtype", "f32"},
        {"order", "[layers, 2, batch, heads, positions, head_dim]"},
        {"placement", "one row-major tensor, the phase's kv_cache argument or result"}};
    return emitted;
  }
};

} // namespace

void prism::host::registerHostTarget() { registerTarget(std::make_unique<HostBackend>()); }
