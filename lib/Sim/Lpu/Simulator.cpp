//===- Simulator.cpp - Run an LPU program ---------------------------------===//

#include "prism/Sim/Lpu/Simulator.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <tuple>

using namespace llvm;
using namespace prism::sim::lpu;

namespace {

using Vector = std::vector<uint8_t>;

// The format's lane encoding, as the hardware rounds.
std::vector<double> decode(const Vector &v, StringRef dtype) { return decodeVector(v, dtype); }
Vector encode(ArrayRef<double> values, StringRef dtype) { return encodeVector(values, dtype); }

bool isUnary(StringRef op) {
  return op == "exp" || op == "rsqrt" || op == "recip" || op == "neg" || op == "mov";
}

} // namespace

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

namespace {

/// The machine's state while a program runs.
struct State {
  const Machine &m;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Vector>
      sram; // chip, slice, addr
  std::map<std::tuple<int64_t, char, int64_t, int64_t>, Vector> streams;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Vector>
      inFlight; // chip, port, cycle
  // Weight buffers: chip, plane, buffer -> rows x 320 values.
  std::map<std::tuple<int64_t, int64_t, int64_t>, std::vector<double>> weights;

  Vector read(int64_t chip, int64_t slice, int64_t address) const {
    auto it = sram.find({chip, slice, address});
    return it == sram.end() ? Vector(kVectorBytes, 0) : it->second;
  }
  const Vector &stream(const Instruction &in, const Stream &s, int64_t t) {
    return streams.at({in.chip, s.dir, s.index, t});
  }
  void put(const Instruction &in, const Stream &s, int64_t t, Vector v) {
    streams[{in.chip, s.dir, s.index, t}] = std::move(v);
  }
};

double unary(StringRef op, double x, StringRef dtype) {
  // The ALU computes in the lane's precision: f32 through float, f16
  // through float then rounded by encode().
  float f = (float)x;
  if (op == "exp")
    return std::exp(f);
  if (op == "rsqrt")
    return 1.0f / std::sqrt(f);
  if (op == "recip")
    return 1.0f / f;
  if (op == "neg")
    return -x;
  return x; // mov
}

double binary(StringRef op, double a, double b, StringRef dtype) {
  bool isFloat = dtype == "f32" || dtype == "f16";
  if (isFloat) {
    float x = (float)a, y = (float)b;
    return op == "add"   ? x + y
           : op == "sub" ? x - y
           : op == "mul" ? x * y
                         : std::max(x, y);
  }
  int64_t x = (int64_t)a, y = (int64_t)b;
  int64_t r = op == "add"   ? x + y
              : op == "sub" ? x - y
              : op == "mul" ? x * y
                            : std::max(x, y);
  return dtype == "i8" ? (double)(int8_t)r : (double)(int32_t)(uint32_t)r;
}

/// One cycle's work of instruction `in` (its `i`-th repetition).
void step(State &st, const Instruction &in, int64_t i) {
  const Machine &m = st.m;
  int64_t t = in.cycle + i, out = in.producedAt(m) + i;
  switch (in.unit) {
  case Unit::Mem:
    for (int64_t k = 0; k < in.width; ++k) {
      if (in.op == "read") {
        st.put(in, in.out[k], out,
               st.read(in.chip, in.unitIndex + k, in.address + i * in.stride));
      } else if (in.op == "write") {
        st.sram[{in.chip, in.unitIndex + k, in.address + i * in.stride}] =
            st.stream(in, in.in[k], t);
      } else { // gather: the address from lane 0 (i32) of the index stream
        int32_t index;
        memcpy(&index, st.stream(in, in.in[0], t).data(), 4);
        // Rows [first, first + rows) live here; other indices read zeros
        // (a table split over slices gathers from each and adds).
        Vector v(kVectorBytes, 0);
        if (index >= in.first && index < in.first + in.rows)
          v = st.read(in.chip, in.unitIndex,
                      in.address + (index - in.first) * in.stride);
        st.put(in, in.out[0], out, std::move(v));
      }
    }
    return;
  case Unit::Vxm: {
    auto a = decode(st.stream(in, in.in[0], t), in.dtype);
    std::vector<double> r;
    if (in.op == "cvt" &&
        in.toDtype == "i8") { // four f32 vectors, scaled, saturated
      for (const Stream &s : in.in) {
        auto part = decode(st.stream(in, s, t), "f32");
        for (double x : part)
          r.push_back(
              std::clamp(std::nearbyint(x * in.immediate), -128.0, 127.0));
      }
      st.put(in, in.out[0], out, encode(r, "i8"));
      return;
    }
    if (in.op == "cvt" && in.dtype == "i32") {
      for (double x : a)
        r.push_back((float)(x * in.immediate));
      st.put(in, in.out[0], out, encode(r, "f32"));
      return;
    }
    if (in.op == "cvt" && in.dtype == "f32") {
      auto b = decode(st.stream(in, in.in[1], t), in.dtype);
      r = a;
      r.insert(r.end(), b.begin(), b.end());
      st.put(in, in.out[0], out, encode(r, "f16"));
      return;
    }
    if (in.op == "cvt") { // f16 -> f32: half `param` of the lanes
      r.assign(a.begin() + 80 * in.param, a.begin() + 80 * (in.param + 1));
      st.put(in, in.out[0], out, encode(r, "f32"));
      return;
    }
    r.resize(a.size());
    if (isUnary(in.op)) {
      for (size_t l = 0; l < a.size(); ++l)
        r[l] = unary(in.op, a[l], in.dtype);
    } else {
      std::vector<double> b =
          in.hasImmediate ? std::vector<double>(a.size(), in.immediate)
                          : decode(st.stream(in, in.in[1], t), in.dtype);
      for (size_t l = 0; l < a.size(); ++l)
        r[l] = binary(in.op, a[l], b[l], in.dtype);
    }
    st.put(in, in.out[0], out, encode(r, in.dtype));
    return;
  }
  case Unit::Sxm: {
    auto a = decode(st.stream(in, in.in[0], t), in.dtype);
    int64_t n = a.size();
    std::vector<double> r(n);
    for (int64_t l = 0; l < n; ++l)
      r[l] = in.op == "rotate" ? a[(l + in.param) % n] : a[in.param];
    st.put(in, in.out[0], out, encode(r, in.dtype));
    return;
  }
  case Unit::Mxm: {
    int64_t rows = lanes(in.dtype);
    auto &w = st.weights[{in.chip, in.unitIndex, in.param}];
    if (in.op == "load") {
      if (i == 0)
        w.assign(rows * kTileColumns, 0.0);
      for (auto [k, s] : llvm::enumerate(in.in)) {
        int64_t j = i * in.in.size() + k; // the vector's row or column
        auto v = decode(st.stream(in, s, t), in.dtype);
        for (int64_t l = 0; l < (int64_t)v.size(); ++l) {
          if (in.columns)
            w[l * kTileColumns + j] = v[l];
          else if (l < kTileColumns)
            w[j * kTileColumns + l] = v[l];
        }
      }
      return;
    }
    // matmul: one activation vector against the tile, 80 columns per
    // output stream, accumulated in f32 (i32 for i8) in row order, plus the
    // partial sums streamed in.
    auto a = decode(st.stream(in, in.in[0], t), in.dtype);
    StringRef acc = in.dtype == "i8" ? "i32" : "f32";
    for (auto [q, s] : llvm::enumerate(in.out)) {
      std::vector<double> r(80, 0.0);
      std::vector<double> partial;
      if (in.in.size() > 1)
        partial = decode(st.stream(in, in.in[1 + q], t), acc);
      for (int64_t col = 0; col < 80; ++col) {
        int64_t c = 80 * q + col;
        if (acc == "i32") {
          int64_t sum = 0;
          for (int64_t k = 0; k < rows; ++k)
            sum += (int64_t)a[k] * (int64_t)w[k * kTileColumns + c];
          if (!partial.empty())
            sum += (int64_t)partial[col];
          r[col] = (double)(int32_t)(uint32_t)sum;
        } else {
          float sum = 0;
          for (int64_t k = 0; k < rows; ++k)
            sum += (float)(a[k] * w[k * kTileColumns + c]); // exact product
          if (!partial.empty())
            sum += (float)partial[col];
          r[col] = sum;
        }
      }
      st.put(in, s, out, encode(r, acc));
    }
    return;
  }
  case Unit::C2c:
    if (in.op == "send")
      st.inFlight[{in.toChip, in.toPort,
                   t + m.latency.at("c2c") + m.latency.at("c2c.vector") - 1}] =
          st.stream(in, in.in[0], t);
    else
      st.put(in, in.out[0], out, st.inFlight.at({in.chip, in.unitIndex, t}));
    return;
  }
}

} // namespace

