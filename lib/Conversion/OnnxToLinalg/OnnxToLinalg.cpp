//===- OnnxToLinalg.cpp - onnx -> linalg patterns -------------------------===//
//
// Elementwise operators with ONNX's (NumPy's) broadcasting become one
// linalg.generic each; MatMul becomes linalg.matmul / batch_matmul; constants
// become arith.constant. All on statically shaped tensors.
//
//===----------------------------------------------------------------------===//

#include "prism/Conversion/OnnxToLinalg/OnnxToLinalg.h"

#include "LoweringUtils.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace prism::onnx;

using namespace prism::lowering;

namespace prism::lowering {


/// arith takes signless integers only: unsigned scalars are cast to the
/// signless type of their width inside linalg bodies, and back (the casts
/// vanish when LLVM's types, which have no sign, replace both).
Type signlessOf(Type t) {
  if (t.isUnsignedInteger())
    return IntegerType::get(t.getContext(), t.getIntOrFloatBitWidth());
  return t;
}

Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  if (v.getType() == to)
    return v;
  return UnrealizedConversionCastOp::create(b, loc, to, v).getResult(0);
}

/// Maps from the result's iteration space to a broadcast operand of type `t`.
AffineMap broadcastMap(RankedTensorType t, RankedTensorType result,
                       OpBuilder &b) {
  int64_t rank = result.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t k = 0; k < t.getRank(); ++k) {
    int64_t d = rank - t.getRank() + k;
    exprs.push_back(t.getDimSize(k) == 1 && result.getDimSize(d) != 1
                        ? b.getAffineConstantExpr(0)
                        : b.getAffineDimExpr(d));
  }
  return AffineMap::get(rank, 0, exprs, b.getContext());
}

/// One linalg.generic over `result`'s shape reading broadcast `inputs`.
Value broadcastGeneric(OpBuilder &b, Location loc, RankedTensorType result,
                       ValueRange inputs,
                       function_ref<Value(OpBuilder &, Location, ValueRange)>
                           body) {
  SmallVector<AffineMap> maps;
  for (Value v : inputs)
    maps.push_back(broadcastMap(cast<RankedTensorType>(v.getType()), result, b));
  maps.push_back(b.getMultiDimIdentityMap(result.getRank()));
  SmallVector<utils::IteratorType> iterators(result.getRank(),
                                             utils::IteratorType::parallel);
  Value init = tensor::EmptyOp::create(b, loc, result.getShape(),
                                       result.getElementType());
  return linalg::GenericOp::create(
             b, loc, TypeRange{result}, inputs, ValueRange{init}, maps,
             iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               SmallVector<Value> signless;
               for (Value a : args.drop_back())
                 signless.push_back(castScalar(nb, l, a, signlessOf(a.getType())));
               Value r = body(nb, l, signless);
               linalg::YieldOp::create(
                   nb, l, castScalar(nb, l, r, result.getElementType()));
             })
      .getResult(0);
}



/// An index scalar `v` (any integer type) into [0, size): negative values
/// count from the end, the rest are clamped (ONNX leaves them undefined).
Value wrapIndex(OpBuilder &b, Location l, Value v, int64_t size) {
  Value i = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                       castScalar(b, l, v, signlessOf(v.getType())));
  Value zero = arith::ConstantIndexOp::create(b, l, 0);
  Value n = arith::ConstantIndexOp::create(b, l, size);
  Value negative = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  i = arith::SelectOp::create(b, l, negative, arith::AddIOp::create(b, l, i, n), i);
  return arith::MaxSIOp::create(
      b, l, zero,
      arith::MinSIOp::create(b, l, i, arith::ConstantIndexOp::create(b, l, size - 1)));
}



} // namespace prism::lowering

