//===- UnrollControlFlow.cpp - If, Loop and Scan with constant control ----===//
//
// Static programs have no data-dependent control: once dims are bound and
// shapes folded, an If's condition, a Loop's trip count and condition and a
// Scan's length are usually constants. Then the If becomes the branch it
// takes and the loops become their iterations, each cloned op re-typed and
// folded as it is cloned (so that the next iteration's condition, or a
// position inside the body, is a constant in turn). Sequences and optionals
// become lists of tensors known at compile time: SequenceAt, SequenceLength,
// ConcatFromSequence and SequenceMap read those lists, and a sequence the
// function returns becomes one result per element. Control that stays
// dynamic is left for the lowering, which reports it.
//
//===----------------------------------------------------------------------===//

#include "prism/Transforms/Passes.h"

#include "prism/Dialect/Onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

#include <functional>

namespace prism {
#define GEN_PASS_DEF_ONNXUNROLLCONTROLFLOW
#include "prism/Transforms/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism::onnx;

namespace {

/// Unrolling beyond this many iterations is refused: the program would be
/// too large to be worth compiling statically.
constexpr int64_t kMaxIterations = 4096;

bool isNone(Value v) { return !v || isa<NoneType>(v.getType()); }

std::optional<int64_t> constantInt(Value v) {
  DenseElementsAttr attr;
  if (isNone(v) || !matchPattern(v, m_Constant(&attr)) ||
      attr.getNumElements() != 1)
    return std::nullopt;
  if (attr.getElementType().isInteger(1))
    return *attr.getValues<bool>().begin() ? 1 : 0;
  return (*attr.getValues<APInt>().begin()).getSExtValue();
}

bool isList(Value v) { return v && isa<SeqType, OptType>(v.getType()); }

/// Ops that read or build sequences and optionals: resolved as lists, not
/// typed by ONNX's inference (which, at opset 15, rejects an optional's
/// element where a loop carries an optional in and yields what it holds).
bool isListOp(Operation *op) {
  return isa<ONNXSequenceEmptyOp, ONNXSequenceConstructOp, ONNXSequenceInsertOp,
             ONNXSequenceEraseOp, ONNXSequenceAtOp, ONNXSequenceLengthOp,
             ONNXConcatFromSequenceOp, ONNXSplitToSequenceOp, ONNXSequenceMapOp,
             ONNXOptionalOp, ONNXOptionalHasElementOp,
             ONNXOptionalGetElementOp>(op) ||
         (isa<ONNXIdentityOp>(op) && isList(op->getOperand(0)));
}

class Unroller {
public:
  explicit Unroller(OpBuilder &b) : b(b) {}

  /// Clones the ops of `region`'s block before the insertion point with
  /// `mapping` for its arguments, re-typing and folding each; returns what
  /// the block yields.
  FailureOr<SmallVector<Value>> inlineRegion(Region &region, IRMapping &mapping) {
    Block &block = region.front();
    for (Operation &op : block.without_terminator()) {
      Operation *copy = b.clone(op, mapping);
      // Ops with regions are re-typed once unrolled themselves (their bodies
      // may hold values of another iteration's types until then), list ops
      // once resolved.
      if (isa<ONNXDialect>(copy->getDialect()) && copy->getNumRegions() == 0 &&
          !isListOp(copy)) {
        // Folding may erase the copy: map the originals to what replaced it.
        SmallVector<Value> results;
        bool changed = false;
        if (failed(refine(copy, results, changed)))
          return failure();
        for (auto [from, to] : llvm::zip(op.getResults(), results))
          mapping.map(from, to);
      }
    }
    SmallVector<Value> yielded;
    for (Value v : block.getTerminator()->getOperands())
      yielded.push_back(mapping.lookupOrDefault(v));
    return yielded;
  }

  /// An onnx.Constant of `attr`.
  Value constant(Location loc, DenseElementsAttr attr) {
    return b.getContext()
        ->getLoadedDialect<ONNXDialect>()
        ->materializeConstant(b, attr, attr.getType(), loc)
        ->getResult(0);
  }

  /// A scalar i64 or i1 constant.
  Value constant(Location loc, Type elem, int64_t value) {
    auto type = RankedTensorType::get({}, elem);
    return constant(loc, elem.isInteger(1)
                             ? DenseElementsAttr::get(type, value != 0)
                             : DenseElementsAttr::get(type, b.getIntegerAttr(elem, value)));
  }

