//===- Emit.cpp - A scheduled lpu.program as the simulator's program -------===//
//
// Serialisation of the scheduled level: each instruction op becomes the
// timed instruction of docs/lpu-program.md (a transfer becomes its send and
// its receive), with its operands' stream registers; SRAM contents and the
// bindings carry over. prism-translate --lpu-to-program / --lpu-to-binary
// and prismc --compile-to=lpu write the result.
//
//===----------------------------------------------------------------------===//

#include "prism/Target/Lpu/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace prism::lpu;
namespace sim = prism::sim;
using sim::lpu::Instruction;
using sim::lpu::Unit;

sim::lpu::Machine prism::lpu::machineOf(ProgramOp p) {
  sim::lpu::Machine m;
  m.chips = p.getChips();
  m.clockMhz = p.getClockMhz().convertToDouble();
  m.slices = p.getSlices();
  m.sliceBytes = p.getSliceBytes();
  m.streams = p.getStreams();
  m.ports = p.getPorts();
  m.alus = p.getAlus();
  m.sxms = p.getSxms();
  m.planes = p.getPlanes();
  m.planeStreams = p.getPlaneStreams();
  m.tokens = p.getTokens();
  m.shapeOnly = p.getShapeOnly();
  m.latency.clear();
  for (NamedAttribute a : p.getLatency())
    m.latency[a.getName().str()] = cast<IntegerAttr>(a.getValue()).getInt();
  return m;
}

namespace {

sim::lpu::Stream streamOf(int32_t reg, const sim::lpu::Machine &m) {
  return reg < m.streams ? sim::lpu::Stream{'e', reg}
                         : sim::lpu::Stream{'w', (int32_t)(reg - m.streams)};
}

/// The register a stream value was given (its producer's `streams`).
FailureOr<sim::lpu::Stream> registerOf(Value v, const sim::lpu::Machine &m) {
  Operation *producer = v.getDefiningOp();
  auto regs = producer ? producer->getAttrOfType<DenseI32ArrayAttr>("streams")
                       : DenseI32ArrayAttr();
  unsigned index = cast<OpResult>(v).getResultNumber();
  if (!regs || regs.size() <= (int64_t)index)
    return failure();
  return streamOf(regs[index], m);
}

} // namespace

