//===- OnnxOps.td - All ops of the onnx dialect ------------*- tablegen -*-===//

#ifndef PRISM_ONNX_OPS
#define PRISM_ONNX_OPS

include "prism/Dialect/Onnx/OnnxBase.td"
include "prism/Dialect/Onnx/OnnxSchemaOps.td"
include "prism/Dialect/Onnx/OnnxExtraOps.td"

def ONNXNoValueOp : ONNX_Op<"NoValue", [Pure, ConstantLike]> {
  let summary = "An omitted optional input or output";
  let description = [{
    ONNX leaves optional inputs out with an empty name; the importer passes
    the single `none` value of this op in their place.
  }];
  let results = (outs NoneType:$none);
  let assemblyFormat = "attr-dict";
  let hasFolder = 1;
}

def ONNXYieldOp : ONNX_Op<"Yield", [Pure, ReturnLike, Terminator]> {
  let summary = "Terminates the region of an ONNX subgraph (If, Loop, Scan)";
  let arguments = (ins Variadic<AnyType>:$operands);
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

#endif // PRISM_ONNX_OPS
