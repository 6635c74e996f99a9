//===- Program.cpp - The LPU program text format and its simulator --------===//

#include "prism/Sim/Lpu/Program.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

#include <set>
#include <tuple>

using namespace llvm;
using namespace prism::sim::lpu;

namespace {

Error lineError(StringRef origin, int64_t line, const Twine &msg) {
  return createStringError(origin.str() + ":" + std::to_string(line) + ": " + msg.str());
}

std::optional<Stream> parseStream(StringRef s) {
  if (s.size() < 2 || (s[0] != 'e' && s[0] != 'w'))
    return std::nullopt;
  Stream st;
  st.dir = s[0];
  if (s.drop_front().getAsInteger(10, st.index))
    return std::nullopt;
  return st;
}

/// key=value words of a header line.
Error parseSettings(ArrayRef<StringRef> words, StringRef origin, int64_t line,
                    function_ref<Error(StringRef, StringRef)> set) {
  for (StringRef w : words) {
    auto [key, value] = w.split('=');
    if (value.empty())
      return lineError(origin, line, "expected key=value, got '" + w + "'");
    if (auto err = set(key, value))
      return err;
  }
  return Error::success();
}

int64_t lanes(StringRef dtype) {
  return StringSwitch<int64_t>(dtype)
      .Case("i8", 320)
      .Case("f16", 160)
      .Cases({"i32", "f32"}, 80)
      .Default(0);
}

using Vector = std::vector<uint8_t>;

std::vector<double> decode(const Vector &v, StringRef dtype) {
  std::vector<double> out;
  for (int64_t i = 0; i < lanes(dtype); ++i) {
    if (dtype == "i8") {
      out.push_back((int8_t)v[i]);
    } else if (dtype == "i32") {
      int32_t x;
      memcpy(&x, &v[4 * i], 4);
      out.push_back(x);
    } else if (dtype == "f32") {
      float x;
      memcpy(&x, &v[4 * i], 4);
      out.push_back(x);
    } else {
      uint16_t bits;
      memcpy(&bits, &v[2 * i], 2);
      APFloat h(APFloat::IEEEhalf(), APInt(16, bits));
      out.push_back(h.convertToDouble());
    }
  }
  return out;
}

Vector encode(ArrayRef<double> values, StringRef dtype) {
  Vector v(kVectorBytes, 0);
  for (auto [i, x] : llvm::enumerate(values)) {
    if (dtype == "i8") {
      v[i] = (uint8_t)(int8_t)(int64_t)x;
    } else if (dtype == "i32") {
      int32_t y = (int32_t)(int64_t)x;
      memcpy(&v[4 * i], &y, 4);
    } else if (dtype == "f32") {
      float y = (float)x;
      memcpy(&v[4 * i], &y, 4);
    } else {
      APFloat h(x);
      bool lost;
      h.convert(APFloat::IEEEhalf(), APFloat::rmNearestTiesToEven, &lost);
      uint16_t bits = (uint16_t)h.bitcastToAPInt().getZExtValue();
      memcpy(&v[2 * i], &bits, 2);
    }
  }
  return v;
}

/// When an instruction's outputs are on their streams.
int64_t producedAt(const Instruction &in, const Machine &m) {
  if (in.unit == "mem")
    return in.cycle + m.latency.at("mem.read");
  if (in.unit == "vxm")
    return in.cycle + m.latency.at("vxm");
  return in.cycle + 1; // c2c recv: onto the stream the next cycle
}

std::string where(const Instruction &in) {
  return formatv("cycle {0}, chip {1}, {2} {3}: '{4}' (line {5})", in.cycle,
                 in.chip, in.unit, in.unitIndex, in.text, in.line)
      .str();
}

} // namespace