namespace {

/// The scalar computation of one elementwise op on `args` (already of the
/// result's element type), or null when Prism does not lower it yet.
Value buildScalar(OpBuilder &b, Location loc, Operation *op, ValueRange args) {
  Type t = args[0].getType();
  bool isFloat = isa<FloatType>(t);
  // The arguments are signless (see broadcastGeneric): the op's operand type
  // says whether they are unsigned.
  bool isUnsigned =
      getElementTypeOrSelf(op->getOperand(0).getType()).isUnsignedInteger();
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
    if (isa<ONNXAcosOp>(op)) return math::AcosOp::create(b, loc, x);
    if (isa<ONNXAsinOp>(op)) return math::AsinOp::create(b, loc, x);
    if (isa<ONNXAtanOp>(op)) return math::AtanOp::create(b, loc, x);
    if (isa<ONNXAcoshOp>(op)) return math::AcoshOp::create(b, loc, x);
    if (isa<ONNXAsinhOp>(op)) return math::AsinhOp::create(b, loc, x);
    if (isa<ONNXAtanhOp>(op)) return math::AtanhOp::create(b, loc, x);
    if (isa<ONNXSinhOp>(op)) return math::SinhOp::create(b, loc, x);
    if (isa<ONNXCoshOp>(op)) return math::CoshOp::create(b, loc, x);
    if (isa<ONNXTanOp>(op)) return math::TanOp::create(b, loc, x);
    // ONNX's Round takes halves to even.
    if (isa<ONNXRoundOp>(op)) return math::RoundEvenOp::create(b, loc, x);
    auto c = [&](double v) {
      return arith::ConstantOp::create(b, loc, t, b.getFloatAttr(t, v)).getResult();
    };
    auto lt = [&](Value p, Value q) {
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, p, q).getResult();
    };
    auto sel = [&](Value cond, Value p, Value q) {
      return arith::SelectOp::create(b, loc, cond, p, q).getResult();
    };
    auto mul = [&](Value p, Value q) { return arith::MulFOp::create(b, loc, p, q).getResult(); };
    auto add = [&](Value p, Value q) { return arith::AddFOp::create(b, loc, p, q).getResult(); };
    auto expm1 = [&](Value p) { return math::ExpM1Op::create(b, loc, p).getResult(); };
    auto clamp01 = [&](Value p) {
      return arith::MaximumFOp::create(b, loc, zero(),
                                       arith::MinimumFOp::create(b, loc, p, one()))
          .getResult();
    };
    if (isa<ONNXSoftplusOp>(op))
      return math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
    if (isa<ONNXSoftsignOp>(op))
      return arith::DivFOp::create(b, loc, x, add(one(), math::AbsFOp::create(b, loc, x)));
    if (isa<ONNXSignOp>(op)) // NaN and 0 stay as they are
      return sel(lt(zero(), x), one(), sel(lt(x, zero()), c(-1.0), x));
    if (auto e = dyn_cast<ONNXEluOp>(op))
      return sel(lt(x, zero()), mul(c(e.getAlpha().convertToDouble()), expm1(x)), x);
    if (auto e = dyn_cast<ONNXLeakyReluOp>(op))
      return sel(lt(x, zero()), mul(c(e.getAlpha().convertToDouble()), x), x);
    if (auto e = dyn_cast<ONNXSeluOp>(op)) {
      Value neg = mul(c(e.getAlpha().convertToDouble()), expm1(x));
      return mul(c(e.getGamma().convertToDouble()), sel(lt(zero(), x), x, neg));
    }
    if (auto e = dyn_cast<ONNXThresholdedReluOp>(op))
      return sel(lt(c(e.getAlpha().convertToDouble()), x), x, zero());
    if (auto e = dyn_cast<ONNXHardSigmoidOp>(op))
      return clamp01(add(mul(c(e.getAlpha().convertToDouble()), x),
                         c(e.getBeta().convertToDouble())));
    if (isa<ONNXHardSwishOp>(op))
      return mul(x, clamp01(add(mul(c(1.0 / 6.0), x), c(0.5))));
    if (auto e = dyn_cast<ONNXCeluOp>(op)) {
      double alpha = e.getAlpha().convertToDouble();
      Value neg = mul(c(alpha), expm1(arith::DivFOp::create(b, loc, x, c(alpha))));
      return add(arith::MaximumFOp::create(b, loc, zero(), x),
                 arith::MinimumFOp::create(b, loc, zero(), neg));
    }
    if (auto m = dyn_cast<ONNXModOp>(op)) // float Mod requires fmod = 1
      return m.getFmod() ? Value(arith::RemFOp::create(b, loc, x, args[1]))
                         : Value();
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
  if (isa<ONNXNegOp>(op)) return arith::SubIOp::create(b, loc, zero(), x);
  if (auto shift = dyn_cast<ONNXBitShiftOp>(op))
    return shift.getDirection() == "LEFT"
               ? Value(arith::ShLIOp::create(b, loc, x, args[1]))
               : Value(arith::ShRUIOp::create(b, loc, x, args[1]));
  if (isa<ONNXSignOp>(op)) {
    using P = arith::CmpIPredicate;
    Value pos = arith::CmpIOp::create(b, loc, isUnsigned ? P::ugt : P::sgt, x, zero());
    Value neg = arith::CmpIOp::create(b, loc, P::slt, x, zero());
    Value minusOne = arith::ConstantOp::create(b, loc, t, b.getIntegerAttr(t, -1));
    Value r = arith::SelectOp::create(b, loc, pos, one(), zero());
    return isUnsigned ? r : Value(arith::SelectOp::create(b, loc, neg, minusOne, r));
  }
  if (auto m = dyn_cast<ONNXModOp>(op)) {
    // fmod = 1 truncates (C's %); fmod = 0 takes the divisor's sign (Python's
    // %): the remainder plus the divisor when their signs differ.
    if (isUnsigned)
      return arith::RemUIOp::create(b, loc, x, args[1]);
    Value r = arith::RemSIOp::create(b, loc, x, args[1]);
    if (m.getFmod())
      return r;
    using P = arith::CmpIPredicate;
    Value nonzero = arith::CmpIOp::create(b, loc, P::ne, r, zero());
    Value differ = arith::XOrIOp::create(
        b, loc, arith::CmpIOp::create(b, loc, P::slt, r, zero()),
        arith::CmpIOp::create(b, loc, P::slt, args[1], zero()));
    Value fix = arith::AndIOp::create(b, loc, nonzero, differ);
    return arith::SelectOp::create(b, loc, fix,
                                   arith::AddIOp::create(b, loc, r, args[1]), r);
  }
  if (isa<ONNXAbsOp>(op) && !isUnsigned) return math::AbsIOp::create(b, loc, x);
  if (isa<ONNXReluOp>(op) && !isUnsigned)
    return arith::MaxSIOp::create(b, loc, x, zero());
  return nullptr;
}

/// Max, Min, Sum and Mean of any number of (signless) scalars.
Value foldVariadic(OpBuilder &b, Location loc, Operation *op, ValueRange args) {
  Type t = args[0].getType();
  bool isFloat = isa<FloatType>(t);
  bool isUnsigned =
      getElementTypeOrSelf(op->getOperand(0).getType()).isUnsignedInteger();
  if (!isFloat && (!isa<IntegerType>(t) || t.isInteger(1)))
    return nullptr;
  if (!isFloat && isa<ONNXMeanOp>(op))
    return nullptr; // Mean is defined for floats only
  Value r = args[0];
  for (Value x : args.drop_front()) {
    if (isa<ONNXMaxOp>(op))
      r = isFloat      ? Value(arith::MaximumFOp::create(b, loc, r, x))
          : isUnsigned ? Value(arith::MaxUIOp::create(b, loc, r, x))
                       : Value(arith::MaxSIOp::create(b, loc, r, x));
    else if (isa<ONNXMinOp>(op))
      r = isFloat      ? Value(arith::MinimumFOp::create(b, loc, r, x))
          : isUnsigned ? Value(arith::MinUIOp::create(b, loc, r, x))
                       : Value(arith::MinSIOp::create(b, loc, r, x));
    else
      r = isFloat ? Value(arith::AddFOp::create(b, loc, r, x))
                  : Value(arith::AddIOp::create(b, loc, r, x));
  }
  if (isa<ONNXMeanOp>(op)) {
    Value n = arith::ConstantOp::create(
        b, loc, t, b.getFloatAttr(t, (double)args.size()));
    r = arith::DivFOp::create(b, loc, r, n);
  }
  return r;
}

