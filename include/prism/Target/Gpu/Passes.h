//===- Passes.h - GPU target passes -----------------------------*- C++ -*-===//

#ifndef PRISM_TARGET_GPU_PASSES_H
#define PRISM_TARGET_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace prism {

#define GEN_PASS_DECL
#include "prism/Target/Gpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "prism/Target/Gpu/Passes.h.inc"

} // namespace prism

#endif // PRISM_TARGET_GPU_PASSES_H
