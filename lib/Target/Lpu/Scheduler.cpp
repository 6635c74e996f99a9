//===- Scheduler.cpp - Cycle-exact list scheduling for the LPU ------------===//

#include "prism/Target/Lpu/Scheduler.h"

#include "llvm/Support/FormatVariadic.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace prism::lpu;
using llvm::ArrayRef;

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
} // namespace

Latencies::Latencies(const Machine &m)
    : read(m.latency.at("mem.read")), write(m.latency.at("mem.write")),
      vxm(m.latency.at("vxm")), sxm(m.latency.at("sxm")), mxm(m.latency.at("mxm")),
      c2c(m.latency.at("c2c")), linkCycles(m.latency.at("c2c.vector")) {}

//===----------------------------------------------------------------------===//
// Chain
//===----------------------------------------------------------------------===//

int Chain::newStream(int producer, int64_t chip, int64_t count) {
  streams.push_back({producer, chip, kUnset, count});
  return streams.size() - 1;
}

/// Fixes `node`'s offset from its operands: the cycle the computed ones
/// appear, with the floating MEM reads placed to deliver then (at `hint`
/// when all of them float).
int64_t Chain::consume(Node &node, int64_t hint) {
  int64_t at = kUnset;
  for (int s : node.in)
    if (streams[s].at != kUnset) {
      if (at != kUnset && at != streams[s].at && badNode < 0) {
        badNode = nodes.size();
        badAt[0] = at, badAt[1] = streams[s].at;
      }
      at = std::max(at, streams[s].at);
    }
  if (at == kUnset)
    at = hint;
  for (int s : node.in) {
    if (streams[s].at != kUnset)
      continue;
    Node &reader = nodes[streams[s].producer];
    reader.offset = at - latency->read;
    for (int o : reader.out)
      streams[o].at = at;
  }
  return at;
}

std::vector<int> Chain::read(int64_t slice, int64_t n, int64_t width, int64_t chip) {
  Node node{Kind::Read, chip < 0 ? defaultChip : chip};
  node.slice = slice;
  node.width = width;
  node.count = n;
  int id = nodes.size();
  for (int64_t k = 0; k < width; ++k)
    node.out.push_back(newStream(id, node.chip, n));
  nodes.push_back(std::move(node));
  return {nodes.back().out.begin(), nodes.back().out.end()};
}

void Chain::write(ArrayRef<int> in, int64_t slice) {
  Node node{Kind::Write, streams[in[0]].chip};
  node.slice = slice;
  node.width = in.size();
  node.in.assign(in.begin(), in.end());
  node.count = streams[in[0]].count;
  node.offset = consume(node);
  nodes.push_back(std::move(node));
}

/// Adds a node fed by its `in` streams: it issues when they appear (or at
/// `hint` when they all come from floating reads) and puts `outputs`
/// vectors on new streams `latency` cycles later.
std::vector<int> Chain::compute(Node node, int64_t latency, int64_t outputs, int64_t hint) {
  node.count = streams[node.in[0]].count;
  node.offset = consume(node, hint);
  int id = nodes.size();
  for (int64_t q = 0; q < outputs; ++q) {
    streams.push_back({id, node.chip, node.offset + latency, node.count});
    node.out.push_back(streams.size() - 1);
  }
  nodes.push_back(std::move(node));
  return {nodes.back().out.begin(), nodes.back().out.end()};
}

int Chain::gather(int64_t slice, int index) {
  Node node{Kind::Gather, streams[index].chip};
  node.slice = slice;
  node.in = {index};
  return compute(std::move(node), latency->read, 1)[0];
}

int Chain::vxm(ArrayRef<int> in) {
  Node node{Kind::Vxm, streams[in[0]].chip};
  node.in.assign(in.begin(), in.end());
  return compute(std::move(node), latency->vxm, 1)[0];
}

int Chain::sxm(int in) {
  Node node{Kind::Sxm, streams[in].chip};
  node.in = {in};
  return compute(std::move(node), latency->sxm, 1)[0];
}

void Chain::load(ArrayRef<int> in) {
  Node node{Kind::Load, streams[in[0]].chip};
  node.in.assign(in.begin(), in.end());
  node.count = streams[in[0]].count;
  node.offset = consume(node);
  loadEnd = node.offset + node.count;
  nodes.push_back(std::move(node));
}

std::vector<int> Chain::matmul(int activation, ArrayRef<int> partials, int64_t outputs) {
  Node node{Kind::Matmul, streams[activation].chip};
  node.in = {activation};
  llvm::append_range(node.in, partials);
  // After the tile is in (a matmul of read operands waits for the load).
  return compute(std::move(node), latency->mxm, outputs, loadEnd);
}

