// convert-xfmr-to-lpu on small hand-written phases, one op family each,
// and what it refuses. The numbers are run in the simulator: prism-lower-lpu
// (the conversion, then lpu-schedule), emitted, and executed.

// RUN: prism-opt %s --split-input-file --convert-xfmr-to-lpu="function=decode" | FileCheck %s
// RUN: printf '3\n' > %t.ids
// RUN: prism-opt %s --split-input-file --prism-lower-lpu="function=decode" -o %t.lpu.mlir
// RUN: csplit -s -z -f %t.part %t.lpu.mlir '/^module/' '{*}'
// RUN: prism-translate --lpu-to-program %t.part00 -o %t.matmul.lpu
// RUN: prism-sim lpu %t.matmul.lpu --input input_ids=%t.ids | FileCheck %s --check-prefix=MATMUL-SIM
// RUN: prism-translate --lpu-to-program %t.part01 -o %t.norm.lpu
// RUN: prism-sim lpu %t.norm.lpu --input input_ids=%t.ids | FileCheck %s --check-prefix=NORM-SIM

// A token's embedding against a constant weight: the table rows and the
// weight tile are SRAM contents (f16), the ids an input, the product an
// output; a gather chain, then a matmul chain after it.
// CHECK-LABEL: lpu.program @decode
// CHECK-SAME: chips = 1 : i64
// CHECK-SAME: tokens = 1 : i64
// CHECK: lpu.data chip 0 slice 0 address 0 dense<2.500000e-01> : tensor<64xf16>
// CHECK: lpu.data chip 0 slice 16 address 0 dense<5.000000e-01> : tensor<64xf16>
// CHECK: lpu.input "input_ids"
// CHECK: lpu.output "logits"
// CHECK: %[[EMB:.*]] = lpu.chain on 0 {
// CHECK: lpu.gather
// CHECK: lpu.chain on 0 after(
// CHECK: lpu.matmul
// 64 x 0.25 x 0.5 in every column.
// MATMUL-SIM: output logits: 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8{{$}}
func.func @decode(%ids: tensor<1x1xi64> {onnx.name = "input_ids"}) -> (tensor<1x1x32xf32> {onnx.name = "logits"}) {
  %table = "onnx.Constant"() <{value = dense<0.25> : tensor<16x64xf32>}> : () -> tensor<16x64xf32>
  %w = "onnx.Constant"() <{value = dense<0.5> : tensor<64x32xf32>}> : () -> tensor<64x32xf32>
  %x = xfmr.embedding %table[%ids] : (tensor<16x64xf32>, tensor<1x1xi64>) -> tensor<1x1x64xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<1x1x64xf32>, tensor<64x32xf32>) -> tensor<1x1x32xf32>
  return %y : tensor<1x1x32xf32>
}

// -----

// RMSNorm: squares reduced across the row's lanes, a reciprocal square root,
// the scale. A row of 0.25 normalizes to 1, times the weight 2.
// CHECK-LABEL: lpu.program @decode
// CHECK: lpu.output "y"
// CHECK: lpu.chain
// CHECK: lpu.sxm {{.*}}op = "rotate"
// CHECK: lpu.vxm {{.*}}op = "rsqrt"
// NORM-SIM: output y: 1.99{{[0-9]+}} 1.99{{[0-9]+}}
func.func @decode(%ids: tensor<1x1xi64> {onnx.name = "input_ids"}) -> (tensor<1x1x64xf32> {onnx.name = "y"}) {
  %table = "onnx.Constant"() <{value = dense<0.25> : tensor<16x64xf32>}> : () -> tensor<16x64xf32>
  %g = "onnx.Constant"() <{value = dense<2.0> : tensor<64xf32>}> : () -> tensor<64xf32>
  %x = xfmr.embedding %table[%ids] : (tensor<16x64xf32>, tensor<1x1xi64>) -> tensor<1x1x64xf32>
  %y = xfmr.rms_norm %x, %g {epsilon = 1.0E-5 : f64} : (tensor<1x1x64xf32>, tensor<64xf32>) -> tensor<1x1x64xf32>
  return %y : tensor<1x1x64xf32>
}

