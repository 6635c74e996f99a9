//===- Pipelines.cpp - The host lowering pipeline -------------------------===//

#include "prism/Target/Host/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {

/// After bufferization: loops for what stays scalar, vectors lowered to
/// LLVM's (contractions as outer products: FMAs on the host's vectors).
constexpr const char *kBufferizeAndLower =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    "func.func(convert-linalg-to-loops,convert-vector-to-scf{full-unroll}),"
    "lower-affine,";

/// scf.forall (threads) as async tasks on MLIR's async runtime.
constexpr const char *kParallel =
    "func.func(scf-forall-to-parallel),"
    "async-parallel-for{async-dispatch=false num-workers=-1 min-task-size=1},"
    "async-to-async-runtime,async-runtime-ref-counting,"
    "async-runtime-ref-counting-opt,convert-async-to-llvm,";

constexpr const char *kToLLVM =
    "convert-scf-to-cf,"
    // Math that LLVM has no intrinsic for becomes libm calls (vectors
    // unrolled) before the vector ops are lowered.
    "convert-math-to-llvm,convert-math-to-libm,"
    "convert-vector-to-llvm{vector-contract-lowering=outerproduct "
    "reassociate-fp-reductions},"
    "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
    "convert-arith-to-llvm,convert-index-to-llvm,"
    "convert-func-to-llvm,convert-cf-to-llvm,convert-ub-to-llvm,"
    "reconcile-unrealized-casts";

struct HostPipelineOptions : public PassPipelineOptions<HostPipelineOptions> {
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("Tile and vectorize (host-tile-and-"
                                        "vectorize); off: scalar loops"),
                         llvm::cl::init(true)};
  Option<int64_t> threads{*this, "threads",
                          llvm::cl::desc("Threads for large contractions "
                                         "(MLIR's async runtime)"),
                          llvm::cl::init(1)};
};

} // namespace

void prism::buildHostLowerToLLVMPipeline(OpPassManager &pm, bool vectorize,
                                         int64_t threads) {
  if (vectorize) {
    HostTileAndVectorizeOptions options;
    options.threads = threads;
    pm.addNestedPass<func::FuncOp>(createHostTileAndVectorize(options));
  }
  // The pipeline text is parsed into `pm`: it names upstream passes only.
  std::string text = std::string(kBufferizeAndLower) +
                     (threads > 1 ? kParallel : "") + kToLLVM;
  if (failed(parsePassPipeline(text, pm)))
    llvm::report_fatal_error("host-lower-to-llvm: bad pipeline text");
}

void prism::registerHostPipelines() {
  PassPipelineRegistration<HostPipelineOptions>(
      "host-lower-to-llvm",
      "linalg on tensors to the LLVM dialect for the host CPU: tiling and "
      "vectorization, one-shot bufferization, loops and vectors to LLVM",
      [](OpPassManager &pm, const HostPipelineOptions &options) {
        buildHostLowerToLLVMPipeline(pm, options.vectorize, options.threads);
      });
}
