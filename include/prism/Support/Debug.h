//===- Debug.h - Prism's --prism-debug-only ---------------------*- C++ -*-===//
//
// Debian's LLVM is a release build: -debug-only does not exist and LDBG()
// compiles to nothing. Passes print their reasoning (why a pattern did not
// match) to prism::dbgs(type), which is llvm::errs() when the tool was given
// --prism-debug-only=type and a null stream otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_SUPPORT_DEBUG_H
#define PRISM_SUPPORT_DEBUG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

namespace prism {

/// Whether --prism-debug-only names `type`.
bool isDebugEnabled(llvm::StringRef type);

/// errs() prefixed with "[type] " when `type` is enabled, else nulls().
llvm::raw_ostream &dbgs(llvm::StringRef type);

} // namespace prism

#endif // PRISM_SUPPORT_DEBUG_H
