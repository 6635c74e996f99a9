//===- XfmrDialect.cpp - The xfmr dialect ---------------------------------===//

#include "prism/Dialect/Xfmr/XfmrDialect.h"
#include "prism/Dialect/Xfmr/XfmrOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace prism::xfmr;

#include "prism/Dialect/Xfmr/XfmrDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "prism/Dialect/Xfmr/XfmrTypes.cpp.inc"

void XfmrDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "prism/Dialect/Xfmr/XfmrOps.cpp.inc"
      >();
  registerTypes();
}

void XfmrDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "prism/Dialect/Xfmr/XfmrTypes.cpp.inc"
      >();
}

RankedTensorType KvCacheType::getLayerType() const {
  return RankedTensorType::get({getBatch(), getHeads(), getLength(), getHeadDim()},
                               getElementType());
}

RankedTensorType KvCacheType::getStorageType() const {
  return RankedTensorType::get(
      {getLayers(), 2, getBatch(), getHeads(), getLength(), getHeadDim()},
      getElementType());
}

double KvCacheType::getBytes() const {
  double bits = getElementType().getIntOrFloatBitWidth();
  return (double)getStorageType().getNumElements() * bits / 8.0;
}
