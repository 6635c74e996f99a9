//===- prism-run.cpp - Run a model on the host CPU -------------------------===//
//
// prism-run MODEL --input NAME=FILE ... --output-dir DIR [--bind ...]
//
// Imports the model, binds its dims from the inputs' shapes, lowers it
// (convert-onnx-to-linalg, then bufferization and LLVM), JIT-compiles it with
// MLIR's ExecutionEngine and writes each output as <name>.npy. Operators the
// host lowering does not handle yet fail at compile time, naming the node.
//
//===----------------------------------------------------------------------===//

#include "prism/Conversion/Passes.h"
#include "prism/Dialect/Onnx/OnnxTypeConversion.h"
#include "prism/Driver/Diagnostics.h"
#include "prism/Import/OnnxImporter.h"
#include "prism/RegisterAll.h"
#include "prism/Runtime/TensorIO.h"
#include "prism/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>

using namespace mlir;
using namespace prism::runtime;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("prism-run options");
cl::opt<std::string> modelFile(cl::Positional, cl::Required,
                               cl::desc("<model.onnx | model.onnxtxt>"),
                               cl::cat(category));
cl::list<std::string> inputs("input",
                             cl::desc("An input: NAME=FILE (.npy or ONNX "
                                      "TensorProto .pb)"),
                             cl::cat(category));
cl::opt<std::string> outputDir("output-dir", cl::Required,
                               cl::desc("Where the outputs go, as <name>.npy"),
                               cl::cat(category));

/// The lowering after convert-onnx-to-linalg: bufferize, loops, LLVM.
constexpr const char *kHostPipeline =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    "func.func(convert-linalg-to-loops),lower-affine,convert-scf-to-cf,"
    "expand-strided-metadata,finalize-memref-to-llvm,convert-math-to-llvm,"
    "convert-math-to-libm,convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-func-to-llvm,"
    "convert-cf-to-llvm,reconcile-unrealized-casts";

int fail(const llvm::Twine &msg) {
  llvm::errs() << "prism-run: " << msg << "\n";
  return 1;
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
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "prism-run: run a model on the host CPU\n");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  prism::registerAllDialects(registry);
  registerAllPasses();
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ctx.printOpOnDiagnostic(false);
  prism::installOnnxDiagnosticHandler(ctx);

  OwningOpRef<ModuleOp> module = prism::importOnnxFile(&ctx, modelFile);
  if (!module)
    return 1;
  auto func = *module->getOps<func::FuncOp>().begin();

  // Inputs by name, checked against the model; their shapes bind the dims.
  llvm::StringMap<Tensor> given;
  for (const std::string &spec : inputs) {
    auto [name, file] = llvm::StringRef(spec).split('=');
    if (file.empty())
      return fail("--input " + spec + ": expected NAME=FILE");
    auto t = readTensorFile(file);
    if (!t)
      return fail("input '" + name + "': " + llvm::toString(t.takeError()));
    given[name] = std::move(*t);
  }
  std::vector<Tensor *> args;
  std::vector<std::string> binds;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(i, "onnx.name");
    std::string name = nameAttr ? nameAttr.str() : std::to_string(i);
    auto it = given.find(name);
    if (it == given.end())
      return fail("input '" + name + "' is missing (--input " + name + "=FILE)");
    Tensor &t = it->second;
    auto type = cast<RankedTensorType>(func.getArgument(i).getType());
    auto dtype = toDType(type.getElementType());
    if (!dtype || *dtype != t.dtype)
      return fail("input '" + name + "' is " + t.getTypeString() +
                  " but the model takes element type " +
                  (dtype ? getDTypeName(*dtype).str() : std::string("?")));
    if ((int64_t)t.shape.size() != type.getRank())
      return fail("input '" + name + "' is " + t.getTypeString() +
                  " but the model takes rank " + llvm::Twine(type.getRank()));
    auto names = func.getArgAttrOfType<ArrayAttr>(i, "onnx.dim_names");
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        if (type.getDimSize(d) != t.shape[d])
          return fail("input '" + name + "' is " + t.getTypeString() +
                      " but dim " + llvm::Twine(d) + " must be " +
                      llvm::Twine(type.getDimSize(d)));
      } else if (names && d < (int64_t)names.size() &&
                 !cast<StringAttr>(names[d]).getValue().empty()) {
        binds.push_back(cast<StringAttr>(names[d]).str() + "=" +
                        std::to_string(t.shape[d]));
      }
    }
    args.push_back(&t);
  }
  std::vector<std::string> outputNames;
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto n = func.getResultAttrOfType<StringAttr>(i, "onnx.name");
    outputNames.push_back(n ? n.str() : "output" + std::to_string(i));
  }

  // Static shapes (the same name may appear twice: keep one binding).
  llvm::sort(binds);
  binds.erase(std::unique(binds.begin(), binds.end()), binds.end());
  PassManager pm(&ctx);
  prism::OnnxToStaticOptions options;
  options.dims = binds;
  prism::buildOnnxToStaticPipeline(pm, options);
  pm.addNestedPass<func::FuncOp>(prism::createConvertOnnxToLinalg());
  if (failed(pm.run(*module)))
    return 1;
  func = *module->getOps<func::FuncOp>().begin();
  std::vector<RankedTensorType> resultTypes;
  for (Type t : func.getResultTypes())
    resultTypes.push_back(cast<RankedTensorType>(t));
  // The C interface is what the runner calls; ONNX names stay behind.
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(&ctx));
  func.removeArgAttrsAttr();
  func.removeResAttrsAttr();
  PassManager lower(&ctx);
  if (failed(parsePassPipeline(kHostPipeline, lower)) ||
      failed(lower.run(*module)))
    return 1;

  ExecutionEngineOptions engineOptions;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  llvm::StringRef runnerUtils[] = {PRISM_C_RUNNER_UTILS};
  engineOptions.sharedLibPaths = runnerUtils;
  auto engine = ExecutionEngine::create(*module, engineOptions);
  if (!engine)
    return fail("JIT compilation failed: " + llvm::toString(engine.takeError()));

  // _mlir_ciface_main_graph(results*, inputs*...): descriptors by pointer.
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
  if (llvm::Error err =
          (*engine)->invokePacked("_mlir_ciface_main_graph", argPtrs))
    return fail("running the model failed: " + llvm::toString(std::move(err)));

  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return fail("cannot create " + outputDir + ": " + ec.message());
  size_t at = 0;
  for (auto [i, type] : llvm::enumerate(resultTypes)) {
    Tensor out;
    out.dtype = *toDType(type.getElementType());
    out.shape.assign(type.getShape().begin(), type.getShape().end());
    size_t bytes = out.getNumElements() * getDTypeSize(out.dtype);
    auto *aligned = (const char *)(intptr_t)results[at + 1];
    int64_t offset = results[at + 2];
    out.data.assign(aligned + offset * getDTypeSize(out.dtype),
                    aligned + offset * getDTypeSize(out.dtype) + bytes);
    at += 3 + 2 * type.getRank();
    // Results are the caller's to free (the deallocation pipeline copies
    // any that alias inputs or constants).
    std::free((void *)(intptr_t)results[at - 3 - 2 * type.getRank()]);
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, sanitizeFileName(outputNames[i]) + ".npy");
    if (llvm::Error err = writeNpy(path, out))
      return fail(llvm::toString(std::move(err)));
  }
  return 0;
}
