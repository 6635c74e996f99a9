//===- XfmrDialect.h - The xfmr dialect -------------------------*- C++ -*-===//

#ifndef PRISM_DIALECT_XFMR_XFMRDIALECT_H
#define PRISM_DIALECT_XFMR_XFMRDIALECT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"

#include "prism/Dialect/Xfmr/XfmrDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "prism/Dialect/Xfmr/XfmrTypes.h.inc"

#endif // PRISM_DIALECT_XFMR_XFMRDIALECT_H
