//===- Vectors.cpp ----------------------------------------------------------===//
//
// Chains over pieces: elementwise and lane reductions.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

//===----------------------------------------------------------------------===//
// Chains over pieces
//===----------------------------------------------------------------------===//

Piece Codegen::unary(const Piece &a, int64_t rows, bool broadcast,
                     function_ref<int(Chain &, int)> body, int64_t chip) {
  Piece out = newPiece(a.chip, a.dtype, a.cols, rows, {a.slice});
  Chain c = chain(a.chip);
  int x = c.read1(a.slice, a.address, rows, broadcast ? 0 : kVector);
  c.write({body(c, x)}, out.slice, out.address);
  out.ready = emit(c, a.ready);
  return out;
}

Piece Codegen::binary(const Piece &a, bool aBroadcast, const Piece &b, bool bBroadcast,
                      int64_t rows, function_ref<int(Chain &, int, int)> body) {
  Piece out = newPiece(a.chip, a.dtype, a.cols, rows, {a.slice, b.slice});
  Chain c = chain(a.chip);
  Piece bb = b;
  if (a.slice == b.slice && a.address != b.address) {
    // One MEM port per slice: copy b elsewhere first.
    bb = newPiece(b.chip, b.dtype, b.cols, bBroadcast ? 1 : rows, {a.slice});
    Chain copy = chain(b.chip);
    int64_t n = bBroadcast ? 1 : rows;
    copy.write({copy.read1(b.slice, b.address, n)}, bb.slice, bb.address);
    bb.ready = emit(copy, b.ready);
  }
  int x = c.read1(a.slice, a.address, rows, aBroadcast ? 0 : kVector);
  int y = a.slice == bb.slice && a.address == bb.address
              ? x
              : c.read1(bb.slice, bb.address, rows, bBroadcast ? 0 : kVector);
  c.write({body(c, x, y)}, out.slice, out.address);
  out.ready = emit(c, joined(a.ready, bb.ready));
  return out;
}

/// Every lane of `x` becomes the sum (or max) of its 80 f32 lanes:
/// rotations by 40, 20, 10 and 5 combine the lanes of one residue mod 5,
/// then the five residues combine (max: rotations by 1, 2, 1; sum: by 1, 2,
/// 3 and 4 at once). A chain per step, through SRAM, so that no step needs
/// more switch units than the chip has.
Piece Codegen::lanesTree(const Piece &x, int64_t rows, StringRef op) {
  auto step = [&](const Piece &in, ArrayRef<int64_t> shifts) {
    return unary(in, rows, false,
                 [&](Chain &c, int s) {
                   if (shifts.size() == 1) {
                     int rotated = c.sxm("rotate", "f32", shifts[0], s);
                     return c.vxm(op, "f32", {c.vxm("mov", "f32", {s}), rotated});
                   }
                   // x + r1 + r2 + r3 + r4
                   int r1 = c.sxm("rotate", "f32", 1, s), r2 = c.sxm("rotate", "f32", 2, s);
                   int r3 = c.sxm("rotate", "f32", 3, s), r4 = c.sxm("rotate", "f32", 4, s);
                   int a = c.vxm("add", "f32", {c.vxm("mov", "f32", {s}), r1});
                   int b = c.vxm("add", "f32", {r2, r3});
                   int late = c.vxm("mov", "f32", {c.vxm("mov", "f32", {r4})});
                   return c.vxm("add", "f32", {c.vxm("add", "f32", {a, b}), late});
                 },
                 in.chip);
  };
  Piece p = x;
  for (int64_t k : {40, 20, 10, 5})
    p = step(p, {k});
  if (op == "max") {
    for (int64_t k : {1, 2, 1})
      p = step(p, {k});
    return p;
  }
  return step(p, {1, 2, 3, 4});
}

/// The lane-wise `op` (add or max) of the pieces, reduced over the lanes
/// into every lane, then `finish`ed; one piece of rows.
Piece Codegen::reducePieces(const std::vector<Piece> &pieces, int64_t rows, StringRef op,
                            function_ref<int(Chain &, int)> finish) {
  // Fold the pieces pairwise (two reads per chain: any slices).
  Piece acc = pieces.front();
  for (size_t i = 1; i < pieces.size(); ++i)
    acc = binary(acc, false, pieces[i], false, rows,
                 [&](Chain &c, int a, int b) { return c.vxm(op, "f32", {a, b}); });
  Piece tree = lanesTree(acc, rows, op);
  return unary(tree, rows, false, [&](Chain &c, int s) { return finish(c, s); }, tree.chip);
}

} // namespace prism::lpu::detail
