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

def Plan_PlacementAttr : AttrDef<Plan_Dialect, "Placement"> {
  let mnemonic = "placement";
  let summary = "Where a phase runs: group, device kind, chips, parallelism, prediction";
  let parameters = (ins StringRefParameter<>:$group, StringRefParameter<>:$device,
                        "int64_t":$chips, "int64_t":$tensor_parallel,
                        "int64_t":$pipeline_parallel,
                        "::mlir::FloatAttr":$time_s, "::mlir::FloatAttr":$energy_j,
                        "::mlir::FloatAttr":$bytes_per_device);
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
