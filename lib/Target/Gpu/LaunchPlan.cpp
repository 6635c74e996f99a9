//===- LaunchPlan.cpp - What the host does to run a GPU phase -------------===//

#include "prism/Target/Gpu/LaunchPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include "llvm/Support/Base64.h"

#include <cstring>

using namespace mlir;
using namespace prism::gpu;

namespace {

/// Each weight starts on a multiple of this in the weights file, so that
/// a loader may keep the whole file in one allocation: the kernels read
/// weights in 16-byte vectors.
constexpr int64_t kWeightAlignment = 64;

std::string dtypeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  if (t.isF64())
    return "f64";
  if (isa<Float8E4M3FNType>(t))
    return "f8e4m3";
  if (t.isIndex())
    return "i64";
  if (auto i = dyn_cast<IntegerType>(t))
    return (i.getWidth() == 1 ? "bool" : "i" + std::to_string(i.getWidth()));
  return "";
}

int64_t elementBytes(Type t) {
  if (t.isIndex())
    return 8;
  return std::max<int64_t>(1, t.getIntOrFloatBitWidth() / 8);
}

/// The bytes of a constant global's initial value, row-major; nothing when
/// the IR does not hold them (left out with --elide-weights).
std::optional<std::vector<char>> globalBytes(memref::GlobalOp global) {
  auto type = global.getType();
  int64_t bytes = type.getNumElements() * elementBytes(type.getElementType());
  std::optional<Attribute> init = global.getInitialValue();
  if (!init || isa<UnitAttr>(*init))
    return std::nullopt;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(*init)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || int64_t(blob->getData().size()) != bytes)
      return std::nullopt;
    return std::vector<char>(blob->getData().begin(), blob->getData().end());
  }
  auto dense = dyn_cast<DenseElementsAttr>(*init);
  if (!dense || dense.getElementType().isInteger(1))
    return std::nullopt;
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    std::vector<char> out(bytes);
    int64_t width = elementBytes(type.getElementType());
    for (int64_t at = 0; at < bytes; at += width)
      std::memcpy(out.data() + at, raw.data(), width);
    return out;
  }
  if (int64_t(raw.size()) != bytes)
    return std::nullopt;
  return std::vector<char>(raw.begin(), raw.end());
}

class PlanBuilder {
public:
  PlanBuilder(ModuleOp module, func::FuncOp phase) : module(module), phase(phase) {}

  FailureOr<LaunchPlan> build() {
    plan.phase = phase.getSymName().str();
    for (BlockArgument arg : phase.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || !type.hasStaticShape())
        return phase.emitError("launch plan: argument ")
               << arg.getArgNumber() << " of @" << phase.getSymName() << " is "
               << arg.getType() << ", not a static memref (run prism-lower-gpu first)";
      auto name = phase.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name");
      PlanBuffer buffer;
      buffer.kind = PlanBuffer::Kind::Input;
      buffer.name = name ? name.str() : "arg" + std::to_string(arg.getArgNumber());
      buffer.bytes = bytesOf(type);
      views[arg] = wholeBuffer(addBuffer(std::move(buffer)), type);
      plan.inputs.push_back({plan.buffers.back().name, views[arg]});
    }
    for (Operation &op : phase.getBody().front())
      if (failed(visit(&op)))
        return failure();
    return std::move(plan);
  }

