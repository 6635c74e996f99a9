//===- CopyToLinalg.cpp - The gpu-copy-to-linalg pass ---------------------===//

#include "prism/Target/Gpu/Passes.h"

namespace prism {
#define GEN_PASS_DEF_GPUCOPYTOLINALG
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

struct GpuCopyToLinalgPass : prism::impl::GpuCopyToLinalgBase<GpuCopyToLinalgPass> {
  void runOnOperation() override {
    getOperation().walk([](memref::CopyOp copy) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    });
  }
};

} // namespace
