//===- Debug.cpp - Prism's --prism-debug-only -----------------------------===//

#include "prism/Support/Debug.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"

namespace {
// A command-line option, as LLVM's own -debug-only is.
llvm::cl::list<std::string> debugOnly(
    "prism-debug-only",
    llvm::cl::desc("Print the reasoning of these passes (comma-separated "
                   "debug types, e.g. xfmr-raise)"),
    llvm::cl::CommaSeparated, llvm::cl::value_desc("type,..."));
} // namespace

bool prism::isDebugEnabled(llvm::StringRef type) {
  return llvm::is_contained(debugOnly, type);
}

llvm::raw_ostream &prism::dbgs(llvm::StringRef type) {
  if (!isDebugEnabled(type))
    return llvm::nulls();
  return llvm::errs() << "[" << type << "] ";
}
