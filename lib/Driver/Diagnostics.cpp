//===- Diagnostics.cpp - Diagnostics that name the ONNX node --------------===//

#include "prism/Driver/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static void printOne(llvm::raw_ostream &os, Diagnostic &diag,
                     bool isNote = false) {
  std::string name, file;
  diag.getLocation()->walk([&](Location loc) {
    if (auto n = dyn_cast<NameLoc>(loc); n && name.empty())
      name = n.getName().str();
    else if (auto f = dyn_cast<FileLineColLoc>(loc); f && file.empty())
      file = f.getFilename().str();
    return WalkResult::advance();
  });
  if (isNote)
    os << "  ";
  else if (!file.empty())
    os << file << ": ";
  if (!name.empty())
    os << "node '" << name << "': ";
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error: os << "error: "; break;
  case DiagnosticSeverity::Warning: os << "warning: "; break;
  case DiagnosticSeverity::Note: os << "note: "; break;
  case DiagnosticSeverity::Remark: os << "remark: "; break;
  }
  os << diag.str() << "\n";
}

void prism::installOnnxDiagnosticHandler(MLIRContext &ctx) {
  ctx.getDiagEngine().registerHandler([](Diagnostic &diag) {
    printOne(llvm::errs(), diag);
    for (Diagnostic &note : diag.getNotes())
      printOne(llvm::errs(), note, /*isNote=*/true);
    return success();
  });
}
