//===- GemmKernels.cpp - Tensor-core GEMM and weight-streaming GEMV -------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

#include <limits>

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

bool isFp8(Type t) { return isa<Float8E4M3FNType>(t); }

/// A matmul kernel's argument types: A, B, the scales (fp8: A's rows' for
/// the GEMM, then B's columns'), then C or the epilogue's operands.
SmallVector<Type> matmulArgTypes(MemRefType a, MemRefType b, MemRefType c,
                                 const Epilogue *epilogue) {
  SmallVector<Type> types = {a, b};
  auto f32 = Float32Type::get(b.getContext());
  if (isFp8(b.getElementType())) {
    // The GEMM's A is quantized too (i8 bits); the GEMV's stays f32.
    if (a.getElementType().isInteger(8))
      types.push_back(MemRefType::get({a.getDimSize(0)}, f32));
    types.push_back(MemRefType::get({b.getDimSize(0)}, f32));
  }
  if (!epilogue)
    types.push_back(c);
  else
    for (Value v : epilogue->operands())
      types.push_back(v.getType());
  return types;
}

/// The 4 bytes at (row, col) of a shared buffer (two bf16 or four fp8) as
/// the i32 an mma fragment register holds (the lower-indexed element in
/// the low bits).
Value fragmentWord(KernelBuilder &k, Value buffer, Value row, Value col) {
  ImplicitLocOpBuilder &b = k.b;
  Type element = cast<MemRefType>(buffer.getType()).getElementType();
  auto elements = vector::LoadOp::create(
      b, VectorType::get({32 / element.getIntOrFloatBitWidth()}, element), buffer,
      ValueRange{row, col});
  auto word = vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), elements);
  return vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0});
}

/// `x` (a scalar or a vector) as the staging buffers hold it: bf16, or the
/// bits of an fp8.
Value toStaged(KernelBuilder &k, Value x, Type staged) {
  if (auto vector = dyn_cast<VectorType>(x.getType()))
    staged = vector.clone(staged);
  if (x.getType() == staged)
    return x;
  if (getElementTypeOrSelf(staged).isBF16())
    return arith::TruncFOp::create(k.b, staged, x);
  return arith::BitcastOp::create(k.b, staged, x); // fp8 -> i8
}

Value zeroOf(ImplicitLocOpBuilder &b, Type t) {
  return arith::ConstantOp::create(b, cast<TypedAttr>(b.getZeroAttr(t)));
}

/// Stages rows [r0, r0 + rows) x columns [k0, k0 + bk) of `global` (K its
/// contiguous last dim) into `shared` [rows][bk + pad], zeros outside the
/// matrix. 16 bytes a thread where K splits into such vectors and rows
/// start on them (no view offset or strides); else an element a thread.
void stageRows(KernelBuilder &kb, Value global, Value shared, int64_t rows, int64_t bk,
               Value r0, Value k0, int64_t threads, Type staged) {
  ImplicitLocOpBuilder &b = kb.b;
  auto type = cast<MemRefType>(global.getType());
  int64_t bound = type.getDimSize(0), k = type.getDimSize(1);
  int64_t vec = 128 / type.getElementTypeBitWidth();
  if (!type.getLayout().isIdentity() || k % vec != 0 || bk % vec != 0)
    vec = 1;
  Value tid = kb.threadId();
  kb.loop(tid, kb.idx(rows * bk / vec), threads, [&](Value e) {
    Value r = kb.div(e, bk / vec), col = kb.mul(kb.rem(e, bk / vec), vec);
    Value gr = kb.add(r0, r), gk = kb.add(k0, col);
    // With K a multiple of the vector, a vector is all in or all out.
    Value inBounds = kb.both(kb.lt(gr, bound), kb.lt(gk, k));
    if (vec == 1) {
      Value v = kb.loadOr(inBounds, global, {gr, gk}, zeroOf(b, type.getElementType()));
      kb.store(toStaged(kb, v, staged), shared, {r, col});
      return;
    }
    auto vectorType = VectorType::get({vec}, type.getElementType());
    auto ifOp = scf::IfOp::create(b, vectorType, inBounds, true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, Value(vector::LoadOp::create(b, vectorType, global,
                                                           ValueRange{gr, gk}, false,
                                                           llvm::MaybeAlign(16))));
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, zeroOf(b, vectorType));
    }
    vector::StoreOp::create(b, toStaged(kb, ifOp.getResult(0), staged), shared,
                            ValueRange{r, col});
  });
}


} // namespace

