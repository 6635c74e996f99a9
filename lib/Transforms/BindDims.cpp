//===- BindDims.cpp - Bind the model's named symbolic dims ----------------===//

#include "prism/Transforms/Passes.h"

#include "prism/Transforms/DimExpression.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

namespace prism {
#define GEN_PASS_DEF_ONNXBINDDIMS
#include "prism/Transforms/Passes.h.inc"
} // namespace prism

using namespace mlir;

LogicalResult prism::bindArgumentDims(func::FuncOp func,
                                      const llvm::StringMap<int64_t> &bound,
                                      llvm::StringSet<> &modelDims,
                                      llvm::StringSet<> &used) {
  SmallVector<Type> argTypes(func.getArgumentTypes());
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto names = func.getArgAttrOfType<ArrayAttr>(i, "onnx.dim_names");
    auto type = dyn_cast<RankedTensorType>(argTypes[i]);
    if (!names || !type || names.size() != (size_t)type.getRank())
      continue;
    SmallVector<int64_t> shape(type.getShape());
    for (auto [d, nameAttr] : llvm::enumerate(names)) {
      StringRef name = cast<StringAttr>(nameAttr).getValue();
      if (name.empty() || !type.isDynamicDim(d))
        continue;
      modelDims.insert(name);
      std::optional<int64_t> value;
      if (auto it = bound.find(name); it != bound.end()) {
        value = it->second;
        used.insert(name);
      } else {
        prism::DimExpression expr(name, bound);
        value = expr.evaluate();
        if (expr.overflowed || (value && *value < 0))
          return func.emitError("dim '")
                 << name << "' of input #" << i << " evaluates to "
                 << (expr.overflowed ? std::string("a value beyond int64")
                                     : std::to_string(*value))
                 << " with the given bindings";
      }
      if (value)
        shape[d] = *value;
    }
    // Bound dims must keep the element count representable.
    int64_t product = 1;
    for (int64_t d : shape) {
      if (ShapedType::isDynamic(d) || d == 0)
        continue;
      if (product > std::numeric_limits<int64_t>::max() / d)
        return func.emitError("binding makes the dims of input #")
               << i << " overflow int64";
      product *= d;
    }
    argTypes[i] = RankedTensorType::get(shape, type.getElementType());
    func.getArgument(i).setType(argTypes[i]);
  }
  func.setType(FunctionType::get(func.getContext(), argTypes,
                                 func.getResultTypes()));
  return success();
}

namespace {

struct OnnxBindDims : public prism::impl::OnnxBindDimsBase<OnnxBindDims> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<int64_t> bound;
    for (const std::string &entry : dims) {
      // An empty entry (--bind "" from a script with no dims) binds nothing.
      if (StringRef(entry).trim().empty())
        continue;
      auto [name, value] = StringRef(entry).rsplit('=');
      int64_t v;
      if (name.empty() || value.trim().getAsInteger(10, v) || v < 0) {
        module.emitError("bad dim binding '")
            << entry << "': expected name=value with a value >= 0";
        return signalPassFailure();
      }
      bound[name.trim()] = v;
    }

    llvm::StringSet<> modelDims;
    llvm::StringSet<> used;
    SmallVector<NamedAttribute> record;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() &&
          failed(prism::bindArgumentDims(func, bound, modelDims, used)))
        return signalPassFailure();
    for (auto &entry : bound) {
      if (!modelDims.contains(entry.getKey())) {
        std::vector<std::string> names;
        for (auto &n : modelDims)
          names.push_back(n.getKey().str());
        llvm::sort(names);
        module.emitError("dim '")
            << entry.getKey() << "' is not a symbolic dim of this model (its "
            << "dims: " << (names.empty() ? "none" : llvm::join(names, ", "))
            << ")";
        return signalPassFailure();
      }
    }
    Builder b(&getContext());
    for (auto &entry : bound)
      record.push_back(b.getNamedAttr(entry.getKey(),
                                      b.getI64IntegerAttr(entry.getValue())));
    llvm::sort(record, [](NamedAttribute a, NamedAttribute b) {
      return a.getName().getValue() < b.getName().getValue();
    });
    module->setAttr("onnx.bound_dims", b.getDictionaryAttr(record));
  }
};

} // namespace
