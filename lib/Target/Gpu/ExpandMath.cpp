//===- ExpandMath.cpp - The gpu-expand-math pass --------------------------===//
//
// The NVVM lowering turns math ops into calls of CUDA's libdevice
// (__nv_expf, __nv_tanhf, ...), which the PTX then names as externs that
// no driver resolves: libdevice ships with the CUDA toolkit, which Prism
// does not need. Kernels get the instructions the PTX ISA has instead:
// square root, rounding and exp2 as inline PTX (sqrt.rn.f32, cvt.rmi,
// ex2.approx), fma as LLVM's intrinsic, abs and copysign as sign-bit
// arithmetic, and exp, tanh, erf, log and the rest as upstream's
// polynomial approximations built from those. A math op left over is an
// error naming it, not an unresolved call.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Matchers.h"
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
    // Inline PTX takes a constant as an immediate ('n'), which f32 cannot
    // be; constants fold instead.
    if (llvm::any_of(op->getOperands(), [](Value v) { return matchPattern(v, m_Constant()); }))
      return rewriter.notifyMatchFailure(op, "constant operand");
    auto ptxOp = NVVM::InlinePtxOp::create(rewriter, op.getLoc(), op->getResultTypes(),
                                           op->getOperands(), ValueRange(), ptx, Value());
    rewriter.replaceOp(op, ptxOp->getResults());
    return success();
  }
  std::string ptx;
};

/// abs and copysign on the sign bit (f32 as i32).
template <typename MathOp>
struct SignBit : OpRewritePattern<MathOp> {
  using OpRewritePattern<MathOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(MathOp op, PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type();
    auto bits = [&](Value v) { return arith::BitcastOp::create(rewriter, loc, i32, v); };
    auto mask = [&](uint32_t m) {
      return arith::ConstantIntOp::create(rewriter, loc, i32, int64_t(m));
    };
    Value magnitude = arith::AndIOp::create(rewriter, loc, bits(op->getOperand(0)),
                                            mask(0x7fffffffu));
    Value result = magnitude;
    if constexpr (std::is_same_v<MathOp, math::CopySignOp>)
      result = arith::OrIOp::create(
          rewriter, loc, magnitude,
          arith::AndIOp::create(rewriter, loc, bits(op->getOperand(1)), mask(0x80000000u)));
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, op.getType(), result);
    return success();
  }
};

/// fma as LLVM's intrinsic (fma.rn.f32), which the NVVM lowering keeps.
struct FmaToIntrinsic : OpRewritePattern<math::FmaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FmaOp op, PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<LLVM::FMAOp>(op, op.getA(), op.getB(), op.getC());
    return success();
  }
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
    patterns.add<FmaToIntrinsic, SignBit<math::AbsFOp>, SignBit<math::CopySignOp>>(
        ctx, /*benefit=*/2);
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