Kernel prism::gpu::buildGemmKernel(KernelModule &kernels, Location loc, MemRefType aType,
                                   MemRefType bType, bool bTransposed, MemRefType cType,
                                   const GemmTile &t, const Epilogue *epilogue) {
  int64_t m = aType.getDimSize(0), k = aType.getDimSize(1), n = cType.getDimSize(1);
  ImplicitLocOpBuilder b = kernels.builder(loc);
  KernelBuilder kb(b);
  // bf16 (m16n8k16) or, with fp8 weights, e4m3 bytes (m16n8k32): both give
  // a fragment register 4 bytes of a row, so the same offsets in bytes.
  const bool fp8 = isFp8(bType.getElementType());
  Type staged = fp8 ? Type(b.getI8Type()) : Type(b.getBF16Type());
  const int64_t perWord = 32 / staged.getIntOrFloatBitWidth(), mmaK = 8 * perWord;
  // Rows padded by 16 bytes, so that a warp's fragment reads spread over
  // the banks.
  MemRefType aTile = sharedBuffer({t.bm, t.bk + 4 * perWord}, staged);
  MemRefType bTile = sharedBuffer({t.bn, t.bk + 4 * perWord}, staged);
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName("gemm"),
                             matmulArgTypes(aType, bType, cType, epilogue), {aTile, bTile});
  kernel.grid[0] = (n + t.bn - 1) / t.bn;
  kernel.grid[1] = (m + t.bm - 1) / t.bm;
  kernel.block[0] = t.threads();
  Value a = kernel.func.getArgument(0), bMat = kernel.func.getArgument(1);
  Value aScale = fp8 ? kernel.func.getArgument(2) : Value(),
        bScale = fp8 ? kernel.func.getArgument(3) : Value();
  ValueRange results = kernel.func.getArguments().drop_front(fp8 ? 4 : 2);
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
  Value bZero = zeroOf(b, bType.getElementType());

  SmallVector<Value> inits(fragsM * fragsN * 4, zero);
  SmallVector<Value> acc = kb.loop(kb.idx(0), kBound, t.bk, inits,
                                   [&](Value k0, ValueRange carried) {
    // Stage this K slice of A (rows of the block) and B (its columns, kept
    // [n][k] so that a fragment register's elements are adjacent); outside
    // the matrices, zeros.
    stageRows(kb, a, as, t.bm, t.bk, m0, k0, threads, staged);
    if (bTransposed) {
      stageRows(kb, bMat, bs, t.bn, t.bk, n0, k0, threads, staged);
    } else {
      // B [K, N]: consecutive threads read consecutive elements along N.
      kb.loop(tid, kb.idx(t.bn * t.bk), threads, [&](Value e) {
        Value nn = kb.rem(e, t.bn), kk = kb.div(e, t.bn);
        Value gn = kb.add(n0, nn), gk = kb.add(k0, kk);
        Value inBounds = kb.both(kb.lt(gn, nBound), kb.lt(gk, kBound));
        Value v = kb.loadOr(inBounds, bMat, {gk, gn}, bZero);
        kb.store(toStaged(kb, v, staged), bs, {nn, kk});
      });
    }
    kb.barrier();
    SmallVector<Value> next(carried);
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, b.getF32Type()));
    // Register i of A: row g (+8 for odd i), the thread's word of the
    // first (i < 2) or second half of the step's K; B's likewise by column.
    const int64_t half = 4 * perWord;
    for (int64_t step = 0; step < t.bk; step += mmaK) {
      Value col = kb.add(kb.mul(inGroup, perWord), step), col2 = kb.add(col, half);
      SmallVector<SmallVector<Value, 4>> aFrags, bFrags;
      for (int64_t fm = 0; fm < fragsM; ++fm) {
        Value row = kb.add(kb.add(warpRow, group), fm * 16);
        Value row8 = kb.add(row, 8);
        aFrags.push_back({fragmentWord(kb, as, row, col), fragmentWord(kb, as, row8, col),
                          fragmentWord(kb, as, row, col2), fragmentWord(kb, as, row8, col2)});
      }
      for (int64_t fn = 0; fn < fragsN; ++fn) {
        Value nn = kb.add(kb.add(warpCol, group), fn * 8);
        bFrags.push_back({fragmentWord(kb, bs, nn, col), fragmentWord(kb, bs, nn, col2)});
      }
      for (int64_t fm = 0; fm < fragsM; ++fm)
        for (int64_t fn = 0; fn < fragsN; ++fn) {
          MutableArrayRef<Value> c4(next.data() + (fm * fragsN + fn) * 4, 4);
          Value d;
          if (fp8) {
            // NVVM's mma.sync op has no e4m3 form; LLVM's intrinsic does
            // (sm_89+, PTX 8.4+, which the NVPTX backend checks).
            SmallVector<Value> operands(aFrags[fm].begin(), aFrags[fm].end());
            llvm::append_range(operands, bFrags[fn]);
            llvm::append_range(operands, c4);
            d = LLVM::CallIntrinsicOp::create(
                    b, resultType,
                    b.getStringAttr("llvm.nvvm.mma.m16n8k32.row.col.f32.e4m3.e4m3.f32"),
                    operands)
                    .getResult(0);
          } else {
            d = NVVM::MmaOp::create(
                b, resultType, aFrags[fm], bFrags[fn], SmallVector<Value>(c4), {16, 8, 16},
                std::nullopt, std::nullopt,
                std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
                std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
          }
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
          Value v = acc[(fm * fragsN + fn) * 4 + i];
          if (fp8) // back from the quantized scales
            v = kb.fmul(kb.fmul(v, kb.load(aScale, {row})), kb.load(bScale, {col}));
          storeProduct(kb, epilogue, results, row, col, v);
        });
      }
  return kernel;
}

