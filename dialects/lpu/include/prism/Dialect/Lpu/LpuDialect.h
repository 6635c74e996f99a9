//===- LpuDialect.h - The lpu dialect ---------------------------*- C++ -*-===//

#ifndef PRISM_DIALECT_LPU_LPUDIALECT_H
#define PRISM_DIALECT_LPU_LPUDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"

#include "prism/Dialect/Lpu/LpuDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "prism/Dialect/Lpu/LpuTypes.h.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Lpu/LpuOps.h.inc"

namespace prism::lpu {

/// The chip a stream's vectors are on (a read's chip, a transfer's
/// destination, else the chip of the producer's first operand).
int64_t streamChip(mlir::Value stream);
/// The cycles a stream carries vectors (a read's count, one for a
/// transfer, else the producer's first operand's).
int64_t streamCount(mlir::Value stream);

} // namespace prism::lpu

#endif // PRISM_DIALECT_LPU_LPUDIALECT_H
