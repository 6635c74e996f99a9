//===- OnnxToLinalg.cpp - onnx -> linalg patterns -------------------------===//
//
// Elementwise operators with ONNX's (NumPy's) broadcasting become one
// linalg.generic each; MatMul becomes linalg.matmul / batch_matmul; constants
// become arith.constant. All on statically shaped tensors.
//
//===----------------------------------------------------------------------===//

#include "prism/Conversion/OnnxToLinalg/OnnxToLinalg.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace prism::onnx;

namespace {

RankedTensorType staticType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() ? t : RankedTensorType();
}

/// The scalar computation of one elementwise op on `args` (already of the
/// result's element type), or null when Prism does not lower it yet.
Value buildScalar(OpBuilder &b, Location loc, Operation *op, ValueRange args) {
  Type t = args[0].getType();
  bool isFloat = isa<FloatType>(t);
  bool isUnsigned = t.isUnsignedInteger();
  Value x = args[0];
  auto zero = [&] {
    return arith::ConstantOp::create(b, loc, t, b.getZeroAttr(t)).getResult();
  };
  auto one = [&] {
    return arith::ConstantOp::create(b, loc, t, b.getOneAttr(t)).getResult();
  };
  if (isFloat) {
    if (isa<ONNXAddOp>(op)) return arith::AddFOp::create(b, loc, x, args[1]);
    if (isa<ONNXSubOp>(op)) return arith::SubFOp::create(b, loc, x, args[1]);
    if (isa<ONNXMulOp>(op)) return arith::MulFOp::create(b, loc, x, args[1]);
    if (isa<ONNXDivOp>(op)) return arith::DivFOp::create(b, loc, x, args[1]);
    if (isa<ONNXPowOp>(op)) return math::PowFOp::create(b, loc, x, args[1]);
    // ONNX's Max/Min propagate NaN, as maximumf/minimumf do.
    if (isa<ONNXMaxOp>(op)) return arith::MaximumFOp::create(b, loc, x, args[1]);
    if (isa<ONNXMinOp>(op)) return arith::MinimumFOp::create(b, loc, x, args[1]);
    if (isa<ONNXNegOp>(op)) return arith::NegFOp::create(b, loc, x);
    if (isa<ONNXAbsOp>(op)) return math::AbsFOp::create(b, loc, x);
    if (isa<ONNXExpOp>(op)) return math::ExpOp::create(b, loc, x);
    if (isa<ONNXLogOp>(op)) return math::LogOp::create(b, loc, x);
    if (isa<ONNXSqrtOp>(op)) return math::SqrtOp::create(b, loc, x);
    if (isa<ONNXTanhOp>(op)) return math::TanhOp::create(b, loc, x);
    if (isa<ONNXErfOp>(op)) return math::ErfOp::create(b, loc, x);
    if (isa<ONNXSinOp>(op)) return math::SinOp::create(b, loc, x);
    if (isa<ONNXCosOp>(op)) return math::CosOp::create(b, loc, x);
    if (isa<ONNXFloorOp>(op)) return math::FloorOp::create(b, loc, x);
    if (isa<ONNXCeilOp>(op)) return math::CeilOp::create(b, loc, x);
    if (isa<ONNXReciprocalOp>(op))
      return arith::DivFOp::create(b, loc, one(), x);
    if (isa<ONNXReluOp>(op))
      return arith::MaximumFOp::create(b, loc, x, zero());
    if (isa<ONNXSigmoidOp>(op)) {
      Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
      return arith::DivFOp::create(b, loc, one(),
                                   arith::AddFOp::create(b, loc, one(), e));
    }
    return nullptr;
  }
  if (!isa<IntegerType>(t) || t.isInteger(1))
    return nullptr;
  if (isa<ONNXAddOp>(op)) return arith::AddIOp::create(b, loc, x, args[1]);
  if (isa<ONNXSubOp>(op)) return arith::SubIOp::create(b, loc, x, args[1]);
  if (isa<ONNXMulOp>(op)) return arith::MulIOp::create(b, loc, x, args[1]);
  // Integer division truncates toward zero, as in ONNX Runtime.
  if (isa<ONNXDivOp>(op))
    return isUnsigned ? Value(arith::DivUIOp::create(b, loc, x, args[1]))
                      : Value(arith::DivSIOp::create(b, loc, x, args[1]));
  if (isa<ONNXMaxOp>(op))
    return isUnsigned ? Value(arith::MaxUIOp::create(b, loc, x, args[1]))
                      : Value(arith::MaxSIOp::create(b, loc, x, args[1]));
  if (isa<ONNXMinOp>(op))
    return isUnsigned ? Value(arith::MinUIOp::create(b, loc, x, args[1]))
                      : Value(arith::MinSIOp::create(b, loc, x, args[1]));
  if (isa<ONNXNegOp>(op)) return arith::SubIOp::create(b, loc, zero(), x);
  if (isa<ONNXAbsOp>(op) && !isUnsigned) return math::AbsIOp::create(b, loc, x);
  if (isa<ONNXReluOp>(op) && !isUnsigned)
    return arith::MaxSIOp::create(b, loc, x, zero());
  return nullptr;
}