FailureOr<sim::lpu::Program> prism::lpu::emitProgram(ProgramOp programOp, bool verify) {
  sim::lpu::Program program;
  program.machine = machineOf(programOp);
  const sim::lpu::Machine &m = program.machine;
  auto binding = [](auto op) {
    sim::lpu::Binding b;
    b.name = op.getName().str();
    b.chip = op.getChip();
    b.slice = op.getSlice();
    b.address = op.getAddress();
    b.lane = op.getLane();
    b.dtype = op.getDtype().str();
    b.offset = op.getOffset();
    b.count = op.getCount();
    b.repeat = op.getRepeat();
    b.offsetStride = op.getOffsetStride();
    return b;
  };
  for (Operation &op : programOp.getBlock()) {
    if (auto d = dyn_cast<DataOp>(op)) {
      sim::lpu::Data data;
      data.chip = d.getChip();
      data.slice = d.getSlice();
      data.address = d.getAddress();
      data.dtype = d.getDtype();
      if (d.getValues().getElementType().isInteger())
        for (const APInt &v : d.getValues().getValues<APInt>())
          data.values.push_back((double)v.getSExtValue());
      else
        for (const APFloat &v : d.getValues().getValues<APFloat>())
          data.values.push_back(v.convertToDouble());
      program.data.push_back(std::move(data));
    } else if (auto in = dyn_cast<InputOp>(op)) {
      program.inputs.push_back(binding(in));
    } else if (auto out = dyn_cast<OutputOp>(op)) {
      program.outputs.push_back(binding(out));
    }
  }

  for (ChainOp chain : programOp.getBlock().getOps<ChainOp>()) {
    for (Operation &op : chain.getBlock()) {
      Instruction in;
      bool ok = true;
      auto regs = [&](ValueRange values, SmallVector<sim::lpu::Stream, 2> &into) {
        for (Value v : values) {
          FailureOr<sim::lpu::Stream> s = registerOf(v, m);
          ok = ok && succeeded(s);
          if (succeeded(s))
            into.push_back(*s);
        }
      };
      // What every instruction has: its time, unit, streams and chip.
      auto common = [&](auto inst, Unit unit, StringRef name) {
        in.cycle = inst.getCycle();
        in.unit = unit;
        in.unitIndex = inst.getUnit();
        in.op = sim::lpu::intern(name);
        in.chip = op.getNumOperands() ? streamChip(op.getOperand(0)) : chain.getChip();
        in.count = op.getNumOperands() ? streamCount(op.getOperand(0)) : 1;
        regs(op.getOperands(), in.in);
        if (auto streams = inst.getStreamsAttr())
          for (int32_t r : streams.asArrayRef())
            in.out.push_back(streamOf(r, m));
        ok = ok && in.cycle >= 0 && in.out.size() == op.getNumResults() &&
             (unit == Unit::Mem || in.unitIndex >= 0);
      };
      llvm::TypeSwitch<Operation *>(&op)
          .Case([&](ReadOp r) {
            common(r, Unit::Mem, "read");
            in.chip = r.getChip();
            in.count = r.getCount();
            in.unitIndex = r.getSlice();
            in.width = r.getResults().size();
            in.address = r.getAddress();
            in.stride = r.getStride();
          })
          .Case([&](WriteOp w) {
            common(w, Unit::Mem, "write");
            in.unitIndex = w.getSlice();
            in.width = w.getValues().size();
            in.address = w.getAddress();
            in.stride = w.getStride();
          })
          .Case([&](GatherOp g) {
            common(g, Unit::Mem, "gather");
            in.unitIndex = g.getSlice();
            in.address = g.getAddress();
            in.stride = g.getBytesPerIndex();
            in.first = g.getFirst();
            in.rows = g.getRows();
          })
          .Case([&](VxmOp v) {
            common(v, Unit::Vxm, v.getOp());
            in.dtype = sim::lpu::intern(v.getDtype());
            in.toDtype = sim::lpu::intern(v.getToDtype());
            in.param = v.getParam();
            if (auto imm = v.getImmediateAttr()) {
              in.hasImmediate = true;
              in.immediate = imm.getValueAsDouble();
            }
          })
          .Case([&](SxmOp x) {
            common(x, Unit::Sxm, x.getOp());
            in.dtype = sim::lpu::intern(x.getDtype());
            in.param = x.getParam();
          })
          .Case([&](LoadOp l) {
            common(l, Unit::Mxm, "load");
            in.dtype = sim::lpu::intern(l.getDtype());
            in.columns = l.getColumns();
            in.param = l.getBuffer();
          })
          .Case([&](MatmulOp mm) {
            common(mm, Unit::Mxm, "matmul");
            in.dtype = sim::lpu::intern(mm.getDtype());
            in.param = mm.getBuffer();
          })
          .Case([&](TransferOp t) {
            // The send; the receive follows.
            common(t, Unit::C2c, "send");
            in.count = 1;
            in.toChip = t.getToChip();
            in.toPort = in.unitIndex;
            Instruction recv;
            recv.cycle = in.cycle + m.latency.at("c2c") + m.latency.at("c2c.vector") - 1;
            recv.chip = t.getToChip();
            recv.unit = Unit::C2c;
            recv.unitIndex = in.unitIndex;
            recv.op = sim::lpu::intern("recv");
            recv.toChip = -1;
            recv.toPort = in.unitIndex;
            recv.out = std::move(in.out);
            in.out.clear();
            if (ok) {
              program.instructions.push_back(std::move(in));
              in = std::move(recv);
            }
          })
          .Default([&](Operation *) { ok = false; });
      if (!ok) {
        op.emitOpError("is not scheduled (run lpu-schedule first): it needs a cycle, a "
                       "unit and its operands' and results' streams");
        return failure();
      }
      program.instructions.push_back(std::move(in));
    }
  }
  if (verify)
    if (llvm::Error err = sim::lpu::checkProgram(program)) {
      programOp.emitError() << "the schedule breaks a rule of the machine: "
                            << llvm::toString(std::move(err));
      return failure();
    }
  return std::move(program);
}

void prism::lpu::registerLpuTranslations(
    std::function<void(DialectRegistry &)> dialects) {
  auto translate = [](bool binary) {
    return [binary](Operation *op, raw_ostream &os) -> LogicalResult {
      SmallVector<ProgramOp> programs;
      op->walk([&](ProgramOp p) { programs.push_back(p); });
      if (programs.size() != 1)
        return op->emitError() << "expected one lpu.program, found " << programs.size();
      FailureOr<sim::lpu::Program> program = emitProgram(programs.front());
      if (failed(program))
        return failure();
      if (binary)
        sim::lpu::writeBinary(*program, os);
      else
        sim::lpu::printProgram(*program, os);
      return success();
    };
  };
  static TranslateFromMLIRRegistration text(
      "lpu-to-program",
      "A scheduled lpu.program as the LPU program text (docs/lpu-program.md)",
      translate(false), dialects);
  static TranslateFromMLIRRegistration binary(
      "lpu-to-binary", "A scheduled lpu.program as the LPU program's binary form",
      translate(true), dialects);
}

llvm::Error prism::lpu::writeProgramFile(const sim::lpu::Program &program, llvm::StringRef path,
                                         bool binary) {
  std::string error;
  auto output = openOutputFile(path, &error);
  if (!output)
    return llvm::createStringError(error);
  if (binary)
    sim::lpu::writeBinary(program, output->os());
  else
    sim::lpu::printProgram(program, output->os());
  output->keep();
  return llvm::Error::success();
}
