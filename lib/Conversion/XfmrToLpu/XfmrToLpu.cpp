//===- XfmrToLpu.cpp - Lower a phase to lpu chains -------------------------===//
//
// Activations live in SRAM as pieces: one vector per row (token) of up to a
// vector's lanes, each lane carrying a known column of the tensor (the
// columns are the flat index over every axis but the token axis). Layout
// ops (reshape, transpose, unsqueeze, slices of the cache) only rename
// columns; compute ops become lpu.chain ops: MEM reads, vector/switch/matrix
// instructions and MEM writes that lpu-schedule places in time, each chain
// after the chains that wrote what it reads (its tokens). Matmuls convert
// their input to f16 (or i8) vectors, install weight tiles of 320 columns
// on the MXM (16 slices feed a load in parallel) and accumulate the K
// chunks through the partial-sum streams; reductions over a row (norms,
// softmax) rotate lanes on the SXM.
//
//===----------------------------------------------------------------------===//

#include "prism/Conversion/XfmrToLpu/XfmrToLpu.h"

#include "prism/Dialect/Lpu/LpuDialect.h"
#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <numeric>
#include <variant>

using namespace mlir;
using namespace prism::lpu;
using prism::lpu::LpuOptions;
namespace sim = prism::sim;
using sim::lpu::Machine;
using sim::lpu::Program;
namespace xfmr = prism::xfmr;
using llvm::Expected;
using llvm::formatv;
using llvm::StringRef;

namespace {

constexpr int64_t kVector = sim::lpu::kVectorBytes;
constexpr int64_t kWeightSlices = 64; // slices 0..63 hold weights, 16 per group
constexpr int64_t kGroup = 16;

int64_t lanes(StringRef dtype) { return sim::lpu::lanes(dtype); }

int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), (int64_t)1, std::multiplies<>());
}

/// The chains a value waits for: its tokens (a piece is ready when all of
/// them are done).
using Ready = SmallVector<Value, 2>;

void join(Ready &into, ArrayRef<Value> from) {
  for (Value v : from)
    if (!llvm::is_contained(into, v))
      into.push_back(v);
}
Ready joined(Ready a, ArrayRef<Value> b) {
  join(a, b);
  return a;
}

/// Builds one lpu.chain's instructions (Codegen::emit adds the chain op).
/// Streams are named by small integers, as the lowering's helpers pass them
/// around.
class Chain {
public:
  Chain(MLIRContext *context, int64_t chip, Location loc)
      : block(std::make_unique<Block>()), b(context), chip(chip), loc(loc),
        streamType(StreamType::get(context)) {
    b.setInsertionPointToEnd(block.get());
  }

  /// MEM: `width` slices from `slice` read `count` vectors each from
  /// `address` (advancing `stride` bytes a cycle); one stream per slice.
  std::vector<int> read(int64_t slice, int64_t address, int64_t count, int64_t width = 1,
                        int64_t stride = kVector, int64_t onChip = -1) {
    auto op = ReadOp::create(b, loc, SmallVector<Type>(width, streamType),
                             onChip < 0 ? chip : onChip, slice, address, count, stride, -1,
                             -1, -1, nullptr);
    return add(op->getResults());
  }
  int read1(int64_t slice, int64_t address, int64_t count, int64_t stride = kVector,
            int64_t onChip = -1) {
    return read(slice, address, count, 1, stride, onChip)[0];
  }
  void write(const std::vector<int> &in, int64_t slice, int64_t address,
             int64_t stride = kVector) {
    WriteOp::create(b, loc, values(in), slice, address, stride, -1, -1, -1, nullptr);
  }
  /// Rows [first, first + rows) of a table, `bytesPerIndex` apart from
  /// `base`; an index outside them reads zeros.
  int gather(int64_t slice, int64_t base, int64_t bytesPerIndex, int64_t first,
             int64_t rows, int index) {
    return add(GatherOp::create(b, loc, streamType, streams[index], slice, base,
                                bytesPerIndex, first, rows, -1, -1, -1, nullptr)
                   ->getResults())[0];
  }
  int vxm(StringRef op, StringRef dtype, const std::vector<int> &in,
          std::optional<double> immediate = std::nullopt, StringRef toDtype = "",
          int64_t param = 0) {
    FloatAttr imm = immediate ? b.getF64FloatAttr(*immediate) : FloatAttr();
    return add(VxmOp::create(b, loc, streamType, values(in), op, dtype, toDtype, imm, param,
                             -1, -1, -1, nullptr)
                   ->getResults())[0];
  }
  int sxm(StringRef op, StringRef dtype, int64_t param, int in) {
    return add(SxmOp::create(b, loc, streamType, streams[in], op, dtype, param, -1, -1, -1,
                             nullptr)
                   ->getResults())[0];
  }
  /// MXM: install a weight tile (rows or columns) from `in`.
  void load(StringRef dtype, bool columns, const std::vector<int> &in) {
    LoadOp::create(b, loc, values(in), dtype, columns, -1, -1, -1, nullptr);
  }
  /// One activation stream against the loaded tile, plus partial sums;
  /// `outputs` streams of 80 columns each.
  std::vector<int> matmul(StringRef dtype, int activation, const std::vector<int> &partials,
                          int64_t outputs) {
    auto op = MatmulOp::create(b, loc, SmallVector<Type>(outputs, streamType),
                               streams[activation], values(partials), dtype, -1, -1, -1,
                               nullptr);
    return add(op->getResults());
  }
  /// C2C: the stream's vectors sent to `toChip`, arriving there on a stream.
  int transfer(int stream, int64_t toChip) {
    return add(TransferOp::create(b, loc, streamType, streams[stream], toChip, -1, -1, -1,
                                  nullptr)
                   ->getResults())[0];
  }

private:
  friend class Codegen;
  std::vector<int> add(ResultRange results) {
    std::vector<int> ids;
    for (Value v : results) {
      ids.push_back(streams.size());
      streams.push_back(v);
    }
    return ids;
  }
  SmallVector<Value> values(const std::vector<int> &ids) {
    SmallVector<Value> vs;
    for (int id : ids)
      vs.push_back(streams[id]);
    return vs;
  }

