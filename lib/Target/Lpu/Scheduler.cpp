//===- Scheduler.cpp - Cycle-exact list scheduling for the LPU ------------===//

#include "prism/Target/Lpu/Scheduler.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace prism::lpu;
using llvm::StringRef;

namespace {
/// Resource kinds of the reservation tables.
enum Kind { KMem, KAlu, KSxm, KLoadQ, KMxmQ, KBuffer, KStream, KSend, KArrive, KRecv };
constexpr int64_t kUnset = INT64_MIN;

/// The port a chip uses for a link to another (the abstract machine's
/// topology: port p of chip a is wired to port p of chip b when
/// (b - a) mod chips = p mod ports; both ends use the same index).
int64_t portFor(int64_t from, int64_t to, const Machine &m) {
  return ((to - from) % m.chips + m.chips) % m.chips % m.ports;
}
int64_t linkCycles(const Machine &m) {
  auto it = m.latency.find("c2c.vector");
  return it == m.latency.end() ? 1 : it->second;
}
} // namespace

//===----------------------------------------------------------------------===//
// Chain
//===----------------------------------------------------------------------===//

int Chain::newStream(int producer, int64_t chip, int64_t count) {
  streams.push_back({producer, chip, kUnset, count});
  return streams.size() - 1;
}

int Chain::add(Node node) {
  nodes.push_back(std::move(node));
  return nodes.size() - 1;
}

/// Fixes `node`'s offset from its operands: the cycle the computed ones
/// appear, with the floating MEM reads placed to deliver then.
int64_t Chain::consume(Node &node, std::optional<int64_t> hint) {
  int64_t at = kUnset;
  for (int s : node.in)
    if (streams[s].at != kUnset) {
      if (at != kUnset && at != streams[s].at && problem.empty())
        problem = "the operands of '" + node.op.str() + "' appear in different cycles (" +
                  std::to_string(at) + " and " + std::to_string(streams[s].at) +
                  " from the chain's start)";
      at = std::max(at, streams[s].at);
    }
  if (at == kUnset)
    at = hint ? *hint : 1; // only floating reads: they issue a cycle before
  for (int s : node.in) {
    if (streams[s].at != kUnset)
      continue;
    Node &reader = nodes[streams[s].producer];
    reader.offset = at - 1; // mem.read latency is fixed at 1 by the emitter
    for (int o : reader.out)
      streams[o].at = at;
  }
  return at;
}

std::vector<int> Chain::read(int64_t slice, int64_t address, int64_t n, int64_t width,
                             int64_t stride, int64_t chip) {
  Node node{Unit::Mem, "read", "", "", chip < 0 ? defaultChip : chip};
  node.slice = slice;
  node.width = width;
  node.count = n;
  node.address = address;
  node.stride = stride;
  int id = nodes.size();
  for (int64_t k = 0; k < width; ++k)
    node.out.push_back(newStream(id, node.chip, n));
  add(std::move(node));
  return {nodes.back().out.begin(), nodes.back().out.end()};
}

void Chain::write(const std::vector<int> &in, int64_t slice, int64_t address,
                  int64_t stride) {
  Node node{Unit::Mem, "write", "", "", streams[in[0]].chip};
  node.slice = slice;
  node.width = in.size();
  node.in.assign(in.begin(), in.end());
  node.address = address;
  node.stride = stride;
  node.count = streams[in[0]].count;
  node.offset = consume(node);
  add(std::move(node));
}

/// Adds a node fed by its `in` streams: it issues when they appear (or at
/// `hint` when they all come from floating reads) and puts `outputs`
/// vectors on new streams `latency` cycles later.
std::vector<int> Chain::compute(Node node, int64_t latency, int64_t outputs,
                                std::optional<int64_t> hint) {
  node.count = streams[node.in[0]].count;
  node.offset = consume(node, hint);
  int id = nodes.size();
  for (int64_t q = 0; q < outputs; ++q) {
    streams.push_back({id, node.chip, node.offset + latency, node.count});
    node.out.push_back(streams.size() - 1);
  }
  add(std::move(node));
  return {nodes.back().out.begin(), nodes.back().out.end()};
}

int Chain::gather(int64_t slice, int64_t base, int64_t bytesPerIndex, int64_t first,
                  int64_t rows, int index) {
  Node node{Unit::Mem, "gather", "", "", streams[index].chip};
  node.first = first;
  node.rows = rows;
  node.slice = slice;
  node.in = {index};
  node.address = base;
  node.stride = bytesPerIndex;
  return compute(std::move(node), machine->latency.at("mem.read"), 1)[0];
}

