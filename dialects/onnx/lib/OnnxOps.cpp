//===- OnnxOps.cpp - Ops of the onnx dialect ------------------------------===//

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace prism::onnx;

#include "prism/Dialect/Onnx/OnnxInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Onnx/OnnxOps.cpp.inc"

std::pair<StringRef, StringRef> prism::onnx::getOnnxOpType(Operation *op) {
  StringRef name = op->getName().stripDialect();
  if (name.consume_front("ms."))
    return {name, "com.microsoft"};
  return {name, ""};
}

bool prism::onnx::areCompatibleTypes(Type declared, Type inferred) {
  if (declared == inferred)
    return true;
  if (auto d = dyn_cast<SeqType>(declared), i = dyn_cast<SeqType>(inferred);
      d && i)
    return areCompatibleTypes(d.getElementType(), i.getElementType());
  if (auto d = dyn_cast<OptType>(declared), i = dyn_cast<OptType>(inferred);
      d && i)
    return areCompatibleTypes(d.getElementType(), i.getElementType());
  auto d = dyn_cast<TensorType>(declared);
  auto i = dyn_cast<TensorType>(inferred);
  if (!d || !i)
    return false;
  if (d.getElementType() != i.getElementType())
    return false;
  return succeeded(verifyCompatibleShape(d, i));
}

Type prism::onnx::refineType(Type declared, Type inferred) {
  if (auto ds = dyn_cast<SeqType>(declared), is = dyn_cast_or_null<SeqType>(inferred);
      ds && is)
    return SeqType::get(ds.getContext(),
                        refineType(ds.getElementType(), is.getElementType()));
  if (auto d = dyn_cast<OptType>(declared), i = dyn_cast_or_null<OptType>(inferred);
      d && i)
    return OptType::get(d.getContext(),
                        refineType(d.getElementType(), i.getElementType()));
  auto d = dyn_cast<TensorType>(declared);
  auto i = dyn_cast<TensorType>(inferred);
  if (!d || !i)
    return inferred ? inferred : declared;
  if (!i.hasRank())
    return d.hasRank() ? Type(d) : Type(i);
  if (!d.hasRank())
    return i;
  SmallVector<int64_t> dims;
  for (auto [a, b] : llvm::zip_equal(d.getShape(), i.getShape()))
    dims.push_back(ShapedType::isDynamic(b) ? a : b);
  return RankedTensorType::get(dims, i.getElementType());
}

/// The type both `a` and `b` fit: dims that differ become dynamic.
static Type joinTypes(Type a, Type b) {
  if (a == b)
    return a;
  if (auto sa = dyn_cast<SeqType>(a), sb = dyn_cast<SeqType>(b); sa && sb) {
    Type inner = joinTypes(sa.getElementType(), sb.getElementType());
    return inner ? SeqType::get(a.getContext(), inner) : Type();
  }
  // An optional joined with a value (Loop-16's carried optional sequence)
  // stays optional.
  auto oa = dyn_cast<OptType>(a), ob = dyn_cast<OptType>(b);
  if (oa || ob) {
    Type inner = joinTypes(oa ? oa.getElementType() : a,
                           ob ? ob.getElementType() : b);
    return inner ? OptType::get(a.getContext(), inner) : Type();
  }
  auto ta = dyn_cast<TensorType>(a), tb = dyn_cast<TensorType>(b);
  if (!ta || !tb || ta.getElementType() != tb.getElementType())
    return nullptr;
  if (!ta.hasRank() || !tb.hasRank() || ta.getRank() != tb.getRank())
    return UnrankedTensorType::get(ta.getElementType());
  SmallVector<int64_t> dims;
  for (auto [x, y] : llvm::zip(ta.getShape(), tb.getShape()))
    dims.push_back(x == y ? x : ShapedType::kDynamic);
  return RankedTensorType::get(dims, ta.getElementType());
}