/// Broadcasting elementwise op -> linalg.generic.
struct ElementwiseToGeneric : public RewritePattern {
  ElementwiseToGeneric(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<ONNXAddOp, ONNXSubOp, ONNXMulOp, ONNXDivOp, ONNXMaxOp, ONNXMinOp,
             ONNXSumOp, ONNXMeanOp, ONNXNegOp, ONNXAbsOp, ONNXExpOp, ONNXLogOp,
             ONNXSqrtOp, ONNXTanhOp, ONNXErfOp, ONNXSinOp, ONNXCosOp,
             ONNXFloorOp, ONNXCeilOp, ONNXReciprocalOp, ONNXReluOp,
             ONNXSigmoidOp, ONNXAcosOp, ONNXAsinOp, ONNXAtanOp, ONNXAcoshOp,
             ONNXAsinhOp, ONNXAtanhOp, ONNXSinhOp, ONNXCoshOp, ONNXTanOp,
             ONNXRoundOp, ONNXSoftplusOp, ONNXSoftsignOp, ONNXSignOp,
             ONNXEluOp, ONNXLeakyReluOp, ONNXSeluOp, ONNXThresholdedReluOp,
             ONNXHardSigmoidOp, ONNXHardSwishOp, ONNXCeluOp, ONNXModOp,
             ONNXBitShiftOp>(op))
      return failure();
    RankedTensorType resultType = staticType(op->getResult(0));
    if (!resultType || op->getNumOperands() == 0)
      return failure();
    bool variadic = isa<ONNXMaxOp, ONNXMinOp, ONNXSumOp, ONNXMeanOp>(op);
    SmallVector<Value> inputs(op->getOperands());
    for (Value v : inputs) {
      auto t = staticType(v);
      if (!t || t.getElementType() != resultType.getElementType() ||
          t.getRank() > resultType.getRank())
        return failure();
    }
    // Check the scalar body as it is built, so that an unsupported
    // combination leaves the op untouched (and reported by the pass).
    bool supported = true;
    Value result = broadcastGeneric(
        rewriter, op->getLoc(), resultType, inputs,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value r = variadic ? foldVariadic(b, l, op, args)
                             : buildScalar(b, l, op, args);
          supported = r != nullptr;
          return r ? r : args[0];
        });
    auto generic = result.getDefiningOp<linalg::GenericOp>();
    if (!supported) {
      Operation *init = generic.getDpsInits()[0].getDefiningOp();
      rewriter.eraseOp(generic);
      rewriter.eraseOp(init);
      return failure();
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};


/// The 2-D constant `value` (dense or a dense_resource blob) transposed, as
/// a new constant; null if `value` is not such a constant.
static Value transposeConstant(PatternRewriter &rewriter, Location loc,
                               Value value) {
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return Value();
  auto type = cast<RankedTensorType>(attr.getType());
  if (type.getRank() != 2 || !type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0)
    return Value();
  ArrayRef<char> data;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return Value();
    data = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(attr);
             dense && !dense.isSplat()) {
    data = dense.getRawData();
  } else {
    return Value();
  }
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  size_t size = type.getElementTypeBitWidth() / 8;
  if ((int64_t)data.size() != rows * cols * (int64_t)size)
    return Value();
  AsmResourceBlob out = HeapAsmResourceBlob::allocate(data.size(), alignof(double));
  MutableArrayRef<char> dst = out.getMutableData();
  // In blocks, so that both sides stay in cache.
  constexpr int64_t kBlock = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock)
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock)
      for (int64_t r = r0; r < std::min(rows, r0 + kBlock); ++r)
        for (int64_t c = c0; c < std::min(cols, c0 + kBlock); ++c)
          std::memcpy(&dst[(c * rows + r) * size], &data[(r * cols + c) * size],
                      size);
  auto transposedType = type.clone({cols, rows});
  return arith::ConstantOp::create(
      rewriter, loc,
      DenseResourceElementsAttr::get(transposedType, "transposed_weight",
                                     std::move(out)));
}

/// MatMul as the named ops: [..., M, K] x [K, N] as one linalg.matmul over
/// the rows of all batches (the leading dims collapsed), and equal batch
/// dims as one linalg.batch_matmul. Broadcast batch dims are left to
/// MatMulToGeneric.
struct MatMulToLinalg : public OpRewritePattern<ONNXMatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto a = staticType(op.getA()), b = staticType(op.getB());
    auto result = staticType(op.getY());
    if (!a || !b || !result || a.getRank() < 2 || b.getRank() < 2)
      return failure();
    bool rowsOnly = b.getRank() == 2;
    bool sameBatch = a.getRank() == b.getRank() &&
                     a.getShape().drop_back(2) == b.getShape().drop_back(2);
    if (!rowsOnly && !sameBatch)
      return failure();
    Location loc = op.getLoc();
    Type elem = result.getElementType();
    int64_t rank = a.getRank();
    // Reassociation folding the leading dims of a rank-`r` tensor into one,
    // keeping the last `keep`.
    auto collapseLeading = [&](int64_t r, int64_t keep) {
      SmallVector<ReassociationIndices> groups(1);
      for (int64_t d = 0; d < r - keep; ++d)
        groups[0].push_back(d);
      for (int64_t d = r - keep; d < r; ++d) {
        if (groups.back().empty())
          groups.back().push_back(d);
        else
          groups.push_back({d});
      }
      return groups;
    };
    auto collapse = [&](Value v, int64_t keep) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      if (t.getRank() == keep + 1 || (keep == 1 && t.getRank() == 2))
        return v;
      return tensor::CollapseShapeOp::create(rewriter, loc, v,
                                             collapseLeading(t.getRank(), keep));
    };
    Value lhs, rhs = op.getB();
    SmallVector<int64_t> shape;
    if (rowsOnly) {
      lhs = collapse(op.getA(), 1); // [rows, K]
      int64_t rows = cast<RankedTensorType>(lhs.getType()).getDimSize(0);
      shape = {rows, b.getDimSize(1)};
    } else {
      lhs = collapse(op.getA(), 2); // [batch, M, K]
      rhs = collapse(op.getB(), 2);
      auto lt = cast<RankedTensorType>(lhs.getType());
      if (lt.getRank() == 2)
        shape = {lt.getDimSize(0), b.getDimSize(rank - 1)};
      else
        shape = {lt.getDimSize(0), lt.getDimSize(1), b.getDimSize(rank - 1)};
    }
    auto accType = RankedTensorType::get(shape, elem);
    Value zero = arith::ConstantOp::create(rewriter, loc, elem,
                                           rewriter.getZeroAttr(elem));
    Value init = tensor::EmptyOp::create(rewriter, loc, shape, elem);
    Value acc =
        linalg::FillOp::create(rewriter, loc, ValueRange{zero}, ValueRange{init})
            .getResult(0);
    Value mm;
    // A weight used transposed (GPT-2's tied LM head): a constant one is
    // transposed once at compile time, so that the contraction streams it
    // row by row; another is read in place through the indexing map, not
    // copied by a transpose every run.
    auto transposed = rhs.getDefiningOp<ONNXTransposeOp>();
    bool swapsLastTwo = false;
    if (transposed && shape.size() == 2 && rowsOnly) {
      auto perm = transposed.getPerm();
      swapsLastTwo = !perm || (perm->size() == 2 &&
                               cast<IntegerAttr>((*perm)[0]).getInt() == 1);
    }
    if (swapsLastTwo) {
      if (Value folded = transposeConstant(rewriter, loc, transposed.getData())) {
        rhs = folded;
        swapsLastTwo = false;
      }
    }
    if (swapsLastTwo) {
      MLIRContext *ctx = rewriter.getContext();
      AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
                 k = getAffineDimExpr(2, ctx);
      auto maps = rewriter.getAffineMapArrayAttr(
          {AffineMap::get(3, 0, {m, k}, ctx), AffineMap::get(3, 0, {n, k}, ctx),
           AffineMap::get(3, 0, {m, n}, ctx)});
      mm = linalg::MatmulOp::create(
               rewriter, loc, TypeRange{accType},
               ValueRange{lhs, transposed.getData()}, ValueRange{acc},
               {rewriter.getNamedAttr("indexing_maps", maps)})
               ->getResult(0);
    } else if (shape.size() == 2)
      mm = linalg::MatmulOp::create(rewriter, loc, TypeRange{accType},
                                    ValueRange{lhs, rhs}, ValueRange{acc})
               ->getResult(0);
    else
      mm = linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{accType},
                                         ValueRange{lhs, rhs}, ValueRange{acc})
               ->getResult(0);
    if (accType != result) {
      int64_t keep = shape.size() == 2 ? 1 : 2;
      mm = tensor::ExpandShapeOp::create(rewriter, loc, result, mm,
                                         collapseLeading(result.getRank(), keep));
    }
    rewriter.replaceOp(op, mm);
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

