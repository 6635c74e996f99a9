//===- Allocation.cpp -------------------------------------------------------===//
//
// Chains and SRAM: emitting chains, allocating slices, moving pieces.
//
//===----------------------------------------------------------------------===//

#include "Codegen.h"

namespace prism::lpu::detail {

//===----------------------------------------------------------------------===//
// SRAM and data
//===----------------------------------------------------------------------===//

Ready Codegen::emit(Chain &c, ArrayRef<Value> after, Value notBefore) {
  OpBuilder b = OpBuilder::atBlockEnd(&programOp.getBlock());
  auto op = ChainOp::create(b, loc, TokenType::get(b.getContext()), after, notBefore, c.chip);
  op.getBody().push_back(c.block.release());
  return {op.getDone()};
}

/// Values as elements of the vectors' dtype (they are already rounded to
/// it, so the conversion is exact).
static DenseElementsAttr valuesAttr(OpBuilder &b, ArrayRef<double> values, StringRef dtype) {
  int64_t n = values.size();
  if (dtype == "i8" || dtype == "i32") {
    unsigned bits = dtype == "i8" ? 8 : 32;
    SmallVector<APInt> ints;
    for (double v : values)
      ints.push_back(APInt(bits, (int64_t)v, /*isSigned=*/true));
    return DenseElementsAttr::get(RankedTensorType::get({n}, b.getIntegerType(bits)), ints);
  }
  Type type = dtype == "f16" ? (Type)b.getF16Type() : (Type)b.getF32Type();
  SmallVector<APFloat> floats;
  for (double v : values) {
    APFloat f(v);
    bool lost;
    f.convert(cast<FloatType>(type).getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    floats.push_back(f);
  }
  return DenseElementsAttr::get(RankedTensorType::get({n}, type), floats);
}

/// The SRAM contents and the bindings, ahead of the chains.
void Codegen::finishProgram() {
  OpBuilder b = OpBuilder::atBlockBegin(&programOp.getBlock());
  Location at = func.getLoc();
  for (const sim::lpu::Data &d : program.data)
    DataOp::create(b, at, d.chip, d.slice, d.address,
                   cast<DenseIntOrFPElementsAttr>(valuesAttr(b, d.values, d.dtype)));
  auto bind = [&](const sim::lpu::Binding &x, bool output) {
    if (output)
      OutputOp::create(b, at, x.name, x.chip, x.slice, x.address, x.lane, x.dtype, x.offset,
                       x.count, x.repeat, x.offsetStride);
    else
      InputOp::create(b, at, x.name, x.chip, x.slice, x.address, x.lane, x.dtype, x.offset,
                      x.count, x.repeat, x.offsetStride);
  };
  for (const sim::lpu::Binding &x : program.inputs)
    bind(x, false);
  for (const sim::lpu::Binding &x : program.outputs)
    bind(x, true);
  programOp.setTokens(program.machine.tokens);
  programOp.setShapeOnly(program.machine.shapeOnly);
}

int64_t Codegen::allocate(int64_t chip, int64_t slice, int64_t vectors) {
  int64_t &at = top[{chip, slice}];
  int64_t address = at;
  at += vectors * kVector;
  if (at > program.machine.sliceBytes && full.empty())
    full = formatv("lpu: chip {0}'s SRAM is full (slice {1} needs {2} of {3} bytes "
                   "for {4}): use more chips",
                   chip, slice, at, program.machine.sliceBytes,
                   slice < kWeightSlices ? "weights" : "activations and the KV cache")
               .str();
  return address;
}

/// Pieces in consecutive slices at one address, written and read by one
/// MEM instruction over the slices (a matmul's outputs).
std::vector<Piece> Codegen::newPieces(int64_t chip, StringRef dtype,
                                      std::vector<std::vector<int64_t>> cols, int64_t rows,
                                      const std::vector<int64_t> &avoid) {
  int64_t k = cols.size(), lo = kWeightSlices, hi = activationEnd(chip);
  int64_t &next = nextSlice[chip];
  int64_t span = std::max<int64_t>(1, hi - lo);
  for (int64_t tries = 0; tries <= span; ++tries, ++next) {
    int64_t first = lo + next % span;
    if (tries == span) {
      // Out of room: say so (the pass fails with the first such message)
      // and go on in the first activation slices, whose contents no
      // longer matter.
      if (full.empty())
        full = formatv("lpu: chip {0} has no {1} consecutive activation slices free of "
                       "the operands ({2} are left beside the weights and the KV cache): "
                       "use more chips or a shorter context",
                       chip, k, hi - lo)
                   .str();
      first = lo;
    } else if (first + k > hi) {
      continue;
    } else {
      bool clash = false;
      for (int64_t s = first; s < first + k; ++s)
        clash |= llvm::is_contained(avoid, s);
      if (clash)
        continue;
    }
    next += k;
    int64_t address = 0;
    for (int64_t s = first; s < first + k; ++s)
      address = std::max(address, top[{chip, s}]);
    std::vector<Piece> out;
    for (int64_t s = first; s < first + k; ++s) {
      top[{chip, s}] = address;
      Piece p;
      p.chip = chip;
      p.slice = s;
      p.address = allocate(chip, s, rows);
      p.dtype = dtype.str();
      p.cols = std::move(cols[s - first]);
      out.push_back(p);
    }
    return out;
  }
  llvm_unreachable("the last try always allocates");
}

Piece Codegen::newPiece(int64_t chip, StringRef dtype, std::vector<int64_t> cols,
                        int64_t rows, const std::vector<int64_t> &avoid) {
  int64_t activationSlices = activationEnd(chip) - kWeightSlices;
  int64_t &next = nextSlice[chip];
  int64_t slice = kWeightSlices + next % activationSlices;
  for (int64_t tries = 0; tries < activationSlices && llvm::is_contained(avoid, slice);
       ++tries)
    slice = kWeightSlices + (++next) % activationSlices;
  ++next;
  Piece p;
  p.chip = chip;
  p.slice = slice;
  p.address = allocate(chip, slice, rows);
  p.dtype = dtype.str();
  p.cols = std::move(cols);
  return p;
}

void Codegen::data(int64_t chip, int64_t slice, int64_t address, StringRef dtype,
                   std::vector<double> values) {
  if (shapeOnly)
    return;
  // Trailing zeros need no data (SRAM starts as zeros).
  while (!values.empty() && values.back() == 0)
    values.pop_back();
  if (values.empty())
    return;
  // Rounded as the hardware rounds (the simulator's codec), so that the
  // program's typed elements hold them exactly.
  int64_t n = lanes(dtype);
  std::vector<double> exact;
  for (size_t from = 0; from < values.size(); from += n) {
    ArrayRef<double> part = ArrayRef(values).slice(from, std::min<size_t>(n, values.size() - from));
    auto lanesOf = sim::lpu::decodeVector(sim::lpu::encodeVector(part, dtype), dtype);
    exact.insert(exact.end(), lanesOf.begin(), lanesOf.begin() + part.size());
  }
  sim::lpu::Data d;
  d.chip = chip;
  d.slice = slice;
  d.address = address;
  d.dtype = dtype.str();
  d.values = std::move(exact);
  program.data.push_back(std::move(d));
}

/// A zero vector in a slice not in `avoid`.
std::pair<int64_t, int64_t> Codegen::zeroAt(int64_t chip, ArrayRef<int64_t> avoid) {
  for (int64_t slice = kWeightSlices; slice < activationEnd(chip); ++slice) {
    if (llvm::is_contained(avoid, slice))
      continue;
    auto key = chip * 1000 + slice;
    auto it = zeros.find(key);
    if (it == zeros.end())
      it = zeros.insert({key, {slice, allocate(chip, slice, 1)}}).first;
    return it->second;
  }
  if (full.empty())
    full = formatv("lpu: chip {0} has no activation slice left for a zero vector beside the "
                   "weights and the KV cache: use more chips or a shorter context",
                   chip)
               .str();
  return {kWeightSlices, 0};
}

/// Room for `vectors` cache positions in a cache slice (top down).
int64_t Codegen::cacheSlice(int64_t chip, int64_t vectors, int64_t &address) {
  const Machine &m = program.machine;
  int64_t &slice = cacheNext[chip];
  if (slice == 0)
    slice = m.slices - 1;
  if (top[{chip, slice}] + vectors * kVector > m.sliceBytes)
    --slice;
  address = allocate(chip, slice, vectors);
  return slice;
}

Act Codegen::newAct(ArrayRef<int64_t> shape, int tokenAxis, int64_t rows) {
  Act a;
  a.shape.assign(shape.begin(), shape.end());
  a.tokenAxis = tokenAxis;
  a.rows = rows;
  a.id = nextAct++;
  return a;
}

/// A piece's rows moved to `chip` over C2C links (memoised: a piece moves
/// to a chip once).
Piece Codegen::pieceTo(const Piece &p, int64_t rows, int64_t chip) {
  if (p.chip == chip)
    return p;
  auto key = std::make_tuple(p.chip, p.slice, p.address, chip);
  if (auto it = movedPieces.find(key); it != movedPieces.end())
    return it->second;
  Piece moved = newPiece(chip, p.dtype, p.cols, rows);
  for (int64_t r = 0; r < rows; ++r) {
    Chain c = chain(p.chip);
    int s = c.read1(p.slice, p.address + r * kVector, 1);
    int arrived = c.transfer(s, chip);
    c.write({arrived}, moved.slice, moved.address + r * kVector);
    join(moved.ready, emit(c, p.ready));
  }
  movedPieces[key] = moved;
  return moved;
}

/// Every piece of `a` on `chip`.
Act Codegen::toChip(const Act &a, int64_t chip) {
  Act out = a;
  for (Piece &p : out.pieces)
    p = pieceTo(p, a.rows, chip);
  return out;
}

/// The rows as vectors of the MXM's dtype on `chip`: pairs of f32 pieces
/// packed into one f16 vector (lanes 0-79 and 80-159), or four into an i8
/// vector (memoised per chip).
Act Codegen::toMxmDtype(const Act &in, int64_t chip) {
  StringRef dtype = options.weightDtype;
  auto key = std::make_pair(in.id, chip);
  if (auto it = inMxmDtype.find(key); it != inMxmDtype.end())
    return it->second;
  Act a = toChip(in, chip);
  if (llvm::all_of(a.pieces, [&](const Piece &p) { return p.dtype == dtype; }))
    return a;
  int64_t per = dtype == "i8" ? 4 : 2;
  Act out = newAct(a.shape, a.tokenAxis, a.rows);
  for (size_t i = 0; i < a.pieces.size(); i += per) {
    std::vector<const Piece *> group;
    std::vector<Piece> copies; // a piece sharing a slice with another moves
    copies.reserve(per);
    std::vector<int64_t> taken;
    for (size_t k = i; k < std::min(a.pieces.size(), i + per); ++k) {
      const Piece *p = &a.pieces[k];
      if (llvm::is_contained(taken, p->slice)) {
        std::vector<int64_t> avoidCopy = taken;
        for (size_t j = i; j < std::min(a.pieces.size(), i + per); ++j)
          avoidCopy.push_back(a.pieces[j].slice);
        Piece copy = newPiece(chip, p->dtype, p->cols, a.rows, avoidCopy);
        Chain c = chain(chip);
        c.write({c.read1(p->slice, p->address, a.rows)}, copy.slice, copy.address);
        copy.ready = emit(c, p->ready);
        copies.push_back(copy);
        p = &copies.back();
      }
      taken.push_back(p->slice);
      group.push_back(p);
    }
    std::vector<int64_t> cols(lanes(dtype), -1), avoid;
    Ready ready;
    for (auto [k, p] : llvm::enumerate(group)) {
      for (auto [l, col] : llvm::enumerate(p->cols))
        cols[80 * k + l] = col;
      avoid.push_back(p->slice);
      join(ready, p->ready);
    }
    Piece packed = newPiece(chip, dtype, cols, a.rows, avoid);
    Chain c = chain(chip);
    std::vector<int> streams;
    for (const Piece *p : group)
      streams.push_back(c.read1(p->slice, p->address, a.rows));
    // A missing partner reads a zero vector (lanes it does not carry).
    std::vector<int64_t> zeroAvoid = avoid;
    zeroAvoid.push_back(packed.slice);
    while ((int64_t)streams.size() < per) {
      auto [zs, za] = zeroAt(chip, zeroAvoid);
      zeroAvoid.push_back(zs);
      streams.push_back(c.read1(zs, za, a.rows, 0));
    }
    int r = dtype == "i8" ? c.vxm("cvt", "f32", streams, 1.0, "i8")
                          : c.vxm("cvt", "f32", streams, std::nullopt, "f16");
    c.write({r}, packed.slice, packed.address);
    packed.ready = emit(c, ready);
    out.pieces.push_back(packed);
  }
  inMxmDtype[key] = out;
  return out;
}

} // namespace prism::lpu::detail