  std::unique_ptr<Block> block;
  OpBuilder b;
  int64_t chip;
  Location loc;
  Type streamType;
  std::vector<Value> streams;
};

/// One vector per row in one slice; lane l carries column cols[l] (-1: none).
struct Piece {
  int64_t chip = 0, slice = 0, address = 0;
  std::string dtype = "f32";
  std::vector<int64_t> cols;
  Ready ready;
};

/// A tensor in SRAM: `rows` tokens (the token axis, or one row), columns
/// the flat index over the other axes.
struct Act {
  SmallVector<int64_t> shape;
  int tokenAxis = -1;
  int64_t rows = 1;
  std::vector<Piece> pieces;
  int64_t id = 0; // for memoised conversions and transfers
  int64_t columns() const {
    int64_t n = 1;
    for (auto [i, d] : llvm::enumerate(shape))
      if ((int)i != tokenAxis)
        n *= d;
    return n;
  }
};

/// A constant: values (absent for shape-only weights) and shape.
struct Const {
  SmallVector<int64_t> shape;
  std::shared_ptr<std::vector<float>> values; // null: shape only
};

/// The positions of one key or value head of one layer's cache: an f16
/// vector per position, the head's dims packed as its pieces were.
struct CacheHead {
  int64_t chip, slice, address;
  Ready ready;
};
struct CacheEntry {
  std::vector<CacheHead *> heads;
  int64_t from = 0, length = 0; // positions [from, from + length)
};

/// A binding of flat elements [offset + i * stride, + count) to lanes
/// [lane, lane + count) of the vector at address + i * 320, i < repeat.
sim::lpu::Binding binding(StringRef name, int64_t offset, int64_t count, int64_t chip,
                          int64_t slice, int64_t address, int64_t lane, StringRef dtype,
                          int64_t repeat, int64_t stride) {
  sim::lpu::Binding b;
  b.name = name.str();
  b.offset = offset;
  b.count = count;
  b.chip = chip;
  b.slice = slice;
  b.address = address;
  b.lane = lane;
  b.dtype = dtype.str();
  b.repeat = repeat;
  b.offsetStride = stride;
  return b;
}

/// Positions [from, from + len) of key/value head `g` as elements of the
/// flat cache tensor [entries, heads, len, d], entry = layer * 2 + (0 key,
/// 1 value): the head's two halves sit at lanes 0 and 80.
void bindCacheHead(std::vector<sim::lpu::Binding> &list, StringRef name, int64_t entry,
                   int64_t heads, int64_t g, int64_t len, int64_t d, const CacheHead &head,
                   int64_t from) {
  for (int64_t which = 0; which < 2; ++which)
    list.push_back(binding(name, (entry * heads + g) * len * d + which * (d / 2), d / 2,
                           head.chip, head.slice, head.address + from * kVector,
                           which * 80, "f16", len, d));
}

using Entry = std::variant<Act, Const, CacheEntry>;

class Codegen {
public:
  Codegen(func::FuncOp func, const LpuOptions &options)
      : func(func), options(options), loc(func.getLoc()) {
    program.machine = options.machine;
    program.machine.chips = options.chips;
  }
  Expected<ProgramOp> run();
  /// Erases the partly built program (after a failed run).
  void discard() {
    if (programOp)
      programOp.erase();
  }

private:
  // An op's error is an MLIR diagnostic at the op (the driver's handler
  // names its ONNX node); the error returned only says it was reported.
  llvm::Error fail(Operation *op, const Twine &why) {
    op->emitError() << "cannot lower '" << op->getName() << "' to the LPU: " << why;
    return llvm::createStringError("");
  }

  // Chains: built by a Chain, added to the program after the chains of
  // `after` (and starting no earlier than `notBefore` starts).
  Chain chain(int64_t chip) { return Chain(func.getContext(), chip, loc); }
  Ready emit(Chain &c, ArrayRef<Value> after, Value notBefore = {});
  void finishProgram();

  // SRAM allocation.
  int64_t allocate(int64_t chip, int64_t slice, int64_t vectors);
  Piece newPiece(int64_t chip, StringRef dtype, std::vector<int64_t> cols, int64_t rows,
                 const std::vector<int64_t> &avoid = {});
  std::vector<Piece> newPieces(int64_t chip, StringRef dtype,
                               std::vector<std::vector<int64_t>> cols, int64_t rows,
                               const std::vector<int64_t> &avoid);
  void data(int64_t chip, int64_t slice, int64_t address, StringRef dtype,
            std::vector<double> values);

  // Building blocks.
  Act newAct(ArrayRef<int64_t> shape, int tokenAxis, int64_t rows);
  Act toChip(const Act &a, int64_t chip);
  Act toMxmDtype(const Act &a, int64_t chip);
  Act materialize(const Const &c, const Act &like, ArrayRef<int64_t> shape, int tokenAxis,
                  int64_t rows);
  std::pair<int64_t, int64_t> zeroAt(int64_t chip, ArrayRef<int64_t> avoid);
  int64_t cacheSlice(int64_t chip, int64_t vectors, int64_t &address);
  Piece unary(const Piece &a, int64_t rows, bool broadcast,
              function_ref<int(Chain &, int)> body, int64_t chip);
  Piece binary(const Piece &a, bool aBroadcast, const Piece &b, bool bBroadcast,
               int64_t rows, function_ref<int(Chain &, int, int)> body);
  Piece lanesTree(const Piece &x, int64_t rows, StringRef reduce);
  Piece reducePieces(const std::vector<Piece> &pieces, int64_t rows, StringRef op,
                     function_ref<int(Chain &, int)> finish);

