//===- Codegen.h - The LPU lowering's state and building blocks -*- C++ -*-===//
//
// Private to lib/Conversion/XfmrToLpu: the Codegen class that lowers one
// phase, shared by one file per op family (MatMul.cpp, Attention.cpp, ...)
// and the files of its building blocks (Allocation.cpp, Vectors.cpp,
// Values.cpp). XfmrToLpu.cpp drives it over the phase's ops.
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

#ifndef PRISM_CONVERSION_XFMRTOLPU_CODEGEN_H
#define PRISM_CONVERSION_XFMRTOLPU_CODEGEN_H

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

namespace prism::lpu::detail {

using namespace mlir;
using prism::lpu::LpuOptions;
namespace sim = prism::sim;
using sim::lpu::Machine;
using sim::lpu::Program;
namespace xfmr = prism::xfmr;
using llvm::Expected;
using llvm::formatv;
using llvm::StringRef;


constexpr int64_t kVector = sim::lpu::kVectorBytes;
constexpr int64_t kWeightSlices = 64; // slices 0..63 hold weights, 16 per group
constexpr int64_t kGroup = 16;

inline int64_t lanes(StringRef dtype) { return sim::lpu::lanes(dtype); }

inline int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), (int64_t)1, std::multiplies<>());
}

/// The chains a value waits for: its tokens (a piece is ready when all of
/// them are done).
using Ready = SmallVector<Value, 2>;

inline void join(Ready &into, ArrayRef<Value> from) {
  for (Value v : from)
    if (!llvm::is_contained(into, v))
      into.push_back(v);
}
inline Ready joined(Ready a, ArrayRef<Value> b) {
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
inline sim::lpu::Binding binding(StringRef name, int64_t offset, int64_t count, int64_t chip,
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
inline void bindCacheHead(std::vector<sim::lpu::Binding> &list, StringRef name, int64_t entry,
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

/// Multi-index helpers over a shape, skipping the token axis.
inline SmallVector<int64_t> unflatten(int64_t flat, ArrayRef<int64_t> shape, int skip) {
  SmallVector<int64_t> idx(shape.size(), 0);
  for (int i = shape.size() - 1; i >= 0; --i) {
    if (i == skip)
      continue;
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}
inline int64_t flatten(ArrayRef<int64_t> idx, ArrayRef<int64_t> shape, int skip) {
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    if ((int)i != skip)
      flat = flat * shape[i] + idx[i];
  return flat;
}

/// The token axis of a reshape's result: an axis of `rows` elements with
/// only 1s before it (the flat order is token-major).
inline int tokenAxisOf(ArrayRef<int64_t> shape, int64_t rows) {
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

/// The values of a constant's attribute as floats (null: none here).
std::shared_ptr<std::vector<float>> floatsOf(Attribute attr);

/// An onnx op over constants, folded (Range, arithmetic, Cast, ...).
std::optional<Const> fold(Operation *op, ArrayRef<const Const *> in);

} // namespace prism::lpu::detail

#endif // PRISM_CONVERSION_XFMRTOLPU_CODEGEN_H
