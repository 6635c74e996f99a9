//===- SwiGlu.cpp -----------------------------------------------------------===//
//
// SwiGLU.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

llvm::Error Codegen::lowerSwiGlu(xfmr::SwiGluOp op) {
  auto ge = values.lookup(op.getGate()), ue = values.lookup(op.getUp());
  if (!ge || !ue || !std::holds_alternative<Act>(*ge) || !std::holds_alternative<Act>(*ue))
    return fail(op, "its operands were not lowered");
  int64_t chip = lead(op);
  Act g = toChip(std::get<Act>(*ge), chip), u = toChip(std::get<Act>(*ue), chip);
  Act out = newAct(g.shape, g.tokenAxis, g.rows);
  for (auto [i, p] : llvm::enumerate(g.pieces)) {
    if (u.pieces[i].cols != p.cols)
      return fail(op, "gate and up are laid out differently");
    // silu(g) = g / (1 + exp(-g))
    Piece sig = unary(p, g.rows, false,
                      [&](Chain &c, int s) {
                        int e = c.vxm("exp", "f32", {c.vxm("neg", "f32", {s})});
                        return c.vxm("recip", "f32", {c.vxm("add", "f32", {e}, 1.0)});
                      },
                      chip);
    Piece silu = binary(p, false, sig, false, g.rows,
                        [&](Chain &c, int a, int b) { return c.vxm("mul", "f32", {a, b}); });
    out.pieces.push_back(binary(silu, false, u.pieces[i], false, g.rows,
                                [&](Chain &c, int a, int b) {
                                  return c.vxm("mul", "f32", {a, b});
                                }));
  }
  values[op.getOutput()] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

/// The chip that runs key/value head `g` of an attention of stage `first`
/// (heads are shared among the stage's chips, as the cache is).

} // namespace prism::lpu::detail
