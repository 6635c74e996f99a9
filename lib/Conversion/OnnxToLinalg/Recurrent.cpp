//===- Recurrent.cpp - RNN, GRU and LSTM unrolled over the sequence -------===//
//
// The recurrent operators (opset 14) rewritten for the host as the onnx ops
// of their steps, unrolled over the static sequence length: the input
// projections of all the steps are one matmul, then each step is a matmul
// with the recurrence weights, the gate activations and the elementwise
// state update. Every batch entry runs the whole sequence: getUnsupportedReason
// reports a sequence_lens that is not a constant equal to it.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

using namespace mlir;
using namespace prism::onnx;
using namespace prism::lowering;

namespace {

/// The activation functions the host has (getUnsupportedReason reports the
/// others); ONNX Runtime takes the names in any case.
Value activation(OnnxBuilder &b, StringRef name, Value x) {
  if (name.equals_insensitive("sigmoid"))
    return b.unary<ONNXSigmoidOp>(x);
  if (name.equals_insensitive("tanh"))
    return b.unary<ONNXTanhOp>(x);
  if (name.equals_insensitive("relu"))
    return b.unary<ONNXReluOp>(x);
  if (name.equals_insensitive("softsign"))
    return b.unary<ONNXSoftsignOp>(x);
  assert(name.equals_insensitive("softplus") &&
         "checked by getUnsupportedReason");
  return b.unary<ONNXSoftplusOp>(x);
}

/// The state a step carries: the hidden state and, for LSTM, the cell.
struct State {
  Value h, c;
};

/// What the steps of one direction use besides the state.
struct Cell {
  OnnxBuilder &b;
  int64_t hidden;
  Value rt; ///< Rᵀ: [hidden, gates * hidden].
  Value rb; ///< The recurrence bias [gates * hidden], or null.
  Value p;  ///< LSTM's peepholes [3 * hidden] (i, o, f), or null.
  SmallVector<StringRef, 3> activations;
  std::optional<double> clip;