Expected<Program> prism::sim::lpu::parseProgram(StringRef text, StringRef origin) {
  Program p;
  bool header = false;
  SmallVector<StringRef> lines;
  text.split(lines, '\n');
  for (auto [n, raw] : llvm::enumerate(lines)) {
    int64_t line = n + 1;
    StringRef s = raw.split('#').first.trim();
    if (s.empty())
      continue;
    SmallVector<StringRef> w;
    s.split(w, ' ', -1, /*KeepEmpty=*/false);
    Machine &m = p.machine;
    if (w[0] == "lpu-program") {
      header = true;
      if (auto err = parseSettings(ArrayRef(w).drop_front(), origin, line,
                                   [&](StringRef k, StringRef v) -> Error {
            int64_t *field = StringSwitch<int64_t *>(k)
                                 .Case("chips", &m.chips)
                                 .Case("slices", &m.slices)
                                 .Case("slice_bytes", &m.sliceBytes)
                                 .Case("streams", &m.streams)
                                 .Case("ports", &m.ports)
                                 .Default(nullptr);
            if (k == "clock_mhz")
              return v.getAsDouble(m.clockMhz)
                         ? lineError(origin, line, "bad clock_mhz")
                         : Error::success();
            if (!field || v.getAsInteger(10, *field) || *field <= 0)
              return lineError(origin, line, "unknown or bad setting '" + k + "'");
            return Error::success();
          }))
        return std::move(err);
      continue;
    }
    if (!header)
      return lineError(origin, line, "a program starts with an 'lpu-program' line");
    if (w[0] == "latency") {
      if (auto err = parseSettings(ArrayRef(w).drop_front(), origin, line,
                                   [&](StringRef k, StringRef v) -> Error {
            int64_t x;
            if (!m.latency.count(k.str()) || v.getAsInteger(10, x) || x < 0)
              return lineError(origin, line, "unknown or bad latency '" + k + "'");
            m.latency[k.str()] = x;
            return Error::success();
          }))
        return std::move(err);
      continue;
    }
    if (w[0] == "data" || w[0] == "dump") {
      Data d;
      d.line = line;
      if (w.size() < 5 || w[1].getAsInteger(10, d.chip) ||
          w[2].getAsInteger(10, d.slice) || w[3].getAsInteger(10, d.address))
        return lineError(origin, line, "expected '" + w[0] +
                                           " <chip> <slice> <address> <dtype>...'");
      d.dtype = w[4].str();
      if (lanes(d.dtype) == 0)
        return lineError(origin, line, "unknown dtype '" + d.dtype + "' (i8, i32, f16, f32)");
      for (StringRef v : ArrayRef(w).drop_front(5)) {
        double x;
        if (v.getAsDouble(x))
          return lineError(origin, line, "bad value '" + v + "'");
        d.values.push_back(x);
      }
      if ((int64_t)d.values.size() > lanes(d.dtype))
        return lineError(origin, line, "more values than the vector's lanes");
      (w[0] == "data" ? p.data : p.dumps).push_back(d);
      continue;
    }
    // <cycle> <chip> <unit> <index> <op> ...
    Instruction in;
    in.line = line;
    in.text = s.str();
    if (w.size() < 5 || w[0].getAsInteger(10, in.cycle) ||
        w[1].getAsInteger(10, in.chip) || w[3].getAsInteger(10, in.unitIndex))
      return lineError(origin, line, "expected '<cycle> <chip> <unit> <index> <op> ...'");
    in.unit = w[2].str();
    in.op = w[4].str();
    ArrayRef<StringRef> args = ArrayRef(w).drop_front(5);
    auto arrow = llvm::find(args, "->");
    if (arrow == args.end())
      return lineError(origin, line, "expected '->' before the destination");
    ArrayRef<StringRef> from(args.begin(), arrow), to(arrow + 1, args.end());
    auto streams = [&](ArrayRef<StringRef> words, std::vector<Stream> &out) -> Error {
      for (StringRef s : words) {
        auto st = parseStream(s);
        if (!st)
          return lineError(origin, line, "bad stream '" + s + "' (e<n> or w<n>)");
        out.push_back(*st);
      }
      return Error::success();
    };
    Error err = Error::success();
    if (in.unit == "mem" && in.op == "read" && from.size() == 1 && to.size() == 1) {
      if (from[0].getAsInteger(10, in.address))
        return lineError(origin, line, "bad address '" + from[0] + "'");
      err = streams(to, in.out);
    } else if (in.unit == "mem" && in.op == "write" && from.size() == 1 && to.size() == 1) {
      if (to[0].getAsInteger(10, in.address))
        return lineError(origin, line, "bad address '" + to[0] + "'");
      err = streams(from, in.in);
    } else if (in.unit == "vxm" && from.size() == 2 && to.size() == 1) {
      auto [op, dtype] = StringRef(in.op).split('.');
      if (!llvm::is_contained({"add", "sub", "mul", "max"}, op) || lanes(dtype) == 0)
        return lineError(origin, line, "unknown vxm op '" + in.op +
                                           "' (add, sub, mul, max . i8, i32, f16, f32)");
      if (auto e = streams(from, in.in))
        return std::move(e);
      err = streams(to, in.out);
    } else if (in.unit == "c2c" && in.op == "send" && from.size() == 1 && to.size() == 1) {
      auto [chip, port] = to[0].split(':');
      if (chip.getAsInteger(10, in.toChip) || port.getAsInteger(10, in.toPort))
        return lineError(origin, line, "expected the destination <chip>:<port>");
      err = streams(from, in.in);
    } else if (in.unit == "c2c" && in.op == "recv" && from.empty() && to.size() == 1) {
      err = streams(to, in.out);
    } else {
      return lineError(origin, line, "unknown instruction '" + in.unit + " " + in.op +
                                         "' or wrong operands");
    }
    if (err)
      return std::move(err);
    p.instructions.push_back(std::move(in));
  }
  if (!header)
    return createStringError(origin.str() + ": empty program (no 'lpu-program' line)");
  llvm::stable_sort(p.instructions, [](const Instruction &a, const Instruction &b) {
    return a.cycle < b.cycle;
  });
  return p;
}

