//===- Embedding.cpp --------------------------------------------------------===//
//
// Embedding: table rows gathered.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

//===----------------------------------------------------------------------===//
// Transformer ops
//===----------------------------------------------------------------------===//

llvm::Error Codegen::lowerEmbedding(xfmr::EmbeddingOp op) {
  auto table = constant(op.getTable());
  auto ids = dyn_cast<BlockArgument>(op.getIds());
  if (!table || table->shape.size() != 2 || !ids)
    return fail(op, "only a constant table indexed by a phase input is lowered");
  int64_t rowsOfTable = table->shape[0], d = table->shape[1];
  // A table indexed by positions (rotary cos/sin) needs only the phase's
  // positions: the cache's and this step's.
  if (auto name = func.getArgAttrOfType<StringAttr>(ids.getArgNumber(), "onnx.name");
      name && name.getValue() == "position_ids")
    rowsOfTable = std::min(rowsOfTable, positions);
  auto outShape = op.getType().getShape();
  int64_t width = pieceWidthFor(op.getResult());
  // The table as f16 rows of two result pieces (lanes 0-79 and 80-159),
  // shared among the stage's chips; a slice holds a block of rows, and a
  // row is gathered from every block (the others read zeros) and summed.
  Act idx = input(ids, "i32");
  Act out = newAct(outShape, idx.tokenAxis >= 0 ? idx.tokenAxis : -1, idx.rows);
  int64_t chip0 = lead(op);
  int64_t pieces = (d + width - 1) / width;
  int64_t perSlice = program.machine.sliceBytes / kVector;
  for (int64_t p0 = 0; p0 < pieces; p0 += 2) {
    int64_t chip = chip0 + (p0 / 2) % tp;
    Act where = toChip(idx, chip);
    std::vector<std::vector<int64_t>> cols;
    for (int64_t p = p0; p < std::min(pieces, p0 + 2); ++p) {
      cols.emplace_back();
      for (int64_t c = p * width; c < std::min(d, (p + 1) * width); ++c)
        cols.back().push_back(c);
    }
    struct Block {
      int64_t slice, base, first, rows;
    };
    std::vector<Block> blocks;
    for (int64_t first = 0; first < rowsOfTable; first += perSlice) {
      int64_t rows = std::min(perSlice, rowsOfTable - first);
      // The weight slice with room, least filled first.
      int64_t slice = -1;
      for (int64_t sl = 0; sl < kWeightSlices; ++sl)
        if (top[{chip, sl}] + rows * kVector <= program.machine.sliceBytes &&
            (slice < 0 || top[{chip, sl}] < top[{chip, slice}]))
          slice = sl;
      if (slice < 0)
        return fail(op, formatv("the table does not fit chip {0}'s SRAM", chip).str());
      blocks.push_back({slice, allocate(chip, slice, rows), first, rows});
      if (!shapeOnly && table->values)
        for (int64_t r = 0; r < rows; ++r) {
          std::vector<double> v(160, 0.0);
          for (auto [half, cs] : llvm::enumerate(cols))
            for (auto [l, c] : llvm::enumerate(cs))
              v[80 * half + l] = (*table->values)[(first + r) * d + c];
          data(chip, slice, blocks.back().base + r * kVector, "f16", v);
        }
    }
    std::vector<int64_t> avoid;
    for (const Block &b : blocks)
      avoid.push_back(b.slice);
    std::vector<Piece> results;
    for (auto &cs : cols) {
      results.push_back(newPiece(chip, "f32", cs, out.rows, avoid));
      avoid.push_back(results.back().slice);
    }
    Ready ready;
    for (int64_t r = 0; r < out.rows; ++r) {
      const Piece &id = where.pieces[0];
      Chain c = chain(chip);
      int i = c.read1(id.slice, id.address + r * kVector, 1);
      std::vector<int> rows;
      for (const Block &b : blocks)
        rows.push_back(c.gather(b.slice, b.base, kVector, b.first, b.rows, i));
      // Sum the blocks' vectors, a level at a time (an odd one waits).
      while (rows.size() > 1) {
        std::vector<int> next;
        for (size_t k = 0; k + 1 < rows.size(); k += 2)
          next.push_back(c.vxm("add", "f16", {rows[k], rows[k + 1]}));
        if (rows.size() % 2)
          next.push_back(c.vxm("mov", "f16", {rows.back()}));
        rows = next;
      }
      for (auto [half, piece] : llvm::enumerate(results))
        c.write({c.vxm("cvt", "f16", {rows[0]}, (double)half, "f32")}, piece.slice,
                piece.address + r * kVector);
      join(ready, emit(c, id.ready));
    }
    for (Piece &piece : results) {
      piece.ready = ready;
      out.pieces.push_back(piece);
    }
  }
  values[op.getResult()] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

} // namespace prism::lpu::detail
