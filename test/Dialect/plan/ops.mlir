// RUN: prism-opt %s | prism-opt | FileCheck %s
// RUN: prism-opt %s --split-input-file --verify-diagnostics --mlir-print-op-generic > /dev/null

// CHECK: plan.system {groups = [{count = 8 : i64, device = "h100-sxm", name = "prefill"}
// CHECK: plan.kv_transfer "prefill" -> "decode" {bytes = {{.*}} : f64, time_s = {{.*}} : f64}
// CHECK: plan.prediction
// CHECK: func.func @decode() attributes {plan.placement = #plan.placement<group = "decode", device = "lpu-v1", chips = 312, tensor_parallel = 8, pipeline_parallel = 39, time_s = 3.300000e-03 : f64, energy_j = 6.500000e+01 : f64, bytes_per_device = 2.300000e+08 : f64, weight_dtype = bf16>}
plan.system {groups = [{name = "prefill", device = "h100-sxm", count = 8 : i64}, {name = "decode", device = "lpu-v1", count = 576 : i64}], link = "rdma", link_bytes_per_s = 1.0e11 : f64}
plan.kv_transfer "prefill" -> "decode" {bytes = 41943040.0 : f64, time_s = 4.194304e-4 : f64}
plan.prediction {objective = "cost", ttft_s = 0.044 : f64, tpot_s = 0.0033 : f64, tokens_per_s_per_user = 303.0 : f64, tokens_per_s = 303.0 : f64, energy_per_token_j = 65.0 : f64, kv_transfer_s = 4.194304e-4 : f64}
func.func @decode() attributes {plan.placement = #plan.placement<group = "decode", device = "lpu-v1", chips = 312, tensor_parallel = 8, pipeline_parallel = 39, time_s = 3.3e-3 : f64, energy_j = 65.0 : f64, bytes_per_device = 2.3e8 : f64, weight_dtype = bf16>} {
  return
}
