// RUN: prism-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{'plan.system' op groups are {name, device, count > 0} dictionaries}}
plan.system {groups = [{name = "prefill", device = "h100-sxm", count = 0 : i64}], link = "", link_bytes_per_s = 0.0 : f64}

// -----

// expected-error @+1 {{tensor_parallel x pipeline_parallel (8) does not cover the 16 chips}}
func.func @f() attributes {plan.placement = #plan.placement<group = "all", device = "h100-sxm", chips = 16, tensor_parallel = 8, pipeline_parallel = 1, time_s = 1.0 : f64, energy_j = 1.0 : f64, bytes_per_device = 1.0 : f64, weight_dtype = bf16>} {
  return
}
