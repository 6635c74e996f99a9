//===- Binary.cpp - The LPU program binary format -------------------------===//
//
// The binary form of an LPU program (docs/lpu-program.md, "Binary form"):
// the same content as the text, little-endian, data as raw vectors.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Lpu/Format/Program.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/EndianStream.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace llvm;
using namespace prism::sim::lpu;

namespace {

constexpr char kMagic[8] = {'P', 'R', 'I', 'S', 'M', 'L', 'P', 'U'};
constexpr uint32_t kVersion = 1;

/// Names (ops, dtypes, bindings) by index.
struct Strings {
  std::vector<StringRef> list;
  StringMap<uint32_t> index;
  uint32_t id(StringRef s) {
    auto [it, fresh] = index.try_emplace(s, list.size());
    if (fresh)
      list.push_back(s);
    return it->second;
  }
};

class Reader {
public:
  Reader(StringRef bytes, StringRef origin) : bytes(bytes), origin(origin) {}
  template <typename T> T get() {
    if (at + sizeof(T) > bytes.size()) {
      truncated = true;
      return T();
    }
    T value;
    memcpy(&value, bytes.data() + at, sizeof(T));
    at += sizeof(T);
    return support::endian::byte_swap<T>(value, llvm::endianness::little);
  }
  double getDouble() {
    uint64_t bits = get<uint64_t>();
    double d;
    memcpy(&d, &bits, 8);
    return d;
  }
  StringRef getBytes(size_t n) {
    if (at + n > bytes.size()) {
      truncated = true;
      return "";
    }
    StringRef s = bytes.substr(at, n);
    at += n;
    return s;
  }
  Error error(const Twine &why) const {
    return createStringError(origin.str() + ": " + why.str() +
                             formatv(" (at byte {0})", at).str());
  }
  bool truncated = false;

private:
  StringRef bytes, origin;
  size_t at = 0;
};

} // namespace

