// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// DequantizeLinear per axis: the zero point subtracted in int32, then the
// scale of the element's column.
// CHECK: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @dequantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[COL]], #[[COL]], #{{.*}}]
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
func.func @dequantize_per_axis(%x: tensor<3x4xi8>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<3x4xf32> {
  %0 = "onnx.DequantizeLinear"(%x, %s, %z) <{axis = 1 : i64, block_size = 0 : i64}> : (tensor<3x4xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// QuantizeLinear to uint8: round half to even, add the zero point,
// saturate to [0, 255].
// CHECK-LABEL: func.func @quantize
// CHECK-DAG: %[[LO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[HI:.*]] = arith.constant 2.550000e+02 : f32
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.uitofp
// CHECK: arith.addf
// CHECK: arith.minimumf %{{.*}}, %[[HI]]
// CHECK: arith.maximumf %{{.*}}, %[[LO]]
// CHECK: arith.fptoui {{.*}} : f32 to i8
func.func @quantize(%x: tensor<6xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<6xui8> {
  %0 = "onnx.QuantizeLinear"(%x, %s, %z) <{axis = 1 : i64, block_size = 0 : i64, output_dtype = 0 : i64, saturate = 1 : i64}> : (tensor<6xf32>, tensor<f32>, tensor<ui8>) -> tensor<6xui8>
  return %0 : tensor<6xui8>
}

// -----

// MatMulInteger: both sides widened to int32 and their zero points
// subtracted (A's per row), then an int32 matmul.
// CHECK-LABEL: func.func @matmul_integer
// CHECK: tensor.reshape %{{.*}} : (tensor<2xi32>, tensor<2xi64>) -> tensor<2x1xi32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xi32>, tensor<3x4xi32>) outs(%{{.*}} : tensor<2x4xi32>)
func.func @matmul_integer(%a: tensor<2x3xui8>, %b: tensor<3x4xi8>, %az: tensor<2xui8>, %bz: tensor<4xi8>) -> tensor<2x4xi32> {
  %0 = "onnx.MatMulInteger"(%a, %b, %az, %bz) : (tensor<2x3xui8>, tensor<3x4xi8>, tensor<2xui8>, tensor<4xi8>) -> tensor<2x4xi32>
  return %0 : tensor<2x4xi32>
}

// -----

// MatMulNBits (4 bits, blocks of 16): each weight unpacked from its byte
// (shift by 4 for odd positions, mask 0xF), minus the default zero point 8,
// times its block's scale; the dequantized [N, K] weight read transposed.
// CHECK-LABEL: func.func @matmul_nbits
// CHECK-DAG: %c8_i32 = arith.constant 8 : i32
// CHECK-DAG: %c15_i8 = arith.constant 15 : i8
// CHECK: tensor.extract %arg1
// CHECK: arith.shrui
// CHECK: arith.andi %{{.*}}, %c15_i8
// CHECK: arith.subi %{{.*}}, %c8_i32
// CHECK: arith.mulf
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%arg0, %{{.*}} : tensor<2x32xf32>, tensor<8x32xf32>)
func.func @matmul_nbits(%a: tensor<2x32xf32>, %b: tensor<8x2x8xui8>, %s: tensor<16xf32>) -> tensor<2x8xf32> {
  %n = onnx.NoValue
  %0 = "onnx.ms.MatMulNBits"(%a, %b, %s, %n, %n, %n) <{K = 32 : i64, N = 8 : i64, accuracy_level = 0 : i64, bits = 4 : i64, block_size = 16 : i64}> : (tensor<2x32xf32>, tensor<8x2x8xui8>, tensor<16xf32>, none, none, none) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// QLinearMatMul: MatMulInteger's int32 product (A's per-row zero point as
// [M, 1]), then one generic requantizing it: the f32 factor a_scale *
// b_scale / y_scale, the product in f64 rounded half to even, plus y's zero
// point, saturated to i8; A's scale read per row, the others per tensor.
// CHECK-DAG: #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ONE:map[0-9]*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @qlinear_matmul
// CHECK-DAG: %[[LO:.*]] = arith.constant -1.280000e+02 : f64
// CHECK-DAG: %[[HI:.*]] = arith.constant 1.270000e+02 : f64
// CHECK: tensor.reshape %{{.*}} -> tensor<2x1xi32>
// CHECK: %[[ACC:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xi32>, tensor<3x4xi32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ONE]], #[[ONE]], #[[ONE]], #[[ID]]], {{.*}} ins(%[[ACC]], %arg1, %arg4, %arg6, %arg7 :
// CHECK: ^bb0(%[[SUM:.*]]: i32, %[[AS:.*]]: f32, %[[BS:.*]]: f32, %[[YS:.*]]: f32, %[[YZ:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[P:.*]] = arith.mulf %[[AS]], %[[BS]] : f32
// CHECK: %[[F:.*]] = arith.divf %[[P]], %[[YS]] : f32
// CHECK: %[[F64:.*]] = arith.extf %[[F]] : f32 to f64
// CHECK: %[[S:.*]] = arith.sitofp %[[SUM]] : i32 to f64
// CHECK: %[[V:.*]] = arith.mulf %[[S]], %[[F64]] : f64
// CHECK: %[[R:.*]] = math.roundeven %[[V]] : f64
// CHECK: %[[Z:.*]] = arith.sitofp %[[YZ]] : i8 to f64
// CHECK: %[[Q:.*]] = arith.addf %[[R]], %[[Z]] : f64
// CHECK: %[[MIN:.*]] = arith.minimumf %[[Q]], %[[HI]] : f64
// CHECK: %[[MAX:.*]] = arith.maximumf %[[MIN]], %[[LO]] : f64
// CHECK: arith.fptosi %[[MAX]] : f64 to i8
func.func @qlinear_matmul(%a: tensor<2x3xui8>, %as: tensor<2xf32>, %az: tensor<2xui8>, %b: tensor<3x4xi8>, %bs: tensor<f32>, %bz: tensor<i8>, %ys: tensor<f32>, %yz: tensor<i8>) -> tensor<2x4xi8> {
  %0 = "onnx.QLinearMatMul"(%a, %as, %az, %b, %bs, %bz, %ys, %yz) : (tensor<2x3xui8>, tensor<2xf32>, tensor<2xui8>, tensor<3x4xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<i8>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

// QLinearConv with per-output-channel w scale and zero point and a bias:
// ConvInteger's int32 sums (W's zero points as [M, 1, 1, 1]), the bias
// added in int32 along the channel dim before requantizing, which reads the
// w scale per channel and saturates to [0, 255] for the ui8 output.
// CHECK-DAG: #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CHANNEL:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-DAG: #[[ONE:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> ()>
// CHECK-LABEL: func.func @qlinear_conv
// CHECK-DAG: arith.constant 0.000000e+00 : f64
// CHECK-DAG: arith.constant 2.550000e+02 : f64
// CHECK: tensor.reshape %{{.*}} -> tensor<3x1x1x1xi32>
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ONE]], #[[CHANNEL]], #[[ONE]], #[[ONE]], #[[CHANNEL]], #[[ID]]], {{.*}} ins(%[[ACC]], %arg1, %arg4, %arg6, %arg7, %arg8 :
// CHECK: ^bb0(%[[SUM:.*]]: i32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: ui8, %[[BIAS:.*]]: i32, %{{.*}}: ui8):
// CHECK: %[[B:.*]] = arith.addi %[[SUM]], %[[BIAS]] : i32
// CHECK: arith.sitofp %[[B]] : i32 to f64
// CHECK: math.roundeven
// CHECK: arith.uitofp %{{.*}} : i8 to f64
// CHECK: arith.fptoui %{{.*}} : f64 to i8
func.func @qlinear_conv(%x: tensor<1x2x4x4xui8>, %xs: tensor<f32>, %xz: tensor<ui8>, %w: tensor<3x2x1x1xi8>, %ws: tensor<3xf32>, %wz: tensor<3xi8>, %ys: tensor<f32>, %yz: tensor<ui8>, %bias: tensor<3xi32>) -> tensor<1x3x4x4xui8> {
  %0 = "onnx.QLinearConv"(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %bias) <{auto_pad = "NOTSET", group = 1 : i64}> : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>, tensor<3x2x1x1xi8>, tensor<3xf32>, tensor<3xi8>, tensor<f32>, tensor<ui8>, tensor<3xi32>) -> tensor<1x3x4x4xui8>
  return %0 : tensor<1x3x4x4xui8>
}
