//===- ExpandMath.cpp - The gpu-expand-math pass --------------------------===//
//
// The NVVM lowering turns math ops into calls of CUDA's libdevice
// (__nv_expf, __nv_tanhf, ...), which the PTX then names as externs that
// no driver resolves: libdevice ships with the CUDA toolkit, which Prism
// does not need. Kernels get the instructions the PTX ISA has instead:
// square root, fma, abs, copysign, rounding and exp2 as inline PTX
// (sqrt.rn.f32, fma.rn.f32, ...), and exp, tanh, erf, log and the rest as
// upstream's polynomial approximations built from those. A math op left over is an
// error naming it, not an unresolved call.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_GPUEXPANDMATH
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

/// An f32 math op as the PTX instruction of the same meaning ($0 the
/// result, $1... the operands). Inline PTX, because the NVVM lowering
/// sends the LLVM intrinsics of these ops to libdevice as well.
template <typename MathOp>
struct ToPtx : OpRewritePattern<MathOp> {
  ToPtx(MLIRContext *ctx, StringRef ptx) : OpRewritePattern<MathOp>(ctx, 2), ptx(ptx) {}
  LogicalResult matchAndRewrite(MathOp op, PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    auto ptxOp = NVVM::InlinePtxOp::create(rewriter, op.getLoc(), op->getResultTypes(),
                                           op->getOperands(), ValueRange(), ptx, Value());
    rewriter.replaceOp(op, ptxOp->getResults());
    return success();
  }
  std::string ptx;
};

/// rsqrt(x) = 1 / sqrt(x), for the sqrt above.
struct RsqrtToSqrt : OpRewritePattern<math::RsqrtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::RsqrtOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value sqrt = math::SqrtOp::create(rewriter, loc, op.getOperand());
    Value one = arith::ConstantOp::create(rewriter, loc, rewriter.getOneAttr(op.getType()));
    rewriter.replaceOpWithNewOp<arith::DivFOp>(op, one, sqrt);
    return success();
  }
};

struct GpuExpandMathPass : prism::impl::GpuExpandMathBase<GpuExpandMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    MLIRContext *ctx = &getContext();
    patterns.add<ToPtx<math::SqrtOp>>(ctx, "sqrt.rn.f32 $0, $1;");
    patterns.add<ToPtx<math::FmaOp>>(ctx, "fma.rn.f32 $0, $1, $2, $3;");
    patterns.add<ToPtx<math::AbsFOp>>(ctx, "abs.f32 $0, $1;");
    // PTX's copysign takes the sign from its first operand.
    patterns.add<ToPtx<math::CopySignOp>>(ctx, "copysign.f32 $0, $2, $1;");
    patterns.add<ToPtx<math::FloorOp>>(ctx, "cvt.rmi.f32.f32 $0, $1;");
    patterns.add<ToPtx<math::CeilOp>>(ctx, "cvt.rpi.f32.f32 $0, $1;");
    patterns.add<ToPtx<math::RoundEvenOp>>(ctx, "cvt.rni.f32.f32 $0, $1;");
    patterns.add<ToPtx<math::Exp2Op>>(ctx, "ex2.approx.f32 $0, $1;");
    patterns.add<RsqrtToSqrt>(ctx, /*benefit=*/2);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult left = getOperation()->walk([](Operation *op) {
      if (!isa<math::MathDialect>(op->getDialect()))
        return WalkResult::advance();
      op->emitError() << "gpu-expand-math: no lowering of '" << op->getName()
                      << "' for kernels without CUDA's libdevice";
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