  // Ops.
  llvm::Error lowerElementwise(Operation *op);
  llvm::Error lowerMatMul(Operation *op);
  llvm::Error lowerEmbedding(xfmr::EmbeddingOp op);
  llvm::Error lowerRmsNorm(xfmr::RmsNormOp op);
  llvm::Error lowerRotary(xfmr::RotaryOp op);
  llvm::Error lowerSwiGlu(xfmr::SwiGluOp op);
  llvm::Error lowerAttention(xfmr::AttentionOp op);
  Piece pieceTo(const Piece &p, int64_t rows, int64_t chip);
  int64_t headChip(int64_t first, int64_t g) const;
  llvm::Error lowerLayout(Operation *op);
  llvm::Error bindOutputs(func::ReturnOp ret);

  Act input(BlockArgument arg, StringRef dtype);
  std::optional<Const> constant(Value v);
  int64_t pieceWidthFor(Value result);
  int64_t stageOf(Operation *op) const {
    auto it = stage.find(op);
    return it == stage.end() ? 0 : it->second;
  }
  int64_t lead(Operation *op) const { return stageOf(op) * tp; }

  func::FuncOp func;
  LpuOptions options;
  Program program; // the machine, SRAM contents and bindings
  ProgramOp programOp;
  Location loc; // of the op being lowered
  int64_t tokens = 1;    // rows of the phase's activations
  int64_t positions = 1; // positions a phase can see (cache and tokens)
  int64_t tp = 1;
  bool shapeOnly = false;
  DenseMap<Value, std::shared_ptr<Entry>> values;
  DenseMap<Operation *, int64_t> stage;
  std::map<std::pair<int64_t, int64_t>, Act> inMxmDtype; // (act id, chip)
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, Piece> movedPieces;
  std::map<std::pair<unsigned, std::string>, Act> inputs;
  std::vector<std::unique_ptr<CacheHead>> cacheHeads;
  // Bump allocation: per chip and slice, the next free byte; activation
  // slices are used round robin so operands sit in different slices.
  std::map<std::pair<int64_t, int64_t>, int64_t> top;
  std::map<int64_t, int64_t> nextSlice, nextGroup;
  int64_t nextAct = 1;
  std::string full; // the first SRAM overflow
  // KV cache regions fill slices from the top down; activations use the
  // slices between the weights and them.
  std::map<int64_t, int64_t> cacheSlicesOf, cacheNext;
  std::map<int64_t, std::pair<int64_t, int64_t>> zeros;
  int64_t activationEnd(int64_t chip) {
    return program.machine.slices - cacheSlicesOf[chip];
  }
};

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
  int64_t span = hi - lo;
  for (int64_t tries = 0; tries < span; ++tries, ++next) {
    int64_t first = lo + next % span;
    if (first + k > hi)
      continue;
    bool clash = false;
    for (int64_t s = first; s < first + k; ++s)
      clash |= llvm::is_contained(avoid, s);
    if (clash)
      continue;
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
  llvm::report_fatal_error("lpu: no consecutive activation slices free of the operands");
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
  llvm::report_fatal_error("lpu: no slice for a zero vector");
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

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

std::optional<Const> Codegen::constant(Value v) {
  auto it = values.find(v);
  if (it != values.end())
    if (auto *c = std::get_if<Const>(it->second.get()))
      return *c;
  return std::nullopt;
}

static std::shared_ptr<std::vector<float>> floatsOf(Attribute attr) {
  auto type = dyn_cast<ShapedType>(cast<TypedAttr>(attr).getType());
  if (!type)
    return nullptr;
  Type elt = type.getElementType();
  int64_t n = type.getNumElements();
  if (!isa<DenseElementsAttr, DenseResourceElementsAttr>(attr))
    return nullptr; // external data: shape only
  auto out = std::make_shared<std::vector<float>>(n);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (isa<FloatType>(elt)) {
      int64_t i = 0;
      for (APFloat x : dense.getValues<APFloat>())
        (*out)[i++] = x.convertToDouble();
    } else if (isa<IntegerType>(elt)) {
      int64_t i = 0;
      for (APInt x : dense.getValues<APInt>())
        (*out)[i++] = (float)x.getSExtValue();
    } else {
      return nullptr;
    }
    return out;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getRawHandle().getBlob())
    return nullptr;
  ArrayRef<char> raw = resource.getRawHandle().getBlob()->getData();
  if (elt.isF32() && (int64_t)raw.size() == 4 * n) {
    memcpy(out->data(), raw.data(), raw.size());
  } else if (elt.isF16() && (int64_t)raw.size() == 2 * n) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits;
      memcpy(&bits, raw.data() + 2 * i, 2);
      (*out)[i] = APFloat(APFloat::IEEEhalf(), APInt(16, bits)).convertToFloat();
    }
  } else if (elt.isInteger(64) && (int64_t)raw.size() == 8 * n) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t x;
      memcpy(&x, raw.data() + 8 * i, 8);
      (*out)[i] = (float)x;
    }
  } else {
    return nullptr;
  }
  return out;
}