int Chain::vxm(StringRef op, StringRef dtype, std::vector<int> in,
               std::optional<double> immediate, StringRef toDtype, int64_t param,
               std::optional<int64_t> at) {
  Node node{Unit::Vxm, sim::lpu::intern(op), sim::lpu::intern(dtype),
            sim::lpu::intern(toDtype), streams[in[0]].chip};
  node.in.assign(in.begin(), in.end());
  node.immediate = immediate;
  node.param = param;
  return compute(std::move(node), machine->latency.at("vxm"), 1, at)[0];
}

int Chain::sxm(StringRef op, StringRef dtype, int64_t param, int in) {
  Node node{Unit::Sxm, sim::lpu::intern(op), sim::lpu::intern(dtype), "",
            streams[in].chip};
  node.in = {in};
  node.param = param;
  return compute(std::move(node), machine->latency.at("sxm"), 1)[0];
}

void Chain::load(StringRef dtype, bool columns, const std::vector<int> &in) {
  Node node{Unit::Mxm, "load", sim::lpu::intern(dtype), "", streams[in[0]].chip};
  node.in.assign(in.begin(), in.end());
  node.columns = columns;
  node.mxm = true;
  node.count = streams[in[0]].count;
  node.offset = consume(node);
  loadEnd = node.offset + node.count;
  add(std::move(node));
}

std::vector<int> Chain::matmul(StringRef dtype, int activation,
                               const std::vector<int> &partials, int64_t outputs) {
  Node node{Unit::Mxm, "matmul", sim::lpu::intern(dtype), "", streams[activation].chip};
  node.in = {activation};
  llvm::append_range(node.in, partials);
  node.mxm = true;
  // After the tile is in (a matmul of read operands waits for the load).
  return compute(std::move(node), machine->latency.at("mxm"), outputs, loadEnd);
}

int Chain::transfer(int stream, int64_t toChip) {
  Node send{Unit::C2c, "send", "", "", streams[stream].chip};
  send.in = {stream};
  send.toChip = toChip;
  send.count = 1;
  send.port = portFor(send.chip, toChip, *machine);
  send.offset = consume(send);
  int64_t arrive = send.offset + machine->latency.at("c2c") + linkCycles(*machine) - 1;
  add(std::move(send));
  Node recv{Unit::C2c, "recv", "", "", toChip};
  recv.count = 1;
  recv.port = portFor(streams[stream].chip, toChip, *machine);
  recv.offset = arrive;
  int id = nodes.size();
  recv.out = {newStream(id, toChip, 1)};
  streams[recv.out[0]].at = arrive + 1;
  add(std::move(recv));
  return nodes.back().out[0];
}

//===----------------------------------------------------------------------===//
// Scheduler
//===----------------------------------------------------------------------===//

int64_t Scheduler::Intervals::conflict(int64_t start, int64_t stop) const {
  auto it = spans.upper_bound(start);
  if (it != spans.end() && it->first < stop)
    return it->second;
  if (it != spans.begin()) {
    --it;
    if (it->second > start)
      return it->second;
  }
  return 0;
}

void Scheduler::Intervals::add(int64_t start, int64_t stop) {
  // Merge with touching neighbours to keep the tables short.
  auto it = spans.lower_bound(start);
  if (it != spans.begin()) {
    auto prev = std::prev(it);
    if (prev->second == start) {
      start = prev->first;
      spans.erase(prev);
    }
  }
  it = spans.find(stop);
  if (it != spans.end()) {
    stop = it->second;
    spans.erase(it);
  }
  spans[start] = stop;
}

Scheduler::Scheduler(Program &program) : program(program), machine(program.machine) {}

Chain Scheduler::chain(int64_t chip) {
  Chain c(chip);
  c.machine = &machine;
  return c;
}

Scheduler::Intervals &Scheduler::table(int64_t chip, int kind, int64_t index) {
  // Each chip's resources in one array: kinds in order, each its units.
  if (offsets.empty()) {
    const Machine &m = machine;
    int64_t units[] = {m.slices, m.alus,        m.sxms,  m.planes, m.planes,
                       2 * m.planes, 2 * m.streams, m.ports, m.ports, m.ports};
    int64_t at = 0;
    for (int64_t n : units) {
      offsets.push_back(at);
      at += n;
    }
    offsets.push_back(at);
    tables.resize(m.chips);
  }
  std::vector<Intervals> &own = tables[chip];
  if (own.empty())
    own.resize(offsets.back());
  return own[offsets[kind] + index];
}

