//===- DimExpression.h - Exporters' symbolic dim expressions ----*- C++ -*-===//

#ifndef PRISM_TRANSFORMS_DIMEXPRESSION_H
#define PRISM_TRANSFORMS_DIMEXPRESSION_H

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MathExtras.h"

#include <cstdint>
#include <optional>

namespace prism {

/// Evaluates a dim expression as exporters write them ("a+b", "2*seq",
/// "(a + b) / 2") over bound names; nullopt when a name is unbound or the
/// text is not an expression.
class DimExpression {
public:
  DimExpression(llvm::StringRef text, const llvm::StringMap<int64_t> &bound)
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
    llvm::StringRef token = text.slice(start, pos);
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

  llvm::StringRef text;
  const llvm::StringMap<int64_t> &bound;
  size_t pos = 0;

public:
  /// Whether evaluation failed because int64 overflowed.
  bool overflowed = false;
};

} // namespace prism

#endif // PRISM_TRANSFORMS_DIMEXPRESSION_H
