//===- LpuOps.td - The lpu dialect -------------------------*- tablegen -*-===//
//
// Prism's SRAM-LPU (the abstract machine of ../shared/hardware/machines.md,
// section 1) at two levels. The tensor level, written by
// convert-xfmr-to-lpu, is a program of chains: each chain is a small
// dataflow of MEM reads, vector (VXM), switch (SXM) and matrix (MXM)
// instructions, C2C transfers and MEM writes on 320-byte vectors, linked by
// streams, over SRAM the lowering has already allocated; chains wait for
// each other through tokens. lpu-schedule places every chain in time and
// fills in what the machine needs: each instruction's issue cycle, the
// unit it runs on (ALU, SXM, MXM plane and buffer, C2C port) and the stream
// registers its results use. The scheduled program is what
// `prism-translate --lpu-to-program` serialises and prism-sim runs.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_LPU_OPS
#define PRISM_LPU_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/Properties.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"

def Lpu_Dialect : Dialect {
  let name = "lpu";
  let cppNamespace = "::prism::lpu";
  let summary = "Prism's SRAM-LPU: chains of vector instructions, then their schedule";
  let description = [{
    A `lpu.program` holds one phase compiled for a number of chips: its
    SRAM contents (`lpu.data`), where its inputs and outputs live
    (`lpu.input`, `lpu.output`) and its work as `lpu.chain` ops. Inside a
    chain, `!lpu.stream` values are vectors moving on the chip's streams,
    one a cycle for as many cycles as the instruction repeats. A chain's
    instructions keep fixed distances in time (an operand is consumed in the
    cycle it appears), so a chain is scheduled as a whole.

    The scheduled level is the same ops with their placement set: `cycle`
    (the issue cycle), `unit` (ALU, SXM, MXM plane or C2C port), `buffer`
    (the MXM weight buffer) and `streams` (the stream registers of the
    results, `e0`-`e31` as 0-31 and `w0`-`w31` as 32-63), and each chain's
    `start`. docs/lpu-program.md describes the machine's rules and the
    program format the scheduled level becomes.
  }];
  let useDefaultTypePrinterParser = 1;
  let usePropertiesForAttributes = 1;
}

class Lpu_Type<string name, string typeMnemonic> : TypeDef<Lpu_Dialect, name> {
  let mnemonic = typeMnemonic;
}

def Lpu_Stream : Lpu_Type<"Stream", "stream"> {
  let summary = "A vector on a stream: 320 bytes a cycle, for the producer's cycles";
}

def Lpu_Token : Lpu_Type<"Token", "token"> {
  let summary = "The completion of a chain (its results are in SRAM)";
}

class Lpu_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lpu_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// The program
//===----------------------------------------------------------------------===//

def Lpu_ProgramOp : Lpu_Op<"program", [Symbol, SingleBlock, NoTerminator,
                                       IsolatedFromAbove]> {
  let summary = "One phase compiled for the LPU: the machine, SRAM contents, bindings, work";
  let description = [{
    The machine's figures (chips, clock, slices and their bytes, streams per
    direction, C2C ports, ALUs, SXMs, MXM planes, streams a weight load
    takes) and the instruction latencies (`latency`, cycles by name as in
    docs/lpu-program.md). `tokens` is the tokens one run produces (for the
    time per token); `shape_only` marks a program without weight values,
    which only runs for timing.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       I64Prop:$chips, F64Attr:$clock_mhz, I64Prop:$slices,
                       I64Prop:$slice_bytes, I64Prop:$streams, I64Prop:$ports,
                       I64Prop:$alus, I64Prop:$sxms, I64Prop:$planes,
                       I64Prop:$plane_streams, I64Prop:$tokens, BoolProp:$shape_only,
                       DictionaryAttr:$latency);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name prop-dict attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBlock() { return getBody().front(); }
  }];
}

def Lpu_ValuesAttr : Attr<CPred<"::llvm::isa<::mlir::DenseIntOrFPElementsAttr>($_self)">,
                          "dense integer or float elements"> {
  let storageType = "::mlir::DenseIntOrFPElementsAttr";
  let returnType = "::mlir::DenseIntOrFPElementsAttr";
  let convertFromStorage = "$_self";
}

