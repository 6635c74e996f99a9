//===- LaunchPlan.cpp - The GPU launch plan format: JSON and weights ------===//

#include "prism/Target/Gpu/Format/LaunchPlan.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <limits>

using namespace prism::gpu;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

llvm::json::Value viewJson(const PlanView &v) {
  return llvm::json::Object{{"buffer", v.buffer},
                            {"offset", v.offset},
                            {"sizes", llvm::json::Array(v.sizes)},
                            {"strides", llvm::json::Array(v.strides)},
                            {"dtype", v.dtype}};
}

/// JSON has no infinities or NaN: those are strings.
llvm::json::Value floatJson(double x) {
  if (std::isnan(x))
    return "nan";
  if (std::isinf(x))
    return x > 0 ? "inf" : "-inf";
  return x;
}

} // namespace

int64_t LaunchPlan::weightBytes() const {
  int64_t end = 0;
  for (const PlanBuffer &b : buffers)
    if (b.kind == PlanBuffer::Kind::Weight && !b.elided)
      end = b.weightsOffset + b.bytes;
  return end;
}

llvm::json::Value prism::gpu::toJson(const LaunchPlan &plan) {
  llvm::json::Array buffers;
  for (const PlanBuffer &b : plan.buffers) {
    llvm::json::Object o{{"bytes", b.bytes}};
    switch (b.kind) {
    case PlanBuffer::Kind::Input:
      o["kind"] = "input";
      o["name"] = b.name;
      break;
    case PlanBuffer::Kind::Weight:
      o["kind"] = "weight";
      o["name"] = b.name;
      if (!b.weight.empty())
        o["weight"] = b.weight;
      if (b.elided) {
        o["elided"] = true;
        break;
      }
      o["weights_offset"] = b.weightsOffset;
      break;
    case PlanBuffer::Kind::Scratch:
      o["kind"] = "scratch";
      break;
    }
    buffers.push_back(std::move(o));
  }
  llvm::json::Array launches;
  for (const PlanLaunch &l : plan.launches) {
    llvm::json::Array args;
    for (const PlanArg &a : l.args) {
      if (a.kind == PlanArg::Kind::View)
        args.push_back(viewJson(a.view));
      else if (a.kind == PlanArg::Kind::Int)
        args.push_back(llvm::json::Object{{"int", a.intValue}, {"bits", a.bits}});
      else
        args.push_back(llvm::json::Object{{"float", floatJson(a.floatValue)}, {"bits", a.bits}});
    }
    llvm::json::Object launch{{"module", l.module},
                              {"kernel", l.kernel},
                              {"grid", llvm::json::Array(l.grid)},
                              {"block", llvm::json::Array(l.block)},
                              {"args", std::move(args)}};
    if (l.predictedSeconds > 0)
      launch["predicted_s"] = l.predictedSeconds;
    launches.push_back(std::move(launch));
  }
  auto values = [](const std::vector<PlanValue> &vs) {
    llvm::json::Array out;
    for (const PlanValue &v : vs) {
      llvm::json::Object o = *viewJson(v.view).getAsObject();
      o["name"] = v.name;
      out.push_back(std::move(o));
    }
    return out;
  };
  llvm::json::Array modules;
  // A cubin as base64: JSON holds text.
  for (const PlanModule &m : plan.modules)
    modules.push_back(llvm::json::Object{
        {"name", m.name}, {m.cubin ? "cubin" : "ptx", m.cubin ? llvm::encodeBase64(m.data) : m.data}});
  return llvm::json::Object{{"phase", plan.phase},
                            {"inputs", values(plan.inputs)},
                            {"outputs", values(plan.outputs)},
                            {"buffers", std::move(buffers)},
                            {"launches", std::move(launches)},
                            {"weight_bytes", plan.weightBytes()},
                            {"modules", std::move(modules)}};
}

void prism::gpu::writeWeights(llvm::raw_ostream &os, const LaunchPlan &plan) {
  int64_t at = 0;
  for (const PlanBuffer &b : plan.buffers) {
    if (b.kind != PlanBuffer::Kind::Weight || b.elided)
      continue;
    os.write_zeros(b.weightsOffset - at);
    os.write(b.data.data(), b.data.size());
    at = b.weightsOffset + int64_t(b.data.size());
  }
}

namespace {

/// Reads the plan's JSON; every error names what is wrong and where.
class PlanReader {
public:
  explicit PlanReader(StringRef origin) : origin(origin.str()) {}

  Error fail(const llvm::Twine &msg) {
    return llvm::createStringError(origin + ": not a launch plan: " + msg.str());
  }

  Expected<int64_t> integer(const llvm::json::Object &o, StringRef key, StringRef what) {
    if (auto v = o.getInteger(key))
      return *v;
    return fail(what + " has no integer '" + key + "'");
  }

