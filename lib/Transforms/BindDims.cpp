//===- BindDims.cpp - Bind the model's named symbolic dims ----------------===//

#include "prism/Transforms/Passes.h"

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

namespace {

/// Evaluates a dim expression as exporters write them ("a+b", "2*seq",
/// "(a + b) / 2") over bound names; nullopt when a name is unbound or the
/// text is not an expression.
class DimExpression {
public:
  DimExpression(StringRef text, const llvm::StringMap<int64_t> &bound)
      : text(text), bound(bound) {}

  std::optional<int64_t> evaluate() {
    auto v = parseSum();
    skipSpace();
    if (!v || pos != text.size())
      return std::nullopt;
    return v;
  }

private:
  void skipSpace() {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  /// `fn(a, b, result)` returns true on overflow: then there is no value.
  template <typename Fn>
  std::optional<int64_t> checked(int64_t a, int64_t b, Fn fn) {
    int64_t r;
    if (fn(a, b, r)) {
      overflowed = true;
      return std::nullopt;
    }
    return r;
  }

  std::optional<int64_t> parseSum() {
    auto lhs = parseProduct();
    while (lhs) {
      if (consume('+')) {
        auto rhs = parseProduct();
        lhs = rhs ? checked(*lhs, *rhs, llvm::AddOverflow<int64_t>)
                  : std::nullopt;
      } else if (consume('-')) {
        auto rhs = parseProduct();
        lhs = rhs ? checked(*lhs, *rhs, llvm::SubOverflow<int64_t>)
                  : std::nullopt;
      } else {
        break;
      }
    }
    return lhs;
  }
  std::optional<int64_t> parseProduct() {
    auto lhs = parseAtom();
    while (lhs) {
      if (consume('*')) {
        auto rhs = parseAtom();
        lhs = rhs ? checked(*lhs, *rhs, llvm::MulOverflow<int64_t>)
                  : std::nullopt;
      } else if (consume('/')) {
        auto rhs = parseAtom();
        lhs = rhs && *rhs != 0 ? std::optional<int64_t>(*lhs / *rhs)
                               : std::nullopt;
      } else {
        break;
      }
    }
    return lhs;
  }
  std::optional<int64_t> parseAtom() {
    if (consume('(')) {
      auto v = parseSum();
      return v && consume(')') ? v : std::nullopt;
    }
    skipSpace();
    size_t start = pos;
    while (pos < text.size() &&
           (llvm::isAlnum(text[pos]) || text[pos] == '_' || text[pos] == '.'))
      ++pos;
    StringRef token = text.slice(start, pos);
    if (token.empty())
      return std::nullopt;
    int64_t value;
    if (llvm::isDigit(token[0]))
      return token.getAsInteger(10, value) ? std::nullopt
                                           : std::optional<int64_t>(value);
    auto it = bound.find(token);
    return it == bound.end() ? std::nullopt
                             : std::optional<int64_t>(it->second);
  }

  StringRef text;
  const llvm::StringMap<int64_t> &bound;
  size_t pos = 0;

public:
  /// Whether evaluation failed because int64 overflowed.
  bool overflowed = false;
};

struct OnnxBindDims : public prism::impl::OnnxBindDimsBase<OnnxBindDims> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<int64_t> bound;
    for (const std::string &entry : dims) {
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
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
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
            DimExpression expr(name, bound);
            value = expr.evaluate();
            if (expr.overflowed || (value && *value < 0)) {
              func.emitError("dim '")
                  << name << "' of input #" << i << " evaluates to "
                  << (expr.overflowed ? std::string("a value beyond int64")
                                      : std::to_string(*value))
                  << " with the given bindings";
              return signalPassFailure();
            }
          }
          if (value)
            shape[d] = *value;
        }
        // Bound dims must keep the element count representable.
        int64_t product = 1;
        for (int64_t d : shape) {
          if (ShapedType::isDynamic(d) || d == 0)
            continue;
          if (product > std::numeric_limits<int64_t>::max() / d) {
            func.emitError("binding makes the dims of input #")
                << i << " overflow int64";
            return signalPassFailure();
          }
          product *= d;
        }
        argTypes[i] = RankedTensorType::get(shape, type.getElementType());
        func.getArgument(i).setType(argTypes[i]);
      }
      func.setType(FunctionType::get(&getContext(), argTypes,
                                     func.getResultTypes()));
    }
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