void prism::sim::lpu::writeBinary(const Program &p, raw_ostream &os) {
  support::endian::Writer w(os, llvm::endianness::little);
  auto f64 = [&](double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    w.write<uint64_t>(bits);
  };
  Strings names;
  // Every name first: the table precedes the records that use it.
  for (const auto &[key, value] : p.machine.latency)
    names.id(key);
  for (const Instruction &in : p.instructions) {
    names.id(in.op);
    names.id(in.dtype);
    names.id(in.toDtype);
  }
  for (const Data &d : p.data)
    names.id(d.dtype);
  for (const Data &d : p.dumps)
    names.id(d.dtype);
  for (const Binding &b : llvm::concat<const Binding>(p.inputs, p.outputs)) {
    names.id(b.name);
    names.id(b.dtype);
  }
  for (const std::string &n : p.dumpNames)
    names.id(n);

  os.write(kMagic, sizeof(kMagic));
  w.write<uint32_t>(kVersion);
  const Machine &m = p.machine;
  for (int64_t v : {m.chips, m.slices, m.sliceBytes, m.streams, m.ports, m.alus, m.sxms,
                    m.planes, m.planeStreams, m.tokens, (int64_t)m.shapeOnly})
    w.write<int64_t>(v);
  f64(m.clockMhz);
  w.write<uint32_t>(names.list.size());
  for (StringRef s : names.list) {
    w.write<uint32_t>(s.size());
    os << s;
  }
  w.write<uint32_t>(m.latency.size());
  for (const auto &[key, value] : m.latency) {
    w.write<uint32_t>(names.id(key));
    w.write<int64_t>(value);
  }
  // Data as raw vectors of their dtype.
  w.write<uint64_t>(p.data.size());
  for (const Data &d : p.data) {
    int64_t n = lanes(d.dtype);
    int64_t vectors = std::max<int64_t>(1, ((int64_t)d.values.size() + n - 1) / n);
    w.write<uint32_t>(d.chip);
    w.write<uint32_t>(d.slice);
    w.write<int64_t>(d.address);
    w.write<uint32_t>(names.id(d.dtype));
    w.write<uint32_t>(vectors);
    for (int64_t v = 0; v < vectors; ++v) {
      ArrayRef<double> values(d.values);
      size_t from = std::min<size_t>(v * n, values.size());
      std::vector<uint8_t> raw =
          encodeVector(values.slice(from, std::min<size_t>(n, values.size() - from)), d.dtype);
      os.write((const char *)raw.data(), raw.size());
    }
  }
  auto bindings = [&](ArrayRef<Binding> list) {
    w.write<uint64_t>(list.size());
    for (const Binding &b : list) {
      w.write<uint32_t>(names.id(b.name));
      w.write<uint32_t>(names.id(b.dtype));
      for (int64_t v : {b.offset, b.count, b.chip, b.slice, b.address, b.lane, b.repeat,
                        b.offsetStride})
        w.write<int64_t>(v);
    }
  };
  bindings(p.inputs);
  bindings(p.outputs);
  w.write<uint64_t>(p.instructions.size());
  for (const Instruction &in : p.instructions) {
    w.write<int64_t>(in.cycle);
    w.write<uint32_t>(in.chip);
    w.write<uint8_t>((uint8_t)in.unit);
    w.write<uint32_t>(in.unitIndex);
    w.write<uint32_t>(in.width);
    w.write<uint32_t>(in.count);
    w.write<uint32_t>(names.id(in.op));
    w.write<uint32_t>(names.id(in.dtype));
    w.write<uint32_t>(names.id(in.toDtype));
    for (int64_t v : {in.address, in.stride, in.param, in.first, in.rows, in.toChip, in.toPort})
      w.write<int64_t>(v);
    w.write<uint8_t>(in.hasImmediate | (in.columns << 1));
    if (in.hasImmediate)
      f64(in.immediate);
    w.write<uint16_t>(in.in.size());
    w.write<uint16_t>(in.out.size());
    for (const Stream &s : llvm::concat<const Stream>(in.in, in.out))
      w.write<uint16_t>((s.dir == 'w' ? 0x8000 : 0) | s.index);
  }
  w.write<uint64_t>(p.dumps.size());
  for (auto [i, d] : llvm::enumerate(p.dumps)) {
    w.write<uint32_t>(d.chip);
    w.write<uint32_t>(d.slice);
    w.write<int64_t>(d.address);
    w.write<uint32_t>(names.id(d.dtype));
    w.write<uint64_t>(d.values.size());
    w.write<uint32_t>(names.id(p.dumpNames[i]));
  }
}

bool prism::sim::lpu::isBinaryProgram(StringRef bytes) {
  return bytes.starts_with(StringRef(kMagic, sizeof(kMagic)));
}

