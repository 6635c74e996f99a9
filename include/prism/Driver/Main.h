//===- Main.h - The tools' mains, as library functions ------------*- C++ -*-===//
//
// Each tool's main is one call into lib/Driver (as IREE's iree-compile is a
// call into iree_compile_lib): the options, the pipeline and the outputs
// live in the library, where other drivers and tests can reach them.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_DRIVER_MAIN_H
#define PRISM_DRIVER_MAIN_H

namespace prism::driver {
/// prismc: import, compile to a stage, emit a phase or a bundle.
int prismcMain(int argc, char **argv);
/// prism-run: run a model or phase on the host (or a GPU), or a bundle.
int prismRunMain(int argc, char **argv);
} // namespace prism::driver

#endif // PRISM_DRIVER_MAIN_H