int Chain::transfer(int stream, int64_t toChip) {
  Node send{Kind::Send, streams[stream].chip};
  send.in = {stream};
  send.toChip = toChip;
  send.port = portFor(send.chip, toChip, *machine);
  send.offset = consume(send);
  int64_t arrive = send.offset + latency->c2c + latency->linkCycles - 1;
  nodes.push_back(std::move(send));
  Node recv{Kind::Recv, toChip};
  recv.port = portFor(streams[stream].chip, toChip, *machine);
  recv.offset = arrive;
  int id = nodes.size();
  recv.out = {newStream(id, toChip, 1)};
  streams[recv.out[0]].at = arrive + 1;
  nodes.push_back(std::move(recv));
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

Scheduler::Scheduler(const Machine &machine) : machine(machine), latency(machine) {}

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
  if (c.badNode >= 0)
    return llvm::createStringError(
        llvm::formatv("its operands appear in different cycles ({0} and {1} from the "
                      "chain's start)",
                      c.badAt[0], c.badAt[1])
            .str());
  const Machine &m = machine;
  int64_t lc = latency.linkCycles;
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
    if (n.slice >= 0) // MEM
      for (int64_t k = 0; k < n.width; ++k)
        fixed.push_back({n.chip, KMem, n.slice + k, n.offset, n.offset + n.count});
    if (n.kind == Chain::Kind::Send) {
      fixed.push_back({n.chip, KSend, n.port, n.offset, n.offset + lc});
      int64_t arrive = n.offset + latency.c2c;
      fixed.push_back({n.toChip, KArrive, n.port, arrive, arrive + lc});
    }
    if (n.kind == Chain::Kind::Recv)
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
  auto isMxm = [](const Chain::Node &n) {
    return n.kind == Chain::Kind::Load || n.kind == Chain::Kind::Matmul;
  };
  for (auto &n : c.nodes)
    if (isMxm(n)) {
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
        if (isMxm(n))
          (n.kind == Chain::Kind::Load ? loadNode : mulNode) = &n;
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
      if (n.kind != Chain::Kind::Vxm && n.kind != Chain::Kind::Sxm)
        continue;
      int kind = n.kind == Chain::Kind::Vxm ? KAlu : KSxm;
      int64_t units = n.kind == Chain::Kind::Vxm ? m.alus : m.sxms;
      unitPick[i] = pick(n.chip, kind, units, n.offset, n.offset + n.count, [&](int64_t u) {
        for (size_t j = 0; j < i; ++j)
          if (unitPick[j] == u && c.nodes[j].kind == n.kind && c.nodes[j].chip == n.chip &&
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
      if (isMxm(n)) {
        chip = n.chip;
        table(chip, n.kind == Chain::Kind::Load ? KLoadQ : KMxmQ, plane)
            .add(t + n.offset, t + n.offset + n.count);
      }
    table(chip, KBuffer, 2 * plane + buffer).add(t + mxmStart, t + mxmStop);
  }
  for (size_t i = 0; i < c.nodes.size(); ++i)
    if (unitPick[i] >= 0) {
      auto &n = c.nodes[i];
      table(n.chip, n.kind == Chain::Kind::Vxm ? KAlu : KSxm, unitPick[i])
          .add(t + n.offset, t + n.offset + n.count);
    }
  for (size_t i = 0; i < c.streams.size(); ++i)
    table(c.streams[i].chip, KStream, streamPick[i])
        .add(t + c.streams[i].at, t + c.streams[i].at + c.streams[i].count);

  // The placement; the cycle the results can be read.
  int64_t done = t;
  c.placed.assign(c.nodes.size(), {});
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    const Chain::Node &n = c.nodes[i];
    Chain::Placed &p = c.placed[i];
    p.cycle = t + n.offset;
    if (unitPick[i] >= 0)
      p.unit = unitPick[i];
    if (isMxm(n))
      p.unit = plane, p.buffer = buffer;
    if (n.kind == Chain::Kind::Send || n.kind == Chain::Kind::Recv)
      p.unit = n.port;
    int64_t last = p.cycle + n.count;
    for (int s : n.out) {
      p.streams.push_back(streamPick[s]);
      last = std::max(last, t + c.streams[s].at + n.count);
    }
    if (n.kind == Chain::Kind::Write)
      done = std::max(done, p.cycle + n.count + latency.write - 1);
    else
      done = std::max(done, last);
  }
  return done;
}
