// RUN: prism-opt %s --gpu-leave-out-external-weights | FileCheck %s

// A weight in external data becomes a dense_resource without values (as
// --elide-weights prints inline ones), the reference kept beside it; an
// inline weight is left as it is.
// CHECK: ml_program.global private @w(dense_resource<w> : tensor<4x8xf32>) : tensor<4x8xf32> {prism.external_data = #onnx.external_data<"m.onnx.data", 0, 128> : tensor<4x8xf32>}
// CHECK: ml_program.global private @b(dense<1.000000e+00> : tensor<8xf32>) : tensor<8xf32>
ml_program.global private @w(#onnx.external_data<"m.onnx.data", 0, 128> : tensor<4x8xf32>) : tensor<4x8xf32>
ml_program.global private @b(dense<1.0> : tensor<8xf32>) : tensor<8xf32>
