//===- EmitPtx.cpp - The PTX of a lowered module's gpu.binary ops ----------===//

#include "prism/Target/Gpu/LaunchPlan.h"
#include "prism/Target/Gpu/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Tools/mlir-translate/Translation.h"

using namespace mlir;

void prism::registerGpuTranslations(std::function<void(DialectRegistry &)> dialects) {
  prism::gpu::registerLaunchPlanTranslation(dialects);
  static TranslateFromMLIRRegistration ptx(
      "gpu-to-ptx",
      "The PTX of every gpu.binary (after prism-lower-gpu), each after a "
      "comment naming it and its target",
      [](Operation *op, raw_ostream &os) -> LogicalResult {
        int64_t objects = 0;
        op->walk([&](mlir::gpu::BinaryOp binary) {
          for (Attribute a : binary.getObjects()) {
            auto object = cast<mlir::gpu::ObjectAttr>(a);
            if (object.getFormat() != mlir::gpu::CompilationTarget::Assembly)
              continue;
            os << "// gpu.binary @" << binary.getSymName() << " for "
               << object.getTarget() << "\n"
               << object.getObject().getValue() << "\n";
            ++objects;
          }
        });
        if (!objects)
          return op->emitError("no gpu.binary holds PTX (run prism-lower-gpu first)");
        return success();
      },
      [dialects](DialectRegistry &registry) {
        // What a lowered module holds: upstream dialects, and Prism's in
        // one not lowered yet.
        mlir::registerAllDialects(registry);
        dialects(registry);
      });
}
