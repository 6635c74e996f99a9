//===- OnnxBase.td - The onnx dialect, its types and op base -*- tablegen -*-===//
//
// The `onnx` dialect is faithful to ONNX: one op per operator, with the
// semantics of the newest opset Prism supports. The importer normalises older
// opsets to these forms.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_ONNX_BASE
#define PRISM_ONNX_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def ONNX_Dialect : Dialect {
  let name = "onnx";
  let cppNamespace = "::prism::onnx";
  let summary = "ONNX operators (ai.onnx and com.microsoft), newest-opset semantics";
  let description = [{
    One op per ONNX operator. Ops of the ai.onnx domain are generated from
    ONNX's schema registry (`onnx.Add`, `onnx.MatMul`, ...); operators newer
    than that registry and the com.microsoft transformer operators are written
    by hand (`onnx.Attention`, `onnx.ms.GroupQueryAttention`, ...). Omitted
    optional inputs and outputs are values of type `none` (from
    `onnx.NoValue`). Symbolic dims are dynamic dims; their names are kept in
    the `onnx.dim_names` argument and result attributes of the function.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class ONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<ONNX_Dialect, mnemonic, traits>;

// Ops generated from ONNX's schema registry: the verifier and shape inference
// run ONNX's own type and shape inference function for the op.
def ONNX_SchemaOp : NativeOpTrait<"OnnxSchemaOp"> {
  let cppNamespace = "::prism::onnx";
}

// Ops written by hand: they infer their result types in C++.
def ONNX_InferTypesOpInterface : OpInterface<"InferOnnxTypes"> {
  let cppNamespace = "::prism::onnx";
  let description = [{
    Computes the result types of a hand-written onnx op from its operand types
    and attributes (and constant operands), with ONNX's type and rank rules.
    The verifier checks the declared result types against the inferred ones.
  }];
  let methods = [
    InterfaceMethod<"Infers the result types; emits an error and fails on "
                    "operands that break the operator's rules.",
      "::llvm::LogicalResult", "inferOnnxTypes",
      (ins "::llvm::SmallVectorImpl<::mlir::Type> &":$resultTypes)>,
  ];
  let verify = [{ return ::prism::onnx::verifyInferredTypes($_op); }];
}

def ONNX_StringType : TypeDef<ONNX_Dialect, "String"> {
  let mnemonic = "string";
  let summary = "Element type of ONNX string tensors";
}

def ONNX_SeqType : TypeDef<ONNX_Dialect, "Seq"> {
  let mnemonic = "seq";
  let summary = "An ONNX sequence of tensors";
  let description = [{
    `!onnx.seq<tensor<?x3xf32>>`: a sequence, of run-time length, of tensors
    of one element type (their shapes may differ; the parameter holds what
    they share).
  }];
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def ONNX_OptType : TypeDef<ONNX_Dialect, "Opt"> {
  let mnemonic = "opt";
  let summary = "An ONNX optional value";
  let description = [{
    `!onnx.opt<tensor<2xf32>>`: a tensor or sequence that may be absent at
    run time.
  }];
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
}

def ONNX_ExternalDataAttr : AttrDef<ONNX_Dialect, "ExternalData",
                                    [TypedAttrInterface]> {
  let mnemonic = "external_data";
  let summary = "A tensor stored in an ONNX external-data file";
  let description = [{
    The bytes of a tensor kept outside the model: `location` is relative to the
    model's directory (recorded as the module's `onnx.model_dir`), and the
    tensor's raw little-endian data are `length` bytes at `offset`. The
    importer has checked that the range lies inside the file; consumers map
    it lazily (`prism::onnx::mapExternalData`).
  }];
  let parameters = (ins "::mlir::StringAttr":$location, "uint64_t":$offset,
                        "uint64_t":$length,
                        AttributeSelfTypeParameter<"">:$type);
  let assemblyFormat = "`<` $location `,` $offset `,` $length `>`";
}

#endif // PRISM_ONNX_BASE
