// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

// Bigrams with up to one skip on a 1-D input: the input is read as one row,
// the strides (skip + 1) and the pool laid out by output coordinate are
// constants, one generic counts over (row, o, slot, skip, start) and reads
// the second token with tensor.extract; TF only converts the counts.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4)>
// CHECK-DAG: #[[SKIP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3)>
// CHECK-DAG: #[[POOL:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1)>
// CHECK-LABEL: func.func @bigrams_skip1
// CHECK-DAG: %[[SECOND:.*]] = arith.constant dense<{{\[}}[6], [7]]> : tensor<2x1xi64>
// CHECK-DAG: %[[FIRST:.*]] = arith.constant dense<{{\[}}[5], [6]]> : tensor<2x1xi64>
// CHECK-DAG: %[[LEN:.*]] = arith.constant dense<2> : tensor<2x1xi64>
// CHECK-DAG: %[[STRIDES:.*]] = arith.constant dense<[1, 2]> : tensor<2xi64>
// CHECK: %[[ROW:.*]] = tensor.reshape %arg0({{.*}}) : (tensor<6xi32>, tensor<2xi64>) -> tensor<1x6xi32>
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[SKIP]], #[[POOL]], #[[POOL]], #[[POOL]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[ROW]], %[[STRIDES]], %[[LEN]], %[[FIRST]], %[[SECOND]] :
// CHECK: tensor.extract %[[ROW]]
// CHECK: arith.extui {{.*}} : i1 to i32
// CHECK: linalg.generic
// CHECK-NOT: arith.mulf
// CHECK: arith.sitofp
// CHECK: tensor.reshape {{.*}} -> tensor<2xf32>
func.func @bigrams_skip1(%x: tensor<6xi32>) -> tensor<2xf32> {
  %0 = "onnx.TfIdfVectorizer"(%x) <{max_gram_length = 2 : i64, max_skip_count = 1 : i64, min_gram_length = 2 : i64, mode = "TF", ngram_counts = [0, 2], ngram_indexes = [0, 1, 0, 1], pool_int64s = [3, 4, 5, 6, 6, 7]}> : (tensor<6xi32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Unigrams and bigrams, two of them counted into Y[1]: output coordinate 1
// gets two slots, the others one (an empty slot has length 0). The skips are
// capped at the row length (strides 1 to 4 for 5 tokens). IDF clamps the
// yields the weight, indexed by output coordinate, where the count is not 0.
// CHECK-LABEL: func.func @idf_batch
// CHECK-DAG: %[[W:.*]] = arith.constant dense<[5.000000e-01, 2.000000e+00, 4.000000e+00]> : tensor<3xf32>
// CHECK-DAG: arith.constant dense<{{\[}}[0, 0], [6, 8], [0, 0]]> : tensor<3x2xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[5, 0], [5, 7], [4, 0]]> : tensor<3x2xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[1, 0], [2, 2], [1, 0]]> : tensor<3x2xi64>
// CHECK-DAG: arith.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
// CHECK: %[[COUNTS:.*]] = linalg.generic
// CHECK: linalg.generic {{.*}} ins(%[[COUNTS]], %[[W]] : tensor<2x3xi32>, tensor<3xf32>)
// CHECK: %[[FOUND:.*]] = arith.cmpi sgt
// CHECK: arith.select %[[FOUND]], %{{.*}}, %{{.*}} : f32
func.func @idf_batch(%x: tensor<2x5xi64>) -> tensor<2x3xf32> {
  %0 = "onnx.TfIdfVectorizer"(%x) <{max_gram_length = 2 : i64, max_skip_count = 5 : i64, min_gram_length = 1 : i64, mode = "IDF", ngram_counts = [0, 2], ngram_indexes = [2, 0, 1, 1], pool_int64s = [4, 5, 5, 6, 7, 8], weights = [0.5 : f32, 2.0 : f32, 4.0 : f32]}> : (tensor<2x5xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// No pool n-gram has a length in [min_gram_length, max_gram_length]: no
// counting generic, the output is zeros.
// CHECK-LABEL: func.func @none_in_range
// CHECK: linalg.fill
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
func.func @none_in_range(%x: tensor<4xi64>) -> tensor<2xf32> {
  %0 = "onnx.TfIdfVectorizer"(%x) <{max_gram_length = 2 : i64, max_skip_count = 0 : i64, min_gram_length = 2 : i64, mode = "TFIDF", ngram_counts = [0], ngram_indexes = [0, 1], pool_int64s = [1, 2]}> : (tensor<4xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