/// The function argument as an activation in `dtype` (integer arguments are
/// read by gathers as i32 in lane 0 of a vector per token, and by the mask
/// arithmetic as f32 columns).
Act Codegen::input(BlockArgument arg, StringRef dtype) {
  auto key = std::make_pair(arg.getArgNumber(), dtype.str());
  if (auto it = inputs.find(key); it != inputs.end())
    return it->second;
  auto type = cast<RankedTensorType>(arg.getType());
  int tokenAxis = -1;
  if (auto names = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), "onnx.dim_names"))
    for (auto [i, n] : llvm::enumerate(names))
      if (auto s = dyn_cast<StringAttr>(n); s && s.getValue() == "sequence_length" &&
                                             type.getDimSize(i) == tokens && tokens > 1)
        tokenAxis = i;
  int64_t rows = tokenAxis >= 0 ? tokens : 1;
  Act a = newAct(type.getShape(), tokenAxis, rows);
  std::string name = "arg" + std::to_string(arg.getArgNumber());
  if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name"))
    name = n.getValue().str();
  int64_t columns = a.columns();
  int64_t chip = 0;
  auto bind = [&](const Piece &p, int64_t lane, int64_t col, int64_t count) {
    program.inputs.push_back(binding(name, col, count, p.chip, p.slice, p.address, lane,
                                     p.dtype, rows, columns));
  };
  if (dtype == "i32") {
    // One vector per element (lane 0), the gather's index.
    for (int64_t col = 0; col < columns; ++col) {
      Piece p = newPiece(chip, "i32", {col}, rows);
      bind(p, 0, col, 1);
      a.pieces.push_back(p);
    }
  } else {
    for (int64_t col = 0; col < columns; col += 80) {
      int64_t n = std::min<int64_t>(80, columns - col);
      std::vector<int64_t> cols(n);
      std::iota(cols.begin(), cols.end(), col);
      Piece p = newPiece(chip, "f32", cols, rows);
      bind(p, 0, col, n);
      a.pieces.push_back(p);
    }
  }
  inputs[key] = a;
  return a;
}

/// Columns of a matmul's result grouped per piece: half a head when the
/// result feeds rotary or attention through layout and elementwise ops (so
/// rotate-half pairs whole pieces and heads stay whole), else 80.
int64_t Codegen::pieceWidthFor(Value result) {
  SmallVector<Value> work = {result};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      StringRef name = user->getName().getStringRef();
      // Layout ops and elementwise ones (a projection's bias, a cast) keep
      // the pieces.
      if (name == "onnx.Reshape" || name == "onnx.Transpose" || name == "onnx.Unsqueeze" ||
          name == "onnx.Squeeze" || name == "onnx.Add" || name == "onnx.Sub" ||
          name == "onnx.Mul" || name == "onnx.Div" || name == "onnx.Cast") {
        work.push_back(user->getResult(0));
        continue;
      }
      if (isa<xfmr::RotaryOp, xfmr::AttentionOp>(user)) {
        int64_t headDim = cast<RankedTensorType>(user->getOperand(0).getType()).getShape().back();
        if (headDim % 2 == 0 && headDim / 2 <= 80)
          return headDim / 2;
      }
    }
  }
  return 80;
}

//===----------------------------------------------------------------------===//
// Layout ops: columns renamed, no data moved
//===----------------------------------------------------------------------===//

/// Multi-index helpers over a shape, skipping the token axis.
static SmallVector<int64_t> unflatten(int64_t flat, ArrayRef<int64_t> shape, int skip) {
  SmallVector<int64_t> idx(shape.size(), 0);
  for (int i = shape.size() - 1; i >= 0; --i) {
    if (i == skip)
      continue;
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}
static int64_t flatten(ArrayRef<int64_t> idx, ArrayRef<int64_t> shape, int skip) {
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    if ((int)i != skip)
      flat = flat * shape[i] + idx[i];
  return flat;
}

/// The token axis of a reshape's result: an axis of `rows` elements with
/// only 1s before it (the flat order is token-major).
static int tokenAxisOf(ArrayRef<int64_t> shape, int64_t rows) {
  if (rows == 1)
    return -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == rows)
      return i;
    if (shape[i] != 1)
      return -2;
  }
  return -2;
}

llvm::Error Codegen::lowerLayout(Operation *op) {
  Value in = op->getOperand(0);
  auto entry = values.lookup(in);
  if (!entry)
    return fail(op, "its input was not lowered");
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  ArrayRef<int64_t> outShape = outType.getShape();
  if (auto *c = std::get_if<Const>(entry.get())) {
    Const out = *c;
    if (op->getName().getStringRef() == "onnx.Transpose")
      return fail(op, "transposed constants are not lowered");
    out.shape.assign(outShape.begin(), outShape.end());
    values[op->getResult(0)] = std::make_shared<Entry>(out);
    return llvm::Error::success();
  }
  if (auto *cache = std::get_if<CacheEntry>(entry.get())) {
    // A slice of the presents along the positions: the new entries.
    auto slice = dyn_cast<tensor::ExtractSliceOp>(op);
    if (!slice)
      return fail(op, "only slices of a cache along its positions are lowered");
    CacheEntry out = *cache;
    auto offsets = slice.getStaticOffsets();
    out.from = cache->from + offsets[2];
    out.length = outShape[2];
    values[op->getResult(0)] = std::make_shared<Entry>(out);
    return llvm::Error::success();
  }
  Act a = std::get<Act>(*entry);
  Act out = a;
  out.id = nextAct++;
  out.shape.assign(outShape.begin(), outShape.end());
  StringRef name = op->getName().getStringRef();
  if (name == "onnx.Transpose") {
    SmallVector<int64_t> perm;
    for (Attribute p : cast<ArrayAttr>(op->getAttr("perm")))
      perm.push_back(cast<IntegerAttr>(p).getInt());
    int tokenOut = -1;
    for (auto [i, p] : llvm::enumerate(perm))
      if (p == a.tokenAxis)
        tokenOut = i;
    out.tokenAxis = a.tokenAxis < 0 ? -1 : tokenOut;
    for (Piece &p : out.pieces)
      for (int64_t &col : p.cols) {
        if (col < 0)
          continue;
        auto idx = unflatten(col, a.shape, a.tokenAxis);
        SmallVector<int64_t> moved(perm.size());
        for (auto [i, pi] : llvm::enumerate(perm))
          moved[i] = idx[pi];
        col = flatten(moved, out.shape, out.tokenAxis);
      }
  } else {
    // Reshape, unsqueeze, squeeze: the flat order is kept; the token axis
    // must stay outermost.
    int axis = tokenAxisOf(outShape, a.rows);
    if (axis == -2 || (a.tokenAxis >= 0 && !llvm::all_of(ArrayRef(a.shape).take_front(a.tokenAxis),
                                                         [](int64_t d) { return d == 1; })))
      return fail(op, "the tokens would not stay an outer axis");
    out.tokenAxis = axis;
  }
  out.shape.assign(outShape.begin(), outShape.end());
  values[op->getResult(0)] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// `c` broadcast to `shape` (token axis `tokenAxis`, `rows` rows) in the
/// piece layout of `like`, as data.
Act Codegen::materialize(const Const &c, const Act &like, ArrayRef<int64_t> shape,
                         int tokenAxis, int64_t rows) {
  Act out = newAct(shape, tokenAxis, rows);
  for (const Piece &lp : like.pieces) {
    Piece p = newPiece(lp.chip, "f32", lp.cols, rows, {lp.slice});
    p.ready.clear();
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> v(lp.cols.size(), 0.0);
      for (auto [l, col] : llvm::enumerate(lp.cols)) {
        if (col < 0 || !c.values)
          continue;
        auto idx = unflatten(col, shape, tokenAxis);
        if (tokenAxis >= 0)
          idx[tokenAxis] = r;
        // Right-aligned broadcast into the constant's shape.
        int64_t flat = 0, off = shape.size() - c.shape.size();
        for (size_t i = 0; i < c.shape.size(); ++i)
          flat = flat * c.shape[i] + (c.shape[i] == 1 ? 0 : idx[off + i]);
        v[l] = (*c.values)[flat];
      }
      data(p.chip, p.slice, p.address + r * kVector, "f32", v);
    }
    out.pieces.push_back(p);
  }
  return out;
}

