//===- XfmrOps.h - Ops of the xfmr dialect ----------------------*- C++ -*-===//

#ifndef PRISM_DIALECT_XFMR_XFMROPS_H
#define PRISM_DIALECT_XFMR_XFMROPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "prism/Dialect/Xfmr/Work.h"
#include "prism/Dialect/Xfmr/XfmrDialect.h"

#include "prism/Dialect/Xfmr/XfmrInterfaces.h.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Xfmr/XfmrOps.h.inc"

#endif // PRISM_DIALECT_XFMR_XFMROPS_H
