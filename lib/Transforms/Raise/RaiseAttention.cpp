//===- RaiseAttention.cpp - Decomposed attention as xfmr.attention --------===//
//
// PyTorch exports attention as MatMul(Q, K^T), a scale (Div or Mul), a mask
// (Add or Where, clamped with Max), Softmax and MatMul with V, with the keys
// and values concatenated to the past cache and, for grouped-query
// attention, repeated per query head by Unsqueeze/Expand/Reshape. The
// pattern anchors on the Softmax and walks out from it.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace prism::onnx;
using namespace prism::raise;
namespace xfmr = prism::xfmr;

namespace {

constexpr const char *kName = "attention";

/// Q, K^T and the scale of `scores` = scale * (Q K^T).
struct Scores {
  Value q, keysT;
  double scale = 1.0;
};

/// `v` = x * c or x / c for a constant c: x, with `scale` updated.
Value stripScale(Value v, double &scale) {
  Operation *def = v.getDefiningOp();
  if (isa_and_nonnull<ONNXDivOp>(def)) {
    if (auto c = constFloat(def->getOperand(1)); c && *c != 0) {
      scale /= *c;
      return def->getOperand(0);
    }
  }
  if (isa_and_nonnull<ONNXMulOp>(def)) {
    for (int i = 0; i < 2; ++i)
      if (auto c = constFloat(def->getOperand(i))) {
        scale *= *c;
        return def->getOperand(1 - i);
      }
  }
  return v;
}

std::optional<Scores> matchScores(Value v) {
  Scores s;
  v = skipCasts(stripScale(skipCasts(v), s.scale));
  auto mm = v.getDefiningOp<ONNXMatMulOp>();
  if (!mm)
    return std::nullopt;
  // Some exports scale Q and K^T separately (by the 4th root of the head
  // size each).
  s.q = stripScale(mm->getOperand(0), s.scale);
  s.keysT = stripScale(mm->getOperand(1), s.scale);
  return s;
}

/// The keys [.., T, D] from K^T [.., D, T]: the Transpose's input when it
/// only swapped the last two dims, else a Transpose composed with it.
Value untranspose(OnnxBuilder &b, Value keysT) {
  auto t = tensorType(keysT);
  int64_t rank = t.getRank();
  SmallVector<int64_t> swap = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(swap[rank - 1], swap[rank - 2]);
  SmallVector<int64_t> perm = swap;
  Value source = keysT;
  if (auto tr = keysT.getDefiningOp<ONNXTransposeOp>(); tr && tr.getPermAttr()) {
    SmallVector<int64_t> inner;
    for (Attribute a : tr.getPermAttr())
      inner.push_back(cast<IntegerAttr>(a).getInt());
    // keys = transpose(transpose(src, inner), swap) = transpose(src, inner o swap)
    for (int64_t i = 0; i < rank; ++i)
      perm[i] = inner[swap[i]];
    source = tr.getData();
    if (perm == llvm::to_vector(llvm::seq<int64_t>(0, rank)))
      return source;
  }
  auto st = tensorType(source);
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(st.getDimSize(p));
  return ONNXTransposeOp::create(b.rw, b.loc, st.clone(shape), source,
                                 b.rw.getI64ArrayAttr(perm));
}

/// `x` [B, H, T, D] made by repeating the heads of x0 [B, Hkv, T, D] with
/// Unsqueeze(axis 2), Expand and Reshape (PyTorch's repeat_kv): x0 and the
/// repetition.
std::pair<Value, int64_t> unrepeatHeads(Value x) {
  auto reshape = x.getDefiningOp<ONNXReshapeOp>();
  if (!reshape)
    return {x, 1};
  auto expand = reshape.getData().getDefiningOp<ONNXExpandOp>();
  if (!expand)
    return {x, 1};
  auto unsq = expand.getInput().getDefiningOp<ONNXUnsqueezeOp>();
  if (!unsq)
    return {x, 1};
  auto x0 = unsq.getData();
  auto t0 = tensorType(x0), te = tensorType(expand), tx = tensorType(x);
  if (t0.getRank() != 4 || te.getRank() != 5 || tx.getRank() != 4)
    return {x, 1};
  int64_t groups = te.getDimSize(2);
  SmallVector<int64_t> expanded = {t0.getDimSize(0), t0.getDimSize(1), groups,
                                   t0.getDimSize(2), t0.getDimSize(3)};
  SmallVector<int64_t> merged = {t0.getDimSize(0), t0.getDimSize(1) * groups,
                                 t0.getDimSize(2), t0.getDimSize(3)};
  if (te.getShape() != ArrayRef(expanded) || tx.getShape() != ArrayRef(merged) ||
      tensorType(unsq).getDimSize(2) != 1)
    return {x, 1};
  return {x0, groups};
}

/// Keys (or values) concatenated to the cache along the sequence axis:
/// the Concat, when it is one.
ONNXConcatOp cacheConcat(Value x) {
  auto concat = x.getDefiningOp<ONNXConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return {};
  int64_t rank = tensorType(x).getRank();
  int64_t axis = (int64_t)concat.getAxis();
  if (axis < 0)
    axis += rank;
  return rank == 4 && axis == 2 ? concat : ONNXConcatOp();
}

/// Transposed keys [B, H, D, T] concatenated to a transposed past along
/// the last axis: the Concat, when it is one.
ONNXConcatOp transposedCacheConcat(Value keysT) {
  auto concat = keysT.getDefiningOp<ONNXConcatOp>();
  if (!concat || concat.getInputs().size() != 2 || tensorType(keysT).getRank() != 4)
    return {};
  int64_t axis = (int64_t)concat.getAxis();
  return axis == -1 || axis == 3 ? concat : ONNXConcatOp();
}

/// Whether `v` is a constant boolean false.
bool isConstFalse(Value v) {
  DenseIntElementsAttr attr;
  return matchPattern(v, m_Constant(&attr)) && attr.getNumElements() == 1 &&
         (*attr.begin()).isZero();
}

/// `v` followed through its sole users that compute nothing in inference:
/// Identity, and Dropout without training_mode (or with a constant false)
/// and without its mask used.
Value skipInferenceNoOps(Value v) {
  while (v.hasOneUse()) {
    Operation *user = *v.user_begin();
    if (isa<ONNXIdentityOp>(user)) {
      v = user->getResult(0);
      continue;
    }
    auto dropout = dyn_cast<ONNXDropoutOp>(user);
    if (!dropout || dropout.getData() != v || !dropout.getMask().use_empty() ||
        !(isNone(dropout.getTrainingMode()) ||
          isConstFalse(dropout.getTrainingMode())))
      break;
    v = dropout.getOutput();
  }
  return v;
}

/// A mask found between the scores and the softmax: an additive tensor, or
/// a Where's condition (true keeps the score when keepWhenTrue).
struct MaskTerm {
  Value value;
  bool where;
  bool keepWhenTrue;
};

/// Whether `v` is the (scaled, masked) product of queries and keys: a
/// MatMul reached through casts, scales, Adds, Wheres and clamps.
bool leadsToScores(Value v, int depth = 0) {
  if (depth > 8)
    return false;
  v = skipCasts(v);
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (matchScores(v))
    return true;
  if (isa<ONNXAddOp, ONNXMaxOp>(def))
    return llvm::any_of(def->getOperands(),
                        [&](Value x) { return leadsToScores(x, depth + 1); });
  if (auto where = dyn_cast<ONNXWhereOp>(def))
    return leadsToScores(where.getX(), depth + 1) ||
           leadsToScores(where.getY(), depth + 1);
  return false;
}

struct RaiseDecomposedAttention : public OpRewritePattern<ONNXSoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ONNXSoftmaxOp softmax,
                                PatternRewriter &rw) const override {
    if (!allStatic(softmax))
      return nearMiss(softmax, kName, "a shape is not static");
    auto st = tensorType(softmax.getResult());
    int64_t rank = st.getRank();
    int64_t axis = (int64_t)softmax.getAxis();
    if (axis != -1 && axis != rank - 1)
      return nearMiss(softmax, kName, "the softmax is not over the last axis");
    // Older exports (opset < 13) flatten the scores to 2-D around Softmax.
    Value input = softmax.getInput(), probs = softmax.getResult();
    if (rank == 2) {
      Operation *flat = input.getDefiningOp();
      if (isa_and_nonnull<ONNXFlattenOp, ONNXReshapeOp>(flat) && probs.hasOneUse()) {
        auto back = dyn_cast<ONNXReshapeOp>(*probs.user_begin());
        Value scores = flat->getOperand(0);
        if (back && back.getType() == scores.getType() &&
            tensorType(scores).getShape().back() == st.getShape().back()) {
          input = scores;
          probs = back.getResult();
          rank = tensorType(scores).getRank();
        }
      }
    }
    if (rank != 3 && rank != 4)
      return nearMiss(softmax, kName, "the scores are not 3-D or 4-D");

    // probs -> [Dropout | Identity]* -> [Cast] -> MatMul(probs, V)
    probs = skipInferenceNoOps(probs);
    if (!probs.hasOneUse())
      return nearMiss(softmax, kName, "the probabilities have other users");
    Operation *user = *probs.user_begin();
    if (isa<ONNXCastOp>(user)) {
      if (!user->getResult(0).hasOneUse())
        return nearMiss(softmax, kName, "the probabilities have other users");
      user = *user->getResult(0).user_begin();
    }
    auto pv = dyn_cast<ONNXMatMulOp>(user);
    if (!pv || pv->getOperand(0) != user->getOperand(0) ||
        skipCasts(pv->getOperand(0)) != probs)
      return nearMiss(softmax, kName, "the probabilities do not feed a MatMul "
                                      "with the values");

    // scores -> ([Add mask] | [Where(keep, ., fill)] | [Max clamp])* ->
    // softmax, through casts. Masks found from the softmax inwards.
    SmallVector<MaskTerm> terms;
    bool addedLater = false; // an additive mask applies after this point
    Value s = input;
    for (int depth = 0; depth < 8; ++depth) {
      s = skipCasts(s);
      Operation *def = s.getDefiningOp();
      if (auto max = dyn_cast_or_null<ONNXMaxOp>(def);
          max && max->getNumOperands() == 2) {
        // The clamp at the lowest float of the scores' type.
        int clamp = -1;
        for (int i = 0; i < 2; ++i) {
          Type elem = tensorType(max->getOperand(i)).getElementType();
          if (isa<FloatType>(elem) && isConstNear(max->getOperand(i), lowestFloat(elem)))
            clamp = i;
        }
        if (clamp < 0)
          break;
        s = max->getOperand(1 - clamp);
        continue;
      }
      if (auto add = dyn_cast_or_null<ONNXAddOp>(def)) {
        int i = leadsToScores(add->getOperand(0))   ? 0
                : leadsToScores(add->getOperand(1)) ? 1
                                                    : -1;
        if (i < 0)
          break;
        terms.push_back({add->getOperand(1 - i), /*where=*/false, true});
        addedLater = true;
        s = add->getOperand(i);
        continue;
      }
      if (auto where = dyn_cast_or_null<ONNXWhereOp>(def)) {
        // where(keep, scores, fill) or where(drop, fill, scores) replaces the
        // masked scores by a large negative fill. The additive mask of the
        // lowest float computes the same: a masked score's weight underflows
        // to 0 either way, and a row masked everywhere is uniform either
        // way (s + lowest rounds to lowest). A fill above -1e4 is another
        // softmax; so is a moderate fill with an additive mask after it in
        // a row the Where masks everywhere.
        bool keepWhenTrue = leadsToScores(where.getX());
        if (!keepWhenTrue && !leadsToScores(where.getY()))
          break;
        Value fillValue = keepWhenTrue ? where.getY() : where.getX();
        std::optional<double> fill = constFloat(fillValue);
        if (!fill)
          return nearMiss(softmax, kName, "the Where's fill is not a constant");
        if (*fill > -1e4)
          return nearMiss(softmax, kName,
                          "the Where's fill is not a large negative: replacing "
                          "scores by it is not an additive mask");
        if (addedLater && *fill > -1e30)
          return nearMiss(softmax, kName,
                          "a Where with a moderate fill before an additive "
                          "mask is not one additive mask (fill + mask can "
                          "outweigh a kept score)");
        terms.push_back({where.getCondition(), /*where=*/true, keepWhenTrue});
        s = keepWhenTrue ? where.getX() : where.getY();
        continue;
      }
      break;
    }
    std::optional<Scores> scores = matchScores(s);
    if (!scores)
      return nearMiss(softmax, kName, "its input is not a (scaled, masked) "
                                      "MatMul of queries and keys");
    // Built where the values are: every operand dominates the PV MatMul.
    // Should a check below fail, what was built is erased again (a pattern
    // that fails must leave the IR as it found it).
    rw.setInsertionPoint(pv);
    Operation *mark = pv->getPrevNode();
    auto abandon = [&](const char *why) {
      while (pv->getPrevNode() != mark)
        rw.eraseOp(pv->getPrevNode());
      return nearMiss(softmax, kName, why);
    };
    OnnxBuilder b(rw, softmax.getLoc());

    Value q = scores->q, v = pv->getOperand(1);
    if (tensorType(q).getRank() != rank || tensorType(v).getRank() != rank ||
        tensorType(scores->keysT).getRank() != rank)
      return abandon("queries, keys and values are not all "
                                      "of the scores' rank");
    // Older GPT-2 exports keep the keys transposed and append them to the
    // transposed past along the last axis.
    Value pastKey, pastValue;
    ONNXConcatOp kCatT = transposedCacheConcat(scores->keysT), vCat;
    Value k0, v0;
    if (kCatT && (vCat = cacheConcat(v))) {
      pastKey = untranspose(b, kCatT.getInputs()[0]);
      k0 = untranspose(b, kCatT.getInputs()[1]);
      pastValue = vCat.getInputs()[0];
      v0 = vCat.getInputs()[1];
    } else {
      kCatT = ONNXConcatOp();
      Value k = untranspose(b, scores->keysT);
      int64_t kGroups, vGroups;
      std::tie(k0, kGroups) = unrepeatHeads(k);
      std::tie(v0, vGroups) = unrepeatHeads(v);
      if (kGroups != vGroups) {
        k0 = k;
        v0 = v;
      }
      ONNXConcatOp kCat = cacheConcat(k0);
      vCat = cacheConcat(v0);
      if (kCat && vCat) {
        pastKey = kCat.getInputs()[0];
        pastValue = vCat.getInputs()[0];
        k0 = kCat.getInputs()[1];
        v0 = vCat.getInputs()[1];
        kCatT = kCat; // replaced by the present keys as they are
      }
    }
    if (rank == 3) {
      // [N, S, D] as N batches of one head.
      auto to4 = [&](Value x) {
        auto t = tensorType(x);
        return b.reshape(x, {t.getDimSize(0), 1, t.getDimSize(1), t.getDimSize(2)});
      };
      q = to4(q);
      k0 = to4(k0);
      v0 = to4(v0);
      for (MaskTerm &t : terms)
        if (tensorType(t.value).getRank() == 3)
          t.value = to4(t.value);
    }
    // Scores and values must agree with the op's shapes; a mask that does
    // not broadcast to them is left alone.
    auto qt = tensorType(q), kt = tensorType(k0), vt = tensorType(v0);
    if (qt.getDimSize(0) != kt.getDimSize(0) || qt.getDimSize(3) != kt.getDimSize(3) ||
        qt.getDimSize(1) % kt.getDimSize(1) != 0 || vt.getDimSize(1) != kt.getDimSize(1))
      return abandon("query, key and value heads do not line up");
    int64_t total = kt.getDimSize(2) +
                    (pastKey ? tensorType(pastKey).getDimSize(2) : 0);
    SmallVector<int64_t> full = {qt.getDimSize(0), qt.getDimSize(1),
                                 qt.getDimSize(2), total};
    for (const MaskTerm &t : terms) {
      ArrayRef<int64_t> m = tensorType(t.value).getShape();
      if (m.size() > 4)
        return abandon("the mask has more than 4 dims");
      for (size_t i = 0; i < m.size(); ++i)
        if (m[m.size() - 1 - i] != 1 && m[m.size() - 1 - i] != full[3 - i])
          return abandon("the mask does not broadcast to the scores");
    }
    // One additive mask: the additive terms summed, then the lowest float
    // wherever a Where masks. With a Where the mask is f32: the attention
    // computes 16-bit scores in f32, where f16's lowest would not absorb
    // them (a row masked everywhere would not come out uniform).
    bool anyWhere = llvm::any_of(terms, [](const MaskTerm &t) { return t.where; });
    Value mask;
    for (const MaskTerm &t : terms) {
      if (t.where)
        continue;
      Value term = anyWhere ? b.castTo(t.value, rw.getF32Type()) : t.value;
      mask = mask ? b.add(mask, term) : term;
    }
    for (const MaskTerm &t : terms) {
      if (!t.where)
        continue;
      Type elem = rw.getF32Type();
      Value kept = mask ? mask : b.scalar(elem, 0.0);
      Value lowest = b.scalar(elem, lowestFloat(elem));
      mask = t.keepWhenTrue ? b.where(t.value, kept, lowest)
                            : b.where(t.value, lowest, kept);
    }
    auto attention =
        buildAttention(b, q, k0, v0, pastKey, pastValue, mask, scores->scale);
    rw.replaceOp(pv, b.match(attention.getOutput(), pv.getType()));
    if (pastKey) {
      Value presentKey = attention.getPresentKey();
      if (tensorType(kCatT.getResult()) != tensorType(presentKey))
        presentKey = ONNXTransposeOp::create(rw, softmax.getLoc(),
                                             kCatT.getResult().getType(),
                                             presentKey,
                                             rw.getI64ArrayAttr({0, 1, 3, 2}));
      rw.replaceAllUsesWith(kCatT.getResult(), presentKey);
      rw.replaceAllUsesWith(vCat.getResult(), attention.getPresentValue());
    }
    return success();
  }
};

} // namespace

void prism::raise::populateRaiseAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseDecomposedAttention>(patterns.getContext());
}
