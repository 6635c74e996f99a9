//===- XfmrBase.td - The xfmr dialect and its cost interface -*- tablegen -*-===//
//
// `xfmr` holds the transformer semantics that hardware cares about:
// attention with its KV cache, norms, rotary embedding, activations and
// embedding lookups. Each op reports its work (FLOPs, bytes by class) for its
// static shapes through XfmrWorkInterface; linalg ops get the same interface
// attached externally.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_XFMR_BASE
#define PRISM_XFMR_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Xfmr_Dialect : Dialect {
  let name = "xfmr";
  let cppNamespace = "::prism::xfmr";
  let summary = "Transformer semantics: attention, KV cache, norms, rotary, activations";
  let description = [{
    The vocabulary that the cost models, the partitioner and the target
    lowerings work in. Raising (`xfmr-raise`) builds these ops from the forms
    that exported ONNX graphs use; everything else stays as onnx ops and
    linalg. Tensors are statically shaped. Every op implements
    `XfmrWorkInterface`: its FLOPs and the bytes it reads and writes by class
    (weights, activations, KV cache).
  }];
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerTypes();
  }];
}

class Xfmr_Op<string mnemonic, list<Trait> traits = []>
    : Op<Xfmr_Dialect, mnemonic, traits>;

def Xfmr_WorkInterface : OpInterface<"XfmrWorkInterface"> {
  let cppNamespace = "::prism::xfmr";
  let description = [{
    The work an op does for its static shapes: floating-point (or integer)
    operations, and the bytes it reads and writes, split into weights
    (constants and globals), activations and the KV cache. An op that cannot
    say (a dynamic shape) answers with an error naming why.
  }];
  let methods = [
    InterfaceMethod<"The op's work for its static shapes.",
      "::llvm::Expected<::prism::xfmr::Work>", "getWork">,
  ];
}

def Xfmr_KvCacheType : TypeDef<Xfmr_Dialect, "KvCache"> {
  let mnemonic = "kv_cache";
  let summary = "The keys and values of every layer for a number of positions";
  let description = [{
    The KV cache as one value, so that it can be placed, sized and
    transferred: for each of `layers` layers, a key and a value tensor
    `[batch, heads, length, head_dim]` of `elementType`. `@prefill` returns
    the cache of its prompt; `@decode` reads one of `length` positions and
    returns the positions it appends. On the host it is the tensor `[layers,
    2, batch, heads, length, head_dim]` (key before value).

    ```mlir
    !xfmr.kv_cache<layers = 2, batch = 1, heads = 2, length = 128, head_dim = 16, elementType = f32>
    ```
  }];
  let parameters = (ins "int64_t":$layers, "int64_t":$batch, "int64_t":$heads,
                        "int64_t":$length, "int64_t":$head_dim,
                        "::mlir::Type":$elementType);
  let assemblyFormat = "`<` struct(params) `>`";
  let extraClassDeclaration = [{
    /// One layer's key (or value): [batch, heads, length, head_dim].
    ::mlir::RankedTensorType getLayerType() const;
    /// The whole cache as the host holds it: [layers, 2, batch, heads,
    /// length, head_dim].
    ::mlir::RankedTensorType getStorageType() const;
    /// Bytes of the whole cache.
    double getBytes() const;
  }];
}

#endif // PRISM_XFMR_BASE
