//===- RegisterAllTargets.cpp - Every target Prism compiles for -----------===//
//
// A new target adds its one line here (docs/adding-a-target.md).
//
//===----------------------------------------------------------------------===//

#include "prism/Target/TargetBackend.h"

#include "prism/Target/Gpu/Register.h"
#include "prism/Target/Host/Register.h"
#include "prism/Target/Lpu/Register.h"

void prism::target::registerAllTargets() {
  static const bool once = [] {
    prism::gpu::registerGpuTarget();
    prism::host::registerHostTarget();
    prism::lpu::registerLpuTarget();
    return true;
  }();
  (void)once;
}
