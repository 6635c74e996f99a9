//===- Register.h - The lpu target's registration ------------------*- C++ -*-===//

#ifndef PRISM_TARGET_LPU_REGISTER_H
#define PRISM_TARGET_LPU_REGISTER_H

namespace prism::lpu {
/// Adds the lpu backend to the target registry (prism/Target/TargetBackend.h).
void registerLpuTarget();
} // namespace prism::lpu

#endif // PRISM_TARGET_LPU_REGISTER_H
