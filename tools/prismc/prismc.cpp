//===- prismc.cpp - Prism's compiler driver -------------------------------===//
//
// The driver lives in lib/Driver (PrismcMain.cpp): its options, the
// pipeline up to --compile-to, emission and bundles. `prismc --help`.
//
//===----------------------------------------------------------------------===//

#include "prism/Driver/Main.h"

int main(int argc, char **argv) { return prism::driver::prismcMain(argc, argv); }