/// Broadcasting elementwise op -> linalg.generic.
struct ElementwiseToGeneric : public RewritePattern {
  ElementwiseToGeneric(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<ONNXAddOp, ONNXSubOp, ONNXMulOp, ONNXDivOp, ONNXPowOp, ONNXMaxOp,
             ONNXMinOp, ONNXNegOp, ONNXAbsOp, ONNXExpOp, ONNXLogOp, ONNXSqrtOp,
             ONNXTanhOp, ONNXErfOp, ONNXSinOp, ONNXCosOp, ONNXFloorOp,
             ONNXCeilOp, ONNXReciprocalOp, ONNXReluOp, ONNXSigmoidOp>(op))
      return failure();
    RankedTensorType resultType = staticType(op->getResult(0));
    if (!resultType || op->getNumOperands() == 0 ||
        (isa<ONNXMaxOp, ONNXMinOp>(op) && op->getNumOperands() != 2))
      return failure();
    SmallVector<Value> inputs(op->getOperands());
    for (Value v : inputs) {
      auto t = staticType(v);
      if (!t || t.getElementType() != resultType.getElementType() ||
          t.getRank() > resultType.getRank())
        return failure();
    }
    // Each input's map sends the output's (trailing) dims to its own, with
    // size-1 dims broadcast (constant 0).
    int64_t rank = resultType.getRank();
    SmallVector<AffineMap> maps;
    for (Value v : inputs) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<AffineExpr> exprs;
      for (int64_t k = 0; k < t.getRank(); ++k) {
        int64_t d = rank - t.getRank() + k;
        exprs.push_back(t.getDimSize(k) == 1 && resultType.getDimSize(d) != 1
                            ? rewriter.getAffineConstantExpr(0)
                            : rewriter.getAffineDimExpr(d));
      }
      maps.push_back(AffineMap::get(rank, 0, exprs, rewriter.getContext()));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    Location loc = op->getLoc();
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    // Check the scalar body first so that an unsupported combination leaves
    // the op untouched (and reported by the pass).
    bool supported = true;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value r = buildScalar(b, l, op, args.drop_back());
          supported = r != nullptr;
          linalg::YieldOp::create(b, l, r ? r : args.back());
        });
    if (!supported) {
      rewriter.eraseOp(generic);
      rewriter.eraseOp(init.getDefiningOp());
      return failure();
    }
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// MatMul of 2-D operands, or 3-D ones with the same batch.
struct MatMulToLinalg : public OpRewritePattern<ONNXMatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto a = staticType(op.getA()), b = staticType(op.getB());
    auto result = staticType(op.getY());
    if (!a || !b || !result || a.getRank() != b.getRank() ||
        (a.getRank() != 2 && a.getRank() != 3) ||
        (a.getRank() == 3 && a.getDimSize(0) != b.getDimSize(0)))
      return failure();
    Location loc = op.getLoc();
    Type elem = result.getElementType();
    Value zero = arith::ConstantOp::create(rewriter, loc, elem,
                                           rewriter.getZeroAttr(elem));
    Value init = tensor::EmptyOp::create(rewriter, loc, result.getShape(), elem);
    Value acc =
        linalg::FillOp::create(rewriter, loc, ValueRange{zero}, ValueRange{init})
            .getResult(0);
    Operation *mm;
    if (a.getRank() == 2)
      mm = linalg::MatmulOp::create(rewriter, loc, TypeRange{result},
                                    ValueRange{op.getA(), op.getB()},
                                    ValueRange{acc});
    else
      mm = linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{result},
                                         ValueRange{op.getA(), op.getB()},
                                         ValueRange{acc});
    rewriter.replaceOp(op, mm->getResults());
    return success();
  }
};

/// Constants held in the IR (dense<> or dense_resource blobs).
struct ConstantToArith : public OpRewritePattern<ONNXConstantOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXConstantOp op,
                                PatternRewriter &rewriter) const override {
    auto value = dyn_cast_or_null<ElementsAttr>(op.getValueAttr());
    if (!value || !staticType(op.getOutput()) ||
        isa<StringType>(value.getElementType()))
      return failure();
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, cast<TypedAttr>(value));
    return success();
  }
};

struct IdentityToOperand : public OpRewritePattern<ONNXIdentityOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXIdentityOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInput().getType() != op.getType())
      return failure();
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

/// Ops that keep the data and change the static shape.
struct ReshapeLike : public RewritePattern {
  ReshapeLike(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<ONNXReshapeOp, ONNXFlattenOp, ONNXSqueezeOp, ONNXUnsqueezeOp>(op))
      return failure();
    auto input = staticType(op->getOperand(0));
    auto result = staticType(op->getResult(0));
    if (!input || !result)
      return failure();
    Location loc = op->getLoc();
    auto shapeType =
        RankedTensorType::get({result.getRank()}, rewriter.getI64Type());
    Value shape = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(shapeType, result.getShape()));
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, result,
                                                   op->getOperand(0), shape);
    return success();
  }
};

