#!/bin/sh
# The tiny Llama, prefill (5 tokens, empty cache) and decode (1 token after
# 5): ONNX Runtime agrees with the NumPy reference (checking the oracle and
# the builder), and prism-run agrees with ONNX Runtime.
#   tiny_reference.sh ORT_DIR BIN_DIR WORK_DIR
set -eu
ORT_DIR=$1
BIN_DIR=$2
WORK=$3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
rm -rf "$WORK" && mkdir -p "$WORK"
$PY "$ROOT/python/build_model.py" --preset tiny -o "$WORK/tiny.onnx" >/dev/null
for step in "prefill 5 0" "decode 1 5"; do
  set -- $step
  dir="$WORK/$1"
  args=$($PY "$ROOT/python/make_inputs.py" "$WORK/tiny.onnx" \
    --bind batch_size=1,sequence_length=$2,past_sequence_length=$3 -o "$dir/in" --seed 7)
  PRISM_ORT_DIR="$ORT_DIR/node_modules" node "$ROOT/tools/ort-oracle/ort_run.js" \
    "$WORK/tiny.onnx" $args --output-dir "$dir/ort"
  $PY "$ROOT/python/llama_reference.py" --preset tiny --model "$WORK/tiny.onnx" \
    --inputs "$dir/in" --output-dir "$dir/ref"
  "$BIN_DIR/prism-run" "$WORK/tiny.onnx" $args --output-dir "$dir/prism"
  echo "$1, ONNX Runtime vs NumPy:"
  $PY "$ROOT/python/compare_outputs.py" "$dir/ref" "$dir/ort" --rtol 1e-4 --atol 1e-5
  echo "$1, prism-run vs ONNX Runtime:"
  $PY "$ROOT/python/compare_outputs.py" "$dir/ort" "$dir/prism" --rtol 1e-4 --atol 1e-5
  "$BIN_DIR/prism-run" "$WORK/tiny.onnx" $args --no-raise --output-dir "$dir/imported"
  echo "$1, prism-run raised vs as imported (--no-raise):"
  $PY "$ROOT/python/compare_outputs.py" "$dir/imported" "$dir/prism" --rtol 1e-4 --atol 1e-5
done
