//===- GemmKernels.cpp - Tensor-core GEMM and weight-streaming GEMV -------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace prism::gpu;

//===----------------------------------------------------------------------===//
// Kernel module and launches
//===----------------------------------------------------------------------===//

KernelModule::KernelModule(ModuleOp module) {
  constexpr StringLiteral name = "prism_kernels";
  kernels = module.lookupSymbol<mlir::gpu::GPUModuleOp>(name);
  if (!kernels) {
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    kernels = mlir::gpu::GPUModuleOp::create(b, module.getLoc(), name);
  }
  module->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(module.getContext()));
}

ImplicitLocOpBuilder KernelModule::builder(Location loc) {
  ImplicitLocOpBuilder b(loc, kernels.getContext());
  b.setInsertionPointToEnd(kernels.getBody());
  return b;
}

std::string KernelModule::uniqueName(StringRef stem) {
  std::string name;
  do
    name = (stem + "_" + Twine(counter++)).str();
  while (SymbolTable::lookupSymbolIn(kernels, name));
  return name;
}

void Kernel::launch(ImplicitLocOpBuilder &b, ValueRange args, double predictedSeconds) const {
  auto dim = [&](const int64_t (&v)[3]) {
    return mlir::gpu::KernelDim3{arith::ConstantIndexOp::create(b, v[0]),
                                 arith::ConstantIndexOp::create(b, v[1]),
                                 arith::ConstantIndexOp::create(b, v[2])};
  };
  auto launch = mlir::gpu::LaunchFuncOp::create(b, func, dim(grid), dim(block), Value(), args);
  if (predictedSeconds > 0)
    launch->setAttr("prism.predicted_s", b.getF64FloatAttr(predictedSeconds));
}

MemRefType prism::gpu::anyLayout(ArrayRef<int64_t> shape, Type element) {
  SmallVector<int64_t> strides(shape.size(), ShapedType::kDynamic);
  return MemRefType::get(shape, element,
                         StridedLayoutAttr::get(element.getContext(), ShapedType::kDynamic,
                                                strides));
}

RankedTensorType prism::gpu::staticF32Tensor(Value v) {
  auto type = dyn_cast_or_null<RankedTensorType>(v ? v.getType() : Type());
  return type && type.hasStaticShape() && type.getElementType().isF32() ? type : nullptr;
}

Value prism::gpu::tensorAsOperand(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(b, anyLayout(type.getShape(), type.getElementType()),
                                           tensor, /*read_only=*/true);
}

MemRefType prism::gpu::sharedBuffer(ArrayRef<int64_t> shape, Type element) {
  return MemRefType::get(shape, element, MemRefLayoutAttrInterface(),
                         mlir::gpu::AddressSpaceAttr::get(element.getContext(),
                                                          mlir::gpu::AddressSpace::Workgroup));
}

mlir::gpu::GPUFuncOp prism::gpu::createKernel(ImplicitLocOpBuilder &b, StringRef name,
                                              TypeRange args, TypeRange workgroup) {
  auto func = mlir::gpu::GPUFuncOp::create(b, name, b.getFunctionType(args, {}), workgroup);
  func->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  // Shared buffers are read in 4- and 16-byte vectors (fragment pairs,
  // merged loads): align them so, not just to their element.
  for (unsigned i = 0; i < workgroup.size(); ++i)
    func.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                                     b.getI64IntegerAttr(16));
  b.setInsertionPointToStart(&func.getBody().front());
  mlir::gpu::ReturnOp::create(b);
  b.setInsertionPointToStart(&func.getBody().front());
  return func;
}

//===----------------------------------------------------------------------===//
// GEMM
//===----------------------------------------------------------------------===//

namespace {

/// A matmul kernel's argument types: A, B, then C or the epilogue's
/// operands.
SmallVector<Type> matmulArgTypes(MemRefType a, MemRefType b, MemRefType c,
                                 const Epilogue *epilogue) {
  SmallVector<Type> types = {a, b};
  if (!epilogue)
    types.push_back(c);
  else
    for (Value v : epilogue->operands())
      types.push_back(v.getType());
  return types;
}

/// Two adjacent bf16 of a shared buffer as the i32 an mma fragment register
/// holds (the lower-indexed element in the low half).
Value packPair(KernelBuilder &k, Value buffer, Value row, Value col) {
  ImplicitLocOpBuilder &b = k.b;
  auto pair = vector::LoadOp::create(b, VectorType::get({2}, b.getBF16Type()), buffer,
                                     ValueRange{row, col});
  auto word = vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), pair);
  return vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0});
}

Value toBF16(KernelBuilder &k, Value x) {
  return x.getType().isBF16() ? x : Value(arith::TruncFOp::create(k.b, k.b.getBF16Type(), x));
}

} // namespace