/// Ops of constants only (the causal mask a phase builds from Range, Less
/// and Where) are evaluated here.
static std::optional<Const> fold(Operation *op, ArrayRef<const Const *> in) {
  StringRef name = op->getName().getStringRef();
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  for (const Const *c : in)
    if (!c->values)
      return std::nullopt;
  Const out;
  out.shape.assign(type.getShape().begin(), type.getShape().end());
  int64_t n = product(out.shape);
  out.values = std::make_shared<std::vector<float>>(n);
  std::vector<float> &r = *out.values;
  if (name == "onnx.Range" && in.size() == 3) {
    for (int64_t i = 0; i < n; ++i)
      r[i] = (*in[0]->values)[0] + i * (*in[2]->values)[0];
    return out;
  }
  // Elementwise with numpy broadcasting.
  auto at = [&](const Const &c, int64_t flat) {
    SmallVector<int64_t> idx = unflatten(flat, out.shape, -1);
    int64_t off = out.shape.size() - c.shape.size(), f = 0;
    for (size_t i = 0; i < c.shape.size(); ++i)
      f = f * c.shape[i] + (c.shape[i] == 1 ? 0 : idx[off + i]);
    return (*c.values)[f];
  };
  for (int64_t i = 0; i < n; ++i) {
    if (name == "onnx.Less" && in.size() == 2)
      r[i] = at(*in[0], i) < at(*in[1], i);
    else if (name == "onnx.Greater" && in.size() == 2)
      r[i] = at(*in[0], i) > at(*in[1], i);
    else if (name == "onnx.Equal" && in.size() == 2)
      r[i] = at(*in[0], i) == at(*in[1], i);
    else if (name == "onnx.Where" && in.size() == 3)
      r[i] = at(*in[0], i) != 0 ? at(*in[1], i) : at(*in[2], i);
    else if (name == "onnx.Add" && in.size() == 2)
      r[i] = at(*in[0], i) + at(*in[1], i);
    else if (name == "onnx.Sub" && in.size() == 2)
      r[i] = at(*in[0], i) - at(*in[1], i);
    else if (name == "onnx.Mul" && in.size() == 2)
      r[i] = at(*in[0], i) * at(*in[1], i);
    else
      return std::nullopt;
  }
  return out;
}

