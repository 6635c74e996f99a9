//===- Program.cpp - The LPU program format: text, values, rules ----------===//

#include "prism/Target/Lpu/Format/Program.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <tuple>

using namespace llvm;
using namespace prism::sim::lpu;

StringRef prism::sim::lpu::intern(StringRef name) {
  // Library code on any thread may intern (the parser, the emitter).
  static std::mutex lock;
  static llvm::StringSet<> names;
  std::lock_guard<std::mutex> guard(lock);
  return names.insert(name).first->getKey();
}

int64_t prism::sim::lpu::lanes(StringRef dtype) {
  return StringSwitch<int64_t>(dtype)
      .Case("i8", 320)
      .Case("f16", 160)
      .Cases({"i32", "f32"}, 80)
      .Default(0);
}

StringRef prism::sim::lpu::unitName(Unit u) {
  switch (u) {
  case Unit::Mem:
    return "mem";
  case Unit::Vxm:
    return "vxm";
  case Unit::Sxm:
    return "sxm";
  case Unit::Mxm:
    return "mxm";
  case Unit::C2c:
    return "c2c";
  }
  return "";
}

int64_t Instruction::producedAt(const Machine &m) const {
  switch (unit) {
  case Unit::Mem:
    return cycle + m.latency.at("mem.read");
  case Unit::Vxm:
    return cycle + m.latency.at("vxm");
  case Unit::Sxm:
    return cycle + m.latency.at("sxm");
  case Unit::Mxm:
    return cycle + m.latency.at("mxm");
  case Unit::C2c:
    return cycle + 1; // recv: onto the stream the next cycle
  }
  return cycle;
}

namespace {

const char *kUnaryOps[] = {"exp", "rsqrt", "recip", "neg", "mov"};
const char *kBinaryOps[] = {"add", "sub", "mul", "max"};

bool isUnary(StringRef op) { return llvm::is_contained(kUnaryOps, op); }
bool isBinary(StringRef op) { return llvm::is_contained(kBinaryOps, op); }

Error lineError(StringRef origin, int64_t line, const Twine &msg) {
  return createStringError(origin.str() + ":" + std::to_string(line) + ": " +
                           msg.str());
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

using Vector = std::vector<uint8_t>;

double half(uint16_t bits) {
  return APFloat(APFloat::IEEEhalf(), APInt(16, bits)).convertToDouble();
}

uint16_t toHalf(double x) {
  APFloat h(x);
  bool lost;
  h.convert(APFloat::IEEEhalf(), APFloat::rmNearestTiesToEven, &lost);
  return (uint16_t)h.bitcastToAPInt().getZExtValue();
}

/// The lanes of `v` as doubles (exact for every dtype).
std::vector<double> decode(const Vector &v, StringRef dtype) {
  int64_t n = lanes(dtype);
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == "i8") {
      out[i] = (int8_t)v[i];
    } else if (dtype == "i32") {
      int32_t x;
      memcpy(&x, &v[4 * i], 4);
      out[i] = x;
    } else if (dtype == "f32") {
      float x;
      memcpy(&x, &v[4 * i], 4);
      out[i] = x;
    } else {
      uint16_t bits;
      memcpy(&bits, &v[2 * i], 2);
      out[i] = half(bits);
    }
  }
  return out;
}

/// Rounds each value to `dtype` (integers wrap, floats round to nearest
/// even) and packs them from lane 0.
Vector encode(ArrayRef<double> values, StringRef dtype) {
  Vector v(kVectorBytes, 0);
  for (auto [i, x] : llvm::enumerate(values)) {
    if (dtype == "i8") {
      v[i] = (uint8_t)(int8_t)(int64_t)x;
    } else if (dtype == "i32") {
      int32_t y = (int32_t)(uint32_t)(int64_t)x;
      memcpy(&v[4 * i], &y, 4);
    } else if (dtype == "f32") {
      float y = (float)x;
      memcpy(&v[4 * i], &y, 4);
    } else {
      uint16_t bits = toHalf(x);
      memcpy(&v[2 * i], &bits, 2);
    }
  }
  return v;
}

std::string textOf(const Instruction &in) {
  return in.text.empty() ? formatInstruction(in) : in.text;
}

std::string where(const Instruction &in) {
  return formatv("cycle {0}, chip {1}, {2} {3}: '{4}' (line {5})", in.cycle,
                 in.chip, unitName(in.unit), in.unitIndex,
                 in.text.empty() ? formatInstruction(in) : in.text, in.line)
      .str();
}

/// Parses "<word>" or "<word>+<k>" into (word, k).
std::pair<StringRef, int64_t> splitWidth(StringRef s, bool &bad) {
  auto [base, k] = s.split('+');
  int64_t width = 1;
  if (!k.empty() && (k.getAsInteger(10, width) || width < 1))
    bad = true;
  return {base, width};
}

} // namespace

