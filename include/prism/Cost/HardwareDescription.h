//===- HardwareDescription.h - Device kinds and systems, as data -*- C++ -*-===//
//
// A device kind (H100, LPU v1, an optical core...) is a JSON file under
// hardware/devices/, read with llvm::json; every figure carries its source.
// A system is device groups (kind x count) and the link between groups,
// given inline ("prefill=h100-sxm*4,decode=lpu-v1*576,link=rdma:100GBps")
// or as a JSON file.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_COST_HARDWAREDESCRIPTION_H
#define PRISM_COST_HARDWAREDESCRIPTION_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prism::cost {

/// A number and where it comes from (a flag V/I/P/S/D/A and a reference).
struct Figure {
  double value = 0;
  std::string source;
};

struct MemoryLevel {
  std::string level; // "hbm", "sram", "l2", "ddr", ...
  Figure capacityBytes, bandwidthBytesPerS;
};

struct DeviceKind {
  std::string kind, name, deviceClass, path;
  /// Fastest first, as the file lists them.
  std::vector<MemoryLevel> memory;
  /// Dense peak operations per second by dtype ("bf16", "fp8", "int8", ...).
  std::map<std::string, Figure> peakOpsPerS;
  std::string linkKind;
  Figure linkCount, linkBytesPerS, linkHopLatencyS;
  /// The most chips one tensor-parallel group spans (a node, an NVLink
  /// domain).
  Figure tensorParallelMax;
  Figure idlePowerW, busyPowerW, pricePerHourUsd;
  Figure computeEfficiency, memoryEfficiency, fullRateRows, linkEfficiency;
  /// Fixed time each op costs beyond its work (launch, pipeline fill);
  /// in @decode `decodeOpOverheadS` where the description gives one
  /// (serving engines replay decode as a CUDA graph: launches cost less).
  Figure opOverheadS, decodeOpOverheadS;
  /// Bandwidth grows with the bytes one kernel moves per chip: a kernel of
  /// b bytes reaches memoryEfficiency * b / (b + memoryHalfBytes) (0: flat).
  Figure memoryHalfBytes;
  /// How far off the model's predictions for this device class are on
  /// published figures it was not fitted to (a fraction, the held-out
  /// median; 0: unknown). A prediction t is given as t/(1+e) .. t*(1+e).
  Figure predictionError;
  /// One step of an all-reduce across the tensor-parallel chips (latency,
  /// synchronisation): efficiency.collective_step_s where the description
  /// gives one, else the link's hop latency.
  Figure collectiveStepS;
  /// A family's own figures, by section: every other object of the
  /// description whose members are figures (`"gpu"`: the streaming
  /// multiprocessors the GPU target tiles for; `"optical"`: the optical
  /// core's array, bits, rates and energies). A new target's figures go in
  /// a section named for it, with no change here.
  std::map<std::string, std::map<std::string, Figure>> sections;
  /// A section's figures (empty when the description has none).
  const std::map<std::string, Figure> &section(llvm::StringRef name) const;

  /// The largest memory level (where weights and the KV cache live).
  const MemoryLevel &mainMemory() const;
};

/// Parses one device description; `origin` names it in errors.
llvm::Expected<DeviceKind> parseDeviceKind(llvm::StringRef text,
                                           llvm::StringRef origin);

/// Every device kind of a folder of descriptions (*.json). The kinds it
/// hands out stay valid when the library is moved.
class DeviceLibrary {
public:
  static llvm::Expected<DeviceLibrary> load(llvm::StringRef dir);
  const DeviceKind *lookup(llvm::StringRef kind) const;
  std::vector<std::string> kinds() const;

private:
  std::map<std::string, std::shared_ptr<DeviceKind>> byKind;
};

struct DeviceGroup {
  std::string name; // "prefill", "decode", or "all" for a single group
  const DeviceKind *kind = nullptr;
  int64_t count = 0;
};

struct System {
  std::vector<DeviceGroup> groups;
  /// Between groups (e.g. RDMA); absent for a single group.
  std::string linkKind;
  Figure linkBytesPerS;
};

/// A system from `spec`: a JSON file (ending in .json) or the inline form
/// `[name=]kind*count[,name=kind*count...][,link=kind:RATE]` with RATE as
/// 100GBps, 400Gbps or 8x400Gbps.
llvm::Expected<System> parseSystem(llvm::StringRef spec,
                                   const DeviceLibrary &library);

/// A human-readable summary of the system (groups, per-device memory and
/// peaks, totals, links).
void printSystem(llvm::raw_ostream &os, const System &system);

/// The folder of the device descriptions shipped with Prism.
llvm::StringRef defaultHardwareDir();

/// A device kind by name from `hardwareDir` (empty: the shipped folder),
/// or from a description file when `spec` ends in `.json`.
llvm::Expected<DeviceKind> loadDeviceKind(llvm::StringRef spec, llvm::StringRef hardwareDir);

} // namespace prism::cost

#endif // PRISM_COST_HARDWAREDESCRIPTION_H