Error prism::sim::lpu::checkProgram(const Program &p) {
  const Machine &m = p.machine;
  auto fail = [](const Instruction &in, const Twine &why) {
    return createStringError(where(in) + ": " + why.str());
  };
  auto checkData = [&](const Data &d, StringRef what) -> Error {
    if (d.chip < 0 || d.chip >= m.chips || d.slice < 0 || d.slice >= m.slices ||
        d.address < 0 || d.address % kVectorBytes != 0 ||
        d.address + kVectorBytes > m.sliceBytes)
      return createStringError(formatv("line {0}: {1} at chip {2}, slice {3}, "
                                       "address {4} is outside the SRAM",
                                       d.line, what, d.chip, d.slice, d.address)
                                   .str());
    return Error::success();
  };
  for (const Data &d : p.data)
    if (auto err = checkData(d, "data"))
      return err;
  for (const Data &d : p.dumps)
    if (auto err = checkData(d, "dump"))
      return err;
  // Who produces each stream slot, when it is there; who uses each unit.
  std::map<std::tuple<int64_t, Stream, int64_t>, const Instruction *> produced;
  std::map<std::tuple<int64_t, std::string, int64_t, int64_t>, const Instruction *> busy;
  std::map<std::tuple<int64_t, int64_t, int64_t>, const Instruction *> sends, arrivals;
  for (const Instruction &in : p.instructions) {
    if (in.chip < 0 || in.chip >= m.chips)
      return fail(in, formatv("chip {0} of a {1}-chip program", in.chip, m.chips));
    int64_t units = in.unit == "mem" ? m.slices : in.unit == "c2c" ? m.ports : 16;
    if (in.unitIndex < 0 || in.unitIndex >= units)
      return fail(in, formatv("{0} {1} does not exist ({2} of them)", in.unit,
                              in.unitIndex, units));
    for (const Stream &s : llvm::concat<const Stream>(in.in, in.out))
      if (s.index < 0 || s.index >= m.streams)
        return fail(in, "stream " + s.str() + " does not exist");
    if (in.unit == "mem" && (in.address < 0 || in.address % kVectorBytes != 0 ||
                             in.address + kVectorBytes > m.sliceBytes))
      return fail(in, formatv("SRAM overflow: address {0} + {1} bytes is beyond "
                              "the slice's {2} bytes (or not a vector slot)",
                              in.address, kVectorBytes, m.sliceBytes));
    auto [it, fresh] = busy.try_emplace({in.chip, in.unit, in.unitIndex, in.cycle}, &in);
    if (!fresh)
      return fail(in, "the unit already runs '" + it->second->text + "' (line " +
                          std::to_string(it->second->line) + ") in this cycle");
    for (const Stream &s : in.out) {
      auto [pit, first] = produced.try_emplace({in.chip, s, producedAt(in, m)}, &in);
      if (!first)
        return fail(in, formatv("stream conflict: {0} already carries the output "
                                "of '{1}' (line {2}) in cycle {3}",
                                s.str(), pit->second->text, pit->second->line,
                                producedAt(in, m)));
    }
    if (in.unit == "c2c" && in.op == "send") {
      if (in.toChip < 0 || in.toChip >= m.chips || in.toPort < 0 || in.toPort >= m.ports)
        return fail(in, "sends to a chip or port that does not exist");
      auto [sit, firstSend] = sends.try_emplace({in.chip, in.unitIndex, in.cycle}, &in);
      int64_t arrive = in.cycle + m.latency.at("c2c");
      auto [ait, firstArrival] = arrivals.try_emplace({in.toChip, in.toPort, arrive}, &in);
      if (!firstSend || !firstArrival)
        return fail(in, formatv("link collision: '{0}' (line {1}) uses the same "
                                "link in the same cycle",
                                (!firstSend ? sit : ait)->second->text,
                                (!firstSend ? sit : ait)->second->line));
    }
  }
  std::set<std::tuple<int64_t, int64_t, int64_t>> received;
  for (const Instruction &in : p.instructions) {
    for (const Stream &s : in.in) {
      if (produced.count({in.chip, s, in.cycle}))
        continue;
      // The nearest producer of this stream, to say why.
      const Instruction *later = nullptr, *earlier = nullptr;
      int64_t laterAt = 0, earlierAt = 0;
      for (const auto &[key, producer] : produced) {
        auto [chip, stream, at] = key;
        if (chip != in.chip || !(stream == s))
          continue;
        if (at > in.cycle && (!later || at < laterAt))
          later = producer, laterAt = at;
        if (at < in.cycle && (!earlier || at > earlierAt))
          earlier = producer, earlierAt = at;
      }
      if (later)
        return fail(in, formatv("early operand: {0} is read here but '{1}' (line "
                                "{2}) puts it there in cycle {3}",
                                s.str(), later->text, later->line, laterAt));
      if (earlier)
        return fail(in, formatv("late operand: {0} was there in cycle {1} (from "
                                "'{2}', line {3}) and has flowed on",
                                s.str(), earlierAt, earlier->text, earlier->line));
      return fail(in, "operand " + s.str() + " is produced by no instruction");
    }
    if (in.unit == "c2c" && in.op == "recv") {
      if (!arrivals.count({in.chip, in.unitIndex, in.cycle}))
        return fail(in, "nothing arrives on this link in this cycle");
      received.insert({in.chip, in.unitIndex, in.cycle});
    }
  }
  for (const auto &[key, send] : arrivals)
    if (!received.count(key))
      return fail(*send, formatv("no receive on chip {0} port {1} in cycle {2}, "
                                 "when the vector arrives",
                                 std::get<0>(key), std::get<1>(key), std::get<2>(key)));
  return Error::success();
}

