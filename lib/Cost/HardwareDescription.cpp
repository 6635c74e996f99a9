//===- HardwareDescription.cpp - Device kinds and systems, as data --------===//

#include "prism/Cost/HardwareDescription.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace prism::cost;

namespace {

/// Reads the figures of one JSON object, naming `origin` and the path of a
/// missing or malformed one.
class Reader {
public:
  explicit Reader(StringRef origin) : origin(origin.str()) {}

  Error figure(const json::Object *obj, StringRef key, StringRef where,
               Figure &out, bool required = true) {
    const json::Value *v = obj ? obj->get(key) : nullptr;
    std::string path = (where + "." + key).str();
    if (!v) {
      if (!required)
        return Error::success();
      return fail("missing figure '" + path + "'");
    }
    const json::Object *f = v->getAsObject();
    std::optional<double> value = f ? f->getNumber("value") : std::nullopt;
    std::optional<StringRef> source = f ? f->getString("source") : std::nullopt;
    if (!value)
      return fail("figure '" + path + "' needs a numeric \"value\"");
    if (!source || source->trim().empty())
      return fail("figure '" + path + "' has no \"source\": every figure says "
                  "where it comes from");
    if (*value < 0)
      return fail("figure '" + path + "' is negative");
    out = {*value, source->str()};
    return Error::success();
  }

  Error fail(const Twine &msg) {
    return createStringError(origin + ": " + msg.str());
  }

  std::string origin;
};

} // namespace

const MemoryLevel &DeviceKind::mainMemory() const {
  const MemoryLevel *best = &memory.front();
  for (const MemoryLevel &m : memory)
    if (m.capacityBytes.value > best->capacityBytes.value)
      best = &m;
  return *best;
}

