//===- RandomTensor.h - Deterministic random inputs -------------*- C++ -*-===//

#ifndef PRISM_RUNTIME_RANDOMTENSOR_H
#define PRISM_RUNTIME_RANDOMTENSOR_H

#include "prism/Runtime/TensorIO.h"

#include <cstdint>
#include <optional>

namespace prism::runtime {

/// A tensor of deterministic pseudo-random values, the same for the same
/// `seed` on every machine (splitmix64, no library distributions): floats
/// uniform in [-1, 1); integers uniform in [0, indexBound) when the input
/// is used as indices, otherwise 1 (masks and flags: everything valid);
/// booleans true.
Tensor makeRandomTensor(DType dtype, llvm::ArrayRef<int64_t> shape,
                        uint64_t seed, std::optional<int64_t> indexBound);

} // namespace prism::runtime

#endif // PRISM_RUNTIME_RANDOMTENSOR_H