//===----------------------------------------------------------------------===//
// GEMV
//===----------------------------------------------------------------------===//

namespace {

/// A vector of e4m3 weights (1 or an even count) as f32: cvt converts
/// them two at a time, through f16.
Value fp8ToF32(KernelBuilder &kb, Value weights) {
  ImplicitLocOpBuilder &b = kb.b;
  int64_t width = cast<VectorType>(weights.getType()).getNumElements();
  auto bytesType = VectorType::get({width}, b.getI8Type());
  auto pairType = VectorType::get({2}, b.getI8Type());
  Value bytes = vector::BitCastOp::create(b, bytesType, weights);
  SmallVector<Value> floats;
  for (int64_t i = 0; i < width; i += 2) {
    Value pair = width == 1 ? Value(vector::BroadcastOp::create(
                                  b, pairType, vector::ExtractOp::create(b, bytes, int64_t(0))))
                            : Value(vector::ShuffleOp::create(b, bytes, bytes, {i, i + 1}));
    Value halves = NVVM::ConvertF8x2ToF16x2Op::create(b, VectorType::get({2}, b.getF16Type()),
                                                      pair, false, b.getType<Float8E4M3FNType>());
    Value two = arith::ExtFOp::create(b, VectorType::get({2}, b.getF32Type()), halves);
    for (int64_t j = 0; j < std::min<int64_t>(width, 2); ++j)
      floats.push_back(vector::ExtractOp::create(b, two, j));
  }
  return vector::FromElementsOp::create(b, VectorType::get({width}, b.getF32Type()), floats);
}

} // namespace