  Expected<std::vector<int64_t>> integers(const llvm::json::Object &o, StringRef key,
                                          StringRef what) {
    const llvm::json::Array *a = o.getArray(key);
    if (!a)
      return fail(what + " has no array '" + key + "'");
    std::vector<int64_t> out;
    for (const llvm::json::Value &v : *a) {
      auto n = v.getAsInteger();
      if (!n)
        return fail(what + "'s '" + key + "' holds a value that is not an integer");
      out.push_back(*n);
    }
    return out;
  }

  Expected<PlanView> view(const llvm::json::Value &v, StringRef what, int64_t buffers) {
    const llvm::json::Object *o = v.getAsObject();
    if (!o)
      return fail(what + " is not an object");
    PlanView view;
    auto buffer = integer(*o, "buffer", what);
    auto offset = buffer ? integer(*o, "offset", what) : buffer.takeError();
    if (!offset)
      return offset.takeError();
    view.buffer = *buffer;
    view.offset = *offset;
    if (view.buffer < 0 || view.buffer >= buffers || view.offset < 0)
      return fail(what + " names buffer " + std::to_string(view.buffer) + " at offset " +
                  std::to_string(view.offset) + " (the plan has " + std::to_string(buffers) +
                  " buffers)");
    auto sizes = integers(*o, "sizes", what);
    if (!sizes)
      return sizes.takeError();
    auto strides = integers(*o, "strides", what);
    if (!strides)
      return strides.takeError();
    if (sizes->size() != strides->size())
      return fail(what + " has " + std::to_string(sizes->size()) + " sizes and " +
                  std::to_string(strides->size()) + " strides");
    view.sizes = std::move(*sizes);
    view.strides = std::move(*strides);
    auto dtype = o->getString("dtype");
    if (!dtype)
      return fail(what + " has no dtype");
    view.dtype = dtype->str();
    view.elementBytes = llvm::StringSwitch<int64_t>(view.dtype)
                            .Cases({"f64", "i64", "index"}, 8)
                            .Cases({"f32", "i32"}, 4)
                            .Cases({"f16", "bf16", "i16"}, 2)
                            .Cases({"i8", "i1", "f8E4M3FN"}, 1)
                            .Default(0);
    if (!view.elementBytes)
      return fail(what + " has an unknown dtype '" + view.dtype + "'");
    return view;
  }

