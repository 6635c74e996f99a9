//===- Register.h - The gpu target's registration ------------------*- C++ -*-===//

#ifndef PRISM_TARGET_GPU_REGISTER_H
#define PRISM_TARGET_GPU_REGISTER_H

namespace prism::gpu {
/// Adds the gpu backend to the target registry (prism/Target/TargetBackend.h).
void registerGpuTarget();
} // namespace prism::gpu

#endif // PRISM_TARGET_GPU_REGISTER_H
