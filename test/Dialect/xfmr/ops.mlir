// RUN: prism-opt %s | prism-opt | FileCheck %s

// CHECK-LABEL: func @decoder_layer
func.func @decoder_layer(%x: tensor<1x1x64xf32>, %w: tensor<64xf32>,
                         %q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>,
                         %v: tensor<1x2x1x16xf32>, %pk: tensor<1x2x7x16xf32>,
                         %pv: tensor<1x2x7x16xf32>, %m: tensor<1x1x1x8xf32>,
                         %cos: tensor<1x1x1x16xf32>, %sin: tensor<1x1x1x16xf32>,
                         %ids: tensor<1x1xi64>, %table: tensor<512x64xf32>,
                         %cache: !xfmr.kv_cache<layers = 1, batch = 1, heads = 2, length = 7, head_dim = 16, elementType = f32>) {
  // CHECK: xfmr.rms_norm %{{.*}}, %{{.*}} {epsilon = 1.000000e-05 : f64}
  %n = xfmr.rms_norm %x, %w {epsilon = 1.0e-5 : f64} : (tensor<1x1x64xf32>, tensor<64xf32>) -> tensor<1x1x64xf32>
  // CHECK: xfmr.rms_norm %{{.*}} residual %{{.*}}, %{{.*}}
  %n2, %sum = xfmr.rms_norm %x residual %n, %w {epsilon = 1.0e-5 : f64} : (tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<64xf32>) -> (tensor<1x1x64xf32>, tensor<1x1x64xf32>)
  // CHECK: xfmr.layer_norm %{{.*}}, %{{.*}} bias %{{.*}}
  %l = xfmr.layer_norm %x, %w bias %w {epsilon = 1.0e-5 : f64} : (tensor<1x1x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x1x64xf32>
  // CHECK: xfmr.rotary %{{.*}} {interleaved = true}
  %r = xfmr.rotary %q, %cos, %sin {interleaved = true} : (tensor<1x4x1x16xf32>, tensor<1x1x1x16xf32>, tensor<1x1x1x16xf32>) -> tensor<1x4x1x16xf32>
  // CHECK: xfmr.attention %{{.*}}, %{{.*}}, %{{.*}} past %{{.*}}, %{{.*}} mask %{{.*}} {causal = true, scale = 2.500000e-01 : f64}
  %o, %ck, %cv = xfmr.attention %r, %k, %v past %pk, %pv mask %m {scale = 0.25 : f64, causal = true} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>, tensor<1x1x1x8xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
  // CHECK: xfmr.attention %{{.*}}, %{{.*}}, %{{.*}} {scale
  %o2 = xfmr.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x4x1x16xf32>
  // CHECK: xfmr.gelu %{{.*}} {approximate = "tanh"}
  %g = xfmr.gelu %x {approximate = "tanh"} : tensor<1x1x64xf32>
  // CHECK: xfmr.silu
  %s = xfmr.silu %x : tensor<1x1x64xf32>
  // CHECK: xfmr.swiglu
  %sw = xfmr.swiglu %x, %g : tensor<1x1x64xf32>
  // CHECK: xfmr.geglu
  %gg = xfmr.geglu %x, %g : tensor<1x1x64xf32>
  // CHECK: xfmr.embedding %{{.*}}[%{{.*}}]
  %e = xfmr.embedding %table[%ids] : (tensor<512x64xf32>, tensor<1x1xi64>) -> tensor<1x1x64xf32>
  // CHECK: xfmr.kv_cache_read %{{.*}} {layer = 0 : i64, value = true}
  %cv0 = xfmr.kv_cache_read %cache {layer = 0, value = true} : !xfmr.kv_cache<layers = 1, batch = 1, heads = 2, length = 7, head_dim = 16, elementType = f32> -> tensor<1x2x7x16xf32>
  // CHECK: xfmr.kv_cache_pack {{.*}} -> !xfmr.kv_cache<layers = 1, batch = 1, heads = 2, length = 8, head_dim = 16, elementType = f32>
  %c2 = xfmr.kv_cache_pack %ck, %cv : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> !xfmr.kv_cache<layers = 1, batch = 1, heads = 2, length = 8, head_dim = 16, elementType = f32>
  return
}
