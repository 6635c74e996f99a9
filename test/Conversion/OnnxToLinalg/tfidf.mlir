// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg | FileCheck %s

func.func @bigrams_skip1(%x: tensor<6xi32>) -> tensor<2xf32> {
  %0 = "onnx.TfIdfVectorizer"(%x) <{max_gram_length = 2 : i64, max_skip_count = 1 : i64, min_gram_length = 2 : i64, mode = "TF", ngram_counts = [0, 2], ngram_indexes = [0, 1, 0, 1], pool_int64s = [3, 4, 5, 6, 6, 7]}> : (tensor<6xi32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @idf_batch(%x: tensor<2x5xi64>) -> tensor<2x3xf32> {
  %0 = "onnx.TfIdfVectorizer"(%x) <{max_gram_length = 2 : i64, max_skip_count = 3 : i64, min_gram_length = 1 : i64, mode = "IDF", ngram_counts = [0, 2], ngram_indexes = [2, 0, 1, 1], pool_int64s = [4, 5, 5, 6, 7, 8, 9], weights = [0.5 : f32, 2.0 : f32, 4.0 : f32]}> : (tensor<2x5xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @none_in_range(%x: tensor<4xi64>) -> tensor<2xf32> {
  %0 = "onnx.TfIdfVectorizer"(%x) <{max_gram_length = 1 : i64, max_skip_count = 0 : i64, min_gram_length = 1 : i64, mode = "TFIDF", ngram_counts = [0, 0], ngram_indexes = [0, 1], pool_int64s = [1, 2, 3, 4]}> : (tensor<4xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
