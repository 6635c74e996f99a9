//===- Register.h - The host target's registration ------------------*- C++ -*-===//

#ifndef PRISM_TARGET_HOST_REGISTER_H
#define PRISM_TARGET_HOST_REGISTER_H

namespace prism::host {
/// Adds the host backend to the target registry (prism/Target/TargetBackend.h).
void registerHostTarget();
} // namespace prism::host

#endif // PRISM_TARGET_HOST_REGISTER_H