Expected<Program> prism::sim::lpu::parseBinary(StringRef bytes, StringRef origin) {
  Reader r(bytes, origin);
  r.getBytes(sizeof(kMagic));
  if (uint32_t version = r.get<uint32_t>(); version != kVersion)
    return r.error(formatv("binary LPU program version {0}; this reader knows {1}",
                           version, kVersion));
  Program p;
  Machine &m = p.machine;
  for (int64_t *field : {&m.chips, &m.slices, &m.sliceBytes, &m.streams, &m.ports, &m.alus,
                         &m.sxms, &m.planes, &m.planeStreams, &m.tokens})
    *field = r.get<int64_t>();
  m.shapeOnly = r.get<int64_t>() != 0;
  m.clockMhz = r.getDouble();
  uint32_t nameCount = r.get<uint32_t>();
  if (r.truncated || nameCount > bytes.size())
    return r.error("truncated or corrupt header");
  std::vector<StringRef> names(nameCount);
  for (StringRef &s : names)
    s = intern(r.getBytes(r.get<uint32_t>()));
  auto name = [&](uint32_t id) -> StringRef {
    if (id >= names.size()) {
      r.truncated = true;
      return "";
    }
    return names[id];
  };
  for (uint32_t i = 0, n = r.get<uint32_t>(); i < n && !r.truncated; ++i) {
    StringRef key = name(r.get<uint32_t>());
    m.latency[key.str()] = r.get<int64_t>();
  }
  // Where a data record or dump lies: chip, slice, address, dtype.
  auto place = [&]() {
    Data d;
    d.chip = r.get<uint32_t>();
    d.slice = r.get<uint32_t>();
    d.address = r.get<int64_t>();
    d.dtype = name(r.get<uint32_t>()).str();
    return d;
  };
  for (uint64_t i = 0, n = r.get<uint64_t>(); i < n && !r.truncated; ++i) {
    Data d = place();
    uint32_t vectors = r.get<uint32_t>();
    if (lanes(d.dtype) == 0 || (uint64_t)vectors * kVectorBytes > bytes.size())
      return r.error("corrupt data record");
    for (uint32_t v = 0; v < vectors && !r.truncated; ++v) {
      StringRef raw = r.getBytes(kVectorBytes);
      if (r.truncated)
        break;
      auto values = decodeVector(ArrayRef<uint8_t>((const uint8_t *)raw.data(), raw.size()),
                                 d.dtype);
      d.values.insert(d.values.end(), values.begin(), values.end());
    }
    p.data.push_back(std::move(d));
  }
  auto bindings = [&](std::vector<Binding> &list) {
    for (uint64_t i = 0, n = r.get<uint64_t>(); i < n && !r.truncated; ++i) {
      Binding b;
      b.name = name(r.get<uint32_t>()).str();
      b.dtype = name(r.get<uint32_t>()).str();
      for (int64_t *v : {&b.offset, &b.count, &b.chip, &b.slice, &b.address, &b.lane,
                         &b.repeat, &b.offsetStride})
        *v = r.get<int64_t>();
      list.push_back(std::move(b));
    }
  };
  bindings(p.inputs);
  bindings(p.outputs);
  for (uint64_t i = 0, n = r.get<uint64_t>(); i < n && !r.truncated; ++i) {
    Instruction in;
    in.line = i + 1; // errors name the instruction's index
    in.cycle = r.get<int64_t>();
    in.chip = r.get<uint32_t>();
    uint8_t unit = r.get<uint8_t>();
    if (unit > (uint8_t)Unit::C2c)
      return r.error("unknown unit");
    in.unit = (Unit)unit;
    in.unitIndex = r.get<uint32_t>();
    in.width = r.get<uint32_t>();
    in.count = r.get<uint32_t>();
    in.op = name(r.get<uint32_t>());
    in.dtype = name(r.get<uint32_t>());
    in.toDtype = name(r.get<uint32_t>());
    for (int64_t *v : {&in.address, &in.stride, &in.param, &in.first, &in.rows, &in.toChip,
                       &in.toPort})
      *v = r.get<int64_t>();
    uint8_t flags = r.get<uint8_t>();
    in.hasImmediate = flags & 1;
    in.columns = flags & 2;
    if (in.hasImmediate)
      in.immediate = r.getDouble();
    uint16_t nin = r.get<uint16_t>(), nout = r.get<uint16_t>();
    for (uint32_t k = 0; k < (uint32_t)nin + nout && !r.truncated; ++k) {
      uint16_t s = r.get<uint16_t>();
      Stream st{(s & 0x8000) ? 'w' : 'e', (int32_t)(s & 0x7fff)};
      (k < nin ? in.in : in.out).push_back(st);
    }
    if (in.count < 1 || in.width < 1)
      return r.error("corrupt instruction");
    p.instructions.push_back(std::move(in));
  }
  for (uint64_t i = 0, n = r.get<uint64_t>(); i < n && !r.truncated; ++i) {
    Data d = place();
    uint64_t count = r.get<uint64_t>();
    if (count > (1u << 24))
      return r.error("corrupt dump");
    d.values.assign(count, 0);
    p.dumps.push_back(std::move(d));
    p.dumpNames.push_back(name(r.get<uint32_t>()).str());
  }
  if (r.truncated)
    return r.error("truncated or corrupt binary LPU program");
  llvm::stable_sort(p.instructions, [](const Instruction &a, const Instruction &b) {
    return a.cycle < b.cycle;
  });
  return p;
}