  /// Gates `first`, `first` + 1, ... of `x` ([rows, gates * hidden]).
  Value gates(Value x, int64_t first, int64_t count = 1) const {
    return b.slice(x, 1, first * hidden, count * hidden);
  }
  /// `x`, which holds gates from `first` on, plus their recurrence bias.
  Value withBias(Value x, int64_t first) const {
    if (!rb)
      return x;
    return b.add(x,
                 b.slice(rb, 0, first * hidden, tensorType(x).getDimSize(1)));
  }
  /// Activation `k` of the gate input `x`, clipped first when `clip` is set.
  Value gate(int64_t k, Value x) const {
    if (clip)
      x = ONNXClipOp::create(b.rw, b.loc, x.getType(), x,
                             b.scalarLike(x, -*clip), b.scalarLike(x, *clip));
    return activation(b, activations[k], x);
  }
};

/// `xs` concatenated along `axis`, or the one value itself.
Value concatOrSelf(OnnxBuilder &b, ArrayRef<Value> xs, int64_t axis) {
  return xs.size() == 1 ? xs.front() : b.concat(xs, axis);
}

/// Unrolls `op` (RNN, GRU or LSTM) over its sequence, each direction from
/// its initial state: `step(cell, xw, state)` is the next state, with `xw`
/// the step's input projection x Wᵀ + Wb ([batch, gates * hidden]).
template <typename OpTy, typename Step>
LogicalResult unroll(OpTy op, PatternRewriter &rw, int64_t numGates,
                     ArrayRef<StringRef> defaultActivations, Step step) {
  constexpr bool isLstm = std::is_same_v<OpTy, ONNXLSTMOp>;
  // A sequence_lens getUnsupportedReason lets through is the whole sequence.
  if (!allStatic(op) || prism::getUnsupportedReason(op))
    return failure();
  StringRef direction = op.getDirection();
  if (!llvm::is_contained({"forward", "reverse", "bidirectional"}, direction))
    return rw.notifyMatchFailure(op, "unknown direction");
  bool batchFirst = op.getLayout() == 1;
  auto xType = tensorType(op.getX());
  int64_t seq = xType.getDimSize(batchFirst ? 1 : 0);
  int64_t batch = xType.getDimSize(batchFirst ? 0 : 1);
  auto rType = tensorType(op.getR());
  int64_t numDir = rType.getDimSize(0), hidden = rType.getDimSize(2);
  int64_t width = numGates * hidden;
  if (seq == 0)
    return rw.notifyMatchFailure(op, "empty sequence");
  // One list of activations per direction, or one for both.
  SmallVector<StringRef> activations(defaultActivations);
  if (std::optional<ArrayAttr> names = op.getActivations())
    activations = llvm::to_vector(names->getAsValueRange<StringAttr>());
  int64_t numActivations = defaultActivations.size();
  bool perDirection = (int64_t)activations.size() == numActivations * numDir;
  if (!perDirection && (int64_t)activations.size() != numActivations)
    return rw.notifyMatchFailure(op, "wrong number of activations");

  OnnxBuilder b(rw, op.getLoc());
  // `v`'s entry of direction `d` (along `axis`), without that dim.
  auto ofDirection = [&](Value v, int64_t axis, int64_t d) {
    SmallVector<int64_t> shape(tensorType(v).getShape());
    shape.erase(shape.begin() + axis);
    return b.reshape(b.slice(v, axis, d, 1), shape);
  };
  auto initial = [&](Value v, int64_t d) {
    if (isNone(v))
      return b.splat({batch, hidden}, xType.getElementType(), 0.0);
    return ofDirection(v, batchFirst ? 1 : 0, d);
  };

  std::optional<double> clip;
  if (std::optional<APFloat> c = op.getClip())
    clip = c->convertToDouble();

  // The input projections of every step at once: [seq * batch, input].
  Value x = batchFirst ? b.transpose(op.getX(), {1, 0, 2}) : op.getX();
  Value xs = b.reshape(x, {seq * batch, xType.getDimSize(2)});
  // Per step and direction [1, 1, batch, hidden]; per direction
  // [1, batch, hidden].
  SmallVector<SmallVector<Value>> ys(seq);
  SmallVector<Value> lastH, lastC;
  for (int64_t d = 0; d < numDir; ++d) {
    Value xw = b.matmul(xs, b.transpose(ofDirection(op.getW(), 0, d), {1, 0}));
    Value rb, p;
    if (!isNone(op.getB())) {
      Value bias = ofDirection(op.getB(), 0, d);
      xw = b.add(xw, b.slice(bias, 0, 0, width));
      rb = b.slice(bias, 0, width, width);
    }
    State state{initial(op.getInitialH(), d), {}};
    if constexpr (isLstm) {
      state.c = initial(op.getInitialC(), d);
      if (!isNone(op.getP()))
        p = ofDirection(op.getP(), 0, d);
    }
    Value rt = b.transpose(ofDirection(op.getR(), 0, d), {1, 0});
    auto first = activations.begin() + (perDirection ? d * numActivations : 0);
    SmallVector<StringRef, 3> cellActivations(first, first + numActivations);
    Cell cell{b, hidden, rt, rb, p, cellActivations, clip};
    // The second direction of a bidirectional op runs backwards.
    bool reverse = direction == "reverse" || d == 1;
    for (int64_t i = 0; i < seq; ++i) {
      int64_t t = reverse ? seq - 1 - i : i;
      state = step(cell, b.slice(xw, 0, t * batch, batch), state);
      ys[t].push_back(b.reshape(state.h, {1, 1, batch, hidden}));
    }
    lastH.push_back(b.reshape(state.h, {1, batch, hidden}));
    if (state.c)
      lastC.push_back(b.reshape(state.c, {1, batch, hidden}));
  }

  // Y is [seq, num_directions, batch, hidden], Y_h and Y_c [num_directions,
  // batch, hidden]; batch first with layout = 1.
  SmallVector<Value> steps;
  for (ArrayRef<Value> y : ys)
    steps.push_back(concatOrSelf(b, y, 1));
  Value y = concatOrSelf(b, steps, 0);
  auto lastStates = [&](ArrayRef<Value> last) {
    Value v = concatOrSelf(b, last, 0);
    return batchFirst ? b.transpose(v, {1, 0, 2}) : v;
  };
  SmallVector<Value> values = {batchFirst ? b.transpose(y, {2, 0, 1, 3}) : y,
                               lastStates(lastH)};
  if constexpr (isLstm)
    values.push_back(lastStates(lastC));
  SmallVector<Value> results;
  for (auto [result, v] : llvm::zip_equal(op->getResults(), values))
    results.push_back(
        isa<NoneType>(result.getType())
            ? ONNXNoValueOp::create(rw, op.getLoc(), result.getType())
            : v);
  rw.replaceOp(op, results);
  return success();
}

/// RNN: Ht = f(Xt Wᵀ + Ht-1 Rᵀ + Wb + Rb).
State rnnStep(const Cell &c, Value xw, State s) {
  Value g = c.withBias(c.b.add(xw, c.b.matmul(s.h, c.rt)), 0);
  return {c.gate(0, g), {}};
}

/// GRU, gates z, r, h:
///   zt = f(Xt Wzᵀ + Ht-1 Rzᵀ + Wbz + Rbz), rt likewise,
///   ht = g(Xt Whᵀ + (rt (.) Ht-1) Rhᵀ + Wbh + Rbh), or with
///        linear_before_reset g(Xt Whᵀ + rt (.) (Ht-1 Rhᵀ + Rbh) + Wbh),
///   Ht = (1 - zt) (.) ht + zt (.) Ht-1.
State gruStep(const Cell &c, Value xw, State s, bool linearBeforeReset) {
  OnnxBuilder &b = c.b;
  // Without linear_before_reset, Rh multiplies rt (.) Ht-1 instead.
  Value hr = b.matmul(s.h, linearBeforeReset ? c.rt : c.gates(c.rt, 0, 2));
  Value z = c.gate(0, c.withBias(b.add(c.gates(xw, 0), c.gates(hr, 0)), 0));
  Value r = c.gate(0, c.withBias(b.add(c.gates(xw, 1), c.gates(hr, 1)), 1));
  Value rh = linearBeforeReset
                 ? b.mul(r, c.withBias(c.gates(hr, 2), 2))
                 : c.withBias(b.matmul(b.mul(r, s.h), c.gates(c.rt, 2)), 2);
  Value h = c.gate(1, b.add(c.gates(xw, 2), rh));
  Value keep = b.mul(z, s.h);
  return {b.add(b.mul(b.sub(b.scalarLike(z, 1.0), z), h), keep), {}};
}

/// LSTM, gates i, o, f, c with peepholes P (i, o, f):
///   it = f(Xt Wiᵀ + Ht-1 Riᵀ + Pi (.) Ct-1 + Wbi + Rbi),
///   ft likewise (or 1 - it with input_forget), ct = g(... without P),
///   Ct = ft (.) Ct-1 + it (.) ct,
///   ot = f(Xt Woᵀ + Ht-1 Roᵀ + Po (.) Ct + Wbo + Rbo),
///   Ht = ot (.) h(Ct).
State lstmStep(const Cell &c, Value xw, State s, bool inputForget) {
  OnnxBuilder &b = c.b;
  Value g = c.withBias(b.add(xw, b.matmul(s.h, c.rt)), 0);
  auto peephole = [&](Value x, int64_t k, Value cell) {
    if (!c.p)
      return x;
    return b.add(x, b.mul(b.slice(c.p, 0, k * c.hidden, c.hidden), cell));
  };
  Value i = c.gate(0, peephole(c.gates(g, 0), 0, s.c));
  Value f = inputForget ? b.sub(b.scalarLike(i, 1.0), i)
                        : c.gate(0, peephole(c.gates(g, 2), 2, s.c));
  Value cell = b.add(b.mul(f, s.c), b.mul(i, c.gate(1, c.gates(g, 3))));
  Value o = c.gate(0, peephole(c.gates(g, 1), 1, cell));
  // Clip bounds the gate inputs only, not the cell state h applies to.
  return {b.mul(o, activation(b, c.activations[2], cell)), cell};
}

struct RnnUnrolling : public OpRewritePattern<ONNXRNNOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXRNNOp op,
                                PatternRewriter &rw) const override {
    return unroll(op, rw, /*numGates=*/1, {"Tanh"}, rnnStep);
  }
};

struct GruUnrolling : public OpRewritePattern<ONNXGRUOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXGRUOp op,
                                PatternRewriter &rw) const override {
    bool linearBeforeReset = op.getLinearBeforeReset() != 0;
    return unroll(op, rw, /*numGates=*/3, {"Sigmoid", "Tanh"},
                  [&](const Cell &c, Value xw, State s) {
                    return gruStep(c, xw, s, linearBeforeReset);
                  });
  }
};

struct LstmUnrolling : public OpRewritePattern<ONNXLSTMOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXLSTMOp op,
                                PatternRewriter &rw) const override {
    bool inputForget = op.getInputForget() != 0;
    return unroll(op, rw, /*numGates=*/4, {"Sigmoid", "Tanh", "Tanh"},
                  [&](const Cell &c, Value xw, State s) {
                    return lstmStep(c, xw, s, inputForget);
                  });
  }
};

} // namespace

void prism::lowering::populateRecurrentPatterns(RewritePatternSet &patterns) {
  patterns.add<RnnUnrolling, GruUnrolling, LstmUnrolling>(
      patterns.getContext());
}
