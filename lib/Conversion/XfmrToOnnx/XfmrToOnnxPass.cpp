//===- XfmrToOnnxPass.cpp - The convert-xfmr-to-onnx pass ------------------===//

#include "prism/Conversion/Passes.h"
#include "prism/Conversion/XfmrToOnnx/XfmrToOnnx.h"

#include "prism/Dialect/Onnx/OnnxBuilder.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_CONVERTXFMRTOONNX
#include "prism/Conversion/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism::onnx;
namespace xfmr = prism::xfmr;

namespace {

/// Weights loaded from globals become constants again.
void inlineGlobals(ModuleOp module) {
  auto *onnx = module.getContext()->getLoadedDialect<ONNXDialect>();
  module.walk([&](ml_program::GlobalLoadConstOp load) {
    auto global = SymbolTable::lookupNearestSymbolFrom<ml_program::GlobalOp>(
        load, load.getGlobalAttr());
    if (!global || !global.getValue())
      return;
    OpBuilder b(load);
    Operation *c = onnx->materializeConstant(b, *global.getValue(),
                                             load.getType(), load.getLoc());
    load.getResult().replaceAllUsesWith(c->getResult(0));
    load.erase();
  });
  for (auto global : llvm::make_early_inc_range(module.getOps<ml_program::GlobalOp>()))
    if (SymbolTable::symbolKnownUseEmpty(global, module))
      global.erase();
}

/// The KV cache at a function's boundary as the tensor [layers, 2, batch,
/// heads, length, head_dim]; reads slice it, packs stack into it.
void cacheToTensors(func::FuncOp f) {
  for (BlockArgument arg : f.getArguments())
    if (auto cache = dyn_cast<xfmr::KvCacheType>(arg.getType()))
      arg.setType(cache.getStorageType());
  f.walk([&](xfmr::KvCacheReadOp read) {
    PatternRewriter rw(read.getContext());
    rw.setInsertionPoint(read);
    OnnxBuilder b(rw, read.getLoc());
    auto storage = tensorType(read.getCache());
    ArrayRef<int64_t> s = storage.getShape();
    SmallVector<OpFoldResult> offsets = {rw.getIndexAttr(read.getLayer()),
                                         rw.getIndexAttr(read.getValue() ? 1 : 0)};
    SmallVector<OpFoldResult> sizes = {rw.getIndexAttr(1), rw.getIndexAttr(1)};
    for (int64_t d : s.drop_front(2)) {
      offsets.push_back(rw.getIndexAttr(0));
      sizes.push_back(rw.getIndexAttr(d));
    }
    Value slice = tensor::ExtractSliceOp::create(
        rw, read.getLoc(), read.getCache(), offsets, sizes,
        SmallVector<OpFoldResult>(6, rw.getIndexAttr(1)));
    rw.replaceOp(read, b.reshape(slice, read.getType().getShape()));
  });
  f.walk([&](xfmr::KvCachePackOp pack) {
    PatternRewriter rw(pack.getContext());
    rw.setInsertionPoint(pack);
    OnnxBuilder b(rw, pack.getLoc());
    SmallVector<Value> layers;
    auto entries = pack.getEntries();
    for (size_t i = 0; i + 1 < entries.size(); i += 2) {
      SmallVector<Value> kv;
      for (Value e : {entries[i], entries[i + 1]}) {
        SmallVector<int64_t> shape = {1, 1};
        llvm::append_range(shape, tensorType(e).getShape());
        kv.push_back(b.reshape(e, shape));
      }
      layers.push_back(b.concat(kv, 1));
    }
    rw.replaceOp(pack, b.concat(layers, 0));
  });
  auto ret = cast<func::ReturnOp>(f.getBody().back().getTerminator());
  f.setType(FunctionType::get(f.getContext(), f.getBody().getArgumentTypes(),
                              ret.getOperandTypes()));
}

struct ConvertXfmrToOnnx
    : public prism::impl::ConvertXfmrToOnnxBase<ConvertXfmrToOnnx> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    inlineGlobals(module);
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal())
        cacheToTensors(f);
    RewritePatternSet patterns(&getContext());
    prism::populateXfmrToOnnxPatterns(patterns);
    if (failed(applyPatternsGreedily(module, std::move(patterns)))) {
      module.emitError("convert-xfmr-to-onnx did not converge (a rewrite "
                       "keeps matching; please report it with the model)");
      return signalPassFailure();
    }
    bool left = false;
    module.walk([&](Operation *op) {
      if (isa<xfmr::XfmrDialect>(op->getDialect())) {
        op->emitError() << "'" << op->getName()
                        << "' is not rewritten for the host (its shapes must "
                           "be static)";
        left = true;
      }
    });
    if (left)
      signalPassFailure();
  }
};

} // namespace
