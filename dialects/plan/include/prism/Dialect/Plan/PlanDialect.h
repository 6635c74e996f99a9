//===- PlanDialect.h - The plan dialect -------------------------*- C++ -*-===//

#ifndef PRISM_DIALECT_PLAN_PLANDIALECT_H
#define PRISM_DIALECT_PLAN_PLANDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"

#include "prism/Dialect/Plan/PlanDialect.h.inc"
#include "prism/Dialect/Plan/PlanEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "prism/Dialect/Plan/PlanAttrs.h.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Plan/PlanOps.h.inc"

#endif // PRISM_DIALECT_PLAN_PLANDIALECT_H
