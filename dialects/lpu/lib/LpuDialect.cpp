//===- LpuDialect.cpp - The lpu dialect -----------------------------------===//
//
// The verifiers check what a single op can know: ranges against its
// program's machine, widths against the streams, dtypes the units take.
// Timing and resource rules are lpu-schedule's to meet and the simulator's
// to check.
//
//===----------------------------------------------------------------------===//

#include "prism/Dialect/Lpu/LpuDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace prism::lpu;

#include "prism/Dialect/Lpu/LpuDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "prism/Dialect/Lpu/LpuTypes.cpp.inc"

#define GET_OP_CLASSES
#include "prism/Dialect/Lpu/LpuOps.cpp.inc"

void LpuDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "prism/Dialect/Lpu/LpuOps.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "prism/Dialect/Lpu/LpuTypes.cpp.inc"
      >();
}

/// The read or transfer a stream's vectors come from (through the
/// instructions that keep their first operand's chip and count).
static Operation *streamSource(Value stream) {
  Operation *op = stream.getDefiningOp();
  while (op && !isa<ReadOp, TransferOp>(op) && op->getNumOperands())
    op = op->getOperand(0).getDefiningOp();
  return op;
}

int64_t prism::lpu::streamChip(Value stream) {
  Operation *op = streamSource(stream);
  if (auto read = dyn_cast_or_null<ReadOp>(op))
    return read.getChip();
  if (auto transfer = dyn_cast_or_null<TransferOp>(op))
    return transfer.getToChip();
  return 0;
}

int64_t prism::lpu::streamCount(Value stream) {
  Operation *op = streamSource(stream);
  if (auto read = dyn_cast_or_null<ReadOp>(op))
    return read.getCount();
  return 1;
}

static bool isDtype(StringRef d) { return d == "i8" || d == "f16" || d == "i32" || d == "f32"; }

static ProgramOp programOf(Operation *op) { return op->getParentOfType<ProgramOp>(); }

/// `chip` and slices [slice, slice + width) exist on the program's machine.
static LogicalResult checkPlace(Operation *op, int64_t chip, int64_t slice,
                                int64_t width) {
  ProgramOp p = programOf(op);
  if (!p)
    return success();
  if (chip < 0 || chip >= p.getChips())
    return op->emitOpError() << "chip " << chip << " is not one of the program's "
                             << p.getChips();
  if (slice < 0 || width < 1 || slice + width > p.getSlices())
    return op->emitOpError() << "slices [" << slice << ", " << slice + width
                             << ") are not within the machine's " << p.getSlices();
  return success();
}

LogicalResult ProgramOp::verify() {
  for (int64_t v : {getChips(), getSlices(), getSliceBytes(), getStreams(), getPorts(),
                    getAlus(), getSxms(), getPlanes(), getPlaneStreams(), getTokens()})
    if (v < 1)
      return emitOpError("machine figures must be positive");
  if (getSliceBytes() % 320)
    return emitOpError("slice_bytes must be a multiple of the vector's 320 bytes");
  if (getClockMhz().convertToDouble() <= 0)
    return emitOpError("clock_mhz must be positive");
  for (NamedAttribute a : getLatency()) {
    auto cycles = dyn_cast<IntegerAttr>(a.getValue());
    if (!cycles || cycles.getInt() < 1)
      return emitOpError() << "latency '" << a.getName().getValue()
                           << "' is not a positive integer";
  }
  for (StringRef name : {"mem.read", "mem.write", "vxm", "sxm", "mxm", "c2c", "c2c.vector"})
    if (!getLatency().get(name))
      return emitOpError() << "latency has no '" << name << "'";
  return success();
}

std::string DataOp::getDtype() {
  Type t = getValues().getElementType();
  if (t.isF16())
    return "f16";
  if (t.isF32())
    return "f32";
  if (t.isInteger(8))
    return "i8";
  if (t.isInteger(32))
    return "i32";
  return "";
}

