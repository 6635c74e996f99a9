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

#include "Codegen.h"

using namespace mlir;
using namespace prism::lpu;
using namespace prism::lpu::detail;

namespace prism::lpu::detail {

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

} // namespace prism::lpu::detail

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