Error prism::sim::lpu::runProgram(const Program &p, raw_ostream &os,
                                  const RunOptions &options) {
  if (auto err = checkProgram(p))
    return err;
  const Machine &m = p.machine;
  std::map<StringRef, int64_t> unitCycles;
  int64_t macs = 0, linkCycles = 0;
  std::map<int64_t, std::map<int64_t, int64_t>> sramEnd; // chip -> slice -> end
  for (const Data &d : p.data) {
    int64_t vectors = std::max<int64_t>(
        1, ((int64_t)d.values.size() + lanes(d.dtype) - 1) / lanes(d.dtype));
    int64_t &end = sramEnd[d.chip][d.slice];
    end = std::max(end, d.address + vectors * kVectorBytes);
  }
  struct ChipWork {
    int64_t reads = 0, loads = 0, macs = 0, sends = 0;
  };
  std::vector<ChipWork> work(m.chips);
  for (const Instruction &in : p.instructions) {
    ChipWork &w = work[in.chip];
    if (in.unit == Unit::Mem && in.op != "write")
      w.reads += in.count * in.width;
    if (in.unit == Unit::Mxm && in.op == "load")
      w.loads += in.count * in.in.size();
    if (in.unit == Unit::Mxm && in.op == "matmul")
      w.macs += in.count * lanes(in.dtype) * 80 * in.out.size();
    if (in.unit == Unit::C2c && in.op == "send")
      w.sends += in.count;
    unitCycles[unitName(in.unit)] += in.count * in.width;
    if (in.unit == Unit::Mxm && in.op == "matmul")
      macs += in.count * lanes(in.dtype) * 80 * in.out.size();
    if (in.unit == Unit::C2c && in.op == "send")
      linkCycles += in.count * m.latency.at("c2c.vector");
    if (in.unit == Unit::Mem && in.op != "gather")
      for (int64_t k = 0; k < in.width; ++k) {
        int64_t &end = sramEnd[in.chip][in.unitIndex + k];
        end = std::max(end,
                       in.address + (in.count - 1) * in.stride + kVectorBytes);
      }
  }
  if (options.execute && m.shapeOnly)
    return createStringError(
        "the program is shape-only (its weights were absent "
        "when it was compiled): run it with --timing-only");
  if (options.execute) {
    State st{m, {}, {}, {}, {}};
    for (const Data &d : p.data) {
      int64_t n = lanes(d.dtype);
      for (int64_t v = 0; v * n < (int64_t)d.values.size() || v == 0; ++v) {
        ArrayRef<double> values(d.values);
        size_t from = std::min<size_t>(v * n, values.size());
        st.sram[{d.chip, d.slice, d.address + v * kVectorBytes}] = encode(
            values.slice(from, std::min<size_t>(n, values.size() - from)),
            d.dtype);
      }
    }
    for (const Binding &b : p.inputs) {
      auto it = options.inputs.find(b.name);
      if (it == options.inputs.end())
        return createStringError("input '" + b.name +
                                 "' has no values (--input " + b.name +
                                 "=FILE)");
      const std::vector<double> &values = it->second;
      for (int64_t i = 0; i < b.repeat; ++i) {
        int64_t from = b.offset + i * b.offsetStride;
        if (from + b.count > (int64_t)values.size())
          return createStringError(
              formatv("input '{0}' has {1} values; the program "
                      "reads element {2} (line {3})",
                      b.name, values.size(), from + b.count - 1, b.line)
                  .str());
        Vector &v = st.sram[{b.chip, b.slice, b.address + i * kVectorBytes}];
        if (v.empty())
          v.assign(kVectorBytes, 0);
        auto lanesOf = decode(v, b.dtype);
        for (int64_t l = 0; l < b.count; ++l)
          lanesOf[b.lane + l] = values[from + l];
        v = encode(lanesOf, b.dtype);
      }
    }
    // Every cycle's work in cycle order: a value on a stream was put there
    // by an instruction issued in an earlier cycle (every latency is >= 1).
    std::vector<std::tuple<int64_t, uint32_t, uint32_t>> steps;
    for (auto [idx, in] : llvm::enumerate(p.instructions))
      for (int64_t i = 0; i < in.count; ++i)
        steps.push_back({in.cycle + i, (uint32_t)idx, (uint32_t)i});
    llvm::sort(steps);
    for (auto [cycle, idx, i] : steps)
      step(st, p.instructions[idx], i);
    std::map<std::string, std::vector<double>> outputs;
    for (const Binding &b : p.outputs) {
      std::vector<double> &values = outputs[b.name];
      for (int64_t i = 0; i < b.repeat; ++i) {
        int64_t from = b.offset + i * b.offsetStride;
        if ((int64_t)values.size() < from + b.count)
          values.resize(from + b.count, 0.0);
        auto lanesOf = decode(
            st.read(b.chip, b.slice, b.address + i * kVectorBytes), b.dtype);
        for (int64_t l = 0; l < b.count; ++l)
          values[from + l] = lanesOf[b.lane + l];
      }
    }
    // A caller that asks gets them; else they are printed.
    if (options.outputs) {
      *options.outputs = outputs;
      outputs.clear();
    }
    for (const auto &[name, values] : outputs) {
      os << "output " << name << ':';
      for (double x : values)
        os << ' ' << formatValue(x);
      os << "\n";
    }
    for (auto [n, d] : llvm::enumerate(p.dumps)) {
      int64_t lanesPer = lanes(d.dtype);
      std::vector<double> values;
      for (int64_t v = 0; (int64_t)values.size() < (int64_t)d.values.size();
           ++v) {
        auto lanesOf = decode(
            st.read(d.chip, d.slice, d.address + v * kVectorBytes), d.dtype);
        values.insert(values.end(), lanesOf.begin(), lanesOf.end());
      }
      values.resize(d.values.size());
      if (!p.dumpNames[n].empty()) {
        os << p.dumpNames[n] << ':';
      } else {
        // A whole vector: print up to its last non-zero lane.
        size_t shown = values.size();
        if ((int64_t)shown == lanesPer)
          while (shown > 1 && values[shown - 1] == 0)
            --shown;
        values.resize(shown);
        os << formatv("chip {0} slice {1} @{2} {3}:", d.chip, d.slice,
                      d.address, d.dtype);
      }
      for (double x : values)
        os << ' ' << formatValue(x);
      os << "\n";
    }
  }
  int64_t cycles = cyclesOf(p);
  double us = cycles / m.clockMhz;
  os << formatv("cycles: {0}\ntime: {1:F3} us at {2:F0} MHz\n", cycles, us,
                m.clockMhz);
  if (m.tokens > 1)
    os << formatv("time per token: {0:F3} us ({1} tokens)\n", us / m.tokens,
                  m.tokens);
  std::map<StringRef, int64_t> units = {{"mem", m.slices},
                                        {"vxm", m.alus},
                                        {"sxm", m.sxms},
                                        {"mxm", m.planes},
                                        {"c2c", m.ports}};
  for (const auto &[unit, count] : unitCycles)
    os << formatv("{0} busy: {1:F2}% ({2} unit-cycles)\n", unit,
                  100.0 * count / ((double)cycles * units[unit] * m.chips),
                  count);
  if (macs)
    os << formatv("mxm MAC use: {0:F2}%\n",
                  100.0 * macs /
                      ((double)cycles * m.planes * m.chips * 320 * 320));
  int64_t most = 0;
  for (int64_t chip = 0; chip < m.chips; ++chip) {
    int64_t used = 0;
    for (const auto &[slice, end] : sramEnd[chip])
      used += end;
    most = std::max(most, used);
    if (m.chips <= 16)
      os << formatv("chip {0} SRAM used: {1} of {2} bytes\n", chip, used,
                    m.slices * m.sliceBytes);
  }
  if (m.chips > 16)
    os << formatv("SRAM used: at most {0} of {1} bytes per chip\n", most,
                  m.slices * m.sliceBytes);
  if (options.perChip)
    for (auto [chip, w] : llvm::enumerate(work))
      os << formatv("chip {0}: reads={1} loads={2} macs={3} sends={4}\n", chip, w.reads,
                    w.loads, w.macs, w.sends);
  os << formatv("links busy: {0:F2}%\n",
                100.0 * linkCycles / ((double)cycles * m.ports * m.chips));
  return Error::success();
}
