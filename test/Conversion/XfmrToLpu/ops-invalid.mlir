// convert-xfmr-to-lpu's options that cannot be met: an error at the phase.

// RUN: not prism-opt %s --convert-xfmr-to-lpu="function=decode chips=3 tensor-parallel=2" 2>&1 | FileCheck %s --check-prefix=SPLIT
// SPLIT: error: lpu: 3 chips do not split into stages of 2
// RUN: not prism-opt %s --convert-xfmr-to-lpu="function=decode weight-dtype=bf16" 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: error: lpu: weights are f16 or i8, not 'bf16'
// RUN: not prism-opt %s --convert-xfmr-to-lpu="function=prefill" 2>&1 | FileCheck %s --check-prefix=FN
// FN: error: convert-xfmr-to-lpu: no function @prefill

func.func @decode(%ids: tensor<1x1xi64> {onnx.name = "input_ids"}) -> (tensor<1x1x64xf32> {onnx.name = "y"}) {
  %table = "onnx.Constant"() <{value = dense<0.25> : tensor<16x64xf32>}> : () -> tensor<16x64xf32>
  %x = xfmr.embedding %table[%ids] : (tensor<16x64xf32>, tensor<1x1xi64>) -> tensor<1x1x64xf32>
  return %x : tensor<1x1x64xf32>
}
