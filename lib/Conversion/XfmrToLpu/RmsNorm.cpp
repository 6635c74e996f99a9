//===- RmsNorm.cpp ----------------------------------------------------------===//
//
// RMSNorm: a lane reduction per row.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

llvm::Error Codegen::lowerRmsNorm(xfmr::RmsNormOp op) {
  if (op.getResidual())
    return fail(op, "rms_norm with a residual is not lowered");
  auto xEntry = values.lookup(op.getInput());
  auto scale = constant(op.getScale());
  if (!xEntry || !std::holds_alternative<Act>(*xEntry) || !scale)
    return fail(op, "only an activation with a constant scale is lowered");
  int64_t chip = lead(op);
  Act x = toChip(std::get<Act>(*xEntry), chip);
  int64_t h = x.shape.back();
  if (x.columns() != h)
    return fail(op, "normalises rows of more than one vector group");
  double eps = op.getEpsilon().convertToDouble();
  // sum of squares per row -> 1 / sqrt(mean + eps) in every lane.
  std::vector<Piece> squares;
  for (const Piece &p : x.pieces)
    squares.push_back(unary(p, x.rows, false,
                            [&](Chain &c, int s) { return c.vxm("mul", "f32", {s, s}); },
                            chip));
  Piece r = reducePieces(squares, x.rows, "add", [&](Chain &c, int s) {
    int mean = c.vxm("mul", "f32", {s}, 1.0 / h);
    int shifted = c.vxm("add", "f32", {mean}, eps);
    return c.vxm("rsqrt", "f32", {shifted});
  });
  Act out = newAct(x.shape, x.tokenAxis, x.rows);
  Act like = newAct({h}, -1, 1);
  like.pieces = x.pieces;
  Act w = materialize(*scale, like, {h}, -1, 1);
  for (auto [i, p] : llvm::enumerate(x.pieces)) {
    Piece scaled = binary(p, false, r, false, x.rows, [&](Chain &c, int a, int b) {
      return c.vxm("mul", "f32", {a, b});
    });
    out.pieces.push_back(binary(scaled, false, w.pieces[i], x.rows > 1, x.rows,
                                [&](Chain &c, int a, int b) {
                                  return c.vxm("mul", "f32", {a, b});
                                }));
  }
  values[op.getOutput()] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

} // namespace prism::lpu::detail
