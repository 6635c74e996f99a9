//===- Runner.cpp - Run a launch plan through the CUDA driver -------------===//

#include "prism/Runtime/Cuda/Runner.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/DynamicLibrary.h"

#include <cstring>

using namespace prism;
using namespace prism::gpu;
using runtime::DType;
using runtime::Tensor;

char NoCudaError::ID = 0;

namespace {

// The few driver-API entry points the runner calls, declared here (their
// ABI is stable; the `_v2` names are the ones cuda.h maps to).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using Handle = void *;

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(Handle *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease_v2)(CUdevice);
  CUresult (*cuCtxSetCurrent)(Handle);
  CUresult (*cuModuleLoadDataEx)(Handle *, const void *, unsigned, int *, void **);
  CUresult (*cuModuleGetFunction)(Handle *, Handle, const char *);
  CUresult (*cuModuleUnload)(Handle);
  CUresult (*cuMemAlloc_v2)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree_v2)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD_v2)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH_v2)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemsetD8_v2)(CUdeviceptr, unsigned char, size_t);
  CUresult (*cuLaunchKernel)(Handle, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, Handle, void **, void **);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuEventCreate)(Handle *, unsigned);
  CUresult (*cuEventDestroy_v2)(Handle);
  CUresult (*cuEventRecord)(Handle, Handle);
  CUresult (*cuEventSynchronize)(Handle);
  CUresult (*cuEventElapsedTime)(float *, Handle, Handle);
  CUresult (*cuGetErrorString)(CUresult, const char **);

  llvm::Error check(CUresult r, const llvm::Twine &what) const {
    if (r == 0)
      return llvm::Error::success();
    const char *text = nullptr;
    if (cuGetErrorString)
      cuGetErrorString(r, &text);
    return llvm::createStringError(what + ": CUDA error " + llvm::Twine(r) +
                                   (text ? " (" + llvm::Twine(text) + ")" : llvm::Twine()));
  }
};

llvm::Expected<Driver> loadDriver() {
  std::string error;
  auto lib = llvm::sys::DynamicLibrary::getPermanentLibrary("libcuda.so.1", &error);
  if (!lib.isValid())
    return llvm::make_error<NoCudaError>("no CUDA driver (libcuda.so.1): " + error);
  Driver d{};
  bool missing = false;
  std::string which;
  auto bind = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(lib.getAddressOfSymbol(name));
    if (!fn) {
      missing = true;
      which = name;
    }
  };
#define BIND(name) bind(d.name, #name)
  BIND(cuInit);
  BIND(cuDeviceGetCount);
  BIND(cuDeviceGet);
  BIND(cuDeviceGetName);
  BIND(cuDevicePrimaryCtxRetain);
  BIND(cuDevicePrimaryCtxRelease_v2);
  BIND(cuCtxSetCurrent);
  BIND(cuModuleLoadDataEx);
  BIND(cuModuleGetFunction);
  BIND(cuModuleUnload);
  BIND(cuMemAlloc_v2);
  BIND(cuMemFree_v2);
  BIND(cuMemcpyHtoD_v2);
  BIND(cuMemcpyDtoH_v2);
  BIND(cuMemsetD8_v2);
  BIND(cuLaunchKernel);
  BIND(cuCtxSynchronize);
  BIND(cuEventCreate);
  BIND(cuEventDestroy_v2);
  BIND(cuEventRecord);
  BIND(cuEventSynchronize);
  BIND(cuEventElapsedTime);
  BIND(cuGetErrorString);
#undef BIND
  if (missing)
    return llvm::createStringError("the CUDA driver has no " + which);
  return d;
}

std::optional<DType> dtypeOf(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Case("f32", DType::F32)
      .Case("f64", DType::F64)
      .Case("f16", DType::F16)
      .Case("bf16", DType::BF16)
      .Case("i8", DType::I8)
      .Case("i16", DType::I16)
      .Case("i32", DType::I32)
      .Case("i64", DType::I64)
      .Case("bool", DType::Bool)
      .Default(std::nullopt);
}

