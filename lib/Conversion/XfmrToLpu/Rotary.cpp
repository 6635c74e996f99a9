//===- Rotary.cpp -----------------------------------------------------------===//
//
// Rotary embedding.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

llvm::Error Codegen::lowerRotary(xfmr::RotaryOp op) {
  if (op.getInterleaved())
    return fail(op, "interleaved rotary is not lowered");
  auto xe = values.lookup(op.getInput()), ce = values.lookup(op.getCos()),
       se = values.lookup(op.getSin());
  if (!xe || !ce || !se || !std::holds_alternative<Act>(*xe) ||
      !std::holds_alternative<Act>(*ce) || !std::holds_alternative<Act>(*se))
    return fail(op, "its operands were not lowered");
  int64_t chip = lead(op);
  Act x = toChip(std::get<Act>(*xe), chip);
  Act cosA = toChip(std::get<Act>(*ce), chip), sinA = toChip(std::get<Act>(*se), chip);
  int64_t d = x.shape.back(), half = d / 2;
  // Each piece must be one half of one head; the cos/sin pieces, halves.
  auto headHalf = [&](const Piece &p) -> std::optional<std::pair<int64_t, int64_t>> {
    if ((int64_t)p.cols.size() != half)
      return std::nullopt;
    int64_t c0 = p.cols[0];
    for (auto [l, c] : llvm::enumerate(p.cols))
      if (c != c0 + (int64_t)l)
        return std::nullopt;
    if ((c0 % d) % half != 0)
      return std::nullopt;
    return std::make_pair(c0 / d, (c0 % d) / half);
  };
  auto findHalf = [&](const Act &a, int64_t head, int64_t which) -> const Piece * {
    for (const Piece &p : a.pieces)
      if (auto hh = headHalf(p); hh && hh->first == head && hh->second == which)
        return &p;
    return nullptr;
  };
  Act out = x;
  out.id = nextAct++;
  out.pieces.clear();
  for (const Piece &p : x.pieces) {
    auto hh = headHalf(p);
    if (!hh)
      return fail(op, "its input is not laid out in half heads");
    const Piece *partner = findHalf(x, hh->first, 1 - hh->second);
    const Piece *cosP = findHalf(cosA, 0, hh->second), *sinP = findHalf(sinA, 0, hh->second);
    if (!partner || !cosP || !sinP)
      return fail(op, "cos/sin are not laid out in half heads");
    // first half: x1*cos1 - x2*sin1; second half: x2*cos2 + x1*sin2.
    bool broadcast = cosA.rows == 1 && x.rows > 1;
    Piece a = binary(p, false, *cosP, broadcast, x.rows,
                     [&](Chain &c, int u, int v) { return c.vxm("mul", "f32", {u, v}); });
    Piece b = binary(*partner, false, *sinP, broadcast, x.rows,
                     [&](Chain &c, int u, int v) { return c.vxm("mul", "f32", {u, v}); });
    Piece r = binary(a, false, b, false, x.rows, [&](Chain &c, int u, int v) {
      return c.vxm(hh->second == 0 ? "sub" : "add", "f32", {u, v});
    });
    r.cols = p.cols;
    out.pieces.push_back(r);
  }
  values[op.getOutput()] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

} // namespace prism::lpu::detail
