//===- prism-run.cpp - Run a model, a phase or a bundle -------------------===//
//
// The runner lives in lib/Driver (PrismRunMain.cpp) over lib/Runtime: host
// JIT execution, a phase on a GPU, a bundle's phases on their targets.
// `prism-run --help`.
//
//===----------------------------------------------------------------------===//

#include "prism/Driver/Main.h"

int main(int argc, char **argv) { return prism::driver::prismRunMain(argc, argv); }