Expected<Program> prism::sim::lpu::parseProgram(StringRef text,
                                                StringRef origin) {
  if (isBinaryProgram(text))
    return parseBinary(text, origin);
  Program p;
  bool header = false;
  SmallVector<StringRef> lines;
  text.split(lines, '\n');
  for (auto [n, raw] : llvm::enumerate(lines)) {
    int64_t line = n + 1;
    // A comment runs from a '#' that starts the line or is followed by a
    // space; "#<number>" is an immediate.
    StringRef s = raw;
    for (size_t at = s.find('#'); at != StringRef::npos; at = s.find('#', at + 1))
      if (at == 0 || at + 1 == s.size() || s[at + 1] == ' ' || s[at + 1] == '\t') {
        s = s.take_front(at);
        break;
      }
    s = s.trim();
    if (s.empty())
      continue;
    SmallVector<StringRef> w;
    s.split(w, ' ', -1, /*KeepEmpty=*/false);
    Machine &m = p.machine;
    if (w[0] == "lpu-program") {
      header = true;
      if (auto err = parseSettings(
              ArrayRef(w).drop_front(), origin, line,
              [&](StringRef k, StringRef v) -> Error {
                int64_t *field = StringSwitch<int64_t *>(k)
                                     .Case("chips", &m.chips)
                                     .Case("slices", &m.slices)
                                     .Case("slice_bytes", &m.sliceBytes)
                                     .Case("streams", &m.streams)
                                     .Case("ports", &m.ports)
                                     .Case("alus", &m.alus)
                                     .Case("sxms", &m.sxms)
                                     .Case("planes", &m.planes)
                                     .Case("plane_streams", &m.planeStreams)
                                     .Case("tokens", &m.tokens)
                                     .Default(nullptr);
                if (k == "shape_only") {
                  m.shapeOnly = v == "1";
                  return Error::success();
                }
                if (k == "clock_mhz")
                  return v.getAsDouble(m.clockMhz) || m.clockMhz <= 0
                             ? lineError(origin, line, "bad clock_mhz")
                             : Error::success();
                if (!field || v.getAsInteger(10, *field) || *field <= 0)
                  return lineError(origin, line,
                                   "unknown or bad setting '" + k + "'");
                return Error::success();
              }))
        return std::move(err);
      continue;
    }
    if (!header)
      return lineError(origin, line,
                       "a program starts with an 'lpu-program' line");
    if (w[0] == "latency") {
      if (auto err = parseSettings(
              ArrayRef(w).drop_front(), origin, line,
              [&](StringRef k, StringRef v) -> Error {
                int64_t x;
                if (!m.latency.count(k.str()) || v.getAsInteger(10, x) || x < 1)
                  return lineError(origin, line,
                                   "unknown or bad latency '" + k + "'");
                m.latency[k.str()] = x;
                return Error::success();
              }))
        return std::move(err);
      continue;
    }
    if (w[0] == "input" || w[0] == "output") {
      Binding b;
      b.line = line;
      if (w.size() >= 11 && w[9].starts_with("x")) {
        if (w[9].drop_front().getAsInteger(10, b.repeat) || b.repeat < 1 ||
            w[10].getAsInteger(10, b.offsetStride))
          return lineError(origin, line, "bad repeat");
        w.resize(9);
      }
      if (w.size() != 9 || w[2].getAsInteger(10, b.offset) ||
          w[3].getAsInteger(10, b.count) || w[4].getAsInteger(10, b.chip) ||
          w[5].getAsInteger(10, b.slice) || w[6].getAsInteger(10, b.address) ||
          w[7].getAsInteger(10, b.lane) || lanes(w[8]) == 0 || b.count < 1 ||
          b.lane < 0 || b.lane + b.count > lanes(w[8]))
        return lineError(origin, line,
                         "expected '" + w[0] +
                             " <name> <offset> <count> <chip> <slice> "
                             "<address> <lane> <dtype> [x<n> <stride>]'");
      b.name = w[1].str();
      b.dtype = w[8].str();
      (w[0] == "input" ? p.inputs : p.outputs).push_back(b);
      continue;
    }
    if (w[0] == "data" || w[0] == "dump") {
      Data d;
      d.line = line;
      if (w.size() < 5 || w[1].getAsInteger(10, d.chip) ||
          w[2].getAsInteger(10, d.slice) || w[3].getAsInteger(10, d.address))
        return lineError(origin, line,
                         "expected '" + w[0] +
                             " <chip> <slice> <address> <dtype>...'");
      d.dtype = w[4].str();
      if (lanes(d.dtype) == 0)
        return lineError(origin, line,
                         "unknown dtype '" + d.dtype + "' (i8, i32, f16, f32)");
      if (w[0] == "dump") {
        // dump <chip> <slice> <address> <dtype> [<values> [<name>]]
        int64_t count = lanes(d.dtype);
        if (w.size() > 5 && (w[5].getAsInteger(10, count) || count < 1))
          return lineError(origin, line, "bad value count '" + w[5] + "'");
        d.values.assign(count, 0);
        p.dumps.push_back(d);
        p.dumpNames.push_back(w.size() > 6 ? w[6].str() : "");
        continue;
      }
      for (StringRef v : ArrayRef(w).drop_front(5)) {
        double x;
        if (v.getAsDouble(x))
          return lineError(origin, line, "bad value '" + v + "'");
        d.values.push_back(x);
      }
      p.data.push_back(d);
      continue;
    }
    // <cycle> <chip> <unit> <index>[+<k>] <op> ... -> ... [x<count>]
    Instruction in;
    in.line = line;
    in.text = s.str();
    bool bad = false;
    if (w.size() > 5 && w.back().starts_with("x")) {
      if (w.back().drop_front().getAsInteger(10, in.count) || in.count < 1)
        return lineError(origin, line, "bad repeat '" + w.back() + "'");
      w.pop_back();
    }
    if (w.size() < 5 || w[0].getAsInteger(10, in.cycle) ||
        w[1].getAsInteger(10, in.chip))
      return lineError(origin, line,
                       "expected '<cycle> <chip> <unit> <index> <op> ...'");
    auto [index, width] = splitWidth(w[3], bad);
    in.width = width;
    if (bad || index.getAsInteger(10, in.unitIndex))
      return lineError(origin, line, "bad unit index '" + w[3] + "'");
    int unitCode = StringSwitch<int>(w[2])
                       .Case("mem", (int)Unit::Mem)
                       .Case("vxm", (int)Unit::Vxm)
                       .Case("sxm", (int)Unit::Sxm)
                       .Case("mxm", (int)Unit::Mxm)
                       .Case("c2c", (int)Unit::C2c)
                       .Default(-1);
    auto [op, dtypes] = w[4].split('.');
    auto [dtype, toDtype] = dtypes.split('.');
    in.op = intern(op);
    in.dtype = intern(dtype);
    in.toDtype = intern(toDtype);
    ArrayRef<StringRef> args = ArrayRef(w).drop_front(5);
    auto arrow = llvm::find(args, "->");
    if (unitCode < 0 || arrow == args.end())
      return lineError(origin, line,
                       "unknown instruction '" + w[2] + " " + w[4] +
                           "' or wrong operands");
    in.unit = (Unit)unitCode;
    ArrayRef<StringRef> from(args.begin(), arrow), to(arrow + 1, args.end());
    auto wrong = [&]() {
      return lineError(origin, line,
                       "unknown instruction '" + w[2] + " " + w[4] +
                           "' or wrong operands");
    };
    // Streams, each possibly "e3+4" (consecutive streams).
    auto streams = [&](ArrayRef<StringRef> words,
                       SmallVectorImpl<Stream> &out) -> bool {
      for (StringRef word : words) {
        bool badWidth = false;
        auto [base, k] = splitWidth(word, badWidth);
        auto st = parseStream(base);
        if (!st || badWidth)
          return false;
        for (int64_t i = 0; i < k; ++i)
          out.push_back(*st + i);
      }
      return true;
    };
    auto integer = [&](StringRef word, int64_t &x) {
      return !word.getAsInteger(10, x);
    };
    // A MEM address, "A" or "A/S": S bytes further each cycle (320 unless
    // given; 0 reads one vector again and again).
    in.stride = kVectorBytes;
    auto address = [&](StringRef word) {
      auto [a, stride] = word.split('/');
      return integer(a, in.address) &&
             (stride.empty() || integer(stride, in.stride));
    };
    auto immediate = [&](StringRef word) {
      if (!word.starts_with("#"))
        return false;
      in.hasImmediate = !word.drop_front().getAsDouble(in.immediate);
      return in.hasImmediate;
    };
    bool ok = false;
    switch (in.unit) {
    case Unit::Mem:
      if (in.op == "read" && from.size() == 1 && !to.empty())
        ok = address(from[0]) && streams(to, in.out) &&
             (int64_t)in.out.size() == in.width;
      else if (in.op == "write" && !from.empty() && to.size() == 1)
        ok = address(to[0]) && streams(from, in.in) &&
             (int64_t)in.in.size() == in.width;
      else if (in.op == "gather" && from.size() == 5 && to.size() == 1 &&
               in.width == 1)
        ok = integer(from[0], in.address) && integer(from[1], in.stride) &&
             integer(from[2], in.first) && integer(from[3], in.rows) &&
             in.rows > 0 && streams(from.drop_front(4), in.in) &&
             streams(to, in.out);
      break;
    case Unit::Vxm: {
      if (lanes(in.dtype) == 0 || in.width != 1 || to.size() != 1 ||
          !streams(to, in.out))
        break;
      if (isBinary(in.op) && in.toDtype.empty() && from.size() == 2)
        ok = streams(from.take_front(), in.in) &&
             (immediate(from[1]) || streams(from.drop_front(), in.in));
      else if (isUnary(in.op) && in.toDtype.empty() && from.size() == 1)
        ok = streams(from, in.in);
      else if (in.op == "cvt" && in.dtype == "f32" && in.toDtype == "f16" &&
               from.size() == 2)
        ok = streams(from, in.in);
      else if (in.op == "cvt" && in.dtype == "f32" && in.toDtype == "i8" &&
               from.size() == 5)
        ok = streams(from.take_front(4), in.in) && immediate(from[4]);
      else if (in.op == "cvt" && in.dtype == "i32" && in.toDtype == "f32" &&
               from.size() == 2)
        ok = streams(from.take_front(), in.in) && immediate(from[1]);
      else if (in.op == "cvt" && in.dtype == "f16" && in.toDtype == "f32" &&
               from.size() == 2)
        ok = streams(from.take_front(), in.in) && immediate(from[1]) &&
             (in.immediate == 0 || in.immediate == 1);
      if (in.op == "cvt" && in.dtype == "f16")
        in.param = (int64_t)in.immediate;
      break;
    }
    case Unit::Sxm:
      if ((in.op == "rotate" || in.op == "distribute") && lanes(in.dtype) &&
          in.width == 1 && from.size() == 2 && to.size() == 1)
        ok = integer(from[0], in.param) && in.param >= 0 &&
             in.param < lanes(in.dtype) && streams(from.drop_front(), in.in) &&
             streams(to, in.out);
      break;
    case Unit::Mxm:
      // mxm <p> load.<dt> rows|cols <s>[+k] -> buf<b>
      // mxm <p> matmul.<dt> buf<b> <a> [<partial>[+m]] -> <out>[+m]
      if ((in.dtype != "i8" && in.dtype != "f16") || in.width != 1)
        break;
      if (in.op == "load" && from.size() >= 2 && to.size() == 1 &&
          to[0].starts_with("buf")) {
        in.columns = from[0] == "cols";
        ok = (from[0] == "rows" || in.columns) &&
             integer(to[0].drop_front(3), in.param) &&
             streams(from.drop_front(), in.in);
      } else if (in.op == "matmul" && from.size() >= 2 && !to.empty() &&
                 from[0].starts_with("buf")) {
        ok = integer(from[0].drop_front(3), in.param) &&
             streams(from.drop_front(), in.in) && streams(to, in.out) &&
             in.out.size() <= 4 &&
             (in.in.size() == 1 || in.in.size() == 1 + in.out.size());
      }
      if (ok && (in.param < 0 || in.param > 1))
        return lineError(origin, line,
                         "an MXM plane has weight buffers 0 and 1");
      break;
    case Unit::C2c:
      if (in.op == "send" && from.size() == 1 && to.size() == 1 &&
          in.width == 1) {
        auto [chip, port] = to[0].split(':');
        if (chip.getAsInteger(10, in.toChip) ||
            port.getAsInteger(10, in.toPort))
          return lineError(origin, line,
                           "expected the destination <chip>:<port>");
        ok = streams(from, in.in) && in.in.size() == 1;
      } else if (in.op == "recv" && from.empty() && to.size() == 1 &&
                 in.width == 1) {
        ok = streams(to, in.out) && in.out.size() == 1;
      }
      break;
    }
    if (!ok)
      return wrong();
    p.instructions.push_back(std::move(in));
  }
  if (!header)
    return createStringError(origin.str() +
                             ": empty program (no 'lpu-program' line)");
  llvm::stable_sort(p.instructions,
                    [](const Instruction &a, const Instruction &b) {
                      return a.cycle < b.cycle;
                    });
  return p;
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

static std::string streamList(ArrayRef<Stream> streams, bool compress) {
  // Consecutive streams of one direction print as "e3+4" (for a MEM
  // instruction over several slices, or a weight load).
  std::string s;
  for (size_t i = 0; i < streams.size();) {
    size_t j = i + 1;
    while (compress && j < streams.size() && streams[j].dir == streams[i].dir &&
           streams[j].index == streams[i].index + (int64_t)(j - i))
      ++j;
    if (!s.empty())
      s += ' ';
    s += streams[i].str();
    if (j - i > 1)
      s += "+" + std::to_string(j - i);
    i = j;
  }
  return s;
}

std::string prism::sim::lpu::formatValue(double x) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

std::vector<uint8_t> prism::sim::lpu::encodeVector(ArrayRef<double> values,
                                                   StringRef dtype) {
  return encode(values, dtype);
}

std::vector<double> prism::sim::lpu::decodeVector(ArrayRef<uint8_t> bytes,
                                                  StringRef dtype) {
  return decode(Vector(bytes.begin(), bytes.end()), dtype);
}

std::string prism::sim::lpu::formatInstruction(const Instruction &inst) {
  std::string text;
  raw_string_ostream os(text);
  const Instruction *in = &inst;
  os << in->cycle << ' ' << in->chip << ' ' << unitName(in->unit) << ' '
     << in->unitIndex;
  if (in->width > 1)
    os << '+' << in->width;
  os << ' ' << in->op;
  if (!in->dtype.empty())
    os << '.' << in->dtype;
  if (!in->toDtype.empty())
    os << '.' << in->toDtype;
  bool compress = in->unit == Unit::Mem || (in->unit == Unit::Mxm && in->op == "load");
  std::string ins = streamList(in->in, compress), outs = streamList(in->out, compress);
  std::string stride = in->stride == kVectorBytes || in->unit != Unit::Mem
                           ? ""
                           : "/" + std::to_string(in->stride);
  switch (in->unit) {
  case Unit::Mem:
    if (in->op == "read")
      os << ' ' << in->address << stride << " -> " << outs;
    else if (in->op == "write")
      os << ' ' << ins << " -> " << in->address << stride;
    else
      os << ' ' << in->address << ' ' << in->stride << ' ' << in->first << ' '
         << in->rows << ' ' << ins << " -> "
         << outs;
    break;
  case Unit::Vxm:
    os << ' ' << ins;
    if (in->hasImmediate)
      os << " #" << formatValue(in->immediate);
    os << " -> " << outs;
    break;
  case Unit::Sxm:
    os << ' ' << in->param << ' ' << ins << " -> " << outs;
    break;
  case Unit::Mxm:
    if (in->op == "load")
      os << (in->columns ? " cols " : " rows ") << ins << " -> buf"
         << in->param;
    else
      os << " buf" << in->param << ' ' << ins << " -> " << outs;
    break;
  case Unit::C2c:
    if (in->op == "send")
      os << ' ' << ins << " -> " << in->toChip << ':' << in->toPort;
    else
      os << " -> " << outs;
    break;
  }
  if (in->count > 1)
    os << " x" << in->count;
  return text;
}

void prism::sim::lpu::printProgram(const Program &p, raw_ostream &os) {
  const Machine &m = p.machine;
  os << formatv(
      "lpu-program chips={0} clock_mhz={1} slices={2} slice_bytes={3} "
      "streams={4} ports={5} alus={6} sxms={7} planes={8} "
      "plane_streams={9} tokens={10}{11}\n",
      m.chips, formatValue(m.clockMhz), m.slices, m.sliceBytes, m.streams,
      m.ports, m.alus, m.sxms, m.planes, m.planeStreams, m.tokens,
      m.shapeOnly ? " shape_only=1" : "");
  os << "latency";
  for (const auto &[key, value] : m.latency)
    os << ' ' << key << '=' << value;
  os << "\n";
  for (const Data &d : p.data) {
    os << formatv("data {0} {1} {2} {3}", d.chip, d.slice, d.address, d.dtype);
    for (double x : d.values)
      os << ' ' << formatValue(x);
    os << "\n";
  }
  auto bindings = [&](StringRef kind, ArrayRef<Binding> list) {
    for (const Binding &b : list) {
      os << formatv("{0} {1} {2} {3} {4} {5} {6} {7} {8}", kind, b.name,
                    b.offset, b.count, b.chip, b.slice, b.address, b.lane,
                    b.dtype);
      if (b.repeat > 1)
        os << " x" << b.repeat << ' ' << b.offsetStride;
      os << "\n";
    }
  };
  bindings("input", p.inputs);
  bindings("output", p.outputs);
  std::vector<const Instruction *> order;
  for (const Instruction &in : p.instructions)
    order.push_back(&in);
  llvm::stable_sort(order, [](const Instruction *a, const Instruction *b) {
    return a->cycle < b->cycle;
  });
  for (const Instruction *in : order)
    os << formatInstruction(*in) << "\n";
  for (auto [i, d] : llvm::enumerate(p.dumps)) {
    os << formatv("dump {0} {1} {2} {3} {4}", d.chip, d.slice, d.address,
                  d.dtype, d.values.size());
    if (!p.dumpNames[i].empty())
      os << ' ' << p.dumpNames[i];
    os << "\n";
  }
}

//===----------------------------------------------------------------------===//
// Checking
//===----------------------------------------------------------------------===//

namespace {

/// Disjoint busy intervals [start, end) of one resource, each with its
/// owner.
class Intervals {
public:
  struct Span {
    int64_t start = 0, end = 0;
    const Instruction *by = nullptr;
  };
  /// The owner of an interval overlapping [start, end), if any.
  std::optional<Span> overlap(int64_t start, int64_t end) const {
    auto it = spans.upper_bound(start);
    if (it != spans.end() && it->first < end)
      return Span{it->first, it->second.first, it->second.second};
    if (it != spans.begin()) {
      --it;
      if (it->second.first > start)
        return Span{it->first, it->second.first, it->second.second};
    }
    return std::nullopt;
  }
  void add(int64_t start, int64_t end, const Instruction *by) {
    spans[start] = {end, by};
  }
  /// The interval holding `t`, the last one ending at or before it, and the
  /// first one starting after it.
  std::optional<Span> at(int64_t t) const { return overlap(t, t + 1); }
  std::optional<Span> before(int64_t t) const {
    auto it = spans.upper_bound(t);
    if (it == spans.begin())
      return std::nullopt;
    --it;
    return Span{it->first, it->second.first, it->second.second};
  }
  std::optional<Span> after(int64_t t) const {
    auto it = spans.upper_bound(t);
    if (it == spans.end())
      return std::nullopt;
    return Span{it->first, it->second.first, it->second.second};
  }
  const std::map<int64_t, std::pair<int64_t, const Instruction *>> &
  all() const {
    return spans;
  }

private:
  std::map<int64_t, std::pair<int64_t, const Instruction *>> spans;
};

using StreamKey = std::tuple<int64_t, char, int64_t>; // chip, dir, index
using UnitKey = std::tuple<int64_t, int, int64_t>;    // chip, unit kind, index
using PortKey = std::pair<int64_t, int64_t>;          // chip, port

StreamKey key(const Instruction &in, const Stream &s) {
  return {in.chip, s.dir, s.index};
}

/// Unit kinds as resources: the MXM's weight-load queue is its own.
/// A link is full duplex: its send and receive queues are distinct.
enum Resource { RMem, RVxm, RSxm, RMxmLoad, RMxm, RSend, RRecv };

Resource resourceOf(const Instruction &in) {
  switch (in.unit) {
  case Unit::Mem:
    return RMem;
  case Unit::Vxm:
    return RVxm;
  case Unit::Sxm:
    return RSxm;
  case Unit::Mxm:
    return in.op == "load" ? RMxmLoad : RMxm;
  case Unit::C2c:
    return in.op == "send" ? RSend : RRecv;
  }
  return RMem;
}

} // namespace

Error prism::sim::lpu::checkProgram(const Program &p) {
  const Machine &m = p.machine;
  // A machine the simulator can hold (a corrupt header is an error, not an
  // allocation of its numbers).
  if (m.chips < 1 || m.chips > 100000 || m.slices < 1 || m.slices > 4096 ||
      m.sliceBytes < kVectorBytes || m.sliceBytes > (int64_t(1) << 32) ||
      m.streams < 1 || m.streams > 1024 || m.ports < 1 || m.ports > 1024 ||
      m.alus < 1 || m.alus > 1024 || m.sxms < 1 || m.sxms > 1024 || m.planes < 1 ||
      m.planes > 1024 || m.planeStreams < 1 || m.planeStreams > 2 * m.streams ||
      m.tokens < 1 || !(m.clockMhz > 0))
    return createStringError("the machine is out of range (chips up to 100000, "
                             "slices up to 4096 of at most 4 GiB, up to 1024 "
                             "streams, ports, ALUs, SXMs and planes)");
  for (const auto &[key, cycles] : m.latency)
    if (cycles < 1 || cycles > 1000000000)
      return createStringError("latency " + key + " is out of range");
  auto fail = [](const Instruction &in, const Twine &why) {
    return createStringError(where(in) + ": " + why.str());
  };
  auto checkData = [&](const Data &d, StringRef what) -> Error {
    int64_t vectors = std::max<int64_t>(
        1, ((int64_t)d.values.size() + lanes(d.dtype) - 1) / lanes(d.dtype));
    if (d.chip < 0 || d.chip >= m.chips || d.slice < 0 || d.slice >= m.slices ||
        d.address < 0 || d.address % kVectorBytes != 0 ||
        d.address + vectors * kVectorBytes > m.sliceBytes)
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
  for (const Binding &b : llvm::concat<const Binding>(p.inputs, p.outputs))
    if (b.chip < 0 || b.chip >= m.chips || b.slice < 0 || b.slice >= m.slices ||
        b.address < 0 || b.address % kVectorBytes != 0 || b.offset < 0 ||
        b.address + b.repeat * kVectorBytes > m.sliceBytes)
      return createStringError(
          formatv("line {0}: '{1}' at chip {2}, slice {3}, "
                  "address {4} is outside the SRAM",
                  b.line, b.name, b.chip, b.slice, b.address)
              .str());

  std::map<StreamKey, Intervals> produced;
  std::map<UnitKey, Intervals> busy;
  std::map<PortKey, Intervals> sends, linkIn, arrivals, receives;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Intervals>
      loads; // chip, plane, buf
  for (const Instruction &in : p.instructions) {
    if (in.chip < 0 || in.chip >= m.chips)
      return fail(in,
                  formatv("chip {0} of a {1}-chip program", in.chip, m.chips));
    int64_t units = StringSwitch<int64_t>(unitName(in.unit))
                        .Case("mem", m.slices)
                        .Case("vxm", m.alus)
                        .Case("sxm", m.sxms)
                        .Case("mxm", m.planes)
                        .Default(m.ports);
    if (in.unitIndex < 0 || in.unitIndex + in.width > units)
      return fail(in, formatv("{0} {1} does not exist ({2} of them)",
                              unitName(in.unit), in.unitIndex + in.width - 1,
                              units));
    for (const Stream &s : llvm::concat<const Stream>(in.in, in.out))
      if (s.index < 0 || s.index >= m.streams)
        return fail(in, "stream " + s.str() + " does not exist");
    if (in.unit == Unit::Mem && in.op == "gather" &&
        (in.address < 0 || in.address % kVectorBytes != 0 || in.stride < 0 ||
         in.stride % kVectorBytes != 0 ||
         in.address + (in.rows - 1) * in.stride + kVectorBytes > m.sliceBytes))
      return fail(in, formatv("SRAM overflow: the gathered rows end beyond the "
                              "slice's {0} bytes (or are not vector slots)",
                              m.sliceBytes));
    if (in.unit == Unit::Mem && in.op != "gather") {
      int64_t lastAddress = in.address + (in.count - 1) * in.stride;
      if (in.address < 0 || in.address % kVectorBytes != 0 || in.stride < 0 ||
          in.stride % kVectorBytes != 0 ||
          lastAddress + kVectorBytes > m.sliceBytes)
        return fail(in,
                    formatv("SRAM overflow: address {0} + {1} bytes is beyond "
                            "the slice's {2} bytes (or not a vector slot)",
                            in.address, lastAddress + kVectorBytes - in.address,
                            m.sliceBytes));
    }
    if (in.unit == Unit::Mxm && in.op == "load" &&
        (int64_t)in.in.size() > m.planeStreams)
      return fail(in,
                  formatv("a weight load takes at most {0} streams per cycle",
                          m.planeStreams));
    if (in.unit == Unit::Mxm && in.op == "load" &&
        (int64_t)in.in.size() * in.count >
            (in.columns ? kTileColumns : lanes(in.dtype)))
      return fail(in,
                  formatv("the weight tile has {0} {1}: {2} vectors do not fit",
                          in.columns ? kTileColumns : lanes(in.dtype),
                          in.columns ? "columns" : "rows",
                          in.in.size() * in.count));
    for (int64_t k = 0; k < in.width; ++k) {
      Intervals &unit = busy[{in.chip, resourceOf(in), in.unitIndex + k}];
      if (auto other = unit.overlap(in.cycle, in.cycle + in.count))
        return fail(in, "the unit already runs '" + textOf(*other->by) +
                            "' (line " + std::to_string(other->by->line) +
                            ") in this cycle");
      unit.add(in.cycle, in.cycle + in.count, &in);
    }
    int64_t at = in.producedAt(m);
    for (const Stream &s : in.out) {
      Intervals &stream = produced[key(in, s)];
      if (auto other = stream.overlap(at, at + in.count))
        return fail(in,
                    formatv("stream conflict: {0} already carries the output "
                            "of '{1}' (line {2}) in cycle {3}",
                            s.str(), textOf(*other->by), other->by->line,
                            std::max(at, other->start)));
      stream.add(at, at + in.count, &in);
    }
    if (in.unit == Unit::Mxm) {
      Intervals &buffer = loads[{in.chip, in.unitIndex, in.param}];
      if (in.op == "load") {
        buffer.add(in.cycle, in.cycle + in.count, &in);
      } else {
        auto last = buffer.before(in.cycle);
        if (!last)
          return fail(in,
                      formatv("weight buffer {0} of plane {1} was never loaded",
                              in.param, in.unitIndex));
        if (last->end > in.cycle)
          return fail(in,
                      formatv("weight buffer {0} is still loading ('{1}', line "
                              "{2}, until cycle {3})",
                              in.param, textOf(*last->by), last->by->line,
                              last->end));
        if (auto next = buffer.after(in.cycle);
            next && next->start < in.cycle + in.count)
          return fail(
              in, formatv("weight buffer {0} is reloaded by '{1}' (line {2}) "
                          "while this matmul uses it",
                          in.param, textOf(*next->by), next->by->line));
      }
    }
    if (in.unit == Unit::C2c && in.op == "send") {
      if (in.toChip < 0 || in.toChip >= m.chips || in.toPort < 0 ||
          in.toPort >= m.ports)
        return fail(in, "sends to a chip or port that does not exist");
      if (in.toChip == in.chip)
        return fail(in, "sends to its own chip");
      // A vector holds the link for `c2c.vector` cycles at each end and is
      // received in the last of them.
      int64_t hold = m.latency.at("c2c.vector");
      if (hold > 1 && in.count > 1)
        return fail(in,
                    "a send moves one vector when a vector takes more than one "
                    "cycle on the link");
      int64_t arrive = in.cycle + m.latency.at("c2c") + hold - 1;
      Intervals &out = sends[{in.chip, in.unitIndex}];
      Intervals &into = linkIn[{in.toChip, in.toPort}];
      auto clash = out.overlap(in.cycle, in.cycle + in.count * hold);
      if (!clash)
        clash = into.overlap(arrive - hold + 1, arrive + in.count);
      if (clash)
        return fail(in,
                    formatv("link collision: '{0}' (line {1}) uses the same "
                            "link in the same cycle",
                            textOf(*clash->by), clash->by->line));
      out.add(in.cycle, in.cycle + in.count * hold, &in);
      into.add(arrive - hold + 1, arrive + in.count, &in);
      arrivals[{in.toChip, in.toPort}].add(arrive, arrive + in.count, &in);
    }
  }
  // Operands: each cycle an instruction reads a stream, a vector must be
  // there.
  for (const Instruction &in : p.instructions) {
    for (const Stream &s : in.in) {
      auto it = produced.find(key(in, s));
      for (int64_t t = in.cycle; t < in.cycle + in.count;) {
        std::optional<Intervals::Span> span;
        if (it != produced.end())
          span = it->second.at(t);
        if (span) {
          t = span->end;
          continue;
        }
        std::optional<Intervals::Span> later, earlier;
        if (it != produced.end()) {
          later = it->second.after(t);
          earlier = it->second.before(t);
        }
        std::string cycleNote =
            in.count > 1 ? formatv(" (cycle {0})", t).str() : "";
        if (later)
          return fail(in,
                      formatv("early operand: {0} is read here{1} but '{2}' "
                              "(line {3}) puts it there in cycle {4}",
                              s.str(), cycleNote, textOf(*later->by),
                              later->by->line, later->start));
        if (earlier)
          return fail(
              in, formatv("late operand: {0} was there until cycle {1} (from "
                          "'{2}', line {3}) and has flowed on",
                          s.str(), earlier->end - 1, textOf(*earlier->by),
                          earlier->by->line));
        return fail(in,
                    "operand " + s.str() + " is produced by no instruction");
      }
    }
    if (in.unit == Unit::C2c && in.op == "recv") {
      auto it = arrivals.find({in.chip, in.unitIndex});
      for (int64_t t = in.cycle; t < in.cycle + in.count;) {
        auto span = it == arrivals.end() ? std::nullopt : it->second.at(t);
        if (!span)
          return fail(in,
                      formatv("nothing arrives on this link in cycle {0}", t));
        t = std::min(span->end, in.cycle + in.count);
      }
      receives[{in.chip, in.unitIndex}].add(in.cycle, in.cycle + in.count, &in);
    }
  }
  for (const auto &[port, spans] : arrivals) {
    auto it = receives.find(port);
    for (const auto &[start, rest] : spans.all()) {
      for (int64_t t = start; t < rest.first;) {
        auto span = it == receives.end() ? std::nullopt : it->second.at(t);
        if (!span)
          return fail(*rest.second,
                      formatv("no receive on chip {0} port {1} in cycle "
                              "{2}, when the vector arrives",
                              port.first, port.second, t));
        t = span->end;
      }
    }
  }
  return Error::success();
}


int64_t prism::sim::lpu::cyclesOf(const Program &p) {
  int64_t last = 0;
  for (const Instruction &in : p.instructions) {
    last = std::max(last, in.cycle + in.count - 1);
    if (!in.out.empty())
      last = std::max(last, in.producedAt(p.machine) + in.count - 1);
  }
  return last + 1;
}
