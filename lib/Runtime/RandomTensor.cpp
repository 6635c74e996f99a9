//===- RandomTensor.cpp - Deterministic random inputs ---------------------===//

#include "prism/Runtime/RandomTensor.h"

#include "llvm/ADT/APFloat.h"

#include <cstring>

using namespace prism::runtime;

namespace {

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

template <typename T> void store(char *at, T v) { std::memcpy(at, &v, sizeof(T)); }

/// `v` rounded to IEEE half or bfloat16, as raw bits.
uint16_t toHalfBits(double v, const llvm::fltSemantics &semantics) {
  llvm::APFloat f(v);
  bool lost;
  f.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &lost);
  return (uint16_t)f.bitcastToAPInt().getZExtValue();
}

} // namespace

Tensor prism::runtime::makeRandomTensor(DType dtype,
                                        llvm::ArrayRef<int64_t> shape,
                                        uint64_t seed,
                                        std::optional<int64_t> indexBound) {
  Tensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  size_t size = getDTypeSize(dtype);
  t.data.resize(t.getNumElements() * size);
  uint64_t state = seed;
  for (int64_t i = 0, e = t.getNumElements(); i < e; ++i) {
    uint64_t bits = splitmix64(state);
    // 53 random bits -> [0, 1) -> [-1, 1).
    double u = (double)(bits >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    int64_t n = indexBound && *indexBound > 0 ? (int64_t)(bits % *indexBound) : 1;
    char *at = t.data.data() + i * size;
    switch (dtype) {
    case DType::F32: store(at, (float)u); break;
    case DType::F64: store(at, u); break;
    case DType::F16: store(at, toHalfBits(u, llvm::APFloat::IEEEhalf())); break;
    case DType::BF16: store(at, toHalfBits(u, llvm::APFloat::BFloat())); break;
    case DType::I8: store(at, (int8_t)n); break;
    case DType::I16: store(at, (int16_t)n); break;
    case DType::I32: store(at, (int32_t)n); break;
    case DType::I64: store(at, (int64_t)n); break;
    case DType::U8: store(at, (uint8_t)n); break;
    case DType::U16: store(at, (uint16_t)n); break;
    case DType::U32: store(at, (uint32_t)n); break;
    case DType::U64: store(at, (uint64_t)n); break;
    case DType::Bool: store(at, (uint8_t)1); break;
    }
  }
  return t;
}