Kernel prism::gpu::buildGemmKernel(KernelModule &kernels, Location loc, MemRefType aType,
                                   MemRefType bType, bool bTransposed, MemRefType cType,
                                   const GemmTile &t, const Epilogue *epilogue) {
  int64_t m = aType.getDimSize(0), k = aType.getDimSize(1), n = cType.getDimSize(1);
  ImplicitLocOpBuilder b = kernels.builder(loc);
  KernelBuilder kb(b);
  Type bf16 = b.getBF16Type();
  // Rows padded by 8 elements, so that a warp's fragment reads spread over
  // the banks.
  MemRefType aTile = sharedBuffer({t.bm, t.bk + 8}, bf16);
  MemRefType bTile = sharedBuffer({t.bn, t.bk + 8}, bf16);
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName("gemm"),
                             matmulArgTypes(aType, bType, cType, epilogue), {aTile, bTile});
  kernel.grid[0] = (n + t.bn - 1) / t.bn;
  kernel.grid[1] = (m + t.bm - 1) / t.bm;
  kernel.block[0] = t.threads();
  Value a = kernel.func.getArgument(0), bMat = kernel.func.getArgument(1);
  ValueRange results = kernel.func.getArguments().drop_front(2);
  Value as = kernel.func.getWorkgroupAttributions()[0],
        bs = kernel.func.getWorkgroupAttributions()[1];

  const int64_t threads = t.threads(), warpRows = t.bm / t.warpsM, warpCols = t.bn / t.warpsN;
  const int64_t fragsM = warpRows / 16, fragsN = warpCols / 8;
  Value tid = kb.threadId();
  Value warp = kb.div(tid, 32), lane = kb.rem(tid, 32);
  Value group = kb.div(lane, 4), inGroup = kb.rem(lane, 4);
  Value warpRow = kb.mul(kb.div(warp, t.warpsN), warpRows);
  Value warpCol = kb.mul(kb.rem(warp, t.warpsN), warpCols);
  Value m0 = kb.mul(kb.blockId(mlir::gpu::Dimension::y), t.bm);
  Value n0 = kb.mul(kb.blockId(mlir::gpu::Dimension::x), t.bn);
  Value zero = kb.f32(0);
  Value mBound = kb.idx(m), nBound = kb.idx(n), kBound = kb.idx(k);
  Value bZero = b.getZeroAttr(bType.getElementType()) ? Value(arith::ConstantOp::create(
                    b, cast<TypedAttr>(b.getZeroAttr(bType.getElementType()))))
                                                      : Value();

  SmallVector<Value> inits(fragsM * fragsN * 4, zero);
  SmallVector<Value> acc = kb.loop(kb.idx(0), kBound, t.bk, inits,
                                   [&](Value k0, ValueRange carried) {
    // Stage this K slice of A (rows of the block) and B (its columns, kept
    // [n][k] so that fragment pairs are adjacent) as bf16; outside the
    // matrices, zeros.
    kb.loop(tid, kb.idx(t.bm * t.bk), threads, [&](Value e) {
      Value r = kb.div(e, t.bk), col = kb.rem(e, t.bk);
      Value gm = kb.add(m0, r), gk = kb.add(k0, col);
      Value v = kb.loadOr(kb.both(kb.lt(gm, mBound), kb.lt(gk, kBound)), a, {gm, gk}, zero);
      kb.store(toBF16(kb, v), as, {r, col});
    });
    kb.loop(tid, kb.idx(t.bn * t.bk), threads, [&](Value e) {
      // Consecutive threads read consecutive elements of B's contiguous dim.
      Value nn = bTransposed ? kb.div(e, t.bk) : kb.rem(e, t.bn);
      Value kk = bTransposed ? kb.rem(e, t.bk) : kb.div(e, t.bn);
      Value gn = kb.add(n0, nn), gk = kb.add(k0, kk);
      Value inBounds = kb.both(kb.lt(gn, nBound), kb.lt(gk, kBound));
      Value v = bTransposed ? kb.loadOr(inBounds, bMat, {gn, gk}, bZero)
                            : kb.loadOr(inBounds, bMat, {gk, gn}, bZero);
      kb.store(toBF16(kb, v), bs, {nn, kk});
    });
    kb.barrier();
    SmallVector<Value> next(carried);
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, b.getF32Type()));
    for (int64_t step = 0; step < t.bk; step += 16) {
      Value col = kb.add(kb.mul(inGroup, 2), step);
      SmallVector<SmallVector<Value, 4>> aFrags, bFrags;
      for (int64_t fm = 0; fm < fragsM; ++fm) {
        Value row = kb.add(kb.add(warpRow, group), fm * 16);
        Value row8 = kb.add(row, 8), col8 = kb.add(col, 8);
        aFrags.push_back({packPair(kb, as, row, col), packPair(kb, as, row8, col),
                          packPair(kb, as, row, col8), packPair(kb, as, row8, col8)});
      }
      for (int64_t fn = 0; fn < fragsN; ++fn) {
        Value nn = kb.add(kb.add(warpCol, group), fn * 8);
        bFrags.push_back({packPair(kb, bs, nn, col), packPair(kb, bs, nn, kb.add(col, 8))});
      }
      for (int64_t fm = 0; fm < fragsM; ++fm)
        for (int64_t fn = 0; fn < fragsN; ++fn) {
          MutableArrayRef<Value> c4(next.data() + (fm * fragsN + fn) * 4, 4);
          Value d = NVVM::MmaOp::create(
              b, resultType, aFrags[fm], bFrags[fn], SmallVector<Value>(c4), {16, 8, 16},
              std::nullopt, std::nullopt,
              std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
              std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
          for (int64_t i = 0; i < 4; ++i)
            c4[i] = LLVM::ExtractValueOp::create(b, d, ArrayRef<int64_t>{i});
        }
    }
    // The next slice overwrites the staging buffers.
    kb.barrier();
    return next;
  });

  // c0 c1: row g, columns 2t and 2t+1; c2 c3: row g+8.
  for (int64_t fm = 0; fm < fragsM; ++fm)
    for (int64_t fn = 0; fn < fragsN; ++fn)
      for (int64_t i = 0; i < 4; ++i) {
        Value row = kb.add(kb.add(kb.add(m0, warpRow), group), fm * 16 + (i / 2) * 8);
        Value col = kb.add(kb.add(kb.add(n0, warpCol), kb.mul(inGroup, 2)), fn * 8 + i % 2);
        kb.when(kb.both(kb.lt(row, mBound), kb.lt(col, nBound)), [&] {
          storeProduct(kb, epilogue, results, row, col, acc[(fm * fragsN + fn) * 4 + i]);
        });
      }
  return kernel;
}

