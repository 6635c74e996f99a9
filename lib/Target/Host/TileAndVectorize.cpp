//===- TileAndVectorize.cpp - Register tiles and vectors for the host -----===//
//
// Tiles each statically shaped linalg op on tensors with scf.for so that the
// innermost tile fits in registers, then vectorizes the tile with the linalg
// vectorizer. Tile sizes divide the dims, so every tile is static and full
// and the vectorizer needs no masks.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Host/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace prism {
#define GEN_PASS_DEF_HOSTTILEANDVECTORIZE
#include "prism/Target/Host/Passes.h.inc"
} // namespace prism

using namespace mlir;

namespace {

/// The largest divisor of `dim` that is at most `limit`.
int64_t largestDivisor(int64_t dim, int64_t limit) {
  for (int64_t t = std::min(dim, limit); t > 1; --t)
    if (dim % t == 0)
      return t;
  return 1;
}

/// Whether the op is one the vectorizer handles well here: static, non-empty
/// shapes (tiling an empty dim crashes the tiler; there is nothing to do),
/// no tensor.extract in its body (gathers), not a transpose, and no i1
/// tensors (LLVM packs vectors of i1 into bits; memrefs hold a byte each).
bool isVectorizable(linalg::LinalgOp op) {
  auto isBool = [](Type t) { return getElementTypeOrSelf(t).isInteger(1); };
  if (!op.hasPureTensorSemantics() || isa<linalg::TransposeOp>(op) ||
      llvm::any_of(op.getStaticLoopRanges(),
                   [](int64_t r) { return ShapedType::isDynamic(r) || r == 0; }) ||
      llvm::any_of(op->getOperandTypes(), isBool) ||
      llvm::any_of(op->getResultTypes(), isBool))
    return false;
  bool extracts = false;
  op->walk([&](tensor::ExtractOp) { extracts = true; });
  return !extracts && linalg::hasVectorizationImpl(op);
}

struct HostTileAndVectorize
    : public prism::impl::HostTileAndVectorizeBase<HostTileAndVectorize> {
  using Base::Base;

  /// The tile size each loop aims at (1: one iteration per tile).
  SmallVector<int64_t> targetSizes(linalg::LinalgOp op) {
    int64_t n = op.getNumLoops();
    auto iterators = op.getIteratorTypesArray();
    SmallVector<int64_t> sizes(n, 1);
    if (linalg::isaContractionOpInterface(op)) {
      // batch..., m, n (parallel) and k (reduction).
      SmallVector<int64_t> parallel, reduction;
      for (int64_t i = 0; i < n; ++i)
        (linalg::isParallelIterator(iterators[i]) ? parallel : reduction)
            .push_back(i);
      if (!parallel.empty())
        sizes[parallel.back()] = nTile;
      if (parallel.size() > 1)
        sizes[parallel[parallel.size() - 2]] = mTile;
      if (!reduction.empty())
        sizes[reduction.back()] = kTile;
      return sizes;
    }
    // Elementwise ops and reductions: the innermost loop in vector chunks.
    if (n > 0)
      sizes[n - 1] = vectorWidth * 8;
    return sizes;
  }

  /// Splits `op` along its first parallel loop that the target tile does
  /// not divide, at the last multiple of the tile, so that both parts tile
  /// statically. Null when no loop needs it.
  std::optional<std::pair<Operation *, Operation *>>
  splitForTiles(IRRewriter &rewriter, linalg::LinalgOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> targets = targetSizes(op);
    auto iterators = op.getIteratorTypesArray();
    for (auto [d, range] : llvm::enumerate(ranges)) {
      int64_t t = targets[d];
      if (!linalg::isParallelIterator(iterators[d]) || t <= 1 || range <= t ||
          range % t == 0)
        continue;
      rewriter.setInsertionPoint(op);
      auto [main, rest] = linalg::splitOp(
          rewriter, cast<TilingInterface>(op.getOperation()), d,
          rewriter.getIndexAttr(range - range % t));
      if (!main || !rest)
        return std::nullopt;
      return std::make_pair(main.getOperation(), rest.getOperation());
    }
    return std::nullopt;
  }

  /// With threads > 1, tiles a large contraction whose columns split into
  /// `threads` chunks of whole n-tiles by an scf.forall over the chunks and
  /// returns the tiled op (to be tiled and vectorized in turn); else null.
  Operation *splitAcrossThreads(IRRewriter &rewriter, linalg::LinalgOp op) {
    if (threads <= 1 || !linalg::isaContractionOpInterface(op))
      return nullptr;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    auto iterators = op.getIteratorTypesArray();
    int64_t work = 1;
    for (int64_t r : ranges)
      work *= r;
    int64_t n = -1, m = -1;
    for (auto [d, it] : llvm::enumerate(iterators))
      if (linalg::isParallelIterator(it)) {
        m = n;
        n = d;
      }
    // Worth a dispatch to the async runtime: 2^23 multiply-adds, or a
    // weight of 2^20 elements (a decode step's memory-bound GEMV: with it,
    // benchmarks/host_latency.py's GPT-2 small 2-thread decode went from
    // 54 to 39 ms).
    int64_t weight = m < 0 ? work : work / ranges[m];
    bool worthIt = work >= (int64_t(1) << 23) || weight >= (int64_t(1) << 20);
    if (n < 0 || !worthIt || ranges[n] % (threads * nTile) != 0)
      return nullptr;
    SmallVector<int64_t> sizes(ranges.size(), 0);
    sizes[n] = ranges[n] / threads;
    scf::SCFTilingOptions options;
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    options.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return nullptr;
    rewriter.replaceOp(op, tiled->replacements);
    return tiled->tiledOps.back();
  }

  /// Tiles `op` (whose parallel loops the targets now divide, or are
  /// smaller than them) and vectorizes the tile.
  void tileAndVectorize(IRRewriter &rewriter, linalg::LinalgOp op) {
    if (Operation *chunk = splitAcrossThreads(rewriter, op))
      op = cast<linalg::LinalgOp>(chunk);
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> sizes = targetSizes(op);
    auto iterators = op.getIteratorTypesArray();
    for (auto [d, range] : llvm::enumerate(ranges))
      sizes[d] = linalg::isParallelIterator(iterators[d])
                     ? std::min(sizes[d], range)
                     : largestDivisor(range, sizes[d]);
    rewriter.setInsertionPoint(op);
    Operation *tile = op;
    if (sizes != ranges) {
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
      if (linalg::isaContractionOpInterface(op)) {
        // Columns outside rows: a panel of B (k x n-tile) stays in cache
        // while every row tile of A passes over it.
        SmallVector<int64_t> parallel;
        for (auto [d, it] : llvm::enumerate(iterators))
          if (linalg::isParallelIterator(it))
            parallel.push_back(d);
        if (parallel.size() >= 2) {
          SmallVector<int64_t> order =
              llvm::to_vector(llvm::seq<int64_t>(0, ranges.size()));
          std::swap(order[parallel[parallel.size() - 2]],
                    order[parallel.back()]);
          options.setInterchange(order);
        }
      }
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        return; // left as it is: the scalar loops still run it
      rewriter.replaceOp(op, tiled->replacements);
      tile = tiled->tiledOps.back();
    }
    rewriter.setInsertionPoint(tile);
    // Contractions straight to vector.contract with matmul maps, which
    // lower to outer products (FMAs over the n columns).
    FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
        rewriter, tile, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
        /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
        /*assumeDynamicDimsMatchVecSizes=*/false,
        /*createNamedContraction=*/true);
    if (succeeded(vectorized))
      rewriter.replaceOp(tile, vectorized->replacements);
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Operation *> worklist;
    func.walk([&](linalg::LinalgOp op) {
      if (isVectorizable(op))
        worklist.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    while (!worklist.empty()) {
      auto op = cast<linalg::LinalgOp>(worklist.pop_back_val());
      if (auto parts = splitForTiles(rewriter, op)) {
        worklist.push_back(parts->first);
        worklist.push_back(parts->second);
        continue;
      }
      tileAndVectorize(rewriter, op);
    }
    // Lower contractions and reductions to what LLVM's vectors take, and
    // clean up the slices and unit vector dims the tiles leave.
    RewritePatternSet patterns(&getContext());
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerReduction);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    // Transcendentals as polynomials on vectors: libm would take them one
    // element at a time.
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          name.consume_front("math.");
          return llvm::is_contained({"tanh", "erf", "exp", "expm1"}, name);
        });
    tensor::populateFoldTensorSubsetOpPatterns(patterns);
    // Not the vector dialect's canonicalizations: they turn the rows of a
    // contraction's result back into scalars (vector.from_elements).
    MLIRContext *ctx = &getContext();
    for (Dialect *d : std::initializer_list<Dialect *>{
             ctx->getLoadedDialect<scf::SCFDialect>(),
                    ctx->getLoadedDialect<tensor::TensorDialect>(),
                    ctx->getLoadedDialect<arith::ArithDialect>()})
      if (d)
        d->getCanonicalizationPatterns(patterns);
    scf::ForOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::InsertSliceOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
