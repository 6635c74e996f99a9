//===- Report.cpp - The plan as a page a person would rather look at ------===//
//
// One self-contained HTML file: no script, no external resource. Two SVG
// charts: a timeline per device group (prefill, the KV-cache transfer, the
// first decode steps) and a roofline per phase's device with each kind of
// op placed at its arithmetic intensity and the throughput it attains.
//
//===----------------------------------------------------------------------===//

#include "prism/Partition/Partitioner.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace prism;
using namespace prism::partition;

namespace {

std::string escape(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string seconds(double s) {
  if (s >= 1)
    return llvm::formatv("{0:F2} s", s).str();
  if (s >= 1e-3)
    return llvm::formatv("{0:F2} ms", s * 1e3).str();
  return llvm::formatv("{0:F1} us", s * 1e6).str();
}

/// Prefill, the transfer, then `steps` decode steps, one row per group.
std::string timeline(const Plan &plan, int steps) {
  const PhasePlacement *prefill = nullptr, *decode = nullptr;
  for (const PhasePlacement &p : plan.phases)
    (p.phase == "decode" ? decode : prefill) = &p;
  std::vector<std::string> rows;
  for (const PhasePlacement &p : plan.phases)
    if (std::find(rows.begin(), rows.end(), p.group->name) == rows.end())
      rows.push_back(p.group->name);
  double total = plan.ttftS + plan.kvTransferS + (decode ? steps * plan.tpotS : 0);
  const double left = 170, width = 700, rowH = 44;
  double height = 40 + rowH * rows.size() + 30;
  auto x = [&](double t) { return left + width * t / total; };
  auto y = [&](const std::string &g) {
    return 30 + rowH * (std::find(rows.begin(), rows.end(), g) - rows.begin());
  };
  std::string svg = llvm::formatv(
      "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" "
      "height=\"{0}\" role=\"img\" aria-label=\"timeline\">\n",
      height);
  for (const std::string &g : rows)
    svg += llvm::formatv("<text x=\"10\" y=\"{0}\" class=\"label\">{1}</text>\n",
                         y(g) + 24, escape(g));
  auto bar = [&](const std::string &g, double t0, double t1, const char *cls,
                 const std::string &label) {
    svg += llvm::formatv(
        "<rect class=\"{0}\" x=\"{1:F1}\" y=\"{2}\" width=\"{3:F1}\" height=\"34\">"
        "<title>{4}</title></rect>\n",
        cls, x(t0), y(g), std::max(1.0, x(t1) - x(t0)), escape(label));
  };
  if (prefill)
    bar(prefill->group->name, 0, plan.ttftS, "prefill",
        "prefill " + seconds(plan.ttftS));
  double t = plan.ttftS;
  if (prefill && decode && plan.kvTransferS > 0) {
    bar(decode->group->name, t, t + plan.kvTransferS, "transfer",
        "KV cache transfer " + seconds(plan.kvTransferS));
    t += plan.kvTransferS;
  }
  if (decode)
    for (int i = 0; i < steps; ++i, t += plan.tpotS)
      bar(decode->group->name, t, t + plan.tpotS, "decode",
          llvm::formatv("decode step {0}: {1}", i + 1, seconds(plan.tpotS)).str());
  svg += llvm::formatv("<text x=\"{0}\" y=\"{1}\" class=\"axis\">0</text>"
                       "<text x=\"{2}\" y=\"{1}\" class=\"axis\" "
                       "text-anchor=\"end\">{3}</text>\n",
                       left, height - 8, left + width, escape(seconds(total)));
  return svg + "</svg>\n";
}

/// Log-log roofline of each phase's device (chips of one tensor-parallel
/// group), with one dot per kind of op.
std::string roofline(const Plan &plan) {
  const double left = 70, top = 20, width = 760, height = 380;
  const double xmin = -2, xmax = 4, ymin = 9, ymax = 17; // log10
  auto px = [&](double intensity) {
    double l = std::clamp(std::log10(intensity), xmin, xmax);
    return left + width * (l - xmin) / (xmax - xmin);
  };
  auto py = [&](double flops) {
    double l = std::clamp(std::log10(std::max(flops, 1.0)), ymin, ymax);
    return top + height * (1 - (l - ymin) / (ymax - ymin));
  };
  std::string svg = llvm::formatv(
      "<svg id=\"roofline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" "
      "height=\"{0}\" role=\"img\" aria-label=\"roofline\">\n"
      "<rect x=\"{1}\" y=\"{2}\" width=\"{3}\" height=\"{4}\" class=\"frame\"/>\n",
      top + height + 50, left, top, width, height);
  for (int e = (int)xmin; e <= (int)xmax; ++e)
    svg += llvm::formatv("<text x=\"{0:F0}\" y=\"{1}\" class=\"axis\" "
                         "text-anchor=\"middle\">1e{2}</text>\n",
                         px(std::pow(10, e)), top + height + 16, e);
  for (int e = (int)ymin; e <= (int)ymax; e += 2)
    svg += llvm::formatv("<text x=\"{0}\" y=\"{1:F0}\" class=\"axis\" "
                         "text-anchor=\"end\">1e{2}</text>\n",
                         left - 6, py(std::pow(10, e)) + 4, e);
  svg += llvm::formatv("<text x=\"{0}\" y=\"{1}\" class=\"axis\" "
                       "text-anchor=\"middle\">FLOPs per byte</text>\n",
                       left + width / 2, top + height + 36);
  int phaseIndex = 0;
  for (const PhasePlacement &p : plan.phases) {
    const cost::DeviceKind &d = *p.group->kind;
    double tp = (double)p.cost.parallelism.tp;
    double peak = 0;
    for (const auto &[dtype, f] : d.peakOpsPerS)
      peak = std::max(peak, f.value);
    peak *= tp * d.computeEfficiency.value;
    double bw = 0;
    for (const cost::MemoryLevel &m : d.memory)
      if (m.level == p.cost.memoryLevel)
        bw = m.bandwidthBytesPerS.value * tp * d.memoryEfficiency.value;
    std::string cls = phaseIndex++ == 0 ? "roof-a" : "roof-b";
    std::string points;
    for (double l = xmin; l <= xmax + 1e-9; l += 0.05) {
      double i = std::pow(10, l);
      points += llvm::formatv("{0:F1},{1:F1} ", px(i), py(std::min(peak, bw * i)));
    }
    svg += llvm::formatv("<polyline class=\"{0}\" points=\"{1}\"><title>@{2} on "
                         "{3} x {4}</title></polyline>\n",
                         cls, points, escape(p.phase), p.cost.parallelism.tp,
                         escape(d.kind));
    for (const OpSummary &op : plan.ops) {
      if (op.phase != p.phase || op.bytes == 0)
        continue;
      double intensity = op.flops / op.bytes;
      double achieved = op.flops / op.timeS;
      svg += llvm::formatv(
          "<circle class=\"{0}\" cx=\"{1:F1}\" cy=\"{2:F1}\" r=\"{3:F1}\">"
          "<title>@{4} {5} x{6}: {7:E2} FLOPs, {8:E2} bytes, {9} each</title>"
          "</circle>\n",
          cls, px(intensity), py(achieved), 3 + std::log10(1.0 + op.count),
          escape(op.phase), escape(op.name), op.count, op.flops, op.bytes,
          escape(seconds(op.timeS)));
    }
  }
  return svg + "</svg>\n";
}

} // namespace

std::string prism::partition::planToHtml(const Plan &plan,
                                         const cost::System &system,
                                         const PartitionOptions &options,
                                         llvm::StringRef model) {
  std::string html;
  llvm::raw_string_ostream os(html);
  std::string title = "Prism plan: " + escape(model);
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
     << "<title>" << title << "</title>\n<style>\n"
     << "body{font-family:sans-serif;margin:24px;color:#222}"
     << "table{border-collapse:collapse;margin:8px 0 20px}"
     << "td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}"
     << ".prefill{fill:#3b7dd8}.transfer{fill:#e8a33d}.decode{fill:#3fae6a;stroke:#fff}"
     << ".label{font-size:14px}.axis{font-size:11px;fill:#555}"
     << ".frame{fill:none;stroke:#999}"
     << ".roof-a{fill:none;stroke:#3b7dd8;stroke-width:2}"
     << "circle.roof-a{fill:#3b7dd8;fill-opacity:.6}"
     << ".roof-b{fill:none;stroke:#3fae6a;stroke-width:2}"
     << "circle.roof-b{fill:#3fae6a;fill-opacity:.6}\n</style></head><body>\n";
  os << "<h1>" << title << "</h1>\n<p>Objective: "
     << objectiveName(options.objective) << "; weights in "
     << escape(options.cost.weightDtype) << "; batch " << plan.batch << ".</p>\n";
  os << "<table id=\"figures\"><tr><th>time to first token</th><th>time per "
        "output token</th><th>tokens/s per user</th><th>tokens/s</th><th>energy "
        "per token</th><th>KV-cache transfer</th></tr>\n<tr><td>"
     << seconds(plan.ttftS) << "</td><td>" << seconds(plan.tpotS) << "</td><td>"
     << llvm::formatv("{0:F1}", plan.tokensPerSPerUser) << "</td><td>"
     << llvm::formatv("{0:F1}", plan.tokensPerS) << "</td><td>"
     << llvm::formatv("{0:F3} J", plan.energyPerTokenJ) << "</td><td>"
     << seconds(plan.kvTransferS) << "</td></tr></table>\n";
  os << "<table id=\"placement\"><tr><th>phase</th><th>group</th><th>device</th>"
        "<th>chips</th><th>tensor parallel</th><th>pipeline</th><th>time</th>"
        "<th>memory per device</th></tr>\n";
  for (const PhasePlacement &p : plan.phases)
    os << "<tr><td>@" << escape(p.phase) << "</td><td>" << escape(p.group->name)
       << "</td><td>" << escape(p.group->kind->name) << "</td><td>" << p.chips
       << "</td><td>" << p.cost.parallelism.tp << "</td><td>"
       << p.cost.parallelism.pp << "</td><td>" << seconds(p.cost.timeS)
       << "</td><td>"
       << llvm::formatv("{0:F2} of {1:F2} GB {2}", p.cost.bytesPerChip / 1e9,
                        p.cost.capacityPerChip / 1e9, p.cost.memoryLevel)
       << "</td></tr>\n";
  os << "</table>\n<h2>Timeline</h2>\n<p>Prefill, the KV-cache transfer and "
        "the first decode steps, per device group.</p>\n"
     << timeline(plan, 8) << "<h2>Roofline</h2>\n<p>Each phase's device "
        "(one tensor-parallel group, efficiencies applied) and its kinds of "
        "ops at their arithmetic intensity and attained FLOP/s; a dot's "
        "size grows with how often the op repeats.</p>\n"
     << roofline(plan);
  os << "<h2>System</h2>\n<ul>\n";
  for (const cost::DeviceGroup &g : system.groups)
    os << "<li>" << escape(g.name) << ": " << g.count << " x "
       << escape(g.kind->name) << "</li>\n";
  if (!system.linkKind.empty())
    os << "<li>between groups: " << escape(system.linkKind) << ", "
       << llvm::formatv("{0:F1} GB/s", system.linkBytesPerS.value / 1e9) << "</li>\n";
  os << "</ul>\n</body></html>\n";
  return html;
}