Error prism::sim::lpu::runProgram(const Program &p, raw_ostream &os) {
  if (auto err = checkProgram(p))
    return err;
  const Machine &m = p.machine;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Vector> sram; // chip, slice, addr
  std::map<std::tuple<int64_t, Stream, int64_t>, Vector> streams;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Vector> inFlight;
  for (const Data &d : p.data)
    sram[{d.chip, d.slice, d.address}] = encode(d.values, d.dtype);
  auto read = [&](int64_t chip, int64_t slice, int64_t address) {
    auto it = sram.find({chip, slice, address});
    return it == sram.end() ? Vector(kVectorBytes, 0) : it->second;
  };
  int64_t last = 0;
  std::map<std::string, int64_t> perUnit;
  int64_t sendsDone = 0;
  for (const Instruction &in : p.instructions) {
    last = std::max(last, in.cycle);
    ++perUnit[in.unit];
    if (in.unit == "mem" && in.op == "read") {
      streams[{in.chip, in.out[0], producedAt(in, m)}] = read(in.chip, in.unitIndex, in.address);
      last = std::max(last, producedAt(in, m));
    } else if (in.unit == "mem") {
      sram[{in.chip, in.unitIndex, in.address}] = streams.at({in.chip, in.in[0], in.cycle});
    } else if (in.unit == "vxm") {
      auto [op, dtype] = StringRef(in.op).split('.');
      auto a = decode(streams.at({in.chip, in.in[0], in.cycle}), dtype);
      auto b = decode(streams.at({in.chip, in.in[1], in.cycle}), dtype);
      std::vector<double> r(a.size());
      for (size_t i = 0; i < a.size(); ++i)
        r[i] = op == "add" ? a[i] + b[i]
               : op == "sub" ? a[i] - b[i]
               : op == "mul" ? a[i] * b[i]
                             : std::max(a[i], b[i]);
      // Integer lanes wrap, as the hardware's do.
      if (dtype == "i8")
        for (double &x : r)
          x = (double)(int8_t)(int64_t)x;
      if (dtype == "i32")
        for (double &x : r)
          x = (double)(int32_t)(int64_t)x;
      streams[{in.chip, in.out[0], producedAt(in, m)}] = encode(r, dtype);
      last = std::max(last, producedAt(in, m));
    } else if (in.op == "send") {
      ++sendsDone;
      inFlight[{in.toChip, in.toPort, in.cycle + m.latency.at("c2c")}] =
          streams.at({in.chip, in.in[0], in.cycle});
    } else {
      streams[{in.chip, in.out[0], producedAt(in, m)}] =
          inFlight.at({in.chip, in.unitIndex, in.cycle});
      last = std::max(last, producedAt(in, m));
    }
  }
  for (const Data &d : p.dumps) {
    auto values = decode(read(d.chip, d.slice, d.address), d.dtype);
    size_t shown = values.size();
    while (shown > 1 && values[shown - 1] == 0)
      --shown;
    os << formatv("chip {0} slice {1} @{2} {3}:", d.chip, d.slice, d.address, d.dtype);
    for (size_t i = 0; i < shown; ++i)
      os << ' ' << format("%g", values[i]);
    os << "\n";
  }
  int64_t cycles = last + 1;
  os << formatv("cycles: {0}\ntime: {1:F3} us at {2:F0} MHz\n", cycles,
                cycles / m.clockMhz, m.clockMhz);
  std::map<std::string, int64_t> units = {
      {"mem", m.slices}, {"vxm", 16}, {"c2c", m.ports}};
  for (const auto &[unit, count] : perUnit)
    os << formatv("{0} busy: {1:F2}% ({2} instructions)\n", unit,
                  100.0 * count / (double)(cycles * units[unit] * m.chips), count);
  std::map<int64_t, int64_t> used;
  for (const auto &[key, v] : sram)
    used[std::get<0>(key)] += kVectorBytes;
  for (int64_t chip = 0; chip < m.chips; ++chip)
    os << formatv("chip {0} SRAM used: {1} of {2} bytes\n", chip, used[chip],
                  m.slices * m.sliceBytes);
  os << formatv("links busy: {0:F2}%\n",
                100.0 * sendsDone / (double)(cycles * m.ports * m.chips));
  return Error::success();
}