struct TransposeToLinalg : public OpRewritePattern<ONNXTransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXTransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto input = staticType(op.getData());
    auto result = staticType(op.getTransposed());
    if (!input || !result)
      return failure();
    SmallVector<int64_t> perm;
    if (auto p = op.getPerm())
      for (Attribute a : *p)
        perm.push_back(cast<IntegerAttr>(a).getInt());
    else
      for (int64_t i = input.getRank() - 1; i >= 0; --i)
        perm.push_back(i); // ONNX's default reverses the dims
    Value init = tensor::EmptyOp::create(rewriter, op.getLoc(),
                                         result.getShape(),
                                         result.getElementType());
    auto t = linalg::TransposeOp::create(rewriter, op.getLoc(), op.getData(),
                                         init, perm);
    rewriter.replaceOp(op, t->getResults());
    return success();
  }
};

/// Softmax and LogSoftmax along one axis: max, exp(x - max), sum, normalise;
/// four linalg.generic ops.
struct SoftmaxToLinalg : public RewritePattern {
  SoftmaxToLinalg(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<ONNXSoftmaxOp, ONNXLogSoftmaxOp>(op))
      return failure();
    bool isLog = isa<ONNXLogSoftmaxOp>(op);
    auto type = staticType(op->getOperand(0));
    if (!type || !isa<FloatType>(type.getElementType()) || type.getRank() == 0)
      return failure();
    int64_t rank = type.getRank();
    int64_t axis = cast<IntegerAttr>(op->getAttr("axis")).getInt();
    axis = axis < 0 ? axis + rank : axis;
    Location loc = op->getLoc();
    Type elem = type.getElementType();
    Value x = op->getOperand(0);

    // Maps: the full iteration space, and the one without `axis`.
    SmallVector<AffineExpr> reducedExprs;
    SmallVector<int64_t> reducedShape;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis) {
        reducedExprs.push_back(rewriter.getAffineDimExpr(d));
        reducedShape.push_back(type.getDimSize(d));
      }
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap reduced =
        AffineMap::get(rank, 0, reducedExprs, rewriter.getContext());
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    SmallVector<utils::IteratorType> reducing = parallel;
    reducing[axis] = utils::IteratorType::reduction;
    auto reducedType = RankedTensorType::get(reducedShape, elem);

    auto filled = [&](double value) {
      Value init = tensor::EmptyOp::create(rewriter, loc, reducedShape, elem);
      Value c = arith::ConstantOp::create(rewriter, loc, elem,
                                          rewriter.getFloatAttr(elem, value));
      return linalg::FillOp::create(rewriter, loc, ValueRange{c},
                                    ValueRange{init})
          .getResult(0);
    };
    Value max =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{reducedType}, ValueRange{x},
            ValueRange{filled(-INFINITY)}, ArrayRef<AffineMap>{full, reduced},
            reducing,
            [&](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  b, l, Value(arith::MaximumFOp::create(b, l, args[0], args[1])));
            })
            .getResult(0);
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(), elem);
    // exp(x - max), or x - max for LogSoftmax (exp taken in the sum).
    Value shifted =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{x, max},
            ValueRange{init}, ArrayRef<AffineMap>{full, reduced, full},
            parallel,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value d = arith::SubFOp::create(b, l, args[0], args[1]);
              linalg::YieldOp::create(
                  b, l, isLog ? d : Value(math::ExpOp::create(b, l, d)));
            })
            .getResult(0);
    Value sum =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{reducedType}, ValueRange{shifted},
            ValueRange{filled(0.0)}, ArrayRef<AffineMap>{full, reduced},
            reducing,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value e = isLog ? Value(math::ExpOp::create(b, l, args[0]))
                              : args[0];
              linalg::YieldOp::create(
                  b, l, Value(arith::AddFOp::create(b, l, e, args[1])));
            })
            .getResult(0);
    Value out = tensor::EmptyOp::create(rewriter, loc, type.getShape(), elem);
    auto result = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{shifted, sum},
        ValueRange{out}, ArrayRef<AffineMap>{full, reduced, full}, parallel,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value r = isLog ? Value(arith::SubFOp::create(
                                b, l, args[0], math::LogOp::create(b, l, args[1])))
                          : Value(arith::DivFOp::create(b, l, args[0], args[1]));
          linalg::YieldOp::create(b, l, r);
        });
    rewriter.replaceOp(op, result.getResults());
    return success();
  }
};

} // namespace

void prism::populateOnnxToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseToGeneric, MatMulToLinalg, ConstantToArith,
               IdentityToOperand, ReshapeLike, TransposeToLinalg,
               SoftmaxToLinalg>(patterns.getContext());
}