/// Comparisons (bool results) and Where.
struct CompareAndSelect : public RewritePattern {
  CompareAndSelect(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<ONNXLessOp, ONNXGreaterOp, ONNXEqualOp, ONNXLessOrEqualOp,
             ONNXGreaterOrEqualOp, ONNXWhereOp, ONNXNotOp, ONNXAndOp,
             ONNXOrOp, ONNXXorOp, ONNXIsNaNOp, ONNXIsInfOp>(op) ||
        !allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op->getResult(0).getType());
    Type elem = cast<RankedTensorType>(op->getOperand(0).getType())
                    .getElementType();
    if (isa<ONNXWhereOp>(op))
      elem = cast<RankedTensorType>(op->getOperand(1).getType())
                 .getElementType();
    bool isFloat = isa<FloatType>(elem);
    if (!isFloat && !isa<IntegerType>(elem))
      return failure();
    bool isUnsigned = elem.isUnsignedInteger();
    auto cmp = [&](OpBuilder &b, Location l, ValueRange a,
                   arith::CmpFPredicate f, arith::CmpIPredicate si,
                   arith::CmpIPredicate ui) -> Value {
      if (isFloat)
        return arith::CmpFOp::create(b, l, f, a[0], a[1]);
      return arith::CmpIOp::create(b, l, isUnsigned ? ui : si, a[0], a[1]);
    };
    using F = arith::CmpFPredicate;
    using I = arith::CmpIPredicate;
    Value r = broadcastGeneric(
        rewriter, op->getLoc(), result, op->getOperands(),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          if (isa<ONNXLessOp>(op)) return cmp(b, l, a, F::OLT, I::slt, I::ult);
          if (isa<ONNXGreaterOp>(op)) return cmp(b, l, a, F::OGT, I::sgt, I::ugt);
          if (isa<ONNXEqualOp>(op)) return cmp(b, l, a, F::OEQ, I::eq, I::eq);
          if (isa<ONNXLessOrEqualOp>(op)) return cmp(b, l, a, F::OLE, I::sle, I::ule);
          if (isa<ONNXGreaterOrEqualOp>(op)) return cmp(b, l, a, F::OGE, I::sge, I::uge);
          if (isa<ONNXNotOp>(op)) {
            Value t = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
            return arith::XOrIOp::create(b, l, a[0], t);
          }
          if (isa<ONNXAndOp>(op)) return arith::AndIOp::create(b, l, a[0], a[1]);
          if (isa<ONNXOrOp>(op)) return arith::OrIOp::create(b, l, a[0], a[1]);
          if (isa<ONNXXorOp>(op)) return arith::XOrIOp::create(b, l, a[0], a[1]);
          if (isa<ONNXIsNaNOp>(op))
            return arith::CmpFOp::create(b, l, F::UNO, a[0], a[0]);
          if (auto inf = dyn_cast<ONNXIsInfOp>(op)) {
            Value r = arith::ConstantOp::create(b, l, b.getBoolAttr(false));
            auto isValue = [&](double v) -> Value {
              Value c = arith::ConstantOp::create(b, l, elem, b.getFloatAttr(elem, v));
              return arith::CmpFOp::create(b, l, F::OEQ, a[0], c);
            };
            if (inf.getDetectPositive())
              r = arith::OrIOp::create(b, l, r, isValue(INFINITY));
            if (inf.getDetectNegative())
              r = arith::OrIOp::create(b, l, r, isValue(-INFINITY));
            return r;
          }
          return arith::SelectOp::create(b, l, a[0], a[1], a[2]);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Cast between numeric types, ONNX's conversions (float to int truncates).
struct CastToArith : public OpRewritePattern<ONNXCastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXCastOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type from = cast<RankedTensorType>(op.getInput().getType()).getElementType();
    Type to = result.getElementType();
    if (!isa<FloatType, IntegerType>(from) || !isa<FloatType, IntegerType>(to))
      return failure();
    Type fromType = from, toType = to;
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), result, op.getInput(),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value x = a[0];
          auto fi = dyn_cast<FloatType>(from), ti = dyn_cast<FloatType>(to);
          if (from == to)
            return x;
          // The body computes on signless integers (see broadcastGeneric).
          Type to = signlessOf(toType), from = signlessOf(fromType);
          if (fi && ti)
            return fi.getWidth() < ti.getWidth()
                       ? Value(arith::ExtFOp::create(b, l, to, x))
                       : Value(arith::TruncFOp::create(b, l, to, x));
          if (to.isInteger(1)) { // nonzero is true
            Value zero = arith::ConstantOp::create(b, l, from, b.getZeroAttr(from));
            return fi ? Value(arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, x, zero))
                      : Value(arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, x, zero));
          }
          bool fromUnsigned = fromType.isUnsignedInteger() || from.isInteger(1);
          if (fi)
            return toType.isUnsignedInteger()
                       ? Value(arith::FPToUIOp::create(b, l, to, x))
                       : Value(arith::FPToSIOp::create(b, l, to, x));
          if (ti)
            return fromUnsigned ? Value(arith::UIToFPOp::create(b, l, to, x))
                                : Value(arith::SIToFPOp::create(b, l, to, x));
          unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
          if (fw == tw)
            return arith::BitcastOp::create(b, l, to, x);
          if (fw > tw)
            return arith::TruncIOp::create(b, l, to, x);
          return fromUnsigned ? Value(arith::ExtUIOp::create(b, l, to, x))
                              : Value(arith::ExtSIOp::create(b, l, to, x));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Expand: broadcast to the result's shape.
