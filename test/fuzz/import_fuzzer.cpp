//===- import_fuzzer.cpp - libFuzzer target for the ONNX importer ---------===//
//
// Feeds arbitrary bytes to the importer as a binary ModelProto. Any crash,
// sanitizer report or hang is a bug: bad input must end in a diagnostic.
// Built with clang (-DPRISM_BUILD_FUZZERS=ON); run by
// benchmarks/fuzz_importer.sh.
//
//===----------------------------------------------------------------------===//

#include "prism/Import/OnnxImporter.h"
#include "prism/RegisterAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::DialectRegistry registry;
  prism::registerAllDialects(registry);
  mlir::MLIRContext ctx(registry, mlir::MLIRContext::Threading::DISABLED);
  // Diagnostics are the expected outcome; keep the output quiet.
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  (void)prism::importOnnxBuffer(&ctx, bytes, "fuzz/input.onnx");
  return 0;
}
