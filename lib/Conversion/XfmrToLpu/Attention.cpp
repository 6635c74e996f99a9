//===- Attention.cpp --------------------------------------------------------===//
//
// Attention over the KV cache, a key/value head per chip.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

int64_t Codegen::headChip(int64_t first, int64_t g) const { return first + g % tp; }

llvm::Error Codegen::lowerAttention(xfmr::AttentionOp op) {
  if (op.getCausal() || op.getWindow() != 0 || op.getSoftcap().convertToDouble() != 0)
    return fail(op, "causal, windowed or soft-capped attention is not lowered (the "
                    "mask carries causality in Prism's phases)");
  auto qe = values.lookup(op.getQuery()), ke = values.lookup(op.getKey()),
       ve = values.lookup(op.getValue());
  if (!qe || !ke || !ve || !std::holds_alternative<Act>(*qe) ||
      !std::holds_alternative<Act>(*ke) || !std::holds_alternative<Act>(*ve))
    return fail(op, "its operands were not lowered");
  const Act &q = std::get<Act>(*qe), &k = std::get<Act>(*ke), &v = std::get<Act>(*ve);
  auto qShape = op.getQuery().getType().getShape();
  auto kShape = op.getKey().getType().getShape();
  int64_t hq = qShape[1], hkv = kShape[1], d = qShape[3], m = q.rows;
  int64_t half = d / 2;
  if (d % 2 || half > 80 || qShape[0] != 1)
    return fail(op, "head dims above 160 or batches above 1 are not lowered");
  int64_t first = lead(op);
  // The past, from the cache (or none in a prefill).
  const CacheEntry *pastK = nullptr, *pastV = nullptr;
  if (op.getPastKey()) {
    auto pk = values.lookup(op.getPastKey()), pv = values.lookup(op.getPastValue());
    if (pk && std::holds_alternative<CacheEntry>(*pk))
      pastK = &std::get<CacheEntry>(*pk), pastV = &std::get<CacheEntry>(*pv);
    else if (cast<ShapedType>(op.getPastKey().getType()).getDimSize(2) != 0)
      return fail(op, "its past is not the phase's KV cache");
  }
  int64_t past = pastK ? pastK->length : 0, total = past + m;
  auto findHalf = [&](const Act &a, int64_t head, int64_t which) -> const Piece * {
    for (const Piece &p : a.pieces)
      if (!p.cols.empty() && p.cols[0] == head * d + which * half &&
          (int64_t)p.cols.size() == half)
        return &p;
    return nullptr;
  };
  CacheEntry presentK, presentV;
  presentK.length = presentV.length = total;
  std::optional<Act> mask;
  if (op.getMask()) {
    auto me = values.lookup(op.getMask());
    if (!me || !std::holds_alternative<Act>(*me))
      return fail(op, "its mask was not lowered");
    mask = std::get<Act>(*me);
    if (mask->columns() != total)
      return fail(op, "its mask is not one bias per position");
  }
  float lowest = -std::numeric_limits<float>::max();
  int64_t scorePieces = (total + 79) / 80;
  bool padded = total % 80 != 0;
  double scale = op.getScale().convertToDouble();
  Act out = newAct(op.getOutput().getType().getShape(), q.tokenAxis, m);
  std::vector<Piece> outPieces(2 * hq);
  for (int64_t g = 0; g < hkv; ++g) {
    int64_t chip = headChip(first, g);
    // This step's keys and values join the cache (f16, the two halves of a
    // head at lanes 0 and 80).
    CacheHead *heads[2];
    for (auto [kv, act, pastEntry] :
         {std::make_tuple(0, &k, pastK), std::make_tuple(1, &v, pastV)}) {
      CacheHead *head;
      if (pastEntry) {
        head = pastEntry->heads[g];
      } else {
        int64_t address;
        int64_t slice = cacheSlice(chip, total, address);
        cacheHeads.push_back(
            std::make_unique<CacheHead>(CacheHead{chip, slice, address, {}}));
        head = cacheHeads.back().get();
      }
      const Piece *lo0 = findHalf(*act, g, 0), *hi0 = findHalf(*act, g, 1);
      if (!lo0 || !hi0)
        return fail(op, "its keys/values are not laid out in half heads");
      Piece lo = pieceTo(*lo0, m, chip), hi = pieceTo(*hi0, m, chip);
      Chain c = chain(chip);
      int a = c.read1(lo.slice, lo.address, m), b = c.read1(hi.slice, hi.address, m);
      c.write({c.vxm("cvt", "f32", {a, b}, std::nullopt, "f16")}, head->slice,
              head->address + past * kVector);
      join(head->ready, emit(c, joined(lo.ready, hi.ready)));
      (kv == 0 ? presentK : presentV).heads.push_back(head);
      heads[kv] = head;
    }
    CacheHead *kh = heads[0], *vh = heads[1];
    std::optional<Act> maskHere;
    if (mask)
      maskHere = toChip(*mask, chip);
    Piece padding;
    if (padded) {
      padding = newPiece(chip, "f32", std::vector<int64_t>(80, -1), 1);
      std::vector<double> pad(80, 0.0);
      for (int64_t l = total % 80; l < 80; ++l)
        pad[l] = lowest;
      data(chip, padding.slice, padding.address, "f32", pad);
    }
    // The group's query heads share its keys and values: they are the rows
    // (head-major, then tokens) of one pass through scores, softmax and the
    // weighted values.
    int64_t rep = hq / hkv, rows = rep * m;
    std::vector<int64_t> avoidQ = {kh->slice, vh->slice};
    std::vector<std::pair<Piece, Piece>> halves;
    for (int64_t hh = 0; hh < rep; ++hh) {
      const Piece *lo0 = findHalf(q, g * rep + hh, 0), *hi0 = findHalf(q, g * rep + hh, 1);
      if (!lo0 || !hi0)
        return fail(op, "its queries are not laid out in half heads");
      halves.push_back({pieceTo(*lo0, m, chip), pieceTo(*hi0, m, chip)});
      avoidQ.push_back(halves.back().first.slice);
      avoidQ.push_back(halves.back().second.slice);
    }
    Piece q16 = newPiece(chip, "f16", {}, rows, avoidQ);
    for (int64_t hh = 0; hh < rep; ++hh) {
      auto &[lo, hi] = halves[hh];
      Chain c = chain(chip);
      int a = c.read1(lo.slice, lo.address, m), b = c.read1(hi.slice, hi.address, m);
      c.write({c.vxm("cvt", "f32", {a, b}, std::nullopt, "f16")}, q16.slice,
              q16.address + hh * m * kVector);
      join(q16.ready, emit(c, joined(lo.ready, hi.ready)));
    }
    // The mask's rows for every head (a decode's single row broadcasts).
    std::optional<Act> maskRows = maskHere;
    if (maskHere && maskHere->rows > 1 && rep > 1) {
      maskRows->pieces.clear();
      for (const Piece &mp : maskHere->pieces) {
        Piece copy = newPiece(chip, "f32", mp.cols, rows, {mp.slice});
        for (int64_t hh = 0; hh < rep; ++hh) {
          Chain c = chain(chip);
          c.write({c.read1(mp.slice, mp.address, m)}, copy.slice,
                  copy.address + hh * m * kVector);
          join(copy.ready, emit(c, mp.ready));
        }
        maskRows->pieces.push_back(copy);
      }
      maskRows->rows = rows;
    }
    // Scores: keys installed as columns, 320 positions a tile.
    std::vector<Piece> scores;
    for (int64_t t0 = 0; t0 < total; t0 += 320) {
      int64_t n = std::min<int64_t>(320, total - t0);
      int64_t outs = (n + 79) / 80;
      std::vector<Piece> tile = newPieces(chip, "f32", std::vector<std::vector<int64_t>>(outs),
                                          rows, {q16.slice, kh->slice});
      Chain c = chain(chip);
      c.load("f16", /*columns=*/true, {c.read1(kh->slice, kh->address + t0 * kVector, n)});
      auto r = c.matmul("f16", c.read1(q16.slice, q16.address, rows), {}, outs);
      c.write(r, tile[0].slice, tile[0].address);
      Ready done = emit(c, joined(q16.ready, kh->ready));
      for (Piece &p : tile)
        p.ready = done;
      llvm::append_range(scores, tile);
    }
    // scale, + mask (clamped to the lowest float), + padding.
    for (int64_t i = 0; i < scorePieces; ++i) {
      Piece &sc = scores[i];
      if (maskRows) {
        bool mb = maskRows->rows == 1 && rows > 1;
        sc = binary(sc, false, maskRows->pieces[i], mb, rows, [&](Chain &c, int a, int b) {
          int biased = c.vxm("add", "f32", {c.vxm("mul", "f32", {a}, scale), b});
          return c.vxm("max", "f32", {biased}, (double)lowest);
        });
      } else {
        sc = unary(sc, rows, false,
                   [&](Chain &c, int a) { return c.vxm("mul", "f32", {a}, scale); }, chip);
      }
      if (padded && i == scorePieces - 1)
        sc = binary(sc, false, padding, rows > 1, rows,
                    [&](Chain &c, int a, int b) { return c.vxm("add", "f32", {a, b}); });
    }
    // Softmax over the positions.
    Piece mx = reducePieces(scores, rows, "max", [](Chain &, int x) { return x; });
    std::vector<Piece> exps;
    for (const Piece &sc : scores)
      exps.push_back(binary(sc, false, mx, false, rows, [&](Chain &c, int a, int b) {
        return c.vxm("exp", "f32", {c.vxm("sub", "f32", {a, b})});
      }));
    Piece inv = reducePieces(exps, rows, "add",
                             [](Chain &c, int x) { return c.vxm("recip", "f32", {x}); });
    std::vector<Piece> probs;
    for (const Piece &e : exps)
      probs.push_back(binary(e, false, inv, false, rows, [&](Chain &c, int a, int b) {
        return c.vxm("mul", "f32", {a, b});
      }));
    // Weighted values: 160 positions a tile, values installed as rows.
    std::vector<Piece> partial;
    for (int64_t t0 = 0, i = 0; t0 < total; t0 += 160, i += 2) {
      int64_t n = std::min<int64_t>(160, total - t0);
      std::vector<int64_t> avoid16 = {probs[i].slice, vh->slice};
      if (i + 1 < (int64_t)probs.size())
        avoid16.push_back(probs[i + 1].slice);
      for (const Piece &p : partial)
        avoid16.push_back(p.slice);
      Piece p16 = newPiece(chip, "f16", {}, rows, avoid16);
      {
        Chain c = chain(chip);
        int a = c.read1(probs[i].slice, probs[i].address, rows);
        int b;
        Ready ready = probs[i].ready;
        if (i + 1 < (int64_t)probs.size()) {
          b = c.read1(probs[i + 1].slice, probs[i + 1].address, rows);
          join(ready, probs[i + 1].ready);
        } else {
          auto [zs, za] = zeroAt(chip, {probs[i].slice, p16.slice});
          b = c.read1(zs, za, rows, 0);
        }
        c.write({c.vxm("cvt", "f32", {a, b}, std::nullopt, "f16")}, p16.slice, p16.address);
        p16.ready = emit(c, ready);
      }
      std::vector<int64_t> avoid = {p16.slice, vh->slice};
      for (const Piece &p : partial)
        avoid.push_back(p.slice);
      std::vector<Piece> outs =
          newPieces(chip, "f32", std::vector<std::vector<int64_t>>(2), rows, avoid);
      Chain c = chain(chip);
      c.load("f16", /*columns=*/false, {c.read1(vh->slice, vh->address + t0 * kVector, n)});
      std::vector<int> partials;
      Ready ready = joined(p16.ready, vh->ready);
      if (!partial.empty()) {
        partials = c.read(partial[0].slice, partial[0].address, rows, 2);
        join(ready, partial[0].ready);
      }
      auto r = c.matmul("f16", c.read1(p16.slice, p16.address, rows), partials, 2);
      c.write(r, outs[0].slice, outs[0].address);
      Ready done = emit(c, ready);
      for (Piece &p : outs)
        p.ready = done;
      partial = outs;
    }
    // Each head's rows of the result are its output pieces.
    for (int64_t hh = 0; hh < rep; ++hh)
      for (int64_t which = 0; which < 2; ++which) {
        Piece p = partial[which];
        p.address += hh * m * kVector;
        p.cols.resize(half);
        std::iota(p.cols.begin(), p.cols.end(), (g * rep + hh) * d + which * half);
        outPieces[2 * (g * rep + hh) + which] = p;
      }
  }
  out.pieces = outPieces;
  values[op.getOutput()] = std::make_shared<Entry>(out);
  values[op.getPresents()[0]] = std::make_shared<Entry>(presentK);
  values[op.getPresents()[1]] = std::make_shared<Entry>(presentV);
  return llvm::Error::success();
}

} // namespace prism::lpu::detail