struct ExpandToGeneric : public OpRewritePattern<ONNXExpandOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXExpandOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), cast<RankedTensorType>(op.getType()),
        op.getInput(), [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// A 16-bit float MatMul accumulates in f32, as ONNX Runtime's CPU kernels
/// do: a long f16 sum drifts by its ulp at every step (a 768-deep
/// projection of an f16 BERT was off by 18% of its scale). Rewritten as
/// the f32 MatMul of the widened operands, rounded once at the end.
struct MatMulWidenHalf : public OpRewritePattern<ONNXMatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto result = staticType(op.getY());
    if (!result || !(result.getElementType().isF16() ||
                     result.getElementType().isBF16()))
      return failure();
    OnnxBuilder b(rewriter, op.getLoc());
    Type f32 = rewriter.getF32Type();
    Value wide = ONNXMatMulOp::create(rewriter, op.getLoc(), result.clone(f32),
                                      b.castTo(op.getA(), f32),
                                      b.castTo(op.getB(), f32));
    rewriter.replaceOp(op, b.castTo(wide, result.getElementType()));
    return success();
  }
};

/// MatMul of any rank with broadcast batch dims (1-D operands excluded):
/// one generic with the contraction as its last loop.
struct MatMulToGeneric : public OpRewritePattern<ONNXMatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXMatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto a = staticType(op.getA()), b = staticType(op.getB());
    auto result = staticType(op.getY());
    if (!a || !b || !result || a.getRank() < 2 || b.getRank() < 2)
      return failure();
    int64_t rank = result.getRank(); // batch..., m, n
    int64_t loops = rank + 1;        // + k
    MLIRContext *ctx = rewriter.getContext();
    auto operandMap = [&](RankedTensorType t, bool isA) {
      SmallVector<AffineExpr> exprs;
      int64_t batch = t.getRank() - 2;
      for (int64_t k = 0; k < batch; ++k) {
        int64_t d = rank - 2 - batch + k;
        exprs.push_back(t.getDimSize(k) == 1 && result.getDimSize(d) != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(d, ctx));
      }
      AffineExpr m = getAffineDimExpr(rank - 2, ctx);
      AffineExpr n = getAffineDimExpr(rank - 1, ctx);
      AffineExpr kk = getAffineDimExpr(rank, ctx);
      exprs.push_back(isA ? m : kk);
      exprs.push_back(isA ? kk : n);
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> outExprs;
    for (int64_t d = 0; d < rank; ++d)
      outExprs.push_back(getAffineDimExpr(d, ctx));
    SmallVector<AffineMap> maps = {operandMap(a, true), operandMap(b, false),
                                   AffineMap::get(loops, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iterators(loops,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Location loc = op.getLoc();
    Type elem = result.getElementType();
    bool isFloat = isa<FloatType>(elem);
    Value zero = arith::ConstantOp::create(rewriter, loc, elem,
                                           rewriter.getZeroAttr(elem));
    Value init = tensor::EmptyOp::create(rewriter, loc, result.getShape(), elem);
    Value acc = linalg::FillOp::create(rewriter, loc, ValueRange{zero},
                                       ValueRange{init})
                    .getResult(0);
    auto mm = linalg::GenericOp::create(
        rewriter, loc, TypeRange{result}, ValueRange{op.getA(), op.getB()},
        ValueRange{acc}, maps, iterators,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value p = isFloat ? Value(arith::MulFOp::create(nb, l, args[0], args[1]))
                            : Value(arith::MulIOp::create(nb, l, args[0], args[1]));
          Value s = isFloat ? Value(arith::AddFOp::create(nb, l, args[2], p))
                            : Value(arith::AddIOp::create(nb, l, args[2], p));
          linalg::YieldOp::create(nb, l, s);
        });
    rewriter.replaceOp(op, mm.getResults());
    return success();
  }
};

/// Concat: insert each operand into its slice of the result.
struct ConcatToSlices : public OpRewritePattern<ONNXConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXConcatOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    int64_t rank = result.getRank();
    // I64Attr accessors are unsigned: read the axis as int64.
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    Location loc = op.getLoc();
    Value acc = tensor::EmptyOp::create(rewriter, loc, result.getShape(),
                                        result.getElementType());
    int64_t offset = 0;
    for (Value v : op.getInputs()) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
      for (int64_t d : t.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      acc = tensor::InsertSliceOp::create(rewriter, loc, v, acc, offsets, sizes,
                                          strides);
      offset += t.getDimSize(axis);
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

/// Gather: out[i..., j..., l...] = data[i..., idx[j...], l...], with negative
/// indices wrapped and out-of-range ones clamped (ONNX leaves them
/// undefined; clamping keeps the read in bounds).
struct GatherToGeneric : public OpRewritePattern<ONNXGatherOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXGatherOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto indices = cast<RankedTensorType>(op.getIndices().getType());
    auto result = cast<RankedTensorType>(op.getType());
    int64_t r = data.getRank(), q = indices.getRank();
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + r : axis;
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t j = 0; j < q; ++j)
      idxExprs.push_back(getAffineDimExpr(axis + j, ctx));
    SmallVector<AffineMap> maps = {
        AffineMap::get(result.getRank(), 0, idxExprs, ctx),
        rewriter.getMultiDimIdentityMap(result.getRank())};
    SmallVector<utils::IteratorType> iterators(result.getRank(),
                                               utils::IteratorType::parallel);
    Location loc = op.getLoc();
    Value init = tensor::EmptyOp::create(rewriter, loc, result.getShape(),
                                         result.getElementType());
    Value source = op.getData();
    int64_t axisSize = data.getDimSize(axis);
    auto g = linalg::GenericOp::create(
        rewriter, loc, TypeRange{result}, ValueRange{op.getIndices()},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value idx = wrapIndex(b, l, args[0], axisSize);
          SmallVector<Value> coords;
          for (int64_t d = 0; d < r; ++d) {
            if (d < axis)
              coords.push_back(linalg::IndexOp::create(b, l, d));
            else if (d == axis)
              coords.push_back(idx);
            else
              coords.push_back(linalg::IndexOp::create(b, l, d - 1 + q));
          }
          linalg::YieldOp::create(
              b, l, Value(tensor::ExtractOp::create(b, l, source, coords)));
        });
    rewriter.replaceOp(op, g.getResults());
    return success();
  }
};

