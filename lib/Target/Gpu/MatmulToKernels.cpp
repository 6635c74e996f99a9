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
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <cmath>
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

/// Round-to-nearest-even f32 -> e4m3 (f8E4M3FN) bits; `x` is within
/// +-448 (the caller scales it so).
uint8_t fp8Bits(float x) {
  llvm::APFloat value(std::clamp(x, -float(kFp8Max), float(kFp8Max)));
  bool lost;
  value.convert(llvm::APFloat::Float8E4M3FN(), llvm::APFloat::rmNearestTiesToEven, &lost);
  return uint8_t(value.bitcastToAPInt().getZExtValue());
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
    // Kernels and quantized copies belong to one module.
    built.clear();
    quantized.clear();
    if (weights != "bf16" && weights != "f32" && weights != "fp8") {
      module.emitError() << "gpu-matmul-to-kernels: weights must be bf16, f32 or fp8, not '"
                         << weights << "'";
      return signalPassFailure();
    }
    llvm::Expected<GpuFigures> figures = loadGpuFigures(device, hardwareDir);
    if (!figures) {
      module.emitError() << "gpu-matmul-to-kernels: " << llvm::toString(figures.takeError());
      return signalPassFailure();
    }
    // e4m3 tensor-core mma and cvt are sm_89 (Ada) and later.
    if (weights == "fp8" && figures->computeCapability < 89) {
      module.emitError() << "gpu-matmul-to-kernels: fp8 weights need compute capability 8.9 "
                            "or later; device '"
                         << figures->kind << "' has " << figures->computeCapability / 10 << "."
                         << figures->computeCapability % 10;
      return signalPassFailure();
    }
    if (weights == "fp8" && figures->fp8OpsPerS <= 0) {
      module.emitError() << "gpu-matmul-to-kernels: fp8 weights: device '" << figures->kind
                         << "' has no fp8 peak (peak_ops_per_s.fp8) to tile for";
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
    std::optional<Weight> weight = weightAsNK(b, givenTransposed, builder);
    Value bArg = weight ? weight->data : b;
    bool bTransposed = weight || givenTransposed;
    int64_t weightBytes = cast<MemRefType>(bArg.getType()).getElementTypeBitWidth() / 8;
    GemmTile tile = chooseGemmTile(m, n, k, weightBytes, gpu);
    double gemvTime = gemvSeconds(m, n, k, weightBytes, gpu);
    bool gemv = weight && unitLastStride(a) && gemvTime < tile.seconds;
    // The kernel's operands before C: A (the GEMM quantizes it to fp8 rows
    // first when the weight is fp8), the weight, the fp8 scales.
    SmallVector<Value> operands = {a, bArg};
    if (weight && weight->scale && gemv) {
      operands.push_back(weight->scale);
    } else if (weight && weight->scale) {
      auto [q, rowScale] = quantizeRows(builder, kernels, a);
      operands = {q, bArg, rowScale, weight->scale};
    }
    auto kernelA = cast<MemRefType>(operands[0].getType());
    auto build = [&] {
      const Epilogue *e = epilogue ? &*epilogue : nullptr;
      auto bType = cast<MemRefType>(bArg.getType());
      return gemv ? buildGemvKernel(kernels, mm.getLoc(), kernelA, bType, cType, e)
                  : buildGemmKernel(kernels, mm.getLoc(), kernelA, bType, bTransposed, cType,
                                    tile, e);
    };
    double seconds = gemv ? gemvTime : tile.seconds;
    if (epilogue) {
      // Each epilogue is its own kernel: its body is part of it.
      llvm::append_range(operands, epilogue->operands());
      build().launch(builder, operands, seconds);
      eraseFused(mm, *epilogue);
      return success();
    }
    std::string key;
    llvm::raw_string_ostream os(key);
    os << kernelA << bArg.getType() << cType << (gemv ? " gemv" : " gemm") << tile.bm << "x"
       << tile.bn << (bTransposed ? " [N,K]" : " [K,N]");
    auto [it, fresh] = built.try_emplace(key);
    if (fresh)
      it->second = build();
    operands.push_back(c);
    it->second.launch(builder, operands, seconds);
    mm.erase();
    return success();
  }

  /// A's rows quantized to fp8 for the fp8 GEMM, in new buffers: the e4m3
  /// bits [M, K] (i8) and each row's scale [M].
  std::pair<Value, Value> quantizeRows(ImplicitLocOpBuilder &builder, KernelModule &kernels,
                                       Value a) {
    // The projections reading one A (q, k and v; gate and up) share its
    // quantized copy while nothing writes A in between. (Not a global's:
    // another get_global of it could write it unseen.)
    bool cacheable = !viewedBuffer(a).getDefiningOp<memref::GetGlobalOp>();
    auto cached = cacheable ? quantized.find(a) : quantized.end();
    if (cached != quantized.end()) {
      auto [q, scale, launch] = cached->second;
      if (launch->getBlock() == builder.getBlock() && !mayWriteBefore(launch, builder, a))
        return {q, scale};
    }
    auto aType = cast<MemRefType>(a.getType());
    int64_t m = aType.getDimSize(0), k = aType.getDimSize(1);
    auto qType = MemRefType::get({m, k}, builder.getI8Type());
    auto scaleType = MemRefType::get({m}, builder.getF32Type());
    Value q = memref::AllocOp::create(builder, qType, builder.getI64IntegerAttr(64));
    Value scale = memref::AllocOp::create(builder, scaleType, builder.getI64IntegerAttr(64));
    std::string key;
    llvm::raw_string_ostream(key) << aType << " quantize";
    auto [it, fresh] = built.try_emplace(key);
    if (fresh)
      it->second = buildQuantizeRowsKernel(kernels, a.getLoc(), aType, qType, scaleType);
    it->second.launch(builder, {a, q, scale});
    if (cacheable)
      quantized[a] = {q, scale, builder.getInsertionPoint()->getPrevNode()};
    return {q, scale};
  }

  /// Whether an op after `from` and before the builder's point may write
  /// the buffer `a` views: any that takes it, other than as a view's source
  /// or a linalg op's input.
  static bool mayWriteBefore(Operation *from, ImplicitLocOpBuilder &builder, Value a) {
    Value buffer = viewedBuffer(a);
    for (auto it = std::next(Block::iterator(from)); it != builder.getInsertionPoint(); ++it) {
      WalkResult result = it->walk([&](Operation *op) {
        for (OpOperand &use : op->getOpOperands()) {
          if (!isa<MemRefType>(use.get().getType()) || viewedBuffer(use.get()) != buffer ||
              isa<ViewLikeOpInterface, memref::CastOp>(op))
            continue;
          auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
          if (!linalgOp || !linalgOp.isDpsInput(&use))
            return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (result.wasInterrupted())
        return true;
    }
    return false;
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

  /// A weight as the kernels read it: [N, K] in the weight dtype, and for
  /// fp8 each column's scale [N] (the values are data * scale).
  struct Weight {
    Value data, scale;
  };

  /// A constant weight `b` (f32, a memref.get_global; [K, N], or [N, K]
  /// when `given` transposed) as a Weight, or nothing when `b` is no such
  /// weight.
  std::optional<Weight> weightAsNK(Value b, bool given, ImplicitLocOpBuilder &builder) {
    auto get = b.getDefiningOp<memref::GetGlobalOp>();
    if (!get)
      return std::nullopt;
    auto module = get->getParentOfType<ModuleOp>();
    auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
    if (!global || !global.getConstant() || !global.getInitialValue())
      return std::nullopt;
    auto type = cast<MemRefType>(b.getType());
    int64_t k = type.getDimSize(given ? 1 : 0), n = type.getDimSize(given ? 0 : 1);
    const bool fp8 = weights == "fp8";
    Type element = weights == "bf16" ? Type(builder.getBF16Type())
                   : fp8             ? Type(builder.getType<Float8E4M3FNType>())
                                     : Type(builder.getF32Type());
    auto resultType = MemRefType::get({n, k}, element);
    auto scaleType = MemRefType::get({n}, builder.getF32Type());
    std::string name = (global.getSymName() + (given ? "_" : "_t_") + weights).str();
    std::string scaleName = name + "_scale";
    if (!module.lookupSymbol(name)) {
      OpBuilder at(global);
      std::optional<std::vector<float>> values = weightValues(*global.getInitialValue(), n * k);
      // Column `col` of the [N, K] weight, as f32.
      auto column = [&](int64_t col, int64_t row) {
        return (*values)[given ? col * k + row : row * n + col];
      };
      std::vector<char> raw, scaleRaw;
      if (values) {
        int64_t bytes = element.getIntOrFloatBitWidth() / 8;
        raw.resize(n * k * bytes);
        scaleRaw.resize(fp8 ? n * 4 : 0);
        for (int64_t col = 0; col < n; ++col) {
          // fp8: the column's largest magnitude becomes e4m3's largest.
          float scale = 1;
          if (fp8) {
            float max = 0;
            for (int64_t row = 0; row < k; ++row)
              max = std::max(max, std::fabs(column(col, row)));
            scale = max > 0 ? max / float(kFp8Max) : 1;
            std::memcpy(scaleRaw.data() + col * 4, &scale, 4);
          }
          for (int64_t row = 0; row < k; ++row) {
            float x = column(col, row);
            char *to = raw.data() + (col * k + row) * bytes;
            if (fp8) {
              *to = char(fp8Bits(x / scale));
            } else if (bytes == 2) {
              uint16_t h = bf16Bits(x);
              std::memcpy(to, &h, 2);
            } else {
              std::memcpy(to, &x, 4);
            }
          }
        }
      }
      // Without the values here (weights left out) the globals are declared
      // uninitialized, as the original is to whoever loads the weights.
      auto declare = [&](StringRef symbol, MemRefType globalType, ArrayRef<char> data) {
        Attribute init = at.getUnitAttr();
        if (values)
          init = DenseElementsAttr::getFromRawBuffer(
              RankedTensorType::get(globalType.getShape(), globalType.getElementType()), data);
        auto created = memref::GlobalOp::create(
            at, global.getLoc(), at.getStringAttr(symbol), at.getStringAttr("private"),
            TypeAttr::get(globalType), init, values ? at.getUnitAttr() : UnitAttr(),
            at.getI64IntegerAttr(64));
        created->setAttr("prism.weight_of", global.getSymNameAttr());
      };
      declare(name, resultType, raw);
      if (fp8)
        declare(scaleName, scaleType, scaleRaw);
    }
    Weight weight;
    weight.data = memref::GetGlobalOp::create(builder, resultType, name);
    if (fp8)
      weight.scale = memref::GetGlobalOp::create(builder, scaleType, scaleName);
    return weight;
  }

  llvm::StringMap<Kernel> built;
  /// Each A quantized so far: its e4m3 copy, row scales and the launch.
  llvm::DenseMap<Value, std::tuple<Value, Value, Operation *>> quantized;
};

} // namespace
