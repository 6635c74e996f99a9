// RUN: prism-opt %s --split-input-file --verify-diagnostics

func.func @heads_not_multiple(%q: tensor<1x4x1x16xf32>, %k: tensor<1x3x1x16xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of key/value heads (3)}}
  %o = xfmr.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<1x4x1x16xf32>, tensor<1x3x1x16xf32>, tensor<1x3x1x16xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

func.func @head_size(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x8xf32>) {
  // expected-error @+1 {{query and key head sizes differ: 16 vs 8}}
  %o = xfmr.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<1x4x1x16xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x4x1x8xf32>
  return
}

// -----

func.func @present_length(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %p: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{present key/value must be [batch, kv_heads, past + length, head_size]}}
  %o, %a, %b = xfmr.attention %q, %k, %k past %p, %p {scale = 0.25 : f64} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>)
  return
}

// -----

func.func @mask_shape(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x5x16xf32>, %m: tensor<1x1x1x4xf32>) {
  // expected-error @+1 {{does not broadcast to the scores [1, 4, 1, 5]}}
  %o = xfmr.attention %q, %k, %k mask %m {scale = 0.25 : f64} : (tensor<1x4x1x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x1x1x4xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

func.func @norm_scale(%x: tensor<2x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{scale and bias must be 1-D of the normalized dim's size 64}}
  %n = xfmr.rms_norm %x, %w {epsilon = 1.0e-5 : f64} : (tensor<2x64xf32>, tensor<32xf32>) -> tensor<2x64xf32>
  return
}

// -----

func.func @rotary_dim(%x: tensor<1x4x1x16xf32>, %c: tensor<1x1x1x7xf32>) {
  // expected-error @+1 {{the rotary dim (cos's last dim, 7) must be even}}
  %r = xfmr.rotary %x, %c, %c : (tensor<1x4x1x16xf32>, tensor<1x1x1x7xf32>, tensor<1x1x1x7xf32>) -> tensor<1x4x1x16xf32>
  return
}

// -----

func.func @gelu_kind(%x: tensor<4xf32>) {
  // expected-error @+1 {{approximate must be "none", "tanh" or "sigmoid", got "erf"}}
  %g = xfmr.gelu %x {approximate = "erf"} : tensor<4xf32>
  return
}

// -----

func.func @pack_count(%k: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{expects a key and a value per layer: 4 operands, got 2}}
  %c = xfmr.kv_cache_pack %k, %k : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> !xfmr.kv_cache<layers = 2, batch = 1, heads = 2, length = 8, head_dim = 16, elementType = f32>
  return
}

// -----

func.func @embedding_ids(%t: tensor<512x64xf32>, %ids: tensor<1x1xf32>) {
  // expected-error @+1 {{ids must be integers}}
  %e = xfmr.embedding %t[%ids] : (tensor<512x64xf32>, tensor<1x1xf32>) -> tensor<1x1x64xf32>
  return
}