/// Slice with constant starts/steps (positive steps): extract_slice.
struct SliceToExtract : public OpRewritePattern<ONNXSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXSliceOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto result = cast<RankedTensorType>(op.getType());
    int64_t rank = data.getRank();
    auto starts = constInts(op.getStarts());
    if (!starts)
      return failure();
    SmallVector<int64_t> axes, steps(starts->size(), 1);
    if (!isa<NoneType>(op.getAxes().getType())) {
      auto a = constInts(op.getAxes());
      if (!a)
        return failure();
      axes = *a;
    } else {
      for (int64_t i = 0; i < (int64_t)starts->size(); ++i)
        axes.push_back(i);
    }
    if (!isa<NoneType>(op.getSteps().getType())) {
      auto s = constInts(op.getSteps());
      if (!s)
        return failure();
      steps = *s;
    }
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    for (auto [i, axis] : llvm::enumerate(axes)) {
      int64_t ax = axis < 0 ? axis + rank : axis;
      int64_t dim = data.getDimSize(ax), st = steps[i];
      if (st <= 0)
        return failure(); // negative steps are not lowered yet
      offsets[ax] = rewriter.getIndexAttr(
          clampSliceAxis(dim, (*starts)[i], /*end=*/dim, st).begin);
      strides[ax] = rewriter.getIndexAttr(st);
    }
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : result.getShape())
      sizes.push_back(rewriter.getIndexAttr(d));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, result, op.getData(), offsets, sizes, strides);
    return success();
  }
};

