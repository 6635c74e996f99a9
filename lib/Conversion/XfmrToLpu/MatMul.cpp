//===- MatMul.cpp -----------------------------------------------------------===//
//
// Matmuls: weight tiles on the MXM.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

llvm::Error Codegen::lowerMatMul(Operation *op) {
  auto xEntry = values.lookup(op->getOperand(0));
  auto w = constant(op->getOperand(1));
  if (!xEntry || !std::holds_alternative<Act>(*xEntry) || !w || w->shape.size() != 2)
    return fail(op, "only activation x constant 2-D weight matmuls are lowered");
  const Act &x = std::get<Act>(*xEntry);
  auto outShape = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  int64_t k = w->shape[0], n = w->shape[1];
  if (x.shape.back() != k)
    return fail(op, "its input's last dim is not the weight's rows");
  StringRef dtype = options.weightDtype;
  StringRef acc = dtype == "i8" ? "i32" : "f32";
  int64_t width = pieceWidthFor(op->getResult(0));
  // Output pieces (each one MXM output stream), shared round robin among
  // the stage's chips four at a time (one weight tile's columns).
  int64_t first = lead(op);
  Act out = newAct(outShape, x.tokenAxis < 0 ? -1 : x.tokenAxis, x.rows);
  std::vector<std::vector<int64_t>> groups;
  for (int64_t c0 = 0; c0 < n; c0 += width) {
    std::vector<int64_t> cols;
    for (int64_t c = c0; c < std::min(n, c0 + width); ++c)
      cols.push_back(c);
    groups.push_back(cols);
  }
  int64_t tiles = (groups.size() + 3) / 4;
  // A matmul's tiles are alike: each starts no earlier than the one before
  // on its chip (a bound that keeps placement linear in the tiles).
  std::map<int64_t, Value> floor;
  for (int64_t tile = 0; tile < tiles; ++tile) {
    int64_t chip = first + tile % tp;
    Act x16 = toMxmDtype(x, chip);
    std::vector<std::vector<int64_t>> tileGroups(groups.begin() + 4 * tile,
                                                 groups.begin() + std::min<int64_t>(groups.size(), 4 * tile + 4));
    int64_t vectors = 80 * (tileGroups.size() - 1) + tileGroups.back().size();
    int64_t perSlice = (vectors + kGroup - 1) / kGroup;
    std::vector<Piece> partial;
    for (auto [kc, xp] : llvm::enumerate(x16.pieces)) {
      // The weight tile: column 80q+l is W[:, group q's column l], row
      // (lane) j is W's row xp.cols[j]; stored as columns across a group of
      // 16 slices.
      // The group of 16 weight slices with the most room.
      int64_t group = 0, lowest = INT64_MAX;
      for (int64_t gi = 0; gi < kWeightSlices / kGroup; ++gi) {
        int64_t used = 0;
        for (int64_t s = 0; s < kGroup; ++s)
          used = std::max(used, top[{chip, gi * kGroup + s}]);
        if (used < lowest)
          lowest = used, group = gi;
      }
      int64_t base = lowest;
      for (int64_t s = 0; s < kGroup; ++s) {
        top[{chip, group * kGroup + s}] = base;
        allocate(chip, group * kGroup + s, perSlice);
      }
      if (!shapeOnly && w->values) {
        for (int64_t j = 0; j < vectors; ++j) {
          int64_t q = j / 80, l = j % 80;
          if (l >= (int64_t)tileGroups[q].size())
            continue;
          int64_t col = tileGroups[q][l];
          std::vector<double> v(lanes(dtype), 0.0);
          for (auto [lane, row] : llvm::enumerate(xp.cols))
            if (row >= 0)
              v[lane] = (*w->values)[row * n + col];
          data(chip, group * kGroup + j % kGroup, base + (j / kGroup) * kVector, dtype, v);
        }
      }
      // The outputs are the next chunk's partial sums, read with its
      // activation.
      std::vector<int64_t> avoid = {xp.slice};
      if (kc + 1 < x16.pieces.size())
        avoid.push_back(x16.pieces[kc + 1].slice);
      for (const Piece &p : partial)
        avoid.push_back(p.slice);
      std::vector<Piece> outs = newPieces(chip, acc, tileGroups, x.rows, avoid);
      Chain c = chain(chip);
      auto weights = c.read(group * kGroup, base, perSlice, kGroup);
      c.load(dtype, /*columns=*/true, weights);
      int act = c.read1(xp.slice, xp.address, x.rows);
      std::vector<int> partials;
      Ready ready = xp.ready;
      if (!partial.empty()) {
        partials = c.read(partial[0].slice, partial[0].address, x.rows, partial.size());
        join(ready, partial[0].ready);
      }
      auto results = c.matmul(dtype, act, partials, outs.size());
      c.write(results, outs[0].slice, outs[0].address);
      Ready done = emit(c, ready, floor[chip]);
      floor[chip] = done.front();
      for (Piece &o : outs)
        o.ready = done;
      partial = outs;
    }
    if (dtype == "i8") {
      // Back to f32 (the static activation scale is 1 in this release).
      for (Piece &p : partial)
        p = unary(p, x.rows, false,
                  [&](Chain &c, int s) { return c.vxm("cvt", "i32", {s}, 1.0, "f32"); },
                  chip);
      for (Piece &p : partial)
        p.dtype = "f32";
    }
    llvm::append_range(out.pieces, partial);
  }
  values[op->getResult(0)] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

} // namespace prism::lpu::detail
