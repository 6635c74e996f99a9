//===- Summary.cpp - What a model holds, for prismc --summary -------------===//

#include "prism/Driver/Summary.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

using namespace mlir;

prism::ModelSummary prism::summarizeModule(ModuleOp module) {
  ModelSummary s;
  module.walk([&](Operation *op) {
    if (isa<ModuleOp, func::FuncOp>(op) || op->hasTrait<OpTrait::IsTerminator>())
      return;
    if (isa<onnx::ONNXNoValueOp>(op))
      return;
    ++s.opCounts[op->getName().getStringRef().str()];
    for (Type t : op->getResultTypes()) {
      if (!isa<TensorType>(t))
        continue;
      ++s.numTensors;
      auto r = dyn_cast<RankedTensorType>(t);
      if (!r || !r.hasStaticShape())
        ++s.numDynamicTensors;
    }
    if (op->hasAttr("onnx.initializer")) {
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      ++s.numInitializers;
      s.numParameters += type.getNumElements();
      s.parameterBytes +=
          type.getNumElements() *
          std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
    }
  });
  for (auto func : module.getOps<func::FuncOp>()) {
    for (BlockArgument arg : func.getArguments()) {
      ++s.numTensors;
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || !type.hasStaticShape())
        ++s.numDynamicTensors;
      auto names =
          func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "onnx.dim_names");
      if (!type || !names || names.size() != (size_t)type.getRank())
        continue;
      for (auto [d, n] : llvm::enumerate(names)) {
        std::string name = cast<StringAttr>(n).str();
        if (name.empty() ||
            llvm::any_of(s.dims, [&](auto &p) { return p.first == name; }))
          continue;
        s.dims.push_back({name, type.getDimSize(d)});
      }
    }
  }
  return s;
}

static std::string humanCount(int64_t n) {
  const char *units[] = {"", "K", "M", "G", "T"};
  double v = n;
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  std::string out;
  llvm::raw_string_ostream os(out);
  if (u == 0)
    os << n;
  else
    os << llvm::format("%.2f", v) << units[u];
  return out;
}

void prism::printSummary(llvm::raw_ostream &os, const ModelSummary &imported,
                         const ModelSummary &current) {
  int64_t totalOps = 0;
  for (auto &[name, count] : imported.opCounts)
    totalOps += count;
  os << "== model ==\n";
  os << "ops (imported): " << totalOps << "\n";
  std::vector<std::pair<std::string, int64_t>> sorted(
      imported.opCounts.begin(), imported.opCounts.end());
  llvm::stable_sort(sorted, [](auto &a, auto &b) { return a.second > b.second; });
  for (auto &[name, count] : sorted)
    os << llvm::format("  %-40s %8lld\n", name.c_str(), (long long)count);
  if (current.opCounts != imported.opCounts) {
    int64_t now = 0;
    for (auto &[name, count] : current.opCounts)
      now += count;
    os << "ops (after binding and folding): " << now << "\n";
  }
  os << "parameters: " << humanCount(imported.numParameters) << " ("
     << imported.numParameters << " elements, "
     << humanCount(imported.parameterBytes) << "B in "
     << imported.numInitializers << " initializers)\n";
  os << "tensors: " << imported.numTensors << " imported ("
     << imported.numDynamicTensors << " with dynamic shapes); "
     << current.numTensors << " now (" << current.numDynamicTensors
     << " dynamic)\n";
  os << "symbolic dims: " << imported.dims.size() << "\n";
  for (auto &[name, size] : imported.dims) {
    int64_t bound = ShapedType::kDynamic;
    for (auto &[n, v] : current.dims)
      if (n == name)
        bound = v;
    os << "  " << name << " = ";
    if (ShapedType::isDynamic(bound))
      os << "(unbound)\n";
    else
      os << bound << "\n";
  }
}