llvm::Error Codegen::lowerElementwise(Operation *op) {
  StringRef name = op->getName().getStringRef();
  auto outShape = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  if (name == "onnx.Cast") {
    auto entry = values.lookup(op->getOperand(0));
    if (entry && std::holds_alternative<Const>(*entry)) {
      values[op->getResult(0)] = entry; // values are kept as floats
      return llvm::Error::success();
    }
    // Integer inputs are bound as f32 columns where arithmetic reads them.
    if (auto arg = dyn_cast<BlockArgument>(op->getOperand(0))) {
      Act a = input(arg, "f32");
      values[op->getResult(0)] = std::make_shared<Entry>(a);
      return llvm::Error::success();
    }
    // Activations stay f32 in SRAM (wider than an f16 graph computes).
    if (entry && std::holds_alternative<Act>(*entry) &&
        isa<FloatType>(cast<RankedTensorType>(op->getResult(0).getType()).getElementType())) {
      values[op->getResult(0)] = entry;
      return llvm::Error::success();
    }
    return fail(op, "only casts of integer inputs and between float types are lowered");
  }
  auto lhs = values.lookup(op->getOperand(0)), rhs = values.lookup(op->getOperand(1));
  if (!lhs || !rhs)
    return fail(op, "an operand was not lowered");
  for (auto *side : {&lhs, &rhs})
    if (auto *act = std::get_if<Act>(side->get()))
      *side = std::make_shared<Entry>(toChip(*act, lead(op)));
  Act *a = std::get_if<Act>(lhs.get()), *b = std::get_if<Act>(rhs.get());
  bool swapped = false;
  if (!a) {
    std::swap(a, b);
    std::swap(lhs, rhs);
    swapped = true;
  }
  if (!a)
    return fail(op, "both operands are constants (fold them first)");
  // The main operand carries every column of the result.
  if (b && b->columns() > a->columns()) {
    std::swap(a, b);
    std::swap(lhs, rhs);
    swapped = !swapped;
  }
  if (a->columns() != product(outShape) / (a->tokenAxis >= 0 ? a->rows : 1) &&
      !(a->tokenAxis < 0 && product(outShape) == a->columns() * tokens))
    return fail(op, "broadcasting along the columns of its larger operand");
  int tokenAxis = -1;
  int64_t rows = 1;
  int offset = outShape.size() - a->shape.size();
  if (a->tokenAxis >= 0) {
    tokenAxis = a->tokenAxis + offset;
    rows = a->rows;
  } else if (tokens > 1 && product(outShape) == a->columns() * tokens) {
    // The other operand adds the token axis (a causal mask over a padding
    // mask): the axis of `tokens` where the main operand has 1.
    for (size_t i = 0; i < outShape.size(); ++i)
      if (outShape[i] == tokens && ((int)i < offset || a->shape[i - offset] == 1)) {
        tokenAxis = i;
        break;
      }
    rows = tokens;
  }
  // Rename the main operand's columns for the result shape.
  Act main = *a;
  std::vector<std::vector<int64_t>> cols;
  SmallVector<int64_t> aligned(outShape.size(), 1);
  for (size_t i = 0; i < a->shape.size(); ++i)
    aligned[offset + i] = a->shape[i];
  int alignedToken = a->tokenAxis >= 0 ? a->tokenAxis + offset : -1;
  for (const Piece &p : main.pieces) {
    std::vector<int64_t> c;
    for (int64_t col : p.cols) {
      if (col < 0) {
        c.push_back(-1);
        continue;
      }
      auto idx = unflatten(col, aligned, alignedToken);
      if (tokenAxis >= 0 && alignedToken < 0)
        idx[tokenAxis] = 0;
      c.push_back(flatten(idx, outShape, tokenAxis));
    }
    cols.push_back(c);
  }
  Act out = newAct(outShape, tokenAxis, rows);
  bool mainBroadcast = main.rows == 1 && rows > 1;
  std::string opName = name.drop_front(5).lower();
  auto constRhs = std::get_if<Const>(rhs.get());
  for (auto [i, p] : llvm::enumerate(main.pieces)) {
    Piece renamed = p;
    renamed.cols = cols[i];
    Piece result;
    if (constRhs && product(constRhs->shape) == 1) {
      if (!constRhs->values)
        return fail(op, "its scalar operand has no value");
      double k = (*constRhs->values)[0];
      result = unary(renamed, rows, mainBroadcast,
                     [&](Chain &c, int x) {
                       if (opName == "add")
                         return c.vxm("add", "f32", {x}, k);
                       if (opName == "mul")
                         return c.vxm("mul", "f32", {x}, k);
                       if (opName == "div")
                         return c.vxm("mul", "f32", {x}, 1.0 / k);
                       // sub: x - k, or k - x when the constant came first
                       if (!swapped)
                         return c.vxm("add", "f32", {x}, -k);
                       return c.vxm("add", "f32", {c.vxm("neg", "f32", {x})}, k);
                     },
                     p.chip);
    } else {
      Act other;
      bool otherBroadcast = false;
      if (constRhs) {
        Act like = newAct(outShape, tokenAxis, rows);
        like.pieces = {renamed};
        other = materialize(*constRhs, like, outShape, tokenAxis, rows);
      } else {
        other = toChip(*b, p.chip);
        otherBroadcast = other.rows == 1 && rows > 1;
        if (other.pieces.size() != main.pieces.size() || other.pieces[i].cols != p.cols)
          return fail(op, "its operands' columns are laid out differently");
        other.pieces = {other.pieces[i]};
      }
      bool reversed = swapped && (opName == "sub" || opName == "div");
      if (opName == "div")
        return fail(op, "division of two tensors is not lowered");
      result = binary(renamed, mainBroadcast, other.pieces[0], otherBroadcast, rows,
                      [&](Chain &c, int x, int y) {
                        if (reversed)
                          return c.vxm("sub", "f32", {y, x});
                        return c.vxm(opName, "f32", {x, y});
                      });
    }
    out.pieces.push_back(result);
  }
  values[op->getResult(0)] = std::make_shared<Entry>(out);
  return llvm::Error::success();
}

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

//===----------------------------------------------------------------------===//
// Outputs and the driver
//===----------------------------------------------------------------------===//

llvm::Error Codegen::bindOutputs(func::ReturnOp ret) {
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    std::string name = "result" + std::to_string(i);
    if (auto n = func.getResultAttrOfType<StringAttr>(i, "onnx.name"))
      name = n.getValue().str();
    if (auto pack = v.getDefiningOp<xfmr::KvCachePackOp>()) {
      // [L, 2, B, H, len, D] from each entry's cache heads.
      auto cacheType = cast<xfmr::KvCacheType>(v.getType());
      int64_t h = cacheType.getHeads(), len = cacheType.getLength(),
              d = cacheType.getHeadDim();
      for (auto [e, entryValue] : llvm::enumerate(pack.getEntries())) {
        auto ce = values.lookup(entryValue);
        if (!ce || !std::holds_alternative<CacheEntry>(*ce))
          return fail(pack, "a cache entry was not lowered");
        const CacheEntry &c = std::get<CacheEntry>(*ce);
        if (c.length != len)
          return fail(pack, "a cache entry's length differs from the result's");
        for (int64_t g = 0; g < h; ++g)
          bindCacheHead(program.outputs, name, e, h, g, len, d, *c.heads[g], c.from);
      }
      continue;
    }
    auto entry = values.lookup(v);
    if (!entry)
      return fail(ret, "result '" + name + "' was not lowered");
    auto *act = std::get_if<Act>(entry.get());
    if (!act)
      return fail(ret, "result '" + name + "' is not a tensor the LPU computed");
    int64_t columns = act->columns();
    for (const Piece &p : act->pieces) {
      // Runs of consecutive columns in consecutive lanes.
      for (size_t l = 0; l < p.cols.size();) {
        if (p.cols[l] < 0) {
          ++l;
          continue;
        }
        size_t e = l + 1;
        while (e < p.cols.size() && p.cols[e] == p.cols[l] + (int64_t)(e - l))
          ++e;
        program.outputs.push_back(binding(name, p.cols[l], e - l, p.chip, p.slice,
                                          p.address, l, p.dtype, act->rows, columns));
        l = e;
      }
    }
  }
  return llvm::Error::success();
}

