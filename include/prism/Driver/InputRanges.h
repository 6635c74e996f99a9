//===- InputRanges.h - What values an input may take ------------*- C++ -*-===//

#ifndef PRISM_DRIVER_INPUTRANGES_H
#define PRISM_DRIVER_INPUTRANGES_H

#include "mlir/IR/Value.h"

#include <optional>

namespace prism {

/// When `input` (a graph input) is used as indices, the exclusive bound
/// they must stay under: the rows of the table it is looked up in (Gather,
/// EmbedLayerNormalization), through Cast, Reshape and the like. The
/// smallest such bound over all uses; nullopt when it indexes nothing.
std::optional<int64_t> getIndexBound(mlir::Value input);

} // namespace prism

#endif // PRISM_DRIVER_INPUTRANGES_H