//===----------------------------------------------------------------------===//
// GEMV
//===----------------------------------------------------------------------===//

Kernel prism::gpu::buildGemvKernel(KernelModule &kernels, Location loc, MemRefType aType,
                                   MemRefType btType, MemRefType cType,
                                   const Epilogue *epilogue) {
  int64_t m = aType.getDimSize(0), k = aType.getDimSize(1), n = btType.getDimSize(0);
  Type weight = btType.getElementType();
  // 16 bytes of weights a lane a step, when K splits into such vectors.
  int64_t width = 16 / (weight.getIntOrFloatBitWidth() / 8);
  if (k % width != 0)
    width = 1;
  const int64_t warps = 8;
  // Rows start on 16-byte boundaries when K fills whole vectors; a buffer
  // without an offset starts on one (allocations are 64-byte aligned), so
  // its loads may be 16-byte vector loads. Views keep element alignment.
  auto alignment = [&](MemRefType type) {
    return width > 1 && type.getLayout().isIdentity() ? llvm::MaybeAlign(16)
                                                      : llvm::MaybeAlign();
  };
  ImplicitLocOpBuilder b = kernels.builder(loc);
  KernelBuilder kb(b);
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName("gemv"),
                             matmulArgTypes(aType, btType, cType, epilogue));
  kernel.grid[0] = (n + warps - 1) / warps;
  kernel.block[0] = 32 * warps;
  Value a = kernel.func.getArgument(0), bt = kernel.func.getArgument(1);
  ValueRange results = kernel.func.getArguments().drop_front(2);
  Value tid = kb.threadId();
  Value lane = kb.rem(tid, 32);
  Value col = kb.add(kb.mul(kb.blockId(mlir::gpu::Dimension::x), warps), kb.div(tid, 32));
  // A whole warp takes one column, so a warp past N leaves together.
  kb.when(kb.lt(col, n), [&] {
    auto f32Vector = VectorType::get({width}, b.getF32Type());
    Value zeros = arith::ConstantOp::create(b, DenseElementsAttr::get(f32Vector, 0.0f));
    SmallVector<Value> inits(m, zeros);
    SmallVector<Value> partial = kb.loop(
        kb.mul(lane, width), kb.idx(k), 32 * width, inits, [&](Value kk, ValueRange sums) {
          Value w = vector::LoadOp::create(b, VectorType::get({width}, weight), bt,
                                           ValueRange{col, kk}, false, alignment(btType));
          if (!weight.isF32())
            w = arith::ExtFOp::create(b, f32Vector, w);
          SmallVector<Value> next;
          for (int64_t row = 0; row < m; ++row) {
            Value x = vector::LoadOp::create(b, f32Vector, a, ValueRange{kb.idx(row), kk},
                                             false, alignment(aType));
            next.push_back(vector::FMAOp::create(b, w, x, sums[row]));
          }
          return next;
        });
    for (int64_t row = 0; row < m; ++row) {
      Value sum = vector::ReductionOp::create(b, vector::CombiningKind::ADD, partial[row]);
      for (int32_t offset = 16; offset > 0; offset /= 2)
        sum = kb.fadd(sum, mlir::gpu::ShuffleOp::create(b, sum, offset, 32,
                                                        mlir::gpu::ShuffleMode::XOR)
                               .getShuffleResult());
      kb.when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, kb.idx(0)),
              [&] { storeProduct(kb, epilogue, results, kb.idx(row), col, sum); });
    }
  });
  return kernel;
}
