#!/bin/sh
# gpt2_megatron_ms_fused (Attention with Megatron's 4-D mask, which only ONNX
# Runtime's CUDA kernel takes) against ONNX Runtime's CPU build running the
# same model with the equivalent 3-D mask (python/megatron_mask_as_3d.py),
# on a causal mask and random ids, past and positions.
#   megatron_vs_ort.sh ORT_DIR BIN_DIR WORK_DIR MODEL
set -eu
ORT_DIR=$1
BIN_DIR=$2
WORK=$3
MODEL=$4
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
rm -rf "$WORK" && mkdir -p "$WORK/in"
PAST=4
SEQ=3
# Megatron's causal mask over 64 absolute positions.
$PY -c "import numpy as n, sys; n.save(sys.argv[1], n.tril(n.ones((1, 1, 64, 64), n.float32)))" \
  "$WORK/in/attention_mask.npy"
"$BIN_DIR/prism-run" "$MODEL" --bind batch_size=1,seq_len=$SEQ,past_seq_len=$PAST \
  --input attention_mask="$WORK/in/attention_mask.npy" --random-inputs=7 \
  --output-dir "$WORK/prism"
# Positions continue after the past, as a decoder's would.
$PY -c "import numpy as n, sys; n.save(sys.argv[1], n.arange($PAST, $PAST + $SEQ, dtype=n.int64)[None])" \
  "$WORK/in/position_ids.npy"
"$BIN_DIR/prism-run" "$MODEL" --input attention_mask="$WORK/in/attention_mask.npy" \
  --input position_ids="$WORK/in/position_ids.npy" \
  --input input_ids="$WORK/prism/inputs/input_ids.npy" \
  --input past_0="$WORK/prism/inputs/past_0.npy" --output-dir "$WORK/prism"
$PY "$ROOT/python/megatron_mask_as_3d.py" "$MODEL" "$WORK/model_3d_mask.onnx"
PRISM_ORT_DIR="$ORT_DIR/node_modules" node "$ROOT/tools/ort-oracle/ort_run.js" \
  "$WORK/model_3d_mask.onnx" --input attention_mask="$WORK/in/attention_mask.npy" \
  --input position_ids="$WORK/in/position_ids.npy" \
  --input input_ids="$WORK/prism/inputs/input_ids.npy" \
  --input past_0="$WORK/prism/inputs/past_0.npy" --output-dir "$WORK/ort"
echo "$(basename "$MODEL"), prism-run vs ONNX Runtime (3-D mask):"
$PY "$ROOT/python/compare_outputs.py" "$WORK/ort" "$WORK/prism" \
  --rtol 1e-4 --atol 0 --atol-of-max 1e-4
