#!/bin/sh
# A com.microsoft attention model from python/build_contrib.py, with its
# consistent inputs, run by prism-run and by ONNX Runtime and compared.
#   contrib_vs_ort.sh ORT_DIR BIN_DIR WORK_DIR BUILD_CONTRIB_ARGS...
set -eu
ORT_DIR=$1
BIN_DIR=$2
WORK=$3
shift 3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
rm -rf "$WORK" && mkdir -p "$WORK"
args=$($PY "$ROOT/python/build_contrib.py" "$@" -o "$WORK/model.onnx" --inputs "$WORK/in")
"$BIN_DIR/prism-run" "$WORK/model.onnx" $args --output-dir "$WORK/prism"
PRISM_ORT_DIR="$ORT_DIR/node_modules" node "$ROOT/tools/ort-oracle/ort_run.js" \
  "$WORK/model.onnx" $args --output-dir "$WORK/ort"
echo "$*, prism-run vs ONNX Runtime:"
$PY "$ROOT/python/compare_outputs.py" "$WORK/ort" "$WORK/prism" --rtol 1e-4 --atol 0 --atol-of-max 1e-4