Kernel prism::gpu::buildGemvKernel(KernelModule &kernels, Location loc, MemRefType aType,
                                   MemRefType btType, MemRefType cType,
                                   const Epilogue *epilogue) {
  int64_t m = aType.getDimSize(0), k = aType.getDimSize(1), n = btType.getDimSize(0);
  Type weight = btType.getElementType();
  // 16 bytes of weights a lane a step, when K splits into such vectors;
  // fewer when the lane's sums (a vector of them per row) would pass 64
  // registers (regression: 188 registers for 8 rows of fp8).
  int64_t width = 16 / (weight.getIntOrFloatBitWidth() / 8);
  while (m * width > 64 && width > 2)
    width /= 2;
  if (k % width != 0)
    width = 1;
  const int64_t warps = 8;
  // Rows start on vector boundaries when K fills whole vectors; a buffer
  // without an offset starts on one (allocations are 64-byte aligned), so
  // its loads may be aligned vector loads. Views keep element alignment.
  auto alignment = [&](MemRefType type) {
    int64_t bytes = width * type.getElementTypeBitWidth() / 8;
    return width > 1 && type.getLayout().isIdentity()
               ? llvm::MaybeAlign(std::min<int64_t>(16, bytes))
               : llvm::MaybeAlign();
  };
  ImplicitLocOpBuilder b = kernels.builder(loc);
  KernelBuilder kb(b);
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName("gemv"),
                             matmulArgTypes(aType, btType, cType, epilogue));
  kernel.grid[0] = (n + warps - 1) / warps;
  kernel.block[0] = 32 * warps;
  const bool fp8 = isFp8(weight);
  Value a = kernel.func.getArgument(0), bt = kernel.func.getArgument(1);
  Value bScale = fp8 ? kernel.func.getArgument(2) : Value();
  ValueRange results = kernel.func.getArguments().drop_front(fp8 ? 3 : 2);
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
          if (fp8)
            w = fp8ToF32(kb, w);
          else if (!weight.isF32())
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
      if (fp8) // back from the column's quantization scale
        sum = kb.fmul(sum, kb.load(bScale, {col}));
      kb.when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, kb.idx(0)),
              [&] { storeProduct(kb, epilogue, results, kb.idx(row), col, sum); });
    }
  });
  return kernel;
}

//===----------------------------------------------------------------------===//
// Row quantization (the fp8 GEMM's A)
//===----------------------------------------------------------------------===//

Kernel prism::gpu::buildQuantizeRowsKernel(KernelModule &kernels, Location loc, MemRefType xType,
                                           MemRefType qType, MemRefType scaleType) {
  int64_t rows = xType.getDimSize(0), width = xType.getDimSize(1);
  ImplicitLocOpBuilder b = kernels.builder(loc);
  KernelBuilder kb(b);
  Type f32 = b.getF32Type();
  const int64_t threads = std::min<int64_t>(256, (width + 31) / 32 * 32), warps = threads / 32;
  Kernel kernel;
  kernel.func = createKernel(b, kernels.uniqueName("quantize_rows"), {xType, qType, scaleType},
                             {sharedBuffer({warps, 1}, f32)});
  kernel.grid[0] = rows;
  kernel.block[0] = threads;
  Value x = kernel.func.getArgument(0), q = kernel.func.getArgument(1),
        scale = kernel.func.getArgument(2);
  Value row = kb.blockId(mlir::gpu::Dimension::x), tid = kb.threadId();
  Value zero = kb.f32(0);
  Value localMax = kb.loop(tid, kb.idx(width), threads, {zero}, [&](Value col, ValueRange acc) {
    return SmallVector<Value>{kb.fmax(acc[0], math::AbsFOp::create(b, kb.load(x, {row, col})))};
  })[0];
  Value rowMax = kb.blockAllReduce(localMax, kernel.func.getWorkgroupAttributions()[0], warps,
                                   [&](Value u, Value v) { return kb.fmax(u, v); });
  // The row's largest magnitude maps to e4m3's largest finite value, 448.
  // Kept finite: a zero (or tiny) row would make it inf, and 0 * inf NaN.
  Value toFp8 = arith::MinimumFOp::create(b, kb.fdiv(kb.f32(kFp8Max), rowMax),
                                          kb.f32(std::numeric_limits<float>::max()));
  kb.when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tid, kb.idx(0)),
          [&] { kb.store(kb.fdiv(rowMax, kb.f32(kFp8Max)), scale, {row}); });
  kb.loop(tid, kb.idx(width), threads, [&](Value col) {
    Value v = kb.fmul(kb.load(x, {row, col}), toFp8);
    // cvt packs two; both halves are this element.
    Value pair = NVVM::ConvertF32x2ToF8x2Op::create(
        b, VectorType::get({2}, b.getI8Type()), v, v, NVVM::FPRoundingMode::RN,
        NVVM::SaturationMode::SATFINITE, false, b.getType<Float8E4M3FNType>());
    kb.store(vector::ExtractOp::create(b, pair, int64_t(0)), q, {row, col});
  });
  return kernel;
}