  /// A [1] i64 constant (an axis or a bound).
  Value constant1D(Location loc, int64_t value) {
    return constant(loc, DenseElementsAttr::get(
                             RankedTensorType::get({1}, b.getI64Type()), value));
  }

  /// `values` stacked along a new dim `axis`: Unsqueeze each, Concat.
  FailureOr<Value> stack(Location loc, ArrayRef<Value> values, int64_t axis) {
    Value axes = constant1D(loc, axis);
    SmallVector<Value> parts;
    for (Value v : values) {
      auto t = cast<TensorType>(v.getType());
      Value u = ONNXUnsqueezeOp::create(
          b, loc, UnrankedTensorType::get(t.getElementType()), v, axes);
      FailureOr<Value> r = build(u);
      if (failed(r))
        return failure();
      parts.push_back(*r);
    }
    auto elem = cast<TensorType>(values.front().getType()).getElementType();
    Value concat = ONNXConcatOp::create(b, loc, UnrankedTensorType::get(elem),
                                        parts, (uint64_t)axis);
    return build(concat);
  }

  /// Types and folds a newly built single-result op.
  FailureOr<Value> build(Value v) {
    SmallVector<Value> results;
    bool changed = false;
    if (failed(refine(v.getDefiningOp(), results, changed)))
      return failure();
    return results.front();
  }

  OpBuilder &builder() { return b; }

private:
  LogicalResult refine(Operation *op, SmallVectorImpl<Value> &results,
                       bool &changed) {
    // Folding moves its builder to the op it may erase: not `b`.
    OpBuilder folder(op->getContext());
    return prism::refineAndFold(op, folder, changed, &results);
  }