private:
  int64_t bytesOf(MemRefType type) {
    return type.getNumElements() * elementBytes(type.getElementType());
  }

  int64_t addBuffer(PlanBuffer buffer) {
    if (buffer.kind == PlanBuffer::Kind::Weight && !buffer.elided) {
      buffer.weightsOffset = llvm::alignTo(weightsEnd, kWeightAlignment);
      weightsEnd = buffer.weightsOffset + buffer.bytes;
    }
    plan.buffers.push_back(std::move(buffer));
    return plan.buffers.size() - 1;
  }

  PlanView wholeBuffer(int64_t buffer, MemRefType type) {
    PlanView view;
    view.buffer = buffer;
    view.sizes.assign(type.getShape().begin(), type.getShape().end());
    int64_t offset;
    SmallVector<int64_t> strides;
    if (failed(type.getStridesAndOffset(strides, offset)))
      offset = 0;
    view.strides.assign(strides.begin(), strides.end());
    view.dtype = dtypeName(type.getElementType());
    view.elementBytes = elementBytes(type.getElementType());
    return view;
  }

  /// A view's result: the same buffer; the offset and strides its type
  /// states, or (a cast to a dynamic layout) those of its source.
  LogicalResult alias(Operation *op, Value source, Value result) {
    auto it = views.find(source);
    if (it == views.end())
      return op->emitError("launch plan: a view of a buffer the plan does not know");
    auto type = cast<MemRefType>(result.getType());
    PlanView view = it->second;
    view.sizes.assign(type.getShape().begin(), type.getShape().end());
    int64_t offset;
    SmallVector<int64_t> strides;
    if (succeeded(type.getStridesAndOffset(strides, offset)) &&
        !ShapedType::isDynamic(offset) && llvm::none_of(strides, ShapedType::isDynamic)) {
      view.offset = offset;
      view.strides.assign(strides.begin(), strides.end());
    } else if (!isa<memref::CastOp>(op) || view.sizes.size() != it->second.sizes.size()) {
      // Only a cast keeps its source's layout; any other view with a
      // dynamic layout would move it.
      return op->emitError("launch plan: a view with a dynamic layout");
    }
    views[result] = view;
    return success();
  }

  LogicalResult visit(Operation *op) {
    // Weights a kernel now reads in another form, views and buffers
    // nobody uses take no memory.
    if (isa<arith::ConstantOp>(op) ||
        (op->getNumResults() && op->use_empty() &&
         isa<memref::AllocOp, memref::GetGlobalOp, memref::SubViewOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::CastOp, memref::ReinterpretCastOp,
             memref::ReshapeOp>(op)))
      return success();
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      if (!alloc.getType().hasStaticShape())
        return op->emitError("launch plan: a dynamically sized allocation");
      PlanBuffer buffer;
      buffer.bytes = bytesOf(alloc.getType());
      views[alloc] = wholeBuffer(addBuffer(std::move(buffer)), alloc.getType());
      return success();
    }
    if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
      auto global = module.lookupSymbol<memref::GlobalOp>(get.getNameAttr());
      if (!global)
        return op->emitError("launch plan: no global @") << get.getName();
      auto [it, fresh] = globals.try_emplace(get.getName(), 0);
      if (fresh) {
        PlanBuffer buffer;
        buffer.kind = PlanBuffer::Kind::Weight;
        buffer.name = get.getName().str();
        buffer.bytes = bytesOf(get.getType());
        if (auto init = global.getInitialValue())
          if (auto resource = dyn_cast<DenseResourceElementsAttr>(*init))
            buffer.weight = resource.getRawHandle().getKey().str();
        if (auto data = globalBytes(global))
          buffer.data = std::move(*data);
        else
          buffer.elided = true;
        it->second = addBuffer(std::move(buffer));
      }
      views[get] = wholeBuffer(it->second, get.getType());
      return success();
    }
    if (isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp,
            memref::ReinterpretCastOp>(op))
      return alias(op, op->getOperand(0), op->getResult(0));
    if (auto reshape = dyn_cast<memref::ReshapeOp>(op))
      return alias(op, reshape.getSource(), reshape.getResult());
    if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op))
      return addLaunch(launch);
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        auto it = views.find(v);
        if (it == views.end())
          return op->emitError("launch plan: result ") << i << " is no buffer the plan knows";
        auto name = phase.getResultAttrOfType<StringAttr>(i, "onnx.name");
        plan.outputs.push_back({name ? name.str() : "result" + std::to_string(i), it->second});
      }
      return success();
    }
    return op->emitError("launch plan: the host cannot run '")
           << op->getName() << "' (only buffers, views and kernel launches)";
  }

  LogicalResult addLaunch(gpu::LaunchFuncOp launch) {
    PlanLaunch step;
    step.module = launch.getKernelModuleName().str();
    step.kernel = launch.getKernelName().str();
    if (auto predicted = launch->getAttrOfType<FloatAttr>("prism.predicted_s"))
      step.predictedSeconds = predicted.getValueAsDouble();
    auto constant = [&](Value v, int64_t &out) {
      APInt value;
      if (!matchPattern(v, m_ConstantInt(&value)))
        return false;
      out = value.getSExtValue();
      return true;
    };
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues(),
                    block = launch.getBlockSizeOperandValues();
    Value dims[] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
    for (int i = 0; i < 6; ++i)
      if (!constant(dims[i], i < 3 ? step.grid[i] : step.block[i - 3]))
        return launch.emitError("launch plan: a grid or block size that is not a constant");
    if (launch.getDynamicSharedMemorySize())
      return launch.emitError("launch plan: dynamic shared memory");
    for (Value v : launch.getKernelOperands()) {
      PlanArg arg;
      if (isa<MemRefType>(v.getType())) {
        auto it = views.find(v);
        if (it == views.end())
          return launch.emitError("launch plan: an argument that is no buffer the plan knows");
        arg.view = it->second;
      } else if (APInt i; matchPattern(v, m_ConstantInt(&i))) {
        arg.kind = PlanArg::Kind::Int;
        arg.intValue = i.getSExtValue();
        arg.bits = v.getType().isIndex() ? 64 : v.getType().getIntOrFloatBitWidth();
      } else if (FloatAttr f; matchPattern(v, m_Constant(&f))) {
        arg.kind = PlanArg::Kind::Float;
        arg.floatValue = f.getValueAsDouble();
        arg.bits = v.getType().getIntOrFloatBitWidth();
      } else {
        return launch.emitError("launch plan: a kernel argument that is neither a buffer "
                                "nor a constant");
      }
      step.args.push_back(std::move(arg));
    }
    if (!planned.count(step.module)) {
      auto binary = module.lookupSymbol<gpu::BinaryOp>(step.module);
      if (!binary)
        return launch.emitError("launch plan: no gpu.binary @")
               << step.module << " (run prism-lower-gpu first)";
      for (Attribute a : binary.getObjects()) {
        auto object = cast<gpu::ObjectAttr>(a);
        bool cubin = object.getFormat() == gpu::CompilationTarget::Binary;
        if (cubin || object.getFormat() == gpu::CompilationTarget::Assembly) {
          planned[step.module] = true;
          plan.modules.push_back({step.module, cubin, object.getObject().getValue().str()});
          break;
        }
      }
      if (!planned.count(step.module))
        return launch.emitError("launch plan: gpu.binary @")
               << step.module << " holds neither PTX nor a cubin";
    }
    plan.launches.push_back(std::move(step));
    return success();
  }

  ModuleOp module;
  func::FuncOp phase;
  LaunchPlan plan;
  llvm::DenseMap<Value, PlanView> views;
  llvm::StringMap<int64_t> globals;
  llvm::StringMap<bool> planned;
  int64_t weightsEnd = 0;
};

} // namespace

FailureOr<LaunchPlan> prism::gpu::buildLaunchPlan(ModuleOp module, func::FuncOp phase) {
  return PlanBuilder(module, phase).build();
}

void prism::gpu::registerLaunchPlanTranslation(
    std::function<void(DialectRegistry &)> dialects) {
  static TranslateFromMLIRRegistration plan(
      "gpu-to-launch-plan",
      "The launch plan of every phase (after prism-lower-gpu) as JSON: "
      "buffers, kernel launches with their views, outputs and PTX",
      [](Operation *op, raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module");
        llvm::json::Array phases;
        for (auto fn : module.getOps<func::FuncOp>()) {
          if (fn.isDeclaration())
            continue;
          FailureOr<LaunchPlan> plan = buildLaunchPlan(module, fn);
          if (failed(plan))
            return failure();
          phases.push_back(toJson(*plan));
        }
        if (phases.empty())
          return op->emitError("no phase function to plan");
        os << llvm::formatv("{0:2}", llvm::json::Value(llvm::json::Object{
                                         {"phases", std::move(phases)}}))
           << "\n";
        return success();
      },
      [dialects](DialectRegistry &registry) {
        mlir::registerAllDialects(registry);
        dialects(registry);
      });
}