/// Any other Slice (run-time starts, ends, axes or steps; negative steps): a
/// generic reading data[begin + i * step] on each axis, with ONNX's clamping
/// done at run time. The static result shape gives each count; a run-time
/// assertion checks that the values agree with it, so that a wrong declared
/// shape stops the program instead of reading out of bounds.
struct SliceToGeneric : public OpRewritePattern<ONNXSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXSliceOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op.getData().getType());
    auto result = cast<RankedTensorType>(op.getType());
    int64_t rank = data.getRank();
    int64_t n = cast<RankedTensorType>(op.getStarts().getType()).getDimSize(0);
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto index = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    auto at = [&](Value t, int64_t k) -> Value {
      Value v = tensor::ExtractOp::create(b, loc, t, ValueRange{index(k)});
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    };
    auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
      return arith::CmpIOp::create(b, loc, p, x, y).getResult();
    };
    auto select = [&](Value c, Value x, Value y) {
      return arith::SelectOp::create(b, loc, c, x, y).getResult();
    };
    auto clamp = [&](Value v, Value lo, Value hi) {
      return arith::MaxSIOp::create(b, loc, lo,
                                    arith::MinSIOp::create(b, loc, v, hi))
          .getResult();
    };
    using P = arith::CmpIPredicate;
    Value zero = index(0), one = index(1);
    SmallVector<Value> begins(rank, zero), steps(rank, one);
    Value ok = arith::ConstantIntOp::create(b, loc, 1, 1);
    for (int64_t d = 0; d < rank; ++d) {
      Value dim = index(data.getDimSize(d));
      Value count = dim;
      for (int64_t k = 0; k < n; ++k) {
        Value axis = isa<NoneType>(op.getAxes().getType()) ? index(k)
                                                           : at(op.getAxes(), k);
        axis = select(cmp(P::slt, axis, zero),
                      arith::AddIOp::create(b, loc, axis, index(rank)), axis);
        Value here = cmp(P::eq, axis, index(d));
        Value step = isa<NoneType>(op.getSteps().getType()) ? one
                                                            : at(op.getSteps(), k);
        Value forward = cmp(P::sgt, step, zero);
        auto wrap = [&](Value v) {
          return select(cmp(P::slt, v, zero),
                        arith::AddIOp::create(b, loc, v, dim), v);
        };
        Value last = arith::SubIOp::create(b, loc, dim, one);
        Value start = clamp(wrap(at(op.getStarts(), k)), zero,
                            select(forward, dim, last));
        Value end = clamp(wrap(at(op.getEnds(), k)), select(forward, zero, index(-1)),
                          select(forward, dim, last));
        // ceil((end - start) / step) for either sign, at least 0.
        Value span = select(forward, arith::SubIOp::create(b, loc, end, start),
                            arith::SubIOp::create(b, loc, start, end));
        Value stride = select(forward, step,
                              arith::SubIOp::create(b, loc, zero, step));
        Value c = arith::CeilDivSIOp::create(b, loc, span, stride);
        c = arith::MaxSIOp::create(b, loc, c, zero);
        begins[d] = select(here, start, begins[d]);
        steps[d] = select(here, step, steps[d]);
        count = select(here, c, count);
      }
      ok = arith::AndIOp::create(
          b, loc, ok, cmp(P::eq, count, index(result.getDimSize(d))));
    }
    cf::AssertOp::create(
        b, loc, ok,
        "Slice: the run-time starts, ends, axes and steps give a shape other "
        "than the static one");
    Value source = op.getData();
    Value r = broadcastGeneric(
        rewriter, loc, result, ValueRange{},
        [&](OpBuilder &nb, Location l, ValueRange) -> Value {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d) {
            Value i = linalg::IndexOp::create(nb, l, d);
            coords.push_back(arith::AddIOp::create(
                nb, l, begins[d], arith::MulIOp::create(nb, l, i, steps[d])));
          }
          return tensor::ExtractOp::create(nb, l, source, coords);
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// ReduceMean/Sum/Max/Min with constant axes: one reduction generic into
/// the kept dims, then a reshape to the result (keepdims).
struct ReduceToGeneric : public RewritePattern {
  ReduceToGeneric(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<ONNXReduceMeanOp, ONNXReduceSumOp, ONNXReduceMaxOp,
             ONNXReduceMinOp, ONNXReduceProdOp>(op) ||
        !allStatic(op))
      return failure();
    auto data = cast<RankedTensorType>(op->getOperand(0).getType());
    auto result = cast<RankedTensorType>(op->getResult(0).getType());
    Type elem = data.getElementType();
    if (!isa<FloatType>(elem) &&
        (!elem.isSignlessInteger() || elem.isInteger(1)))
      return failure(); // unsigned reductions are not lowered yet
    int64_t rank = data.getRank();
    SmallVector<bool> reduced(rank, false);
    auto noopAttr = op->getAttrOfType<IntegerAttr>("noop_with_empty_axes");
    bool noop = noopAttr && noopAttr.getInt();
    auto identity = [&]() -> LogicalResult {
      // noop_with_empty_axes and no axes: the input unchanged.
      if (op->getOperand(0).getType() != op->getResult(0).getType())
        return failure();
      rewriter.replaceOp(op, op->getOperand(0));
      return success();
    };
    if (isa<NoneType>(op->getOperand(1).getType())) {
      if (noop)
        return identity();
      reduced.assign(rank, true);
    } else {
      auto axes = constInts(op->getOperand(1));
      if (!axes)
        return failure();
      if (axes->empty() && noop)
        return identity();
      if (axes->empty())
        reduced.assign(rank, true);
      for (int64_t a : *axes)
        reduced[a < 0 ? a + rank : a] = true;
    }
    SmallVector<int64_t> keptShape;
    SmallVector<AffineExpr> keptExprs;
    SmallVector<utils::IteratorType> iterators;
    int64_t count = 1;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(reduced[d] ? utils::IteratorType::reduction
                                     : utils::IteratorType::parallel);
      if (reduced[d]) {
        count *= data.getDimSize(d);
      } else {
        keptShape.push_back(data.getDimSize(d));
        keptExprs.push_back(rewriter.getAffineDimExpr(d));
      }
    }
    Location loc = op->getLoc();
    bool isMax = isa<ONNXReduceMaxOp>(op), isMin = isa<ONNXReduceMinOp>(op);
    bool isProd = isa<ONNXReduceProdOp>(op);
    bool isFloat = isa<FloatType>(elem), isUnsigned = elem.isUnsignedInteger();
    TypedAttr initValue;
    if (isProd) {
      initValue = isFloat ? TypedAttr(rewriter.getFloatAttr(elem, 1.0))
                          : TypedAttr(rewriter.getIntegerAttr(elem, 1));
    } else if (isFloat) {
      initValue = rewriter.getFloatAttr(elem, isMax   ? -INFINITY
                                              : isMin ? INFINITY
                                                      : 0.0);
    } else {
      unsigned width = elem.getIntOrFloatBitWidth();
      APInt v = isMax ? (isUnsigned ? APInt::getMinValue(width)
                                    : APInt::getSignedMinValue(width))
                : isMin ? (isUnsigned ? APInt::getMaxValue(width)
                                      : APInt::getSignedMaxValue(width))
                        : APInt(width, 0);
      initValue = rewriter.getIntegerAttr(elem, v);
    }
    auto keptType = RankedTensorType::get(keptShape, elem);
    Value init = tensor::EmptyOp::create(rewriter, loc, keptShape, elem);
    Value c = arith::ConstantOp::create(rewriter, loc, initValue);
    Value acc = linalg::FillOp::create(rewriter, loc, ValueRange{c},
                                       ValueRange{init})
                    .getResult(0);
    auto combine = [&](OpBuilder &b, Location l, Value x, Value y) -> Value {
      if (isProd)
        return isFloat ? Value(arith::MulFOp::create(b, l, x, y))
                       : Value(arith::MulIOp::create(b, l, x, y));
      if (isFloat)
        return isMax   ? Value(arith::MaximumFOp::create(b, l, x, y))
               : isMin ? Value(arith::MinimumFOp::create(b, l, x, y))
                       : Value(arith::AddFOp::create(b, l, x, y));
      if (isMax)
        return isUnsigned ? Value(arith::MaxUIOp::create(b, l, x, y))
                          : Value(arith::MaxSIOp::create(b, l, x, y));
      if (isMin)
        return isUnsigned ? Value(arith::MinUIOp::create(b, l, x, y))
                          : Value(arith::MinSIOp::create(b, l, x, y));
      return arith::AddIOp::create(b, l, x, y);
    };
    Value r = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{keptType}, ValueRange{op->getOperand(0)},
                  ValueRange{acc},
                  ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank),
                                      AffineMap::get(rank, 0, keptExprs,
                                                     rewriter.getContext())},
                  iterators,
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    linalg::YieldOp::create(b, l,
                                            combine(b, l, args[0], args[1]));
                  })
                  .getResult(0);
    if (isa<ONNXReduceMeanOp>(op)) {
      Value n = arith::ConstantOp::create(
          rewriter, loc, elem,
          isFloat ? TypedAttr(rewriter.getFloatAttr(elem, (double)count))
                  : TypedAttr(rewriter.getIntegerAttr(elem, count)));
      r = broadcastGeneric(rewriter, loc, keptType, ValueRange{r},
                           [&](OpBuilder &b, Location l, ValueRange a) {
                             if (isFloat)
                               return Value(arith::DivFOp::create(b, l, a[0], n));
                             return isUnsigned
                                        ? Value(arith::DivUIOp::create(b, l, a[0], n))
                                        : Value(arith::DivSIOp::create(b, l, a[0], n));
                           });
    }
    if (keptType != result) {
      auto shapeType =
          RankedTensorType::get({result.getRank()}, rewriter.getI64Type());
      Value shape = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(shapeType, result.getShape()));
      r = tensor::ReshapeOp::create(rewriter, loc, result, r, shape);
    }
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Pow of any base and exponent types (the result has the base's type):
/// float bases take powf with the exponent converted; integer bases are
/// computed in f64 and truncated, as ONNX Runtime does with std::pow.
struct PowToGeneric : public OpRewritePattern<ONNXPowOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXPowOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type base = getElementTypeOrSelf(op.getX().getType());
    Type exp = getElementTypeOrSelf(op.getY().getType());
    if (!isa<FloatType, IntegerType>(base) || !isa<FloatType, IntegerType>(exp) ||
        base.isInteger(1) || exp.isInteger(1))
      return failure();
    auto toFloat = [](OpBuilder &b, Location l, Value v, Type from,
                      FloatType to) -> Value {
      if (auto f = dyn_cast<FloatType>(from)) {
        if (f == to)
          return v;
        return f.getWidth() < to.getWidth()
                   ? Value(arith::ExtFOp::create(b, l, to, v))
                   : Value(arith::TruncFOp::create(b, l, to, v));
      }
      return from.isUnsignedInteger()
                 ? Value(arith::UIToFPOp::create(b, l, to, v))
                 : Value(arith::SIToFPOp::create(b, l, to, v));
    };
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), result, op->getOperands(),
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto compute = isa<FloatType>(base) ? cast<FloatType>(base)
                                              : Float64Type::get(b.getContext());
          Value p = math::PowFOp::create(b, l, toFloat(b, l, a[0], base, compute),
                                         toFloat(b, l, a[1], exp, compute));
          if (isa<FloatType>(base))
            return p;
          Type to = signlessOf(base);
          return base.isUnsignedInteger()
                     ? Value(arith::FPToUIOp::create(b, l, to, p))
                     : Value(arith::FPToSIOp::create(b, l, to, p));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Clip to optional 0-d min and max (NaN stays NaN).