Expected<ProgramOp> Codegen::run() {
  if (options.chips < 1)
    return llvm::createStringError("lpu: the chip count must be positive");
  tp = options.tensorParallel;
  if (tp == 0) {
    tp = 1;
    for (int64_t t = std::min(options.tensorParallelMax, options.chips); t >= 1; --t)
      if (options.chips % t == 0) {
        tp = t;
        break;
      }
  }
  if (options.chips % tp)
    return llvm::createStringError(
        formatv("lpu: {0} chips do not split into stages of {1}", options.chips, tp).str());
  if (options.weightDtype != "f16" && options.weightDtype != "i8")
    return llvm::createStringError("lpu: weights are f16 or i8, not '" +
                                   options.weightDtype + "'");
  int64_t stages = options.chips / tp;
  // Tokens: the rows of input_ids (or of the first argument).
  for (BlockArgument arg : func.getArguments())
    if (auto t = dyn_cast<RankedTensorType>(arg.getType()); t && t.getRank() == 2) {
      tokens = t.getDimSize(1);
      break;
    }
  program.machine.tokens = std::max<int64_t>(1, tokens);
  positions = tokens;
  for (BlockArgument arg : func.getArguments())
    if (auto cache = dyn_cast<xfmr::KvCacheType>(arg.getType()))
      positions = cache.getLength() + tokens;
  // Constants and weights.
  auto module = func->getParentOfType<ModuleOp>();
  int64_t weightBytes = 0;
  std::vector<std::pair<Operation *, int64_t>> weighted;
  for (Operation &op : func.getBody().front()) {
    if (auto load = dyn_cast<ml_program::GlobalLoadConstOp>(op)) {
      auto global = SymbolTable::lookupNearestSymbolFrom<ml_program::GlobalOp>(
          module, load.getGlobalAttr());
      Const c;
      auto type = cast<RankedTensorType>(load.getType());
      c.shape.assign(type.getShape().begin(), type.getShape().end());
      if (global && global.getValue())
        c.values = floatsOf(*global.getValue());
      if (!c.values)
        shapeOnly = true;
      values[load.getResult()] = std::make_shared<Entry>(c);
      continue;
    }
    if (op.getName().getStringRef() == "onnx.Constant" || isa<arith::ConstantOp>(op)) {
      Attribute attr = op.getAttr("value");
      Const c;
      auto type = cast<RankedTensorType>(op.getResult(0).getType());
      c.shape.assign(type.getShape().begin(), type.getShape().end());
      if (attr)
        c.values = floatsOf(attr);
      values[op.getResult(0)] = std::make_shared<Entry>(c);
      continue;
    }
    int64_t bytes = 0;
    StringRef name = op.getName().getStringRef();
    if (name == "onnx.MatMul" || isa<xfmr::EmbeddingOp>(op))
      if (auto t = dyn_cast<RankedTensorType>(op.getOperand(name == "onnx.MatMul" ? 1 : 0).getType()))
        bytes = product(t.getShape()) *
                (options.weightDtype == "i8" && name == "onnx.MatMul" ? 1 : 2);
    weightBytes += bytes;
    weighted.push_back({&op, bytes});
  }
  program.machine.shapeOnly = shapeOnly;
  {
    const sim::lpu::Machine &m = program.machine;
    OpBuilder b(func);
    b.setInsertionPointAfter(func);
    SmallVector<NamedAttribute> latency;
    for (auto &[name, cycles] : m.latency)
      latency.push_back(b.getNamedAttr(name, b.getI64IntegerAttr(cycles)));
    // Named as the function once that is gone.
    programOp = ProgramOp::create(
        b, func.getLoc(), b.getStringAttr(func.getSymName().str() + ".lpu"), m.chips, b.getF64FloatAttr(m.clockMhz), m.slices,
        m.sliceBytes, m.streams, m.ports, m.alus, m.sxms, m.planes, m.planeStreams, m.tokens,
        m.shapeOnly, b.getDictionaryAttr(latency));
    programOp.getBody().push_back(new Block);
  }
  // Pipeline stages balanced by weight bytes.
  int64_t seen = 0;
  for (auto [op, bytes] : weighted) {
    int64_t s = weightBytes ? std::min<int64_t>(stages - 1, (seen + bytes / 2) * stages / weightBytes)
                            : 0;
    stage[op] = s;
    seen += bytes;
  }
  // Slices the KV cache takes on each chip (regions of past + new
  // positions, packed top down), so activations keep to the others.
  {
    std::map<int64_t, std::pair<int64_t, int64_t>> fill; // chip -> slices, used bytes
    func.walk([&](xfmr::AttentionOp attention) {
      auto k = cast<RankedTensorType>(attention.getKey().getType()).getShape();
      int64_t positions = k[2];
      if (attention.getPastKey())
        positions += cast<RankedTensorType>(attention.getPastKey().getType()).getDimSize(2);
      for (int64_t r = 0; r < 2 * k[1]; ++r) {
        auto &[slices, used] = fill[headChip(lead(attention), r / 2)];
        if (slices == 0 || used + positions * kVector > program.machine.sliceBytes)
          ++slices, used = 0;
        used += positions * kVector;
      }
    });
    for (auto [chip, f] : fill)
      cacheSlicesOf[chip] = f.first;
    for (int64_t chip = 0; chip < options.chips; ++chip)
      if (activationEnd(chip) - kWeightSlices < 4)
        return llvm::createStringError(
            formatv("lpu: the KV cache of chip {0} takes {1} slices; too few are left "
                    "for activations (use more chips)",
                    chip, cacheSlicesOf[chip])
                .str());
  }
  for (Operation &op : func.getBody().front()) {
    llvm::Error err = llvm::Error::success();
    StringRef name = op.getName().getStringRef();
    loc = op.getLoc();
    if (values.count(op.getNumResults() ? op.getResult(0) : Value()))
      continue;
    if (auto read = dyn_cast<xfmr::KvCacheReadOp>(op)) {
      // This layer's past in SRAM on the chip of its attention, bound to
      // the phase's cache input.
      auto cacheType = cast<xfmr::KvCacheType>(read.getCache().getType());
      int64_t first = 0;
      for (Operation *user : read->getUsers())
        first = lead(user);
      int64_t h = cacheType.getHeads(), len = cacheType.getLength(), d = cacheType.getHeadDim();
      CacheEntry entry;
      entry.length = len;
      std::string inputName = "kv_cache";
      auto arg = dyn_cast<BlockArgument>(read.getCache());
      if (arg)
        if (auto n = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name"))
          inputName = n.getValue().str();
      int64_t kv = read.getValue() ? 1 : 0;
      for (int64_t g = 0; g < h; ++g) {
        int64_t chip = headChip(first, g);
        // Room for this step's tokens after the past.
        int64_t address;
        int64_t slice = cacheSlice(chip, len + tokens, address);
        cacheHeads.push_back(std::make_unique<CacheHead>(
            CacheHead{chip, slice, address, {}}));
        CacheHead *head = cacheHeads.back().get();
        bindCacheHead(program.inputs, inputName, read.getLayer() * 2 + kv, h, g, len, d,
                      *head, 0);
        entry.heads.push_back(head);
      }
      values[read.getResult()] = std::make_shared<Entry>(entry);
      continue;
    }
    // Ops of constants fold.
    SmallVector<const Const *> constants;
    for (Value operand : op.getOperands())
      if (auto it = values.find(operand); it != values.end())
        if (auto *c = std::get_if<Const>(it->second.get()))
          constants.push_back(c);
    if (op.getNumResults() == 1 && op.getNumOperands() &&
        constants.size() == op.getNumOperands() &&
        !isa<xfmr::EmbeddingOp, xfmr::RmsNormOp>(op) && name != "onnx.MatMul")
      if (auto folded = fold(&op, constants)) {
        values[op.getResult(0)] = std::make_shared<Entry>(*folded);
        continue;
      }
    if (name == "onnx.MatMul")
      err = lowerMatMul(&op);
    else if (name == "onnx.Add" || name == "onnx.Sub" || name == "onnx.Mul" ||
             name == "onnx.Div" || name == "onnx.Cast")
      err = lowerElementwise(&op);
    else if (name == "onnx.Reshape" || name == "onnx.Transpose" || name == "onnx.Unsqueeze" ||
             name == "onnx.Squeeze" || isa<tensor::ExtractSliceOp>(op)) {
      if (isa<BlockArgument>(op.getOperand(0)) && !values.count(op.getOperand(0))) {
        // Layout ops on an input: bind it as f32 columns first.
        Act a = input(cast<BlockArgument>(op.getOperand(0)), "f32");
        values[op.getOperand(0)] = std::make_shared<Entry>(a);
      }
      err = lowerLayout(&op);
    } else if (auto e = dyn_cast<xfmr::EmbeddingOp>(op))
      err = lowerEmbedding(e);
    else if (auto n = dyn_cast<xfmr::RmsNormOp>(op))
      err = lowerRmsNorm(n);
    else if (auto r = dyn_cast<xfmr::RotaryOp>(op))
      err = lowerRotary(r);
    else if (auto s = dyn_cast<xfmr::SwiGluOp>(op))
      err = lowerSwiGlu(s);
    else if (auto a = dyn_cast<xfmr::AttentionOp>(op))
      err = lowerAttention(a);
    else if (isa<xfmr::KvCachePackOp>(op))
      continue; // bound with the results
    else if (auto ret = dyn_cast<func::ReturnOp>(op))
      err = bindOutputs(ret);
    else
      err = fail(&op, "no LPU lowering for this op");
    if (err)
      return std::move(err);
    if (!full.empty())
      return llvm::createStringError(full);
  }
  if (!full.empty())
    return llvm::createStringError(full);
  finishProgram();
  return programOp;
}

} // namespace