Expected<DeviceKind> prism::cost::parseDeviceKind(StringRef text,
                                                  StringRef origin) {
  Reader r(origin);
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return r.fail("not JSON: " + toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return r.fail("a device description is a JSON object");
  DeviceKind d;
  d.path = origin.str();
  for (auto [key, field] : {std::pair<StringRef, std::string *>{"kind", &d.kind},
                            {"name", &d.name},
                            {"class", &d.deviceClass}}) {
    std::optional<StringRef> s = root->getString(key);
    if (!s || s->empty())
      return r.fail("missing string \"" + key + "\"");
    *field = s->str();
  }
  const json::Array *memory = root->getArray("memory");
  if (!memory || memory->empty())
    return r.fail("\"memory\" must list at least one level");
  for (auto [i, m] : llvm::enumerate(*memory)) {
    const json::Object *level = m.getAsObject();
    std::string where = "memory[" + std::to_string(i) + "]";
    std::optional<StringRef> name = level ? level->getString("level") : std::nullopt;
    if (!name)
      return r.fail(where + " needs a \"level\" name");
    MemoryLevel ml;
    ml.level = name->str();
    if (auto err = r.figure(level, "capacity_bytes", where, ml.capacityBytes))
      return std::move(err);
    if (auto err = r.figure(level, "bandwidth_bytes_per_s", where, ml.bandwidthBytesPerS))
      return std::move(err);
    d.memory.push_back(std::move(ml));
  }
  const json::Object *peaks = root->getObject("peak_ops_per_s");
  if (!peaks || peaks->empty())
    return r.fail("\"peak_ops_per_s\" must give a peak per dtype");
  for (const auto &[dtype, value] : *peaks) {
    Figure f;
    if (auto err = r.figure(peaks, dtype, "peak_ops_per_s", f))
      return std::move(err);
    d.peakOpsPerS[dtype.str()] = f;
  }
  const json::Object *links = root->getObject("links");
  if (!links)
    return r.fail("missing \"links\"");
  d.linkKind = links->getString("kind").value_or("link").str();
  if (auto err = r.figure(links, "count", "links", d.linkCount))
    return std::move(err);
  if (auto err = r.figure(links, "bytes_per_s_per_link", "links", d.linkBytesPerS))
    return std::move(err);
  if (auto err = r.figure(links, "hop_latency_s", "links", d.linkHopLatencyS))
    return std::move(err);
  if (auto err = r.figure(links, "tensor_parallel_max", "links", d.tensorParallelMax))
    return std::move(err);
  const json::Object *power = root->getObject("power_w");
  if (auto err = r.figure(power, "idle", "power_w", d.idlePowerW))
    return std::move(err);
  if (auto err = r.figure(power, "busy", "power_w", d.busyPowerW))
    return std::move(err);
  if (auto err = r.figure(root, "price_per_hour_usd", "device", d.pricePerHourUsd))
    return std::move(err);
  const json::Object *eff = root->getObject("efficiency");
  for (auto [key, f] : {std::pair<StringRef, Figure *>{"compute", &d.computeEfficiency},
                        {"memory", &d.memoryEfficiency},
                        {"full_rate_rows", &d.fullRateRows},
                        {"link", &d.linkEfficiency},
                        {"op_overhead_s", &d.opOverheadS}})
    if (auto err = r.figure(eff, key, "efficiency", *f))
      return std::move(err);
  d.decodeOpOverheadS = d.opOverheadS;
  d.collectiveStepS = d.linkHopLatencyS;
  for (auto [key, f] : {std::pair<StringRef, Figure *>{"decode_op_overhead_s",
                                                       &d.decodeOpOverheadS},
                        {"memory_half_bytes", &d.memoryHalfBytes},
                        {"prediction_error", &d.predictionError},
                        {"collective_step_s", &d.collectiveStepS}})
    if (auto err = r.figure(eff, key, "efficiency", *f, /*required=*/false))
      return std::move(err);
  for (const Figure *f : {&d.computeEfficiency, &d.memoryEfficiency, &d.linkEfficiency})
    if (f->value <= 0 || f->value > 1)
      return r.fail("efficiencies are in (0, 1]");
  // Every other object is a family's section of figures.
  static const char *const kCommon[] = {"memory", "peak_ops_per_s", "links", "power_w",
                                        "price_per_hour_usd", "efficiency"};
  for (const auto &[name, value] : *root) {
    const json::Object *object = value.getAsObject();
    if (!object || llvm::is_contained(kCommon, StringRef(name)))
      continue;
    std::map<std::string, Figure> &figures = d.sections[name.str()];
    for (const auto &[key, member] : *object) {
      Figure f;
      if (auto err = r.figure(object, key, name, f))
        return std::move(err);
      figures[key.str()] = f;
    }
  }
  return d;
}

const std::map<std::string, Figure> &DeviceKind::section(StringRef name) const {
  static const std::map<std::string, Figure> none;
  auto it = sections.find(name.str());
  return it == sections.end() ? none : it->second;
}

Expected<DeviceLibrary> DeviceLibrary::load(StringRef dir) {
  DeviceLibrary lib;
  std::error_code ec;
  std::vector<std::string> files;
  for (sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (StringRef(it->path()).ends_with(".json"))
      files.push_back(it->path());
  if (ec)
    return createStringError("cannot read the hardware descriptions in '" +
                             dir.str() + "': " + ec.message());
  llvm::sort(files);
  for (const std::string &file : files) {
    auto buffer = MemoryBuffer::getFile(file);
    if (!buffer)
      return createStringError("cannot read '" + file + "'");
    auto kind = parseDeviceKind((*buffer)->getBuffer(), file);
    if (!kind)
      return kind.takeError();
    std::string expected = sys::path::stem(file).str();
    if (kind->kind != expected)
      return createStringError(file + ": its \"kind\" is '" + kind->kind +
                               "' but the file is named for '" + expected + "'");
    std::string key = kind->kind;
    lib.byKind[key] = std::make_shared<DeviceKind>(std::move(*kind));
  }
  if (lib.byKind.empty())
    return createStringError("no device descriptions (*.json) in '" + dir.str() + "'");
  return lib;
}

const DeviceKind *DeviceLibrary::lookup(StringRef kind) const {
  auto it = byKind.find(kind.str());
  return it == byKind.end() ? nullptr : it->second.get();
}

std::vector<std::string> DeviceLibrary::kinds() const {
  std::vector<std::string> out;
  for (const auto &[k, v] : byKind)
    out.push_back(k);
  return out;
}

namespace {

/// 100GBps, 100GB/s, 400Gbps, 8x400Gbps, 1.6TBps: bytes per second.
std::optional<double> parseRate(StringRef text) {
  double lanes = 1;
  if (auto [count, rest] = text.split('x'); !rest.empty()) {
    if (count.getAsDouble(lanes) || lanes <= 0)
      return std::nullopt;
    text = rest;
  }
  size_t digits = text.find_first_not_of("0123456789.");
  if (digits == 0 || digits == StringRef::npos)
    return std::nullopt;
  double number;
  if (text.take_front(digits).getAsDouble(number))
    return std::nullopt;
  StringRef unit = text.drop_front(digits);
  double scale = 0;
  if (unit.consume_front("T"))
    scale = 1e12;
  else if (unit.consume_front("G"))
    scale = 1e9;
  else if (unit.consume_front("M"))
    scale = 1e6;
  else
    return std::nullopt;
  if (unit == "Bps" || unit == "B/s")
    return lanes * number * scale;
  if (unit == "bps" || unit == "b/s")
    return lanes * number * scale / 8;
  return std::nullopt;
}

Error addGroup(System &system, const DeviceLibrary &lib, StringRef name,
               StringRef kindText, int64_t count, StringRef spec) {
  const DeviceKind *kind = lib.lookup(kindText);
  if (!kind)
    return createStringError("system '" + spec.str() + "': unknown device kind '" +
                             kindText.str() + "' (known: " +
                             join(lib.kinds(), ", ") + ")");
  if (count <= 0)
    return createStringError("system '" + spec.str() + "': group '" + name.str() +
                             "' needs a device count > 0");
  for (const DeviceGroup &g : system.groups)
    if (g.name == name)
      return createStringError("system '" + spec.str() + "': group '" +
                               name.str() + "' is given twice");
  system.groups.push_back({name.str(), kind, count});
  return Error::success();
}

Expected<System> parseSystemFile(StringRef path, const DeviceLibrary &lib) {
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return createStringError("cannot read the system file '" + path.str() + "'");
  Expected<json::Value> parsed = json::parse((*buffer)->getBuffer());
  if (!parsed)
    return createStringError(path.str() + ": not JSON: " + toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  const json::Array *groups = root ? root->getArray("groups") : nullptr;
  if (!groups || groups->empty())
    return createStringError(path.str() + ": a system lists its \"groups\"");
  System system;
  for (const json::Value &g : *groups) {
    const json::Object *o = g.getAsObject();
    auto name = o ? o->getString("name") : std::nullopt;
    auto kind = o ? o->getString("kind") : std::nullopt;
    auto count = o ? o->getInteger("count") : std::nullopt;
    if (!name || !kind || !count)
      return createStringError(path.str() + ": each group has a \"name\", a "
                                            "\"kind\" and a \"count\"");
    if (auto err = addGroup(system, lib, *name, *kind, *count, path))
      return std::move(err);
  }
  if (const json::Object *link = root->getObject("link")) {
    Reader r(path);
    system.linkKind = link->getString("kind").value_or("link").str();
    if (auto err = r.figure(link, "bytes_per_s", "link", system.linkBytesPerS))
      return std::move(err);
  }
  return system;
}

} // namespace

Expected<System> prism::cost::parseSystem(StringRef spec, const DeviceLibrary &lib) {
  if (spec.ends_with(".json"))
    return parseSystemFile(spec, lib);
  System system;
  SmallVector<StringRef> items;
  spec.split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    item = item.trim();
    auto [name, value] = item.split('=');
    if (value.empty()) { // a single group: kind*count
      value = name;
      name = "all";
    }
    if (name == "link") {
      auto [kind, rate] = value.split(':');
      auto bytes = parseRate(rate);
      if (kind.empty() || !bytes)
        return createStringError("system '" + spec.str() + "': bad link '" +
                                 value.str() + "': expected kind:RATE, e.g. "
                                 "rdma:100GBps or rdma:8x400Gbps");
      system.linkKind = kind.str();
      system.linkBytesPerS = {*bytes, "system specification '" + spec.str() + "'"};
      continue;
    }
    auto [kind, countText] = value.split('*');
    int64_t count = 1;
    if (!countText.empty() && countText.getAsInteger(10, count))
      return createStringError("system '" + spec.str() + "': bad device count '" +
                               countText.str() + "' in '" + item.str() + "'");
    if (auto err = addGroup(system, lib, name, kind, count, spec))
      return std::move(err);
  }
  if (system.groups.empty())
    return createStringError("system '" + spec.str() + "' has no device group");
  if (system.groups.size() > 1 && system.linkKind.empty())
    return createStringError("system '" + spec.str() + "': several groups need "
                             "the link between them (link=kind:RATE)");
  return system;
}

void prism::cost::printSystem(raw_ostream &os, const System &system) {
  for (const DeviceGroup &g : system.groups) {
    const DeviceKind &k = *g.kind;
    const MemoryLevel &mem = k.mainMemory();
    os << "group " << g.name << ": " << g.count << " x " << k.kind << " ("
       << k.name << ", " << k.deviceClass << ")\n";
    os << format("  per device: %.4g GB %s at %.4g TB/s", mem.capacityBytes.value / 1e9,
                 mem.level.c_str(), mem.bandwidthBytesPerS.value / 1e12);
    for (const auto &[dtype, peak] : k.peakOpsPerS)
      os << format(", %s %.4g TOPS", dtype.c_str(), peak.value / 1e12);
    os << format(", %.0f W busy\n", k.busyPowerW.value);
    os << format("  group: %.4g GB %s, %.4g TB/s; %g %s links of %.4g GB/s each\n",
                 g.count * mem.capacityBytes.value / 1e9, mem.level.c_str(),
                 g.count * mem.bandwidthBytesPerS.value / 1e12, k.linkCount.value,
                 k.linkKind.c_str(), k.linkBytesPerS.value / 1e9);
  }
  if (!system.linkKind.empty())
    os << format("between groups: %s, %.4g GB/s\n", system.linkKind.c_str(),
                 system.linkBytesPerS.value / 1e9);
}

StringRef prism::cost::defaultHardwareDir() { return PRISM_HARDWARE_DIR; }

Expected<DeviceKind> prism::cost::loadDeviceKind(StringRef spec, StringRef hardwareDir) {
  if (spec.ends_with(".json")) {
    auto buffer = llvm::MemoryBuffer::getFile(spec);
    if (!buffer)
      return llvm::createStringError("cannot read '" + spec + "': " +
                                     buffer.getError().message());
    return parseDeviceKind((*buffer)->getBuffer(), spec);
  }
  auto library = DeviceLibrary::load(hardwareDir.empty() ? defaultHardwareDir() : hardwareDir);
  if (!library)
    return library.takeError();
  const DeviceKind *kind = library->lookup(spec);
  if (!kind)
    return llvm::createStringError("no device description '" + spec + "'");
  return *kind;
}
