// RUN: prism-opt %s --split-input-file --convert-onnx-to-linalg --verify-diagnostics

// Every op the host lowering does not handle yet is an error at the op.
func.func @unsupported(%x: tensor<2x3xf32>, %a: tensor<1xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.ReduceMean' is not lowered to the host yet}}
  %0 = "onnx.ReduceMean"(%x, %a) <{keepdims = 0 : i64}> : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @dynamic(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'onnx.Relu' is not lowered to the host yet (its shape is not static: run onnx-to-static first)}}
  %0 = "onnx.Relu"(%x) : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// MatMul with a 1-D operand is not lowered yet.
func.func @vector_matmul(%a: tensor<3xf32>, %b: tensor<3x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.MatMul' is not lowered to the host yet}}
  %0 = "onnx.MatMul"(%a, %b) : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// An elementwise op on a type its scalar lowering lacks (unsigned Abs) is
// left whole and reported.
func.func @unsigned_abs(%x: tensor<4xui8>) -> tensor<4xui8> {
  // expected-error @+1 {{'onnx.Abs' is not lowered to the host yet}}
  %0 = "onnx.Abs"(%x) : (tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// A mask of an unknown form (a 4-D mask smaller than the total sequence) is
// reported once, before anything is rewritten.
func.func @short_4d_mask(%x: tensor<1x2x8xf32>, %w: tensor<8x24xf32>, %m: tensor<1x1x1x1xi32>) -> tensor<1x2x8xf32> {
  %n = onnx.NoValue
  // expected-error @+1 {{'onnx.ms.Attention' cannot run on the host: mask_index of type tensor<1x1x1x1xi32> is not supported (the host takes [batch], [2 * batch], [batch, total_sequence], [batch, sequence, total_sequence] and Megatron's [batch, 1, max_sequence, max_sequence] with max_sequence >= total_sequence)}}
  %o, %p = "onnx.ms.Attention"(%x, %w, %n, %m, %n, %n, %n) <{do_rotary = 0 : i64, num_heads = 2 : i64, past_present_share_buffer = 0 : i64, rotary_embedding_dim = 0 : i64, unidirectional = 0 : i64}> : (tensor<1x2x8xf32>, tensor<8x24xf32>, none, tensor<1x1x1x1xi32>, none, none, none) -> (tensor<1x2x8xf32>, none)
  return %o : tensor<1x2x8xf32>
}

// -----

func.func @rotary_attention(%x: tensor<1x2x8xf32>, %w: tensor<8x24xf32>) -> tensor<1x2x8xf32> {
  %n = onnx.NoValue
  // expected-error @+1 {{'onnx.ms.Attention' cannot run on the host: do_rotary is not supported}}
  %o, %p = "onnx.ms.Attention"(%x, %w, %n, %n, %n, %n, %n) <{do_rotary = 1 : i64, num_heads = 2 : i64, past_present_share_buffer = 0 : i64, rotary_embedding_dim = 0 : i64, unidirectional = 0 : i64}> : (tensor<1x2x8xf32>, tensor<8x24xf32>, none, none, none, none, none) -> (tensor<1x2x8xf32>, none)
  return %o : tensor<1x2x8xf32>
}

// -----

func.func @gqa_smooth(%q: tensor<1x1x32xf32>, %k: tensor<1x1x16xf32>, %v: tensor<1x1x16xf32>, %sl: tensor<1xi32>, %t: tensor<i32>) -> tensor<1x1x32xf32> {
  %n = onnx.NoValue
  // expected-error @+1 {{'onnx.ms.GroupQueryAttention' cannot run on the host: smooth_softmax is not supported}}
  %o, %pkey, %pval, %qk = "onnx.ms.GroupQueryAttention"(%q, %k, %v, %n, %n, %sl, %t, %n, %n, %n, %n, %n) <{do_rotary = 0 : i64, kv_num_heads = 2 : i64, local_window_size = -1 : i64, num_heads = 4 : i64, rotary_interleaved = 0 : i64, smooth_softmax = 1 : i64, softcap = 0.000000e+00 : f32}> : (tensor<1x1x32xf32>, tensor<1x1x16xf32>, tensor<1x1x16xf32>, none, none, tensor<1xi32>, tensor<i32>, none, none, none, none, none) -> (tensor<1x1x32xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, none)
  return %o : tensor<1x1x32xf32>
}

// -----

func.func @resize_crop_without_roi(%x: tensor<1x1x4x4xf32>, %sz: tensor<4xi64>) -> tensor<1x1x3x3xf32> {
  %n = onnx.NoValue
  // expected-error @+1 {{'onnx.Resize' cannot run on the host: tf_crop_and_resize needs an roi of 2 * rank values}}
  %0 = "onnx.Resize"(%x, %n, %n, %sz) <{coordinate_transformation_mode = "tf_crop_and_resize", cubic_coeff_a = -0.75 : f32, exclude_outside = 0 : i64, extrapolation_value = 0.0 : f32, mode = "linear", nearest_mode = "round_prefer_floor"}> : (tensor<1x1x4x4xf32>, none, none, tensor<4xi64>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

func.func @det_4x4(%x: tensor<4x4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'onnx.Det' cannot run on the host: matrices larger than 3x3 are not supported}}
  %0 = "onnx.Det"(%x) : (tensor<4x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @grid_sample_mode(%x: tensor<1x1x3x2xf32>, %grid: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{'onnx.GridSample' cannot run on the host: mode = "linear" is not supported}}
  %0 = "onnx.GridSample"(%x, %grid) <{align_corners = 0 : i64, mode = "linear", padding_mode = "zeros"}> : (tensor<1x1x3x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// RNN, GRU and LSTM take Sigmoid, Tanh, Relu, Softsign and Softplus.
func.func @rnn_leaky_relu(%x: tensor<2x1x3xf32>, %w: tensor<1x2x3xf32>, %r: tensor<1x2x2xf32>) -> tensor<1x1x2xf32> {
  %n = onnx.NoValue
  // expected-error @+1 {{'onnx.RNN' cannot run on the host: activation "LeakyRelu" is not supported}}
  %y, %h = "onnx.RNN"(%x, %w, %r, %n, %n, %n) <{activations = ["LeakyRelu"], hidden_size = 2 : i64}> : (tensor<2x1x3xf32>, tensor<1x2x3xf32>, tensor<1x2x2xf32>, none, none, none) -> (none, tensor<1x1x2xf32>)
  return %h : tensor<1x1x2xf32>
}

// -----

// Every batch entry runs the whole sequence: a sequence_lens known only at
// run time is reported...
func.func @gru_sequence_lens(%x: tensor<2x1x3xf32>, %w: tensor<1x6x3xf32>, %r: tensor<1x6x2xf32>, %l: tensor<1xi32>) -> tensor<1x1x2xf32> {
  %n = onnx.NoValue
  // expected-error @+1 {{'onnx.GRU' cannot run on the host: a sequence_lens that is not a constant is not supported}}
  %y, %h = "onnx.GRU"(%x, %w, %r, %n, %l, %n) <{hidden_size = 2 : i64}> : (tensor<2x1x3xf32>, tensor<1x6x3xf32>, tensor<1x6x2xf32>, none, tensor<1xi32>, none) -> (none, tensor<1x1x2xf32>)
  return %h : tensor<1x1x2xf32>
}

// -----

// ... and so is one shorter than the sequence.
func.func @lstm_short_sequence(%x: tensor<2x1x3xf32>, %w: tensor<1x8x3xf32>, %r: tensor<1x8x2xf32>) -> tensor<1x1x2xf32> {
  %n = onnx.NoValue
  %l = arith.constant dense<1> : tensor<1xi32>
  // expected-error @+1 {{'onnx.LSTM' cannot run on the host: a sequence_lens other than the sequence length is not supported}}
  %y, %h, %c = "onnx.LSTM"(%x, %w, %r, %n, %l, %n, %n, %n) <{hidden_size = 2 : i64}> : (tensor<2x1x3xf32>, tensor<1x8x3xf32>, tensor<1x8x2xf32>, none, tensor<1xi32>, none, none, none) -> (none, tensor<1x1x2xf32>, none)
  return %h : tensor<1x1x2xf32>
}

// -----

func.func @tfidf_strings(%x: tensor<4x!onnx.string>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.TfIdfVectorizer' cannot run on the host: string tokens are not supported}}
  %0 = "onnx.TfIdfVectorizer"(%x) <{max_gram_length = 1 : i64, max_skip_count = 0 : i64, min_gram_length = 1 : i64, mode = "TF", ngram_counts = [0], ngram_indexes = [0, 1], pool_strings = ["a", "b"]}> : (tensor<4x!onnx.string>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
