//===- MatmulToKernels.cpp - The gpu-matmul-to-kernels pass ---------------===//
//
// Every bufferized f32 linalg.matmul becomes a launch of Prism's tensor-core
// GEMM or, where the cost model says streaming the weights wins (decode's
// few rows), of its GEMV. Constant weights are stored once more, transposed
// to [N, K] in the weight dtype, so both kernels read them along K. An
// elementwise generic that is the only reader of a matmul's result (bias,
// activation, residual) becomes the kernel's epilogue (Epilogue.cpp).
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Gpu/Kernels.h"
#include "prism/Target/Gpu/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"

#include <cstring>

namespace prism {
#define GEN_PASS_DEF_GPUMATMULTOKERNELS
#include "prism/Target/Gpu/Passes.h.inc"
} // namespace prism

using namespace mlir;
using namespace prism::gpu;

namespace {

bool isStaticF32(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

/// The maps of a plain matmul (B is [K, N]) or of one with B transposed
/// ([N, K], as exporters write a tied LM head); nothing for others.
std::optional<bool> bTransposedByMaps(linalg::MatmulOp mm) {
  if (!mm.hasUserDefinedMaps())
    return false;
  MLIRContext *ctx = mm.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  SmallVector<AffineMap> transposed = {AffineMap::get(3, 0, {m, k}, ctx),
                                       AffineMap::get(3, 0, {n, k}, ctx),
                                       AffineMap::get(3, 0, {m, n}, ctx)};
  if (mm.getIndexingMapsArray() == transposed)
    return true;
  return std::nullopt;
}

bool unitLastStride(Value v) { return cast<MemRefType>(v.getType()).isLastDimUnitStride(); }

/// Round-to-nearest-even f32 -> bf16 bits.
uint16_t bf16Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN stays a NaN
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

/// The f32 elements of a weight global's initial value, or nothing when it
/// has none here (weights left out with --elide-weights).
std::optional<std::vector<float>> weightValues(Attribute init, int64_t count) {
  if (auto dense = dyn_cast<DenseElementsAttr>(init)) {
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    if (int64_t(data.size()) != count * 4)
      return std::nullopt;
    std::vector<float> values(count);
    std::memcpy(values.data(), data.data(), data.size());
    return values;
  }
  return std::nullopt;
}

struct GpuMatmulToKernelsPass
    : prism::impl::GpuMatmulToKernelsBase<GpuMatmulToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (weights != "bf16" && weights != "f32") {
      module.emitError() << "gpu-matmul-to-kernels: weights must be bf16 or f32, not '"
                         << weights << "'";
      return signalPassFailure();
    }
    llvm::Expected<GpuFigures> figures = loadGpuFigures(device, hardwareDir);
    if (!figures) {
      module.emitError() << "gpu-matmul-to-kernels: " << llvm::toString(figures.takeError());
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> matmuls;
    module.walk([&](linalg::MatmulOp mm) {
      if (bTransposedByMaps(mm) && mm.hasPureBufferSemantics() &&
          llvm::all_of(mm->getOperands(), isStaticF32))
        matmuls.push_back(mm);
    });
    if (matmuls.empty())
      return;
    KernelModule kernels(module);
    for (linalg::MatmulOp mm : matmuls)
      if (failed(lower(mm, kernels, *figures)))
        return signalPassFailure();
  }

  LogicalResult lower(linalg::MatmulOp mm, KernelModule &kernels, const GpuFigures &gpu) {
    Value a = mm.getInputs()[0], b = mm.getInputs()[1], c = mm.getOutputs()[0];
    auto aType = cast<MemRefType>(a.getType()), cType = cast<MemRefType>(c.getType());
    int64_t m = aType.getDimSize(0), k = aType.getDimSize(1), n = cType.getDimSize(1);
    std::optional<Epilogue> epilogue;
    if (fuseEpilogues)
      epilogue = matchEpilogue(mm);
    // With an epilogue the kernel runs where the generic did, after the
    // allocations and views of its operands.
    ImplicitLocOpBuilder builder(mm.getLoc(), epilogue ? epilogue->generic : mm);
    bool givenTransposed = *bTransposedByMaps(mm);
    Value bt = weightAsNK(b, givenTransposed, builder);
    Value bArg = bt ? bt : b;
    bool bTransposed = bt || givenTransposed;
    int64_t weightBytes = cast<MemRefType>(bArg.getType()).getElementTypeBitWidth() / 8;
    GemmTile tile = chooseGemmTile(m, n, k, weightBytes, gpu);
    bool gemv = bt && unitLastStride(a) &&
                gemvSeconds(m, n, k, weightBytes, gpu) < tile.seconds;
    auto build = [&] {
      const Epilogue *e = epilogue ? &*epilogue : nullptr;
      auto bType = cast<MemRefType>(bArg.getType());
      return gemv ? buildGemvKernel(kernels, mm.getLoc(), aType, bType, cType, e)
                  : buildGemmKernel(kernels, mm.getLoc(), aType, bType, bTransposed, cType,
                                    tile, e);
    };
    double seconds = gemv ? gemvSeconds(m, n, k, weightBytes, gpu) : tile.seconds;
    if (epilogue) {
      // Each epilogue is its own kernel: its body is part of it.
      SmallVector<Value> args = {a, bArg};
      llvm::append_range(args, epilogue->operands());
      build().launch(builder, args, seconds);
      eraseFused(mm, *epilogue);
      return success();
    }
    std::string key;
    llvm::raw_string_ostream os(key);
    os << aType << bArg.getType() << cType << (gemv ? " gemv" : " gemm") << tile.bm << "x"
       << tile.bn << (bTransposed ? " [N,K]" : " [K,N]");
    auto [it, fresh] = built.try_emplace(key);
    if (fresh)
      it->second = build();
    it->second.launch(builder, {a, bArg, c}, seconds);
    mm.erase();
    return success();
  }

  /// The generic, the matmul and what only they used: C, its zero fill and
  /// its view.
  static void eraseFused(linalg::MatmulOp mm, Epilogue epilogue) {
    Value view = epilogue.generic.getDpsInputs()[epilogue.accInput];
    Value c = mm.getOutputs()[0];
    epilogue.generic.erase();
    if (view != c)
      view.getDefiningOp()->erase();
    mm.erase();
    for (Operation *user : llvm::make_early_inc_range(c.getUsers()))
      user->erase(); // the zero fill
    c.getDefiningOp()->erase();
  }

  /// A constant weight `b` (f32, a memref.get_global; [K, N], or [N, K]
  /// when `given` transposed) as a global [N, K] in the weight dtype, or
  /// null when `b` is no such weight.
  Value weightAsNK(Value b, bool given, ImplicitLocOpBuilder &builder) {
    auto get = b.getDefiningOp<memref::GetGlobalOp>();
    if (!get)
      return nullptr;
    auto module = get->getParentOfType<ModuleOp>();
    auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
    if (!global || !global.getConstant() || !global.getInitialValue())
      return nullptr;
    auto type = cast<MemRefType>(b.getType());
    int64_t k = type.getDimSize(given ? 1 : 0), n = type.getDimSize(given ? 0 : 1);
    Type element = weights == "bf16" ? Type(builder.getBF16Type()) : builder.getF32Type();
    auto resultType = MemRefType::get({n, k}, element);
    std::string name = (global.getSymName() + (given ? "_" : "_t_") + weights).str();
    if (!module.lookupSymbol(name)) {
      OpBuilder at(global);
      Attribute init = at.getUnitAttr();
      bool constant = false;
      if (auto values = weightValues(*global.getInitialValue(), n * k)) {
        int64_t bytes = element.getIntOrFloatBitWidth() / 8;
        std::vector<char> raw(n * k * bytes);
        for (int64_t row = 0; row < k; ++row)
          for (int64_t col = 0; col < n; ++col) {
            float x = (*values)[given ? col * k + row : row * n + col];
            char *to = raw.data() + (col * k + row) * bytes;
            if (bytes == 2) {
              uint16_t h = bf16Bits(x);
              std::memcpy(to, &h, 2);
            } else {
              std::memcpy(to, &x, 4);
            }
          }
        init = DenseElementsAttr::getFromRawBuffer(RankedTensorType::get({n, k}, element), raw);
        constant = true;
      }
      // Without the values here (weights left out) the global is declared
      // uninitialized, as the original is to whoever loads the weights.
      auto created = memref::GlobalOp::create(
          at, global.getLoc(), at.getStringAttr(name), at.getStringAttr("private"),
          TypeAttr::get(resultType), init, constant ? at.getUnitAttr() : UnitAttr(),
          at.getI64IntegerAttr(64));
      created->setAttr("prism.weight_of", global.getSymNameAttr());
    }
    return memref::GetGlobalOp::create(builder, resultType, name);
  }

  llvm::StringMap<Kernel> built;
};

} // namespace
