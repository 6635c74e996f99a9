//===- OnnxImporter.h - ONNX model -> onnx dialect --------------*- C++ -*-===//

#ifndef PRISM_IMPORT_ONNXIMPORTER_H
#define PRISM_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace prism {

struct OnnxImportOptions {
  /// Read the file as ONNX's text syntax (onnx/defs/parser.h) rather than a
  /// binary ModelProto. `importOnnxFile` also picks it for `.onnxtxt` files.
  bool textSyntax = false;
  /// Tensors with at most this many elements become `dense<>` attributes
  /// (shape arithmetic stays readable and foldable); larger ones become
  /// `dense_resource` blobs.
  int64_t maxInlineElements = 64;
  /// A graph that is one com.microsoft BeamSearch, GreedySearch or Sampling
  /// node (ONNX Runtime's generation loop around a decoder) is imported as
  /// its decoder subgraph, with a warning that the loop itself is not
  /// compiled (prismc's choice; prism-run runs models as they are and
  /// refuses the loop). A loop around an encoder and a decoder is refused,
  /// naming why.
  bool generationDecoder = false;
};

/// Imports an ONNX model file into a module holding one `func.func
/// @main_graph`. Errors are emitted as diagnostics on `ctx` (naming the node
/// or file position) and yield a null module.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext *ctx, llvm::StringRef path,
               const OnnxImportOptions &options = {});

/// Imports a model held in memory; `path` names it in diagnostics and its
/// directory anchors external data.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(mlir::MLIRContext *ctx, llvm::StringRef bytes,
                 llvm::StringRef path, const OnnxImportOptions &options = {});

/// Registers `--import-onnx` with mlir-translate style tools.
void registerOnnxImportTranslation();

} // namespace prism

#endif // PRISM_IMPORT_ONNXIMPORTER_H
