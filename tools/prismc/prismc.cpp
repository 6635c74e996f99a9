//===- prismc.cpp - Prism's compiler driver -------------------------------===//
//
// prismc MODEL.onnx --compile-to=onnx|static --bind name=value,... -o OUT.mlir
//
// Runs the pipeline up to the requested phase and writes the IR; --summary
// prints what the model holds. Nothing is written when a step fails.
//
//===----------------------------------------------------------------------===//

#include "prism/Driver/Diagnostics.h"
#include "prism/Driver/Summary.h"
#include "prism/Import/OnnxImporter.h"
#include "prism/RegisterAll.h"
#include "prism/Transforms/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Phase { Onnx, Static };

cl::OptionCategory category("prismc options");

cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                               cl::desc("<model.onnx | model.onnxtxt>"),
                               cl::cat(category));

cl::opt<Phase> compileTo(
    "compile-to", cl::desc("Stop after this phase and write its IR"),
    cl::init(Phase::Static),
    cl::values(clEnumValN(Phase::Onnx, "onnx",
                          "the imported onnx dialect, symbolic dims kept"),
               clEnumValN(Phase::Static, "static",
                          "dims bound, shapes inferred and folded: every "
                          "tensor static (default)")),
    cl::cat(category));

cl::list<std::string> bindings(
    "bind",
    cl::desc("Bind symbolic dims: name=value[,name=value...], names as the "
             "model spells them; a dim named by an expression of others "
             "(past_sequence_length+sequence_length) is computed"),
    cl::CommaSeparated, cl::cat(category));

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

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "prismc: Prism's compiler driver\n\n"
      "Imports an ONNX model (binary, or ONNX text syntax for .onnxtxt) and "
      "runs Prism's pipeline up to --compile-to.\n\n"
      "  prismc model.onnx --compile-to=static --bind batch_size=1,"
      "sequence_length=128 -o model.mlir\n");

  DialectRegistry registry;
  prism::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.printOpOnDiagnostic(false);
  prism::installOnnxDiagnosticHandler(ctx);

  OwningOpRef<ModuleOp> module = prism::importOnnxFile(&ctx, inputFile);
  if (!module)
    return 1;
  prism::ModelSummary before = prism::summarizeModule(*module);

  if (compileTo >= Phase::Static) {
    PassManager pm(&ctx);
    prism::OnnxToStaticOptions options;
    std::vector<std::string> dims(bindings.begin(), bindings.end());
    options.dims = dims;
    prism::buildOnnxToStaticPipeline(pm, options);
    if (failed(pm.run(*module)))
      return 1;
  }

  if (summary)
    prism::printSummary(llvm::outs(), before, prism::summarizeModule(*module));

  if (outputFile.empty() && (summary || noIR))
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
