// An op convert-xfmr-to-lpu has no lowering for: an error at the op (the
// driver's handler names its ONNX node), and no program.
// RUN: prism-opt %s --convert-xfmr-to-lpu="function=decode" --verify-diagnostics
func.func @decode(%ids: tensor<1x1xi64> {onnx.name = "input_ids"}) -> (tensor<1x1x64xf32> {onnx.name = "y"}) {
  %table = "onnx.Constant"() <{value = dense<0.25> : tensor<16x64xf32>}> : () -> tensor<16x64xf32>
  %x = xfmr.embedding %table[%ids] : (tensor<16x64xf32>, tensor<1x1xi64>) -> tensor<1x1x64xf32>
  // expected-error @+1 {{cannot lower 'onnx.Sigmoid' to the LPU: no LPU lowering for this op}}
  %y = "onnx.Sigmoid"(%x) : (tensor<1x1x64xf32>) -> tensor<1x1x64xf32>
  return %y : tensor<1x1x64xf32>
}
