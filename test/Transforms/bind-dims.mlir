// RUN: prism-opt %s --onnx-bind-dims="dims=batch=2,seq=5" | FileCheck %s
// RUN: prism-opt %s --onnx-to-static="dims=batch=2,seq=5" | FileCheck %s --check-prefix=STATIC

// Named dims are bound; a dim named by an expression of bound dims is
// computed; the bindings are recorded on the module.

// CHECK: module attributes {onnx.bound_dims = {batch = 2 : i64, seq = 5 : i64}}
// CHECK: func.func @main_graph(%{{.*}}: tensor<2x5xi64> {{.*}}, %{{.*}}: tensor<2x7xi64>
func.func @main_graph(%ids: tensor<?x?xi64> {onnx.dim_names = ["batch", "seq"], onnx.name = "ids"},
                      %mask: tensor<?x?xi64> {onnx.dim_names = ["batch", "seq + 2"], onnx.name = "mask"})
    -> tensor<?xi64> {
  // STATIC: %[[C:.*]] = "onnx.Constant"() <{value = dense<[2, 5]> : tensor<2xi64>}>
  // STATIC-NOT: onnx.Shape
  // STATIC: return %[[C]] : tensor<2xi64>
  %s = "onnx.Shape"(%ids) <{start = 0 : i64}> : (tensor<?x?xi64>) -> tensor<?xi64>
  return %s : tensor<?xi64>
}