/// Result types of `If`: what both branches yield.
static LogicalResult inferIfTypes(ONNXIfOp op, SmallVectorImpl<Type> &types) {
  if (op.getThenBranch().empty() || op.getElseBranch().empty())
    return op.emitOpError("needs both branches");
  auto thenYield = op.getThenBranch().front().getTerminator();
  auto elseYield = op.getElseBranch().front().getTerminator();
  if (thenYield->getNumOperands() != op->getNumResults() ||
      elseYield->getNumOperands() != op->getNumResults())
    return op.emitOpError("branches yield ")
           << thenYield->getNumOperands() << " and "
           << elseYield->getNumOperands() << " values for "
           << op->getNumResults() << " results";
  for (auto [a, b] :
       llvm::zip(thenYield->getOperandTypes(), elseYield->getOperandTypes())) {
    // ONNX allows branches of different shapes: keep what they share.
    Type joined = joinTypes(a, b);
    if (!joined)
      return op.emitOpError("branches yield different types ")
             << a << " and " << b;
    types.push_back(joined);
  }
  return success();
}

/// Result types of `Loop`: each loop-carried value keeps what its initial
/// value and the body's update share; each scan output stacks the body's
/// per-iteration value along a new leading dim of unknown trip count.
static LogicalResult inferLoopTypes(ONNXLoopOp op,
                                    SmallVectorImpl<Type> &types) {
  if (op.getBody().empty() || op->getNumOperands() < 2)
    return op.emitOpError("needs a body and at least the trip count and "
                          "condition inputs");
  Operation *yield = op.getBody().front().getTerminator();
  unsigned numCarried = op->getNumOperands() - 2;
  if (yield->getNumOperands() != 1 + op->getNumResults() ||
      numCarried > op->getNumResults())
    return op.emitOpError("body yields ")
           << yield->getNumOperands() << " values for " << numCarried
           << " loop-carried values and " << op->getNumResults()
           << " results";
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    Type body = yield->getOperand(1 + i).getType();
    if (i < numCarried) {
      Type t = joinTypes(op->getOperand(2 + i).getType(), body);
      if (!t)
        return op.emitOpError("loop-carried value #")
               << i << " changes type from " << op->getOperand(2 + i).getType()
               << " to " << body;
      types.push_back(t);
      continue;
    }
    auto t = dyn_cast<TensorType>(body);
    if (!t) {
      types.push_back(nullptr);
      continue;
    }
    if (!t.hasRank()) {
      types.push_back(t);
      continue;
    }
    SmallVector<int64_t> dims{ShapedType::kDynamic};
    llvm::append_range(dims, t.getShape());
    types.push_back(RankedTensorType::get(dims, t.getElementType()));
  }
  return success();
}

LogicalResult prism::onnx::inferResultTypes(Operation *op,
                                            SmallVectorImpl<Type> &types) {
  types.clear();
  if (auto iface = dyn_cast<InferOnnxTypes>(op))
    return iface.inferOnnxTypes(types);
  if (auto ifOp = dyn_cast<ONNXIfOp>(op))
    return inferIfTypes(ifOp, types);
  if (auto loop = dyn_cast<ONNXLoopOp>(op))
    return inferLoopTypes(loop, types);
  if (isa<ONNXScanOp>(op) || !op->hasTrait<OnnxSchemaOp>()) {
    // Scan is not inferred (null): the importer takes what the model
    // declares.
    for (Type t : op->getResultTypes())
      types.push_back(isa<NoneType>(t) ? t : Type());
    return success();
  }
  if (std::optional<LogicalResult> result = inferOverride(op, types))
    return *result;
  return inferWithSchema(op, types);
}

static LogicalResult checkAgainstInferred(Operation *op,
                                          ArrayRef<Type> inferred) {
  if (inferred.size() != op->getNumResults())
    return op->emitOpError("infers ")
           << inferred.size() << " results but has " << op->getNumResults();
  for (auto [idx, pair] :
       llvm::enumerate(llvm::zip(op->getResultTypes(), inferred))) {
    auto [declared, want] = pair;
    if (isa<NoneType>(declared) || !want)
      continue;
    if (!areCompatibleTypes(declared, want))
      return op->emitOpError("result #")
             << idx << " has type " << declared << " but ONNX infers " << want;
  }
  return success();
}

LogicalResult prism::onnx::verifyInferredTypes(Operation *op) {
  SmallVector<Type> inferred;
  if (failed(inferResultTypes(op, inferred)))
    return failure();
  return checkAgainstInferred(op, inferred);
}

OpFoldResult ONNXNoValueOp::fold(FoldAdaptor) {
  return UnitAttr::get(getContext());
}

LogicalResult prism::onnx::verifySchemaOp(Operation *op) {
  if (failed(verifySchemaSignature(op)))
    return failure();
  return verifyInferredTypes(op);
}
