//===- prism-translate.cpp - Prism's translation driver -------------------===//

#include "prism/RegisterAll.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  prism::registerAllTranslations();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "Prism translation driver"));
}