LogicalResult DataOp::verify() {
  if (getDtype().empty())
    return emitOpError() << "holds " << getValues().getElementType()
                         << " values; the vectors hold f16, f32, i8 or i32";
  return checkPlace(*this, getChip(), getSlice(), 1);
}

template <typename Binding> static LogicalResult verifyBinding(Binding op) {
  if (!isDtype(op.getDtype()))
    return op.emitOpError() << "unknown dtype '" << op.getDtype() << "'";
  if (op.getCount() < 1 || op.getRepeat() < 1 || op.getLane() < 0 || op.getOffset() < 0)
    return op.emitOpError("count and repeat must be positive, lane and offset not negative");
  return checkPlace(op, op.getChip(), op.getSlice(), 1);
}
LogicalResult InputOp::verify() { return verifyBinding(*this); }
LogicalResult OutputOp::verify() { return verifyBinding(*this); }

LogicalResult ReadOp::verify() {
  if (getResults().empty())
    return emitOpError("reads at least one slice");
  if (getCount() < 1)
    return emitOpError("count must be positive");
  return checkPlace(*this, getChip(), getSlice(), getResults().size());
}

LogicalResult WriteOp::verify() {
  if (getValues().empty())
    return emitOpError("writes at least one stream");
  return checkPlace(*this, streamChip(getValues().front()), getSlice(), getValues().size());
}

LogicalResult ChainOp::verify() {
  for (Operation &op : getBlock())
    if (!isa<ReadOp, WriteOp, GatherOp, VxmOp, SxmOp, LoadOp, MatmulOp, TransferOp>(op))
      return op.emitOpError("is not an LPU instruction (a chain holds only lpu "
                            "instructions)");
  ProgramOp p = programOf(*this);
  if (p && (getChip() < 0 || getChip() >= p.getChips()))
    return emitOpError() << "chip " << getChip() << " is not one of the program's "
                         << p.getChips();
  return success();
}

LogicalResult GatherOp::verify() {
  if (getRows() < 0 || getBytesPerIndex() < 0)
    return emitOpError("rows and bytes_per_index must not be negative");
  return checkPlace(*this, streamChip(getIndex()), getSlice(), 1);
}

LogicalResult TransferOp::verify() {
  ProgramOp p = programOf(*this);
  if (p && (getToChip() < 0 || getToChip() >= p.getChips()))
    return emitOpError() << "to chip " << getToChip() << " is not one of the program's "
                         << p.getChips();
  if (getToChip() == streamChip(getOperand()))
    return emitOpError("sends to the chip it is on");
  return success();
}

LogicalResult VxmOp::verify() {
  if (!isDtype(getDtype()))
    return emitOpError() << "unknown dtype '" << getDtype() << "'";
  if (getOp() == "cvt" && !isDtype(getToDtype()))
    return emitOpError() << "cvt needs a to_dtype, not '" << getToDtype() << "'";
  // cvt packs up to four narrower results into one vector.
  size_t most = getOp() == "cvt" ? 4 : 2;
  size_t n = getOperands().size() + (getOp() != "cvt" && getImmediate() ? 1 : 0);
  if (getOperands().empty() || n > most)
    return emitOpError() << "'" << getOp() << "' takes 1 to " << most
                         << " operands (an immediate counts as one)";
  return success();
}

LogicalResult LoadOp::verify() {
  if (getDtype() != "f16" && getDtype() != "i8")
    return emitOpError() << "the MXM holds f16 or i8 weights, not '" << getDtype() << "'";
  if (getTile().empty())
    return emitOpError("loads from at least one stream");
  return success();
}

LogicalResult MatmulOp::verify() {
  if (getResults().empty() || getResults().size() > 4)
    return emitOpError("produces 1 to 4 streams of 80 columns");
  bool loaded = false;
  for (Operation *op = (*this)->getPrevNode(); op && !loaded; op = op->getPrevNode())
    loaded = isa<LoadOp>(op);
  if (!loaded)
    return emitOpError("needs an lpu.mxm_load earlier in its chain");
  return success();
}