  OpBuilder &b;
};

struct OnnxUnrollControlFlow
    : public prism::impl::OnnxUnrollControlFlowBase<OnnxUnrollControlFlow> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Unrolling one op can make another's control constant, and resolving a
    // list can make an op foldable: repeat until nothing changes. Ops built
    // before the current one restart the sweep; folds do not.
    // Most models have neither: skip the sweep, which would re-run the
    // inference that onnx-infer-shapes has just run.
    bool any = func.walk([](Operation *op) {
                     return isa<ONNXIfOp, ONNXLoopOp, ONNXScanOp>(op) || isListOp(op)
                                ? WalkResult::interrupt()
                                : WalkResult::advance();
                   }).wasInterrupted();
    if (!any)
      return;
    OpBuilder folder(&getContext());
    for (bool changed = true; changed;) {
      changed = false;
      for (Operation &op : llvm::make_early_inc_range(func.getBody().front())) {
        FailureOr<bool> done = false;
        bool restart = true;
        if (isListOp(&op)) {
          done = resolveList(op);
        } else if (auto ifOp = dyn_cast<ONNXIfOp>(op)) {
          done = unrollIf(ifOp);
        } else if (auto loop = dyn_cast<ONNXLoopOp>(op)) {
          done = unrollLoop(loop);
        } else if (auto scan = dyn_cast<ONNXScanOp>(op)) {
          done = unrollScan(scan);
        } else if (isa<ONNXDialect>(op.getDialect()) && op.getNumRegions() == 0 &&
                   op.getNumResults() == 1 && !matchPattern(&op, m_Constant())) {
          Value result = op.getResult(0);
          SmallVector<Value> replacements;
          bool refined = false;
          if (failed(prism::refineAndFold(&op, folder, refined, &replacements)))
            return signalPassFailure();
          done = replacements.front() != result;
          restart = false;
        }
        if (failed(done))
          return signalPassFailure();
        if (*done) {
          changed = true;
          if (restart)
            break;
        }
      }
    }
    expandReturnedSequences(func);
    // Unrolled results may be better typed than the ops they replace.
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                   ret.getOperandTypes()));
  }

  /// The elements of a sequence (or optional) known at compile time.
  DenseMap<Value, SmallVector<Value>> lists;

  /// A constant position into a list of `size` (ONNX's negative positions
  /// count from the end; `size` itself appends when `inserting`).
  std::optional<int64_t> position(Value v, size_t size, bool inserting) {
    if (isNone(v))
      return inserting ? std::optional<int64_t>(size)
                       : std::optional<int64_t>((int64_t)size - 1);
    auto p = constantInt(v);
    if (!p)
      return std::nullopt;
    int64_t at = *p < 0 ? *p + (int64_t)size : *p;
    if (at < 0 || at > (int64_t)size - (inserting ? 0 : 1))
      return std::nullopt;
    return at;
  }

  /// Records or reads a list; true when it rewrote the IR.
  FailureOr<bool> resolveList(Operation &op) {
    OpBuilder b(&op);
    Unroller unroller(b);
    Location loc = op.getLoc();
    auto known = [&](Value v) { return lists.find(v) != lists.end(); };
    auto replace = [&](Value v) {
      op.getResult(0).replaceAllUsesWith(v);
      op.erase();
      return true;
    };
    if (auto e = dyn_cast<ONNXSequenceEmptyOp>(op)) {
      lists[e.getOutput()] = {};
    } else if (auto c = dyn_cast<ONNXSequenceConstructOp>(op)) {
      lists[c.getOutputSequence()] = SmallVector<Value>(c.getInputs());
    } else if (auto i = dyn_cast<ONNXSequenceInsertOp>(op)) {
      if (!known(i.getInputSequence()))
        return false;
      SmallVector<Value> list = lists[i.getInputSequence()];
      auto at = position(i.getPosition(), list.size(), /*inserting=*/true);
      if (!at)
        return false;
      list.insert(list.begin() + *at, i.getTensor());
      lists[i.getOutputSequence()] = list;
    } else if (auto e = dyn_cast<ONNXSequenceEraseOp>(op)) {
      if (!known(e.getInputSequence()))
        return false;
      SmallVector<Value> list = lists[e.getInputSequence()];
      auto at = position(e.getPosition(), list.size(), /*inserting=*/false);
      if (!at)
        return false;
      list.erase(list.begin() + *at);
      lists[e.getOutputSequence()] = list;
    } else if (auto a = dyn_cast<ONNXSequenceAtOp>(op)) {
      if (!known(a.getInputSequence()))
        return false;
      ArrayRef<Value> list = lists[a.getInputSequence()];
      auto at = position(a.getPosition(), list.size(), /*inserting=*/false);
      if (isNone(a.getPosition()) || !at)
        return false;
      return replace(list[*at]);
    } else if (auto l = dyn_cast<ONNXSequenceLengthOp>(op)) {
      if (!known(l.getInputSequence()))
        return false;
      return replace(unroller.constant(loc, b.getI64Type(),
                                       lists[l.getInputSequence()].size()));
    } else if (auto c = dyn_cast<ONNXConcatFromSequenceOp>(op)) {
      if (!known(c.getInputSequence()) || lists[c.getInputSequence()].empty())
        return false;
      SmallVector<Value> list = lists[c.getInputSequence()];
      int64_t axis = (int64_t)c.getAxis();
      FailureOr<Value> r;
      if (c.getNewAxis()) {
        int64_t rank = cast<RankedTensorType>(list.front().getType()).getRank();
        r = unroller.stack(loc, list, axis < 0 ? axis + rank + 1 : axis);
      } else {
        auto elem = cast<TensorType>(list.front().getType()).getElementType();
        r = unroller.build(ONNXConcatOp::create(
            b, loc, UnrankedTensorType::get(elem), list, (uint64_t)axis));
      }
      if (failed(r))
        return failure();
      return replace(*r);
    } else if (auto split = dyn_cast<ONNXSplitToSequenceOp>(op)) {
      return splitToSequence(split, unroller);
    } else if (auto map = dyn_cast<ONNXSequenceMapOp>(op)) {
      return sequenceMap(map, unroller);
    } else if (auto o = dyn_cast<ONNXOptionalOp>(op)) {
      lists[o.getOutput()] =
          isNone(o.getInput()) ? SmallVector<Value>{} : SmallVector<Value>{o.getInput()};
    } else if (auto h = dyn_cast<ONNXOptionalHasElementOp>(op)) {
      // A tensor or a sequence (opset 18) has an element; an optional may.
      Value in = h.getInput();
      if (isNone(in) || !isa<OptType>(in.getType()) || known(in))
        return replace(unroller.constant(
            loc, b.getI1Type(),
            !isNone(in) && (!isa<OptType>(in.getType()) || !lists[in].empty())));
    } else if (auto g = dyn_cast<ONNXOptionalGetElementOp>(op)) {
      Value in = g.getInput();
      if (!isa<OptType>(in.getType()))
        return replace(in);
      if (!known(in))
        return false;
      if (lists[in].empty())
        return op.emitError("OptionalGetElement of an empty optional");
      return replace(lists[in].front());
    } else if (auto id = dyn_cast<ONNXIdentityOp>(op)) {
      if (known(id.getInput()))
        lists[id.getOutput()] = lists[id.getInput()];
    }
    return false;
  }

  /// SplitToSequence of a static tensor with a constant (or no) split.
  FailureOr<bool> splitToSequence(ONNXSplitToSequenceOp op, Unroller &unroller) {
    auto t = dyn_cast<RankedTensorType>(op.getInput().getType());
    if (!t || !t.hasStaticShape())
      return false;
    int64_t axis = (int64_t)op.getAxis();
    axis = axis < 0 ? axis + t.getRank() : axis;
    int64_t length = t.getDimSize(axis);
    SmallVector<int64_t> sizes;
    bool squeeze = false;
    if (isNone(op.getSplit())) {
      sizes.assign(length, 1);
      squeeze = op.getKeepdims() == 0;
    } else {
      DenseElementsAttr attr;
      if (!matchPattern(op.getSplit(), m_Constant(&attr)))
        return false;
      if (attr.getType().getRank() == 0) {
        int64_t chunk = (*attr.getValues<APInt>().begin()).getSExtValue();
        if (chunk <= 0)
          return op.emitError("split must be positive");
        for (int64_t at = 0; at < length; at += chunk)
          sizes.push_back(std::min(chunk, length - at));
      } else {
        for (const APInt &v : attr.getValues<APInt>())
          sizes.push_back(v.getSExtValue());
      }
    }
    OpBuilder &b = unroller.builder();
    Location loc = op.getLoc();
    SmallVector<Value> list;
    int64_t begin = 0;
    for (int64_t size : sizes) {
      auto bounds = [&](int64_t v) { return unroller.constant1D(loc, v); };
      Value none = ONNXNoValueOp::create(b, loc, b.getNoneType());
      auto slice = unroller.build(ONNXSliceOp::create(
          b, loc, UnrankedTensorType::get(t.getElementType()), op.getInput(),
          bounds(begin), bounds(begin + size), bounds(axis), none));
      if (failed(slice))
        return failure();
      Value part = *slice;
      if (squeeze) {
        auto squeezed = unroller.build(ONNXSqueezeOp::create(
            b, loc, UnrankedTensorType::get(t.getElementType()), part, bounds(axis)));
        if (failed(squeezed))
          return failure();
        part = *squeezed;
      }
      list.push_back(part);
      begin += size;
    }
    lists[op.getOutputSequence()] = list;
    return false;
  }

  /// SequenceMap: the body once per element (sequences among the additional
  /// inputs are iterated along, tensors passed to every copy).
  FailureOr<bool> sequenceMap(ONNXSequenceMapOp op, Unroller &unroller) {
    SmallVector<Value> inputs{op.getInputSequence()};
    llvm::append_range(inputs, op.getAdditionalInputs());
    std::optional<size_t> length;
    for (Value v : inputs) {
      if (!isList(v))
        continue;
      auto it = lists.find(v);
      if (it == lists.end())
        return false;
      if (length && *length != it->second.size())
        return op.emitError("SequenceMap's sequences have different lengths");
      length = it->second.size();
    }
    SmallVector<SmallVector<Value>> results(op->getNumResults());
    Block &body = op.getBody().front();
    for (size_t i = 0; i < *length; ++i) {
      IRMapping mapping;
      for (auto [arg, v] : llvm::zip(body.getArguments(), inputs))
        mapping.map(arg, isList(v) ? lists[v][i] : v);
      auto yielded = unroller.inlineRegion(op.getBody(), mapping);
      if (failed(yielded))
        return failure();
      for (auto [k, y] : llvm::enumerate(*yielded))
        results[k].push_back(y);
    }
    for (auto [result, list] : llvm::zip(op->getResults(), results))
      lists[result] = list;
    return false;
  }

  /// A returned sequence becomes one result per element, each named after
  /// the sequence with its index in `onnx.sequence_index`; a returned
  /// optional becomes what it holds, marked `onnx.optional`, or, empty, a
  /// name in the function's `onnx.empty_optionals`.
  void expandReturnedSequences(func::FuncOp func) {
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    auto known = [&](Value v) -> const SmallVector<Value> * {
      auto it = lists.find(v);
      return it == lists.end() ? nullptr : &it->second;
    };
    // Lists not known here (or empty sequences) stay, for the lowering to
    // report.
    std::function<bool(Value)> expandable = [&](Value v) {
      auto *list = known(v);
      if (!isList(v))
        return true;
      if (!list)
        return false;
      if (isa<SeqType>(v.getType()))
        return !list->empty();
      return list->empty() || expandable(list->front());
    };
    if (!llvm::all_of(ret.getOperands(), expandable) ||
        llvm::none_of(ret.getOperands(), [&](Value v) { return isList(v); }))
      return;
    SmallVector<Value> operands;
    SmallVector<DictionaryAttr> attrs;
    SmallVector<Attribute> emptyOptionals;
    MLIRContext *ctx = func.getContext();
    for (auto [i, returned] : llvm::enumerate(ret.getOperands())) {
      NamedAttrList named(func.getResultAttrDict(i));
      Value v = returned;
      // A loop may carry an optional in and yield what it holds.
      if (isa<OptType>(func.getFunctionType().getResult(i)))
        named.set("onnx.optional", UnitAttr::get(ctx));
      if (isa<OptType>(v.getType())) {
        if (known(v)->empty()) {
          emptyOptionals.push_back(named.get("onnx.name")
                                       ? named.get("onnx.name")
                                       : StringAttr::get(ctx, "output" + std::to_string(i)));
          continue;
        }
        v = known(v)->front();
      }
      if (!isa<SeqType>(v.getType())) {
        operands.push_back(v);
        attrs.push_back(named.getDictionary(ctx));
        continue;
      }
      for (auto [k, element] : llvm::enumerate(*known(v))) {
        NamedAttrList elementAttrs(named);
        elementAttrs.set("onnx.sequence_index",
                         IntegerAttr::get(IntegerType::get(ctx, 64), k));
        operands.push_back(element);
        attrs.push_back(elementAttrs.getDictionary(ctx));
      }
    }
    if (!emptyOptionals.empty())
      func->setAttr("onnx.empty_optionals", ArrayAttr::get(ctx, emptyOptionals));
    OpBuilder b(ret);
    func::ReturnOp::create(b, ret.getLoc(), operands);
    ret.erase();
    func.setType(FunctionType::get(ctx, func.getArgumentTypes(),
                                   ValueRange(operands).getTypes()));
    func.setAllResultAttrs(attrs);
  }

  FailureOr<bool> unrollIf(ONNXIfOp op) {
    auto cond = constantInt(op.getCond());
    if (!cond)
      return false;
    OpBuilder b(op);
    Unroller unroller(b);
    IRMapping mapping;
    auto yielded = unroller.inlineRegion(*cond ? op.getThenBranch() : op.getElseBranch(),
                                         mapping);
    if (failed(yielded))
      return failure();
    op->replaceAllUsesWith(*yielded);
    op->erase();
    return true;
  }

  FailureOr<bool> unrollLoop(ONNXLoopOp op) {
    std::optional<int64_t> tripCount;
    if (!isNone(op.getM()) && !(tripCount = constantInt(op.getM())))
      return false;
    std::optional<int64_t> cond = 1;
    if (!isNone(op.getCond()) && !(cond = constantInt(op.getCond())))
      return false;
    if (!tripCount && isNone(op.getCond()))
      return false; // an infinite loop
    Location loc = op.getLoc();
    OpBuilder b(op);
    Unroller unroller(b);
    Block &body = op.getBody().front();
    size_t carried = op.getVInitial().size();
    SmallVector<Value> values(op.getVInitial());
    SmallVector<SmallVector<Value>> scans(op->getNumResults() - carried);
    Value condValue = unroller.constant(loc, b.getI1Type(), *cond);
    int64_t i = 0;
    for (; *cond && (!tripCount || i < *tripCount); ++i) {
      if (i == kMaxIterations)
        return op.emitError("Loop runs more than ")
               << kMaxIterations << " iterations: too many to unroll";
      IRMapping mapping;
      mapping.map(body.getArgument(0), unroller.constant(loc, b.getI64Type(), i));
      mapping.map(body.getArgument(1), condValue);
      for (size_t k = 0; k < carried; ++k)
        mapping.map(body.getArgument(2 + k), values[k]);
      auto yielded = unroller.inlineRegion(op.getBody(), mapping);
      if (failed(yielded))
        return failure();
      condValue = (*yielded)[0];
      if (!isNone(op.getCond()) && !(cond = constantInt(condValue)))
        return op.emitError("Loop's condition is not a compile-time constant "
                            "after iteration ")
               << i;
      for (size_t k = 0; k < carried; ++k)
        values[k] = (*yielded)[1 + k];
      for (size_t k = 0; k < scans.size(); ++k)
        scans[k].push_back((*yielded)[1 + carried + k]);
    }
    if (i == 0 && !scans.empty())
      return op.emitError("Loop with scan outputs runs no iteration: the "
                          "shape of its empty scan outputs is not supported");
    for (auto &scan : scans) {
      auto stacked = unroller.stack(loc, scan, 0);
      if (failed(stacked))
        return failure();
      values.push_back(*stacked);
    }
    op->replaceAllUsesWith(values);
    op->erase();
    return true;
  }

  FailureOr<bool> unrollScan(ONNXScanOp op) {
    int64_t numScanInputs = op.getNumScanInputs();
    auto operands = op.getInitialStateAndScanInputs();
    int64_t numStates = operands.size() - numScanInputs;
    auto attrAt = [](std::optional<ArrayAttr> list, int64_t i) -> int64_t {
      if (!list || i >= (int64_t)list->size())
        return 0;
      return cast<IntegerAttr>((*list)[i]).getInt();
    };
    // The scan length: the scanned dim of every scan input.
    int64_t length = -1;
    SmallVector<int64_t> axes;
    for (int64_t j = 0; j < numScanInputs; ++j) {
      auto t = dyn_cast<RankedTensorType>(operands[numStates + j].getType());
      if (!t || !t.hasStaticShape())
        return false;
      int64_t axis = attrAt(op.getScanInputAxes(), j);
      axis = axis < 0 ? axis + t.getRank() : axis;
      axes.push_back(axis);
      if (length >= 0 && length != t.getDimSize(axis))
        return op.emitError("scan inputs have different lengths");
      length = t.getDimSize(axis);
    }
    if (length <= 0 || length > kMaxIterations)
      return op.emitError("Scan of length ") << length << " is not supported";
    Location loc = op.getLoc();
    OpBuilder b(op);
    Unroller unroller(b);
    Block &body = op.getBody().front();
    SmallVector<Value> states(operands.take_front(numStates));
    size_t numScanOutputs = op->getNumResults() - numStates;
    SmallVector<SmallVector<Value>> scans(numScanOutputs);
    for (int64_t t = 0; t < length; ++t) {
      IRMapping mapping;
      for (int64_t k = 0; k < numStates; ++k)
        mapping.map(body.getArgument(k), states[k]);
      for (int64_t j = 0; j < numScanInputs; ++j) {
        int64_t at = attrAt(op.getScanInputDirections(), j) ? length - 1 - t : t;
        Value index = unroller.constant(loc, b.getI64Type(), at);
        Value x = operands[numStates + j];
        auto slice = unroller.build(ONNXGatherOp::create(
            b, loc,
            UnrankedTensorType::get(cast<TensorType>(x.getType()).getElementType()),
            x, index, (uint64_t)axes[j]));
        if (failed(slice))
          return failure();
        mapping.map(body.getArgument(numStates + j), *slice);
      }
      auto yielded = unroller.inlineRegion(op.getBody(), mapping);
      if (failed(yielded))
        return failure();
      for (int64_t k = 0; k < numStates; ++k)
        states[k] = (*yielded)[k];
      for (size_t k = 0; k < numScanOutputs; ++k)
        scans[k].push_back((*yielded)[numStates + k]);
    }
    SmallVector<Value> results(states);
    for (size_t k = 0; k < numScanOutputs; ++k) {
      if (attrAt(op.getScanOutputDirections(), k))
        std::reverse(scans[k].begin(), scans[k].end());
      int64_t axis = attrAt(op.getScanOutputAxes(), k);
      int64_t rank = cast<RankedTensorType>(scans[k].front().getType()).getRank();
      auto stacked = unroller.stack(loc, scans[k], axis < 0 ? axis + rank + 1 : axis);
      if (failed(stacked))
        return failure();
      results.push_back(*stacked);
    }
    op->replaceAllUsesWith(results);
    op->erase();
    return true;
  }
};

} // namespace