def Lpu_DataOp : Lpu_Op<"data", [HasParent<"ProgramOp">]> {
  let summary = "SRAM contents before the run: consecutive vectors from an address";
  let description = [{
    The values fill the lanes of consecutive vectors from `address`, in
    their element type (f16, f32, i8 or i32: the vectors' dtype).
  }];
  let arguments = (ins I64Prop:$chip, I64Prop:$slice, I64Prop:$address,
                       Lpu_ValuesAttr:$values);
  let assemblyFormat = "`chip` $chip `slice` $slice `address` $address $values attr-dict";
  let extraClassDeclaration = [{
    /// The vectors' dtype: f16, f32, i8 or i32 (empty for anything else).
    std::string getDtype();
  }];
  let hasVerifier = 1;
}

class Lpu_BindingOp<string mnemonic, string what> : Lpu_Op<mnemonic, [HasParent<"ProgramOp">]> {
  let summary = "Where " # what # " lives";
  let description = [{
    Repetition `i < repeat` holds the flat elements `[offset + i *
    offset_stride, + count)` of the tensor `name` in lanes `[lane, lane +
    count)` of the vector at `address + i * 320` of the slice.
  }];
  let arguments = (ins StrAttr:$name, I64Prop:$chip, I64Prop:$slice,
                       I64Prop:$address, I64Prop:$lane, StrAttr:$dtype,
                       I64Prop:$offset, I64Prop:$count, I64Prop:$repeat,
                       I64Prop:$offset_stride);
  let assemblyFormat = "$name prop-dict attr-dict";
  let hasVerifier = 1;
}
def Lpu_InputOp : Lpu_BindingOp<"input", "(part of) an input">;
def Lpu_OutputOp : Lpu_BindingOp<"output", "(part of) an output">;

//===----------------------------------------------------------------------===//
// Chains
//===----------------------------------------------------------------------===//

def Lpu_ChainOp : Lpu_Op<"chain", [HasParent<"ProgramOp">, SingleBlock, NoTerminator,
                                   AttrSizedOperandSegments]> {
  let summary = "Instructions at fixed distances in time, scheduled as a whole";
  let description = [{
    Starts after every chain of `after` is done (its last write is
    readable) and, when `not_before` is given, no earlier than that chain
    starts (the lowering's bound that keeps a matmul's alike tiles in
    order). `chip` is the chip of the instructions that do not say
    otherwise. `start` is set by lpu-schedule.
  }];
  let arguments = (ins Variadic<Lpu_Token>:$after, Optional<Lpu_Token>:$not_before,
                       I64Prop:$chip, DefaultValuedProp<I64Prop, "-1">:$start);
  let results = (outs Lpu_Token:$done);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `on` $chip (`after` `(` $after^ `)`)? (`not_before` $not_before^)? prop-dict
    attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBlock() { return getBody().front(); }
  }];
}

// The scheduled placement every instruction gets.
defvar Placement = (ins DefaultValuedProp<I64Prop, "-1">:$cycle,
                        DefaultValuedProp<I64Prop, "-1">:$unit,
                        DefaultValuedProp<I64Prop, "-1">:$buffer,
                        OptionalAttr<DenseI32ArrayAttr>:$streams);

class Lpu_InstOp<string mnemonic, list<Trait> traits = []>
    : Lpu_Op<mnemonic, !listconcat(traits, [HasParent<"ChainOp">])>;

def Lpu_ReadOp : Lpu_InstOp<"read"> {
  let summary = "MEM: consecutive slices each read vectors onto a stream";
  let description = [{
    Slices `[slice, slice + results)` of `chip` each read `count` vectors,
    one a cycle, from `address` (advancing `stride` bytes a cycle), each
    slice onto its own stream. A read has no fixed time of its own: it
    issues the cycle before its consumer.
  }];
  let arguments = !con((ins I64Prop:$chip, I64Prop:$slice, I64Prop:$address,
                            I64Prop:$count, DefaultValuedProp<I64Prop, "320">:$stride),
                       Placement);
  let results = (outs Variadic<Lpu_Stream>:$results);
  let assemblyFormat = "prop-dict attr-dict `:` type($results)";
  let hasVerifier = 1;
}

