//===- PlanDialect.cpp - The plan dialect ---------------------------------===//

#include "prism/Dialect/Plan/PlanDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace prism::plan;

#include "prism/Dialect/Plan/PlanDialect.cpp.inc"
#include "prism/Dialect/Plan/PlanEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "prism/Dialect/Plan/PlanAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Plan/PlanOps.cpp.inc"

void PlanDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "prism/Dialect/Plan/PlanOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "prism/Dialect/Plan/PlanAttrs.cpp.inc"
      >();
}

LogicalResult
PlacementAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      StringRef group, StringRef device, int64_t chips,
                      int64_t tp, int64_t pp, FloatAttr timeS, FloatAttr energyJ,
                      FloatAttr bytesPerDevice, WeightDtype) {
  if (chips <= 0 || tp <= 0 || pp <= 0)
    return emitError() << "chips and parallel degrees must be positive";
  if (tp * pp < chips)
    return emitError() << "tensor_parallel x pipeline_parallel (" << tp * pp
                       << ") does not cover the " << chips << " chips";
  if (!timeS || !energyJ || !bytesPerDevice ||
      timeS.getValue().isNegative() || energyJ.getValue().isNegative() ||
      bytesPerDevice.getValue().isNegative())
    return emitError() << "predictions are not negative";
  return success();
}

LogicalResult SystemOp::verify() {
  if (getGroups().empty())
    return emitOpError("lists at least one device group");
  for (Attribute a : getGroups()) {
    auto group = dyn_cast<DictionaryAttr>(a);
    auto count = group ? group.getAs<IntegerAttr>("count") : IntegerAttr();
    if (!group || !group.getAs<StringAttr>("name") ||
        !group.getAs<StringAttr>("device") || !count || count.getInt() <= 0)
      return emitOpError("groups are {name, device, count > 0} dictionaries");
  }
  return success();
}