struct ClipToGeneric : public OpRewritePattern<ONNXClipOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXClipOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = result.getElementType();
    bool isFloat = isa<FloatType>(elem), isUnsigned = elem.isUnsignedInteger();
    SmallVector<Value> inputs = {op.getInput()};
    bool hasMin = !isa<NoneType>(op.getMin().getType());
    bool hasMax = !isa<NoneType>(op.getMax().getType());
    if (hasMin)
      inputs.push_back(op.getMin());
    if (hasMax)
      inputs.push_back(op.getMax());
    Value r = broadcastGeneric(
        rewriter, op.getLoc(), result, inputs,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          using F = arith::CmpFPredicate;
          using I = arith::CmpIPredicate;
          auto less = [&](Value p, Value q) -> Value {
            if (isFloat)
              return arith::CmpFOp::create(b, l, F::OLT, p, q);
            return arith::CmpIOp::create(b, l, isUnsigned ? I::ult : I::slt, p, q);
          };
          Value x = a[0];
          if (hasMin)
            x = arith::SelectOp::create(b, l, less(x, a[1]), a[1], x);
          if (hasMax) {
            Value hi = a[hasMin ? 2 : 1];
            x = arith::SelectOp::create(b, l, less(hi, x), hi, x);
          }
          return x;
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Range with run-time start and delta (the static result shape gives the
/// count): out[i] = start + i * delta.
struct RangeToGeneric : public OpRewritePattern<ONNXRangeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXRangeOp op,
                                PatternRewriter &rewriter) const override {
    if (!allStatic(op))
      return failure();
    auto result = cast<RankedTensorType>(op.getType());
    Type elem = result.getElementType();
    if (!isa<FloatType>(elem) && !elem.isSignlessInteger())
      return failure();
    Location loc = op.getLoc();
    Value start = tensor::ExtractOp::create(rewriter, loc, op.getStart(),
                                            ValueRange{});
    Value delta = tensor::ExtractOp::create(rewriter, loc, op.getDelta(),
                                            ValueRange{});
    Value r = broadcastGeneric(
        rewriter, loc, result, ValueRange{},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value i = linalg::IndexOp::create(b, l, 0);
          if (isa<FloatType>(elem)) {
            Value fi = arith::UIToFPOp::create(
                b, l, elem, arith::IndexCastUIOp::create(b, l, b.getI64Type(), i));
            return arith::AddFOp::create(b, l, start,
                                         arith::MulFOp::create(b, l, fi, delta));
          }
          Value ii = arith::IndexCastOp::create(b, l, elem, i);
          return arith::AddIOp::create(b, l, start,
                                       arith::MulIOp::create(b, l, ii, delta));
        });
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void prism::populateOnnxToLinalgPatterns(RewritePatternSet &patterns) {
  populateIndexingPatterns(patterns);
  populateQuantizedPatterns(patterns);
  populateWindowPatterns(patterns);
  populateResizePatterns(patterns);
  populateSignalPatterns(patterns);
  populateRecurrentPatterns(patterns);
  populateEinsumPatterns(patterns);
  populateGridSamplePatterns(patterns);
  populatePoolingExtrasPatterns(patterns);
  populateTfIdfPatterns(patterns);
  patterns.add<GatherToGeneric, SliceToExtract, ReduceToGeneric>(
      patterns.getContext());
  patterns.add<CompareAndSelect, CastToArith, ExpandToGeneric, ConcatToSlices,
               PowToGeneric, RangeToGeneric, ClipToGeneric>(
      patterns.getContext());
  // The named matmuls first; the generic one takes what they leave.
  patterns.add<MatMulToGeneric>(patterns.getContext(), /*benefit=*/0);
  patterns.add<MatMulWidenHalf>(patterns.getContext(), /*benefit=*/2);
  // extract_slice where it fits; the generic takes the rest.
  patterns.add<SliceToGeneric>(patterns.getContext(), /*benefit=*/0);
  patterns.add<ElementwiseToGeneric, MatMulToLinalg, ConstantToArith,
               IdentityToOperand, ReshapeLike, TransposeToLinalg,
               SoftmaxToLinalg>(patterns.getContext());
}
