//===- SplitPhases.cpp - The xfmr-split-phases pass -----------------------===//
//
// One exported decoder graph serves every phase through its symbolic dims
// and its past/present cache; the hardware wants two static programs with
// the cache as one value at their boundary. This pass clones the graph per
// phase, binds its dims, makes it static, turns the cache inputs and outputs
// into !xfmr.kv_cache values, and shares the weights as ml_program globals.
//
//===----------------------------------------------------------------------===//

#include "prism/Transforms/Passes.h"

#include "prism/Dialect/Onnx/OnnxBuilder.h"
#include "prism/Dialect/Onnx/OnnxOps.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/StringExtras.h"

namespace prism {
#define GEN_PASS_DEF_XFMRSPLITPHASES
#include "prism/Transforms/Passes.h.inc"
} // namespace prism

using namespace mlir;
namespace xfmr = prism::xfmr;

namespace {

StringRef argName(func::FuncOp f, unsigned i) {
  auto n = f.getArgAttrOfType<StringAttr>(i, "onnx.name");
  return n ? n.getValue() : StringRef();
}
StringRef resultName(func::FuncOp f, unsigned i) {
  auto n = f.getResultAttrOfType<StringAttr>(i, "onnx.name");
  return n ? n.getValue() : StringRef();
}
StringRef dimName(func::FuncOp f, unsigned arg, unsigned dim) {
  auto names = f.getArgAttrOfType<ArrayAttr>(arg, "onnx.dim_names");
  if (!names || dim >= names.size())
    return StringRef();
  return cast<StringAttr>(names[dim]).getValue();
}

/// The slot a cache input or output names: its name without the `past...`
/// or `present` word and the separators ("past_key_values.0.key" and
/// "present.0.key" are both "0key").
std::string cacheSlot(StringRef name, StringRef word) {
  std::string lower = name.lower();
  size_t at = lower.find(word.str());
  StringRef rest = StringRef(name).drop_front(at == std::string::npos ? 0 : at + word.size());
  // "past_key_values" and "past" name the same cache.
  if (word == "past" && StringRef(rest).lower().rfind("_key_values", 0) == 0)
    rest = rest.drop_front(strlen("_key_values"));
  std::string slot;
  for (char c : rest)
    if (llvm::isAlnum(c))
      slot += llvm::toLower(c);
  return slot;
}

/// What the split needs to know of the graph: its cache inputs and
/// outputs and the names of the dims it binds.
/// A cache input is one key or value [batch, kv_heads, past, head_size],
/// or a layer's keys and values stacked [2, batch, kv_heads, past,
/// head_size] (GPT-2's past_N and present_N).
struct Signature {
  SmallVector<unsigned> pastArgs, presentResults;
  SmallVector<bool> stacked; // per past input
  std::string batch, sequence, past;
  // The mask's own name for past + sequence when it is a dim of its own
  // ("total_seq_len"), not an expression of the two.
  std::string total;
  int64_t layers() const {
    int64_t n = llvm::count(stacked, true);
    return n + ((int64_t)stacked.size() - n) / 2;
  }
};

bool isStackedCache(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.getRank() == 5 && t.getDimSize(0) == 2;
}

FailureOr<Signature> readSignature(func::FuncOp main) {
  Signature sig;
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    if (argName(main, i).contains_insensitive("past"))
      sig.pastArgs.push_back(i);
  for (unsigned i = 0; i < main.getNumResults(); ++i)
    if (resultName(main, i).contains_insensitive("present"))
      sig.presentResults.push_back(i);
  for (unsigned i : sig.pastArgs) {
    auto t = dyn_cast<RankedTensorType>(main.getArgumentTypes()[i]);
    bool stacked = isStackedCache(t);
    if (!t || (t.getRank() != 4 && !stacked))
      return main.emitError("KV cache input '")
             << argName(main, i) << "' of type " << main.getArgumentTypes()[i]
             << " is not one key or value [batch, kv_heads, past_sequence, "
                "head_size] nor a layer's keys and values stacked [2, batch, "
                "kv_heads, past_sequence, head_size]: the phase split takes "
                "those layouts only";
    sig.stacked.push_back(stacked);
  }
  if (sig.pastArgs.size() != sig.presentResults.size() ||
      (sig.pastArgs.size() - llvm::count(sig.stacked, true)) % 2 != 0)
    return main.emitError("the KV cache is ")
           << sig.pastArgs.size() << " 'past' inputs and "
           << sig.presentResults.size()
           << " 'present' outputs: expected a key and a value (or both "
              "stacked) per layer in and out";
  // The j-th output must be the j-th input's tensor one step later: a
  // mismatch would put one layer's keys in another's slot.
  for (auto [i, o] : llvm::zip(sig.pastArgs, sig.presentResults))
    if (cacheSlot(argName(main, i), "past") != cacheSlot(resultName(main, o), "present"))
      return main.emitError("KV cache output '")
             << resultName(main, o) << "' does not pair with input '"
             << argName(main, i)
             << "' (the outputs must list the cache in the inputs' order)";
  for (auto [j, i] : llvm::enumerate(sig.pastArgs)) {
    auto t = cast<RankedTensorType>(main.getArgumentTypes()[i]);
    unsigned lead = sig.stacked[j] ? 1 : 0;
    StringRef past = dimName(main, i, lead + 2), batch = dimName(main, i, lead);
    if (past.empty() || batch.empty() || !t.isDynamicDim(lead + 2))
      return main.emitError("KV cache input '")
             << argName(main, i) << "' has no named past-sequence dim";
    if (sig.past.empty()) {
      sig.past = past.str();
      sig.batch = batch.str();
    } else if (sig.past != past || sig.batch != batch) {
      return main.emitError("KV cache inputs name their dims differently ('")
             << sig.past << "' vs '" << past << "')";
    }
  }
  for (unsigned i = 0; i < main.getNumArguments() && sig.sequence.empty(); ++i) {
    auto t = dyn_cast<RankedTensorType>(main.getArgumentTypes()[i]);
    if (t && t.getRank() == 2 && isa<IntegerType>(t.getElementType()) &&
        t.isDynamicDim(1) && !dimName(main, i, 1).empty()) {
      sig.sequence = dimName(main, i, 1).str();
      if (sig.batch.empty())
        sig.batch = dimName(main, i, 0).str();
    }
  }
  if (sig.sequence.empty())
    return main.emitError("no 2-D integer input [batch, sequence] with a "
                          "named sequence dim (input_ids): cannot tell the "
                          "sequence dim to bind");
  // @decode reads a cache buffer of which only some positions are filled:
  // the graph must be told which (a mask over past + sequence) and where
  // the new token is (its positions), or it would attend to empty slots.
  if (!sig.pastArgs.empty()) {
    bool mask = false, positions = false;
    for (unsigned i = 0; i < main.getNumArguments(); ++i) {
      StringRef name = argName(main, i);
      auto t = dyn_cast<RankedTensorType>(main.getArgumentTypes()[i]);
      if (!t || t.getRank() != 2)
        continue;
      positions |= name.contains_insensitive("position_ids");
      // The mask spans past + sequence: an expression of the past dim, or
      // a dim of its own (bound to past + sequence).
      StringRef totalDim = dimName(main, i, 1);
      if (!name.contains_insensitive("attention_mask") || totalDim.empty() ||
          totalDim == sig.sequence || totalDim == sig.batch)
        continue;
      mask = true;
      if (!totalDim.contains(sig.past))
        sig.total = totalDim.str();
    }
    if (!mask || !positions)
      return main.emitError("the phase split needs the inputs attention_mask "
                            "[batch, past + sequence] and position_ids: "
                            "without them @decode cannot tell the filled "
                            "positions of its fixed-size cache from the "
                            "empty ones");
  }
  return sig;
}

struct XfmrSplitPhases
    : public prism::impl::XfmrSplitPhasesBase<XfmrSplitPhases> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal())
        funcs.push_back(f);
    if (funcs.size() != 1) {
      module.emitError("xfmr-split-phases expects one graph function, found ")
          << funcs.size();
      return signalPassFailure();
    }
    func::FuncOp main = funcs.front();
    auto sig = readSignature(main);
    if (failed(sig))
      return signalPassFailure();
    bool hasCache = !sig->pastArgs.empty();
    if (prompt <= 0 || batch <= 0 || (hasCache && context <= 0)) {
      module.emitError("xfmr-split-phases needs prompt > 0, batch > 0")
          << (hasCache ? " and context > 0 (the model has a KV cache)" : "");
      return signalPassFailure();
    }
    if (hasCache && prompt > context) {
      // @prefill writes its P positions into the cache @decode reads.
      module.emitError("xfmr-split-phases: the prompt (")
          << (int64_t)prompt << " tokens) is longer than the context ("
          << (int64_t)context
          << " cached positions): the KV cache @prefill fills must hold the "
             "prompt; raise --context or shorten --prompt";
      return signalPassFailure();
    }

    // One clone per phase, its dims bound.
    auto prefill = main.clone();
    prefill.setSymName("prefill");
    module.push_back(prefill);
    func::FuncOp decode;
    if (hasCache) {
      decode = main.clone();
      decode.setSymName("decode");
      module.push_back(decode);
    }
    main.erase();
    auto bind = [&](func::FuncOp f, int64_t seq, int64_t past,
                    int64_t tokens) -> LogicalResult {
      llvm::StringMap<int64_t> bound;
      bound[sig->batch] = batch;
      bound[sig->sequence] = seq;
      if (hasCache)
        bound[sig->past] = past;
      if (!sig->total.empty())
        bound[sig->total] = past + seq;
      llvm::StringSet<> seen, used;
      f->setAttr("xfmr.tokens", IntegerAttr::get(IntegerType::get(f.getContext(), 64), tokens));
      return prism::bindArgumentDims(f, bound, seen, used);
    };
    if (failed(bind(prefill, prompt, 0, batch * prompt)) ||
        (decode && failed(bind(decode, 1, context, batch))))
      return signalPassFailure();

    // Static: the onnx-to-static steps after binding, on both functions.
    OpPassManager pm(ModuleOp::getOperationName());
    prism::buildStaticShapesPipeline(pm);
    if (failed(runPipeline(pm, module))) {
      module.emitError("xfmr-split-phases: the graph does not hold at ")
          << (int64_t)prompt << " prompt tokens and a context of "
          << (int64_t)context
          << " (the error above): a fixed-size table in the graph, such as "
             "a causal mask or position embeddings of N positions, allows "
             "at most N - 1 cached positions";
      return signalPassFailure();
    }

    if (hasCache) {
      if (failed(makeCacheBoundary(prefill, *sig, /*read=*/false)) ||
          failed(makeCacheBoundary(decode, *sig, /*read=*/true)))
        return signalPassFailure();
    }
    shareWeights(module);
  }

  /// The cache inputs become one !xfmr.kv_cache argument (read) or empty
  /// tensors (prefill); the cache outputs become one !xfmr.kv_cache result:
  /// all positions (prefill), or the appended ones (decode).
  LogicalResult makeCacheBoundary(func::FuncOp f, const Signature &sig,
                                  bool read) {
    OpBuilder b(f.getBody());
    Location loc = f.getLoc();
    // One layer's keys (or values): [batch, kv_heads, positions, head_size].
    auto first = cast<RankedTensorType>(f.getArgumentTypes()[sig.pastArgs[0]]);
    auto layer = sig.stacked[0]
                     ? RankedTensorType::get(first.getShape().drop_front(),
                                             first.getElementType())
                     : first;
    auto stackedOf = [](RankedTensorType t) {
      SmallVector<int64_t> shape = {2};
      llvm::append_range(shape, t.getShape());
      return t.clone(shape);
    };
    auto cacheType = [&](int64_t length) {
      return xfmr::KvCacheType::get(f.getContext(), sig.layers(), layer.getDimSize(0),
                                    layer.getDimSize(1), length,
                                    layer.getDimSize(3), layer.getElementType());
    };
    Value cache;
    if (read) {
      unsigned at = f.getNumArguments();
      (void)f.insertArgument(at, cacheType(layer.getDimSize(2)),
                             b.getDictionaryAttr(b.getNamedAttr(
                                 "onnx.name", b.getStringAttr("kv_cache"))),
                             loc);
      cache = f.getArgument(at);
    }
    llvm::BitVector erase(f.getNumArguments());
    unsigned entry = 0; // keys and values in cache order: layer * 2 + value
    for (auto [j, i] : llvm::enumerate(sig.pastArgs)) {
      BlockArgument arg = f.getArgument(i);
      auto t = cast<RankedTensorType>(arg.getType());
      bool stacked = sig.stacked[j];
      if (t != (stacked ? stackedOf(layer) : layer))
        return f.emitError("KV cache inputs differ in type: ")
               << t << " vs " << (stacked ? stackedOf(layer) : layer);
      auto readEntry = [&](unsigned e) -> Value {
        return xfmr::KvCacheReadOp::create(b, arg.getLoc(), layer, cache,
                                           (uint64_t)(e / 2), e % 2 == 1);
      };
      Value replacement;
      if (!read) {
        replacement = arith::ConstantOp::create(
            b, arg.getLoc(), DenseElementsAttr::get(t, ArrayRef<Attribute>()));
      } else if (!stacked) {
        replacement = readEntry(entry);
      } else {
        Value kv[2] = {readEntry(entry), readEntry(entry + 1)};
        SmallVector<int64_t> one = {1};
        llvm::append_range(one, layer.getShape());
        replacement = prism::onnx::ONNXConcatOp::create(
            b, arg.getLoc(), t,
            ValueRange{prism::onnx::reshapeTo(b, arg.getLoc(), kv[0], one),
                       prism::onnx::reshapeTo(b, arg.getLoc(), kv[1], one)},
            (uint64_t)0);
        forwardStackedReads(arg, kv);
      }
      arg.replaceAllUsesWith(replacement);
      erase.set(i);
      entry += stacked ? 2 : 1;
    }
    if (failed(f.eraseArguments(erase)))
      return failure();

    auto ret = cast<func::ReturnOp>(f.getBody().back().getTerminator());
    b.setInsertionPoint(ret);
    SmallVector<Value> entries;
    int64_t length = -1;
    // `v` [.., positions, head_size] (stacked: entry `which` of [2, ..]) as
    // a cache entry: all positions (prefill) or this step's (decode).
    auto toEntry = [&](Value v, bool stacked, int64_t which) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      int64_t lead = stacked ? 1 : 0;
      int64_t total = t.getDimSize(lead + 2);
      int64_t step = read ? total - layer.getDimSize(2) : total;
      // present = Concat(Unsqueeze(keys), Unsqueeze(values)): the parts.
      auto concat = v.getDefiningOp<prism::onnx::ONNXConcatOp>();
      if (stacked && concat && concat.getAxis() == 0 &&
          concat.getInputs().size() == 2 &&
          prism::onnx::tensorType(concat.getInputs()[which]).getDimSize(0) == 1 &&
          !read) {
        SmallVector<int64_t> shape(t.getShape().drop_front());
        return prism::onnx::reshapeTo(b, loc, concat.getInputs()[which], shape);
      }
      SmallVector<OpFoldResult> offsets, sizes, strides;
      SmallVector<int64_t> shape;
      for (int64_t d = 0; d < t.getRank(); ++d) {
        int64_t offset = 0, size = t.getDimSize(d);
        if (stacked && d == 0) {
          offset = which;
          size = 1;
        } else if (d == lead + 2) {
          offset = total - step;
          size = step;
        }
        offsets.push_back(b.getIndexAttr(offset));
        sizes.push_back(b.getIndexAttr(size));
        strides.push_back(b.getIndexAttr(1));
        if (!(stacked && d == 0))
          shape.push_back(size);
      }
      if (!stacked && step == total)
        return v;
      return tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get(shape, t.getElementType()), v, offsets,
          sizes, strides);
    };
    for (auto [j, i] : llvm::enumerate(sig.presentResults)) {
      Value v = ret.getOperand(i);
      bool stacked = sig.stacked[j];
      if (stacked != isStackedCache(v.getType()))
        return f.emitError("KV cache output '")
               << resultName(f, i) << "' of type " << v.getType()
               << " is not laid out as its input";
      for (int64_t which = 0; which < (stacked ? 2 : 1); ++which) {
        Value e = toEntry(v, stacked, which);
        auto t = cast<RankedTensorType>(e.getType());
        if (length < 0)
          length = t.getDimSize(2);
        if (t != RankedTensorType::get({layer.getDimSize(0), layer.getDimSize(1),
                                        length, layer.getDimSize(3)},
                                       layer.getElementType()))
          return f.emitError("KV cache output '")
                 << resultName(f, i) << "' of type " << v.getType()
                 << " does not match the cache inputs";
        entries.push_back(e);
      }
    }
    Value packed = xfmr::KvCachePackOp::create(b, loc, cacheType(length), entries);
    SmallVector<Value> operands;
    SmallVector<DictionaryAttr> attrs;
    for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
      if (llvm::is_contained(sig.presentResults, i))
        continue;
      operands.push_back(ret.getOperand(i));
      attrs.push_back(f.getResultAttrDict(i));
    }
    operands.push_back(packed);
    attrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
        "onnx.name", b.getStringAttr(read ? "kv_cache_append" : "kv_cache"))));
    func::ReturnOp::create(b, ret.getLoc(), operands);
    ret.erase();
    f.setType(FunctionType::get(f.getContext(), f.getArgumentTypes(),
                                ValueRange(operands).getTypes()));
    f.setAllResultAttrs(attrs);
    return success();
  }

  /// GPT-2 reads a stacked past as Gather(past, 0 | 1) on axis 0: those
  /// reads become the cache's keys and values themselves, so that the
  /// attention raise sees the cache.
  static void forwardStackedReads(BlockArgument arg, Value kv[2]) {
    for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
      auto gather = dyn_cast<prism::onnx::ONNXGatherOp>(user);
      if (!gather || gather.getAxis() != 0 || gather.getData() != arg)
        continue;
      auto index = prism::onnx::constInts(gather.getIndices());
      auto it = dyn_cast<RankedTensorType>(gather.getIndices().getType());
      if (!index || index->size() != 1 || !it || it.getRank() != 0)
        continue;
      int64_t i = (*index)[0] < 0 ? (*index)[0] + 2 : (*index)[0];
      if ((i == 0 || i == 1) && gather.getType() == kv[i].getType())
        gather.getResult().replaceAllUsesWith(kv[i]);
    }
  }

  /// Initializers (onnx.Constant marked onnx.initializer) become one
  /// ml_program.global each, loaded where the phases use them.
  void shareWeights(ModuleOp module) {
    SymbolTable symbols(module);
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToStart(module.getBody());
    llvm::DenseMap<Attribute, FlatSymbolRefAttr> globals;
    module.walk([&](prism::onnx::ONNXConstantOp c) {
      if (!c->hasAttr("onnx.initializer") || !c.getValueAttr())
        return;
      Attribute value = c.getValueAttr();
      FlatSymbolRefAttr &ref = globals[value];
      if (!ref) {
        std::string name = "weight";
        if (auto loc = dyn_cast<NameLoc>(c.getLoc()))
          name = loc.getName().str();
        else if (auto res = dyn_cast<DenseResourceElementsAttr>(value))
          name = res.getRawHandle().getKey().str();
        auto global = ml_program::GlobalOp::create(
            b, c.getLoc(), b.getStringAttr(name), TypeAttr::get(c.getType()),
            /*is_mutable=*/UnitAttr(), value, b.getStringAttr("private"));
        ref = FlatSymbolRefAttr::get(symbols.insert(global));
      }
      OpBuilder at(c);
      auto load = ml_program::GlobalLoadConstOp::create(at, c.getLoc(),
                                                        c.getType(), ref);
      c.getResult().replaceAllUsesWith(load.getResult());
      c.erase();
    });
  }
};

} // namespace