  Expected<LaunchPlan> read(const llvm::json::Value &json) {
    const llvm::json::Object *root = json.getAsObject();
    if (!root)
      return fail("the JSON is not an object");
    LaunchPlan plan;
    plan.phase = root->getString("phase").value_or("").str();
    const llvm::json::Array *buffers = root->getArray("buffers");
    if (!buffers)
      return fail("no buffers");
    for (auto [i, v] : llvm::enumerate(*buffers)) {
      std::string what = "buffer " + std::to_string(i);
      const llvm::json::Object *o = v.getAsObject();
      if (!o)
        return fail(what + " is not an object");
      PlanBuffer b;
      auto bytes = integer(*o, "bytes", what);
      if (!bytes)
        return bytes.takeError();
      if (*bytes < 0)
        return fail(what + " has a negative size");
      b.bytes = *bytes;
      StringRef kind = o->getString("kind").value_or("");
      b.name = o->getString("name").value_or("").str();
      b.weight = o->getString("weight").value_or("").str();
      if (kind == "input") {
        b.kind = PlanBuffer::Kind::Input;
      } else if (kind == "weight") {
        b.kind = PlanBuffer::Kind::Weight;
        b.elided = o->getBoolean("elided").value_or(false);
        if (!b.elided) {
          auto at = integer(*o, "weights_offset", what);
          if (!at)
            return at.takeError();
          if (*at < 0)
            return fail(what + " has a negative weights_offset");
          b.weightsOffset = *at;
        }
      } else if (kind == "scratch") {
        b.kind = PlanBuffer::Kind::Scratch;
      } else {
        return fail(what + " is of kind '" + kind + "' (input, weight or scratch)");
      }
      plan.buffers.push_back(std::move(b));
    }
    int64_t count = (int64_t)plan.buffers.size();
    for (StringRef key : {"inputs", "outputs"}) {
      const llvm::json::Array *values = root->getArray(key);
      if (!values)
        return fail("no " + key);
      for (const llvm::json::Value &v : *values) {
        auto name = v.getAsObject() ? v.getAsObject()->getString("name") : std::nullopt;
        if (!name)
          return fail("an entry of " + key + " has no name");
        auto view = this->view(v, key.str() + " '" + name->str() + "'", count);
        if (!view)
          return view.takeError();
        (key == "inputs" ? plan.inputs : plan.outputs).push_back({name->str(), *view});
      }
    }
    const llvm::json::Array *modules = root->getArray("modules");
    if (!modules)
      return fail("no modules");
    for (const llvm::json::Value &v : *modules) {
      const llvm::json::Object *o = v.getAsObject();
      auto name = o ? o->getString("name") : std::nullopt;
      if (!name)
        return fail("a module has no name");
      PlanModule m;
      m.name = name->str();
      if (auto ptx = o->getString("ptx")) {
        m.data = ptx->str();
      } else if (auto cubin = o->getString("cubin")) {
        m.cubin = true;
        std::vector<char> bytes;
        if (Error err = llvm::decodeBase64(*cubin, bytes))
          return fail("module '" + m.name + "': " + llvm::toString(std::move(err)));
        m.data.assign(bytes.begin(), bytes.end());
      } else {
        return fail("module '" + m.name + "' has no ptx or cubin");
      }
      plan.modules.push_back(std::move(m));
    }
    const llvm::json::Array *launches = root->getArray("launches");
    if (!launches)
      return fail("no launches");
    for (auto [i, v] : llvm::enumerate(*launches)) {
      std::string what = "launch " + std::to_string(i);
      const llvm::json::Object *o = v.getAsObject();
      if (!o || !o->getString("module") || !o->getString("kernel"))
        return fail(what + " has no module or kernel");
      PlanLaunch l;
      l.module = o->getString("module")->str();
      l.kernel = o->getString("kernel")->str();
      if (llvm::none_of(plan.modules, [&](const PlanModule &m) { return m.name == l.module; }))
        return fail(what + " names module '" + l.module + "', which the plan does not hold");
      for (auto [key, dims] : {std::pair<StringRef, std::array<int64_t, 3> *>{"grid", &l.grid},
                               {"block", &l.block}}) {
        auto values = integers(*o, key, what);
        if (!values)
          return values.takeError();
        if (values->size() != 3 || llvm::any_of(*values, [](int64_t d) { return d <= 0; }))
          return fail(what + "'s " + key + " is not three positive sizes");
        std::copy(values->begin(), values->end(), dims->begin());
      }
      l.predictedSeconds = o->getNumber("predicted_s").value_or(0);
      const llvm::json::Array *args = o->getArray("args");
      if (!args)
        return fail(what + " has no args");
      for (auto [k, a] : llvm::enumerate(*args)) {
        std::string argWhat = what + " argument " + std::to_string(k);
        const llvm::json::Object *ao = a.getAsObject();
        if (!ao)
          return fail(argWhat + " is not an object");
        PlanArg arg;
        arg.bits = (int)ao->getInteger("bits").value_or(64);
        if (auto n = ao->getInteger("int")) {
          arg.kind = PlanArg::Kind::Int;
          arg.intValue = *n;
        } else if (const llvm::json::Value *f = ao->get("float")) {
          arg.kind = PlanArg::Kind::Float;
          if (auto x = f->getAsNumber())
            arg.floatValue = *x;
          else if (auto s = f->getAsString(); s && (*s == "inf" || *s == "-inf" || *s == "nan"))
            arg.floatValue = *s == "nan"  ? std::numeric_limits<double>::quiet_NaN()
                             : *s == "inf" ? std::numeric_limits<double>::infinity()
                                           : -std::numeric_limits<double>::infinity();
          else
            return fail(argWhat + "'s float is neither a number nor inf, -inf or nan");
        } else {
          auto view = this->view(a, argWhat, count);
          if (!view)
            return view.takeError();
          arg.view = std::move(*view);
        }
        l.args.push_back(std::move(arg));
      }
      plan.launches.push_back(std::move(l));
    }
    return plan;
  }

private:
  std::string origin;
};

} // namespace

Expected<LaunchPlan> prism::gpu::fromJson(const llvm::json::Value &json, StringRef origin) {
  return PlanReader(origin).read(json);
}

Expected<LaunchPlan> prism::gpu::readLaunchPlan(StringRef path) {
  auto text = llvm::MemoryBuffer::getFile(path);
  if (!text)
    return llvm::createStringError("cannot read " + path + ": " + text.getError().message());
  auto json = llvm::json::parse((*text)->getBuffer());
  if (!json)
    return llvm::createStringError(path + ": " + llvm::toString(json.takeError()));
  auto plan = fromJson(*json, path);
  if (!plan)
    return plan.takeError();
  std::string weightsPath = (path + ".weights").str();
  auto weights = llvm::MemoryBuffer::getFile(weightsPath);
  if (!weights)
    return llvm::createStringError("cannot read " + weightsPath + ": " +
                                   weights.getError().message());
  StringRef bytes = (*weights)->getBuffer();
  for (PlanBuffer &b : plan->buffers) {
    if (b.kind != PlanBuffer::Kind::Weight || b.elided)
      continue;
    if (b.weightsOffset + b.bytes > (int64_t)bytes.size())
      return llvm::createStringError(llvm::formatv("{0}: weight '{1}' lies at bytes [{2}, {3}) "
                                                   "of a {4}-byte file",
                                                   weightsPath, b.name, b.weightsOffset,
                                                   b.weightsOffset + b.bytes, bytes.size())
                                         .str());
    b.data.assign(bytes.begin() + b.weightsOffset, bytes.begin() + b.weightsOffset + b.bytes);
  }
  return plan;
}