llvm::Expected<int64_t> Scheduler::place(Chain &c, int64_t ready) {
  if (!c.problem.empty())
    return llvm::createStringError(c.problem);
  const Machine &m = machine;
  int64_t lc = linkCycles(m);
  // Normalise offsets to start at 0.
  int64_t lowest = INT64_MAX;
  for (auto &n : c.nodes) {
    if (n.offset == kUnset)
      return llvm::createStringError("a MEM read that no instruction of its chain consumes");
    lowest = std::min(lowest, n.offset);
  }
  if (c.nodes.empty()) {
    start = ready;
    return ready;
  }
  for (auto &n : c.nodes)
    n.offset -= lowest;
  for (auto &s : c.streams)
    s.at -= lowest;

  struct Need {
    int64_t chip;
    int kind;
    int64_t index, start, stop;
  };
  llvm::SmallVector<Need, 16> fixed;
  for (auto &n : c.nodes) {
    if (n.unit == Unit::Mem)
      for (int64_t k = 0; k < n.width; ++k)
        fixed.push_back({n.chip, KMem, n.slice + k, n.offset, n.offset + n.count});
    if (n.unit == Unit::C2c && n.op == "send") {
      fixed.push_back({n.chip, KSend, n.port, n.offset, n.offset + lc});
      int64_t arrive = n.offset + m.latency.at("c2c");
      fixed.push_back({n.toChip, KArrive, n.port, arrive, arrive + lc});
    }
    if (n.unit == Unit::C2c && n.op == "recv")
      fixed.push_back({n.chip, KRecv, n.port, n.offset, n.offset + 1});
  }
  for (size_t i = 0; i < fixed.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (fixed[i].chip == fixed[j].chip && fixed[i].kind == fixed[j].kind &&
          fixed[i].index == fixed[j].index && fixed[i].start < fixed[j].stop &&
          fixed[j].start < fixed[i].stop)
        return llvm::createStringError("the chain uses one MEM slice or link twice at once");
  // The MXM plane and buffer are held from the load to the last matmul.
  int64_t mxmStart = INT64_MAX, mxmStop = 0;
  for (auto &n : c.nodes)
    if (n.mxm) {
      mxmStart = std::min(mxmStart, n.offset);
      mxmStop = std::max(mxmStop, n.offset + n.count);
    }

  int64_t t = ready;
  int64_t tries = 0;
  llvm::SmallVector<int64_t, 16> unitPick(c.nodes.size(), -1), streamPick(c.streams.size(), -1);
  int64_t plane = -1, buffer = -1;
  while (true) {
    if (++tries > 10000000)
      return llvm::createStringError("the chain needs more units at once than the chip has");
    bool retry = false;
    for (const Need &need : fixed) {
      int64_t stop = table(need.chip, need.kind, need.index)
                         .conflict(t + need.start, t + need.stop);
      if (stop) {
        t = std::max(t + 1, stop - need.start);
        retry = true;
        break;
      }
    }
    if (retry)
      continue;
    // Flexible units: the lowest-numbered free one.
    int64_t wait = INT64_MAX;
    auto pick = [&](int64_t chip, int kind, int64_t units, int64_t start, int64_t stop,
                    llvm::function_ref<bool(int64_t)> taken) -> int64_t {
      for (int64_t u = 0; u < units; ++u) {
        if (taken(u))
          continue;
        int64_t busy = table(chip, kind, u).conflict(t + start, t + stop);
        if (!busy)
          return u;
        wait = std::min(wait, busy - start);
      }
      return -1;
    };
    bool ok = true;
    if (mxmStart != INT64_MAX) {
      plane = buffer = -1;
      const Chain::Node *loadNode = nullptr, *mulNode = nullptr;
      for (auto &n : c.nodes)
        if (n.mxm)
          (n.op == "load" ? loadNode : mulNode) = &n;
      int64_t chip = (loadNode ? loadNode : mulNode)->chip;
      for (int64_t p = 0; p < m.planes && plane < 0; ++p) {
        if (loadNode && table(chip, KLoadQ, p).conflict(t + loadNode->offset,
                                                         t + loadNode->offset +
                                                             loadNode->count)) {
          wait = std::min(wait, table(chip, KLoadQ, p).conflict(
                                    t + loadNode->offset,
                                    t + loadNode->offset + loadNode->count) -
                                    loadNode->offset);
          continue;
        }
        if (mulNode) {
          int64_t busy = table(chip, KMxmQ, p).conflict(t + mulNode->offset,
                                                        t + mulNode->offset + mulNode->count);
          if (busy) {
            wait = std::min(wait, busy - mulNode->offset);
            continue;
          }
        }
        for (int64_t b = 0; b < 2; ++b) {
          int64_t busy = table(chip, KBuffer, 2 * p + b).conflict(t + mxmStart, t + mxmStop);
          if (!busy) {
            plane = p, buffer = b;
            break;
          }
          wait = std::min(wait, busy - mxmStart);
        }
      }
      ok = plane >= 0;
    }
    for (size_t i = 0; ok && i < c.nodes.size(); ++i) {
      auto &n = c.nodes[i];
      if (n.unit != Unit::Vxm && n.unit != Unit::Sxm)
        continue;
      int kind = n.unit == Unit::Vxm ? KAlu : KSxm;
      int64_t units = n.unit == Unit::Vxm ? m.alus : m.sxms;
      unitPick[i] = pick(n.chip, kind, units, n.offset, n.offset + n.count, [&](int64_t u) {
        for (size_t j = 0; j < i; ++j)
          if (unitPick[j] == u && c.nodes[j].unit == n.unit && c.nodes[j].chip == n.chip &&
              c.nodes[j].offset < n.offset + n.count &&
              n.offset < c.nodes[j].offset + c.nodes[j].count)
            return true;
        return false;
      });
      ok = unitPick[i] >= 0;
    }
    for (size_t i = 0; ok && i < c.streams.size(); ++i) {
      auto &s = c.streams[i];
      streamPick[i] = pick(s.chip, KStream, 2 * m.streams, s.at, s.at + s.count,
                           [&](int64_t u) {
                             for (size_t j = 0; j < i; ++j)
                               if (streamPick[j] == u && c.streams[j].chip == s.chip &&
                                   c.streams[j].at < s.at + s.count &&
                                   s.at < c.streams[j].at + c.streams[j].count)
                                 return true;
                             return false;
                           });
      ok = streamPick[i] >= 0;
    }
    if (ok)
      break;
    t = std::max(t + 1, wait == INT64_MAX ? t + 1 : wait);
  }

  // Commit.
  start = t;
  for (const Need &need : fixed)
    table(need.chip, need.kind, need.index).add(t + need.start, t + need.stop);
  if (plane >= 0) {
    int64_t chip = 0;
    for (auto &n : c.nodes)
      if (n.mxm) {
        chip = n.chip;
        table(chip, n.op == "load" ? KLoadQ : KMxmQ, plane)
            .add(t + n.offset, t + n.offset + n.count);
      }
    table(chip, KBuffer, 2 * plane + buffer).add(t + mxmStart, t + mxmStop);
  }
  for (size_t i = 0; i < c.nodes.size(); ++i)
    if (unitPick[i] >= 0) {
      auto &n = c.nodes[i];
      table(n.chip, n.unit == Unit::Vxm ? KAlu : KSxm, unitPick[i])
          .add(t + n.offset, t + n.offset + n.count);
    }
  for (size_t i = 0; i < c.streams.size(); ++i)
    table(c.streams[i].chip, KStream, streamPick[i])
        .add(t + c.streams[i].at, t + c.streams[i].at + c.streams[i].count);

  auto streamOf = [&](int id) {
    int64_t u = streamPick[id];
    return sim::lpu::Stream{u < m.streams ? 'e' : 'w', (int32_t)(u % m.streams)};
  };
  int64_t done = t;
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    auto &n = c.nodes[i];
    Instruction in;
    in.cycle = t + n.offset;
    in.chip = n.chip;
    in.unit = n.unit;
    in.width = n.width;
    in.count = n.count;
    in.op = n.op;
    in.dtype = n.dtype;
    in.toDtype = n.toDtype;
    in.address = n.address;
    in.stride = n.stride;
    in.param = n.param;
    in.first = n.first;
    in.rows = n.rows;
    if (n.immediate) {
      in.hasImmediate = true;
      in.immediate = *n.immediate;
    }
    in.columns = n.columns;
    for (int s : n.in)
      in.in.push_back(streamOf(s));
    for (int s : n.out)
      in.out.push_back(streamOf(s));
    switch (n.unit) {
    case Unit::Mem:
      in.unitIndex = n.slice;
      break;
    case Unit::Vxm:
    case Unit::Sxm:
      in.unitIndex = unitPick[i];
      break;
    case Unit::Mxm:
      in.unitIndex = plane;
      in.param = buffer;
      break;
    case Unit::C2c:
      in.unitIndex = n.port;
      in.toChip = n.toChip;
      in.toPort = n.port;
      break;
    }
    int64_t last = in.cycle + in.count;
    if (!n.out.empty())
      last = std::max(last, in.producedAt(m) + in.count);
    end = std::max(end, last);
    if (n.unit == Unit::Mem && n.op == "write")
      done = std::max(done, in.cycle + in.count + m.latency.at("mem.write") - 1);
    else
      done = std::max(done, last);
    program.instructions.push_back(std::move(in));
  }
  return done;
}
