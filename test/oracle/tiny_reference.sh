#!/bin/sh
# The ONNX Runtime oracle agrees with the NumPy reference of the tiny Llama,
# for a prefill (5 tokens, empty cache) and a decode step (1 token after 5):
# this checks the oracle's tensor I/O and the builder's graph together.
#   tiny_reference.sh ORT_DIR WORK_DIR
set -eu
ORT_DIR=$1
WORK=$2
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
  echo "$1:"
  $PY "$ROOT/python/compare_outputs.py" "$dir/ref" "$dir/ort" --rtol 1e-4 --atol 1e-5
done