LpuOptions prism::lpu::lpuOptionsFor(const cost::DeviceKind &device, int64_t chips) {
  LpuOptions options;
  options.chips = chips;
  options.tensorParallelMax = std::max<int64_t>(1, (int64_t)device.tensorParallelMax.value);
  sim::lpu::Machine &m = options.machine;
  double clockHz = m.clockMhz * 1e6;
  // Slices of whole vectors that hold the chip's SRAM.
  m.sliceBytes = (int64_t)(device.mainMemory().capacityBytes.value / m.slices) / kVector * kVector;
  m.ports = (int64_t)device.linkCount.value;
  m.latency["c2c"] = std::max<int64_t>(1, std::llround(device.linkHopLatencyS.value * clockHz));
  // Cycles a 320-byte vector holds a link.
  m.latency["c2c.vector"] = std::max<int64_t>(
      1, (int64_t)std::ceil(kVector / (device.linkBytesPerS.value / clockHz)));
  return options;
}

FailureOr<ProgramOp> prism::lpu::convertPhaseToLpu(func::FuncOp func,
                                                   const LpuOptions &options) {
  Codegen codegen(func, options);
  Expected<ProgramOp> program = codegen.run();
  if (!program) {
    std::string message = llvm::toString(program.takeError());
    if (!message.empty()) // not yet reported at an op
      func.emitError(message);
    codegen.discard();
    return failure();
  }
  std::string name = func.getSymName().str();
  func.erase();
  program->setSymName(name);
  return *program;
}