def Lpu_WriteOp : Lpu_InstOp<"write"> {
  let summary = "MEM: streams written to consecutive slices";
  let arguments = !con((ins Variadic<Lpu_Stream>:$values, I64Prop:$slice,
                            I64Prop:$address, DefaultValuedProp<I64Prop, "320">:$stride),
                       Placement);
  let assemblyFormat = "$values prop-dict attr-dict";
  let hasVerifier = 1;
}

def Lpu_GatherOp : Lpu_InstOp<"gather"> {
  let summary = "MEM: the table row an i32 index (lane 0) selects";
  let description = [{
    The slice holds rows `[first, first + rows)` of a table, a row every
    `bytes_per_index` bytes from `address`; an index outside them reads
    zeros.
  }];
  let arguments = !con((ins Lpu_Stream:$index, I64Prop:$slice, I64Prop:$address,
                            I64Prop:$bytes_per_index, I64Prop:$first, I64Prop:$rows),
                       Placement);
  let results = (outs Lpu_Stream:$result);
  let assemblyFormat = "$index prop-dict attr-dict";
  let hasVerifier = 1;
}

def Lpu_VxmOp : Lpu_InstOp<"vxm"> {
  let summary = "VXM: a lane-wise op on an ALU";
  let description = [{
    `op` (add, sub, mul, max, min, exp, rsqrt, recip, neg, mov, cvt) on
    vectors of `dtype`, with two streams, or a stream and `immediate`, or
    one stream; `cvt` converts to `to_dtype` (`param`: which half of a
    wider result).
  }];
  let arguments = !con((ins Variadic<Lpu_Stream>:$operands, StringProp:$op,
                            StringProp:$dtype, DefaultValuedProp<StringProp, "\"\"">:$to_dtype,
                            OptionalAttr<F64Attr>:$immediate,
                            DefaultValuedProp<I64Prop, "0">:$param),
                       Placement);
  let results = (outs Lpu_Stream:$result);
  let assemblyFormat = "$operands prop-dict attr-dict";
  let hasVerifier = 1;
}

def Lpu_SxmOp : Lpu_InstOp<"sxm"> {
  let summary = "SXM: a lane permutation (rotate by `param`, distribute lane `param`)";
  let arguments = !con((ins Lpu_Stream:$operand, StringProp:$op, StringProp:$dtype,
                            DefaultValuedProp<I64Prop, "0">:$param),
                       Placement);
  let results = (outs Lpu_Stream:$result);
  let assemblyFormat = "$operand prop-dict attr-dict";
}

def Lpu_LoadOp : Lpu_InstOp<"mxm_load"> {
  let summary = "MXM: install a weight tile from streams (rows, or columns)";
  let description = [{
    The chain's matmuls use the tile: the plane and buffer lpu-schedule
    picks are held from the load to the last matmul.
  }];
  let arguments = !con((ins Variadic<Lpu_Stream>:$tile, StringProp:$dtype,
                            DefaultValuedProp<BoolProp, "false">:$columns),
                       Placement);
  let assemblyFormat = "$tile prop-dict attr-dict";
  let hasVerifier = 1;
}

def Lpu_MatmulOp : Lpu_InstOp<"matmul"> {
  let summary = "MXM: an activation stream against the installed tile, plus partial sums";
  let description = [{
    Each result carries 80 of the tile's 320 output columns as f32.
  }];
  let arguments = !con((ins Lpu_Stream:$activation, Variadic<Lpu_Stream>:$partials,
                            StringProp:$dtype),
                       Placement);
  let results = (outs Variadic<Lpu_Stream>:$results);
  let assemblyFormat = "$activation (`+` $partials^)? prop-dict attr-dict `:` type($results)";
  let hasVerifier = 1;
}

def Lpu_TransferOp : Lpu_InstOp<"transfer"> {
  let summary = "C2C: a stream sent to another chip, received there on a stream";
  let description = [{
    The send issues at `cycle` on port `unit`; the vector arrives `c2c`
    plus a vector's link cycles later, and the receive puts it on the
    result stream (on `to_chip`).
  }];
  let arguments = !con((ins Lpu_Stream:$operand, I64Prop:$to_chip), Placement);
  let results = (outs Lpu_Stream:$result);
  let assemblyFormat = "$operand `to` $to_chip prop-dict attr-dict";
  let hasVerifier = 1;
}

#endif // PRISM_LPU_OPS
