//===- PlanOps.td - The plan dialect ------------------------*- tablegen -*-===//
//
// The compiler's answer to "what runs where": the system, the placement of
// each phase, the KV-cache transfers, and the predicted figures, as IR that
// the target lowerings read.
//
//===----------------------------------------------------------------------===//

#ifndef PRISM_PLAN_OPS
#define PRISM_PLAN_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/EnumAttr.td"

def Plan_Dialect : Dialect {
  let name = "plan";
  let cppNamespace = "::prism::plan";
  let summary = "The system, the placement of the phases and the predictions";
  let description = [{
    Written by the partitioner (`prismc --compile-to=plan`): one
    `plan.system` op listing the device groups and the link between them,
    a `#plan.placement` attribute on each phase function (`plan.placement`),
    a `plan.kv_transfer` op when the KV cache moves between groups, and a
    `plan.prediction` op with the predicted figures.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class Plan_Op<string mnemonic, list<Trait> traits = []>
    : Op<Plan_Dialect, mnemonic, traits>;

def Plan_WeightDtype : I32EnumAttr<"WeightDtype",
    "The dtype a phase's weights are stored in on its devices", [
      I32EnumAttrCase<"fp32", 0>, I32EnumAttrCase<"bf16", 1>,
      I32EnumAttrCase<"fp16", 2>, I32EnumAttrCase<"fp8", 3>,
      I32EnumAttrCase<"int8", 4>, I32EnumAttrCase<"int4", 5>]> {
  let cppNamespace = "::prism::plan";
  let genSpecializedAttr = 0;
}

def Plan_PlacementAttr : AttrDef<Plan_Dialect, "Placement"> {
  let mnemonic = "placement";
  let summary = "Where a phase runs: group, device kind, chips, parallelism, prediction, weight dtype";
  let description = [{
    The target lowerings read it (prism/Target/TargetBackend.h): the device
    kind names the description, and through its class the target that
    compiles the phase; `weight_dtype` is what that target stores the
    weights in (fp32, bf16, fp16, fp8, int8, int4).
  }];
  let parameters = (ins StringRefParameter<>:$group, StringRefParameter<>:$device,
                        "int64_t":$chips, "int64_t":$tensor_parallel,
                        "int64_t":$pipeline_parallel,
                        "::mlir::FloatAttr":$time_s, "::mlir::FloatAttr":$energy_j,
                        "::mlir::FloatAttr":$bytes_per_device,
                        EnumParameter<Plan_WeightDtype>:$weight_dtype);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Plan_SystemOp : Plan_Op<"system"> {
  let summary = "The device groups and the link between them";
  let description = [{
    `groups` is one dictionary per group: `name`, `device` (a kind of
    `hardware/devices/`) and `count`.
  }];
  let arguments = (ins ArrayAttr:$groups, StrAttr:$link,
                       F64Attr:$link_bytes_per_s);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Plan_KvTransferOp : Plan_Op<"kv_transfer"> {
  let summary = "The KV cache of the prompt sent from the prefill group to the decode group";
  let arguments = (ins StrAttr:$from, StrAttr:$to, F64Attr:$bytes,
                       F64Attr:$time_s);
  let assemblyFormat = "$from `->` $to attr-dict";
}

def Plan_PredictionOp : Plan_Op<"prediction"> {
  let summary = "The predicted figures of the plan";
  let arguments = (ins StrAttr:$objective, F64Attr:$ttft_s, F64Attr:$tpot_s,
                       F64Attr:$tokens_per_s_per_user, F64Attr:$tokens_per_s,
                       F64Attr:$energy_per_token_j, F64Attr:$kv_transfer_s);
  let assemblyFormat = "attr-dict";
}

#endif // PRISM_PLAN_OPS