bool rowMajor(const PlanView &v) {
  int64_t stride = 1;
  for (int64_t d = v.sizes.size() - 1; d >= 0; --d) {
    if (v.sizes[d] != 1 && v.strides[d] != stride)
      return false;
    stride *= v.sizes[d];
  }
  return true;
}

/// The plan on one device: its buffers, modules and functions.
class Session {
public:
  explicit Session(const Driver &cu) : cu(cu) {}
  ~Session() {
    for (CUdeviceptr p : buffers)
      if (p)
        cu.cuMemFree_v2(p);
    for (Handle e : events)
      if (e)
        cu.cuEventDestroy_v2(e);
    for (auto &entry : modules)
      cu.cuModuleUnload(entry.second);
    if (context)
      cu.cuDevicePrimaryCtxRelease_v2(device);
  }

  llvm::Error run(const LaunchPlan &plan, const llvm::StringMap<Tensor> &inputs,
                  const RunOptions &options, RunResult &result) {
    if (auto err = cu.check(cu.cuInit(0), "cuInit"))
      return llvm::make_error<NoCudaError>(llvm::toString(std::move(err)));
    int count = 0;
    if (cu.cuDeviceGetCount(&count) != 0 || count == 0)
      return llvm::make_error<NoCudaError>("no CUDA device");
    char name[256] = {};
    if (auto err = cu.check(cu.cuDeviceGet(&device, 0), "cuDeviceGet"))
      return err;
    cu.cuDeviceGetName(name, sizeof(name), device);
    result.deviceName = name;
    if (auto err = cu.check(cu.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain"))
      return err;
    if (auto err = cu.check(cu.cuCtxSetCurrent(context), "cuCtxSetCurrent"))
      return err;
    if (auto err = loadModules(plan))
      return err;
    if (auto err = allocate(plan, inputs, options))
      return err;

    std::vector<Handle> functions;
    for (const PlanLaunch &l : plan.launches) {
      Handle fn;
      if (auto err = cu.check(cu.cuModuleGetFunction(&fn, modules.lookup(l.module), l.kernel.c_str()),
                              "kernel " + l.kernel))
        return err;
      functions.push_back(fn);
    }
    // One warm-up run (JIT, caches), then the timed ones with an event
    // around each launch.
    unsigned runs = 1 + options.timedRuns;
    events.assign(plan.launches.size() + 1, nullptr);
    for (Handle &e : events)
      if (auto err = cu.check(cu.cuEventCreate(&e, 0), "cuEventCreate"))
        return err;
    result.launchMilliseconds.assign(plan.launches.size(), 0);
    for (unsigned run = 0; run < runs; ++run) {
      bool timed = run > 0;
      if (timed)
        if (auto err = cu.check(cu.cuEventRecord(events[0], nullptr), "cuEventRecord"))
          return err;
      for (auto [i, l] : llvm::enumerate(plan.launches)) {
        if (auto err = launch(l, functions[i]))
          return err;
        if (timed)
          if (auto err = cu.check(cu.cuEventRecord(events[i + 1], nullptr), "cuEventRecord"))
            return err;
      }
      if (auto err = cu.check(cu.cuCtxSynchronize(), "running the plan"))
        return err;
      if (!timed)
        continue;
      cu.cuEventSynchronize(events.back());
      for (size_t i = 0; i < plan.launches.size(); ++i) {
        float ms = 0;
        cu.cuEventElapsedTime(&ms, events[i], events[i + 1]);
        result.launchMilliseconds[i] += ms / options.timedRuns;
        result.milliseconds += ms / options.timedRuns;
      }
    }
    for (const PlanValue &out : plan.outputs) {
      auto t = read(plan, out);
      if (!t)
        return t.takeError();
      result.outputs[out.name] = std::move(*t);
    }
    return llvm::Error::success();
  }

private:
  llvm::Error loadModules(const LaunchPlan &plan) {
    for (const PlanModule &m : plan.modules) {
      std::string log(8192, '\0');
      int keys[] = {5 /*CU_JIT_ERROR_LOG_BUFFER*/, 6 /*CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES*/};
      void *values[] = {log.data(), reinterpret_cast<void *>(uintptr_t(log.size()))};
      Handle module;
      // The driver JIT-compiles PTX (NUL-terminated: c_str) and loads a
      // cubin as it is (its size is in its ELF header).
      if (auto err = cu.check(cu.cuModuleLoadDataEx(&module, m.data.c_str(), 2, keys, values),
                              "loading the " + std::string(m.cubin ? "cubin" : "PTX") +
                                  " of " + m.name))
        return llvm::createStringError(llvm::toString(std::move(err)) + ": " +
                                       llvm::StringRef(log.c_str()));
      modules[m.name] = module;
    }
    return llvm::Error::success();
  }

  llvm::Error allocate(const LaunchPlan &plan, const llvm::StringMap<Tensor> &inputs,
                       const RunOptions &options) {
    buffers.assign(plan.buffers.size(), 0);
    for (auto [i, b] : llvm::enumerate(plan.buffers)) {
      if (auto err = cu.check(cu.cuMemAlloc_v2(&buffers[i], std::max<int64_t>(b.bytes, 1)),
                              "allocating " + llvm::Twine(b.bytes) + " bytes"))
        return err;
      if (b.kind == PlanBuffer::Kind::Weight) {
        if (b.elided) {
          if (auto err = cu.check(cu.cuMemsetD8_v2(buffers[i], 0, b.bytes), "zeroing " + b.name))
            return err;
        } else if (auto err = cu.check(cu.cuMemcpyHtoD_v2(buffers[i], b.data.data(), b.bytes),
                                     "copying weight " + b.name))
          return err;
      }
    }
    for (const PlanValue &in : plan.inputs) {
      auto it = inputs.find(in.name);
      if (it == inputs.end())
        return llvm::createStringError("input '" + in.name + "' is missing");
      const Tensor &t = it->second;
      auto dtype = dtypeOf(in.view.dtype);
      if (!dtype || *dtype != t.dtype ||
          !llvm::equal(t.shape, in.view.sizes))
        return llvm::createStringError(
            "input '" + in.name + "' is " + t.getTypeString() + " but the phase takes " +
            in.view.dtype + "[" + llvm::join(llvm::map_range(in.view.sizes, [](int64_t s) {
              return std::to_string(s);
            }), ", ") + "]");
      if (!rowMajor(in.view) || in.view.offset != 0)
        return llvm::createStringError("input '" + in.name + "' is not a whole row-major buffer");
      if (auto err = cu.check(cu.cuMemcpyHtoD_v2(buffers[in.view.buffer], t.data.data(),
                                                 t.data.size()),
                              "copying input " + in.name))
        return err;
    }
    return llvm::Error::success();
  }

  /// A memref argument is its descriptor, flattened as the NVVM lowering
  /// flattens it: allocated and aligned pointers, offset, sizes, strides.
  llvm::Error launch(const PlanLaunch &l, Handle fn) {
    std::vector<int64_t> words;
    std::vector<size_t> starts;
    std::vector<double> doubles;
    std::vector<float> floats;
    std::vector<int32_t> ints;
    std::vector<void *> params;
    // Fixed storage first, pointers after (no reallocation in between).
    for (const PlanArg &a : l.args) {
      starts.push_back(words.size());
      if (a.kind == PlanArg::Kind::View) {
        CUdeviceptr base = buffers[a.view.buffer];
        words.push_back(int64_t(base));
        words.push_back(int64_t(base));
        words.push_back(a.view.offset);
        words.insert(words.end(), a.view.sizes.begin(), a.view.sizes.end());
        words.insert(words.end(), a.view.strides.begin(), a.view.strides.end());
      } else if (a.kind == PlanArg::Kind::Int && a.bits == 64) {
        words.push_back(a.intValue);
      }
    }
    floats.reserve(l.args.size());
    doubles.reserve(l.args.size());
    ints.reserve(l.args.size());
    for (auto [i, a] : llvm::enumerate(l.args)) {
      if (a.kind == PlanArg::Kind::View) {
        size_t n = 3 + 2 * a.view.sizes.size();
        for (size_t k = 0; k < n; ++k)
          params.push_back(&words[starts[i] + k]);
      } else if (a.kind == PlanArg::Kind::Int) {
        if (a.bits == 64) {
          params.push_back(&words[starts[i]]);
        } else {
          ints.push_back(int32_t(a.intValue));
          params.push_back(&ints.back());
        }
      } else if (a.bits == 64) {
        doubles.push_back(a.floatValue);
        params.push_back(&doubles.back());
      } else {
        floats.push_back(float(a.floatValue));
        params.push_back(&floats.back());
      }
    }
    return cu.check(cu.cuLaunchKernel(fn, l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1],
                                      l.block[2], 0, nullptr, params.data(), nullptr),
                    "launching " + l.kernel);
  }

  /// An output view gathered into a row-major host tensor.
  llvm::Expected<Tensor> read(const LaunchPlan &plan, const PlanValue &out) {
    auto dtype = dtypeOf(out.view.dtype);
    if (!dtype)
      return llvm::createStringError("output '" + out.name + "' has dtype " + out.view.dtype);
    const PlanBuffer &b = plan.buffers[out.view.buffer];
    std::vector<char> whole(b.bytes);
    if (auto err = cu.check(cu.cuMemcpyDtoH_v2(whole.data(), buffers[out.view.buffer], b.bytes),
                            "reading output " + out.name))
      return std::move(err);
    Tensor t;
    t.dtype = *dtype;
    t.shape.assign(out.view.sizes.begin(), out.view.sizes.end());
    int64_t width = runtime::getDTypeSize(*dtype);
    t.data.resize(t.getNumElements() * width);
    std::vector<int64_t> index(t.shape.size(), 0);
    for (int64_t n = 0; n < t.getNumElements(); ++n) {
      int64_t at = out.view.offset;
      for (size_t d = 0; d < index.size(); ++d)
        at += index[d] * out.view.strides[d];
      std::memcpy(t.data.data() + n * width, whole.data() + at * width, width);
      for (int64_t d = index.size() - 1; d >= 0; --d) {
        if (++index[d] < t.shape[d])
          break;
        index[d] = 0;
      }
    }
    return t;
  }

  const Driver &cu;
  CUdevice device = 0;
  Handle context = nullptr;
  std::vector<CUdeviceptr> buffers;
  std::vector<Handle> events;
  llvm::StringMap<Handle> modules;
};

} // namespace

llvm::Expected<RunResult> prism::gpu::runOnCuda(const LaunchPlan &plan,
                                                const llvm::StringMap<Tensor> &inputs,
                                                const RunOptions &options) {
  // What the plan lacks is said before looking for a GPU.
  for (const PlanBuffer &b : plan.buffers)
    if (b.kind == PlanBuffer::Kind::Weight && b.elided && !options.allowElidedWeights)
      return llvm::createStringError(
          "weight '" + (b.weight.empty() ? b.name : b.weight) +
          "' has no values in the IR (left out with --elide-weights, or in "
          "external data, which the GPU target does not load yet): give a "
          "model with inline weights, or --elided-weights-as-zeros to time it");
  auto driver = loadDriver();
  if (!driver)
    return driver.takeError();
  RunResult result;
  Session session(*driver);
  if (auto err = session.run(plan, inputs, options, result))
    return std::move(err);
  return result;
}
