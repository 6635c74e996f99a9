//===- Summary.h - What a model holds, for prismc --summary -----*- C++ -*-===//

#ifndef PRISM_DRIVER_SUMMARY_H
#define PRISM_DRIVER_SUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace prism {

struct ModelSummary {
  std::map<std::string, int64_t> opCounts; // by op name, e.g. "onnx.MatMul"
  int64_t numInitializers = 0;
  int64_t numParameters = 0;  // elements of all initializers
  int64_t parameterBytes = 0;
  int64_t numTensors = 0;     // arguments and op results of tensor type
  int64_t numDynamicTensors = 0;
  /// Symbolic dims in order of first appearance on the inputs, with the
  /// size they have now (dynamic if unbound).
  std::vector<std::pair<std::string, int64_t>> dims;
};

ModelSummary summarizeModule(mlir::ModuleOp module);

/// Prints the model before and after binding.
void printSummary(llvm::raw_ostream &os, const ModelSummary &imported,
                  const ModelSummary &current);

} // namespace prism

#endif // PRISM_DRIVER_SUMMARY_H
