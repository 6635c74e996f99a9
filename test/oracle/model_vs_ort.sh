#!/bin/sh
# One model, prism-run against ONNX Runtime on the same deterministic random
# inputs (prism-run --random-inputs writes them; ORT reads them). prism-run
# raises the graph to xfmr; when the graph also runs as imported (no fused
# operators), the raised run must match that one too.
#   model_vs_ort.sh ORT_DIR BIN_DIR WORK_DIR MODEL [BINDINGS [RTOL [ATOL_OF_MAX]]]
# BINDINGS is prism-run's --bind list ("" for none). An output matches when
# |prism - ort| <= RTOL * |ort| + ATOL_OF_MAX * max|ort| elementwise
# (defaults 1e-4 and 1e-4: fp32 agreement to 1e-4 of each output's scale).
# PRISM_ONES_INPUTS=name,... sets those inputs to ones (float attention
# masks: random values in [-1, 1) are not masks, and ONNX Runtime's results
# on them change with which intermediates are graph outputs).
set -eu
ORT_DIR=$1
BIN_DIR=$2
WORK=$3
MODEL=$4
BINDINGS=${5:-}
RTOL=${6:-1e-4}
ATOL_OF_MAX=${7:-1e-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
rm -rf "$WORK" && mkdir -p "$WORK"
"$BIN_DIR/prism-run" "$MODEL" ${BINDINGS:+--bind "$BINDINGS"} --random-inputs=7 \
  --output-dir "$WORK/prism"
ONES=""
if [ -n "${PRISM_ONES_INPUTS:-}" ]; then
  for name in $(echo "$PRISM_ONES_INPUTS" | tr ',' ' '); do
    f="$WORK/prism/inputs/$name.npy"
    $PY -c "import numpy as n, sys; a = n.load(sys.argv[1]); n.save(sys.argv[1], n.ones_like(a))" "$f"
    ONES="$ONES --input $name=$f"
  done
  "$BIN_DIR/prism-run" "$MODEL" ${BINDINGS:+--bind "$BINDINGS"} --random-inputs=7 \
    $ONES --output-dir "$WORK/prism"
fi
# prism-run wrote DIR/inputs/<sanitized name>.npy: back to --input NAME=FILE
# (the names from the model, in one pass).
args=$($PY -c "import os, re, sys, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
d = sys.argv[2]
for i in m.graph.input:
    f = os.path.join(d, re.sub(r'[^A-Za-z0-9._-]', '_', i.name) + '.npy')
    if os.path.exists(f):
        print('--input', i.name + '=' + f)" "$MODEL" "$WORK/prism/inputs")
PRISM_ORT_DIR="$ORT_DIR/node_modules" node "$ROOT/tools/ort-oracle/ort_run.js" \
  "$MODEL" $args --output-dir "$WORK/ort"
echo "$(basename "$MODEL"), prism-run vs ONNX Runtime:"
$PY "$ROOT/python/compare_outputs.py" "$WORK/ort" "$WORK/prism" \
  --rtol "$RTOL" --atol 0 --atol-of-max "$ATOL_OF_MAX"
if "$BIN_DIR/prism-run" "$MODEL" ${BINDINGS:+--bind "$BINDINGS"} --random-inputs=7 \
    $ONES --no-raise --output-dir "$WORK/imported" 2>"$WORK/imported.err"; then
  echo "$(basename "$MODEL"), raised vs as imported (--no-raise):"
  $PY "$ROOT/python/compare_outputs.py" "$WORK/imported" "$WORK/prism" \
    --rtol "$RTOL" --atol 0 --atol-of-max "$ATOL_OF_MAX"
elif grep -q "runs on the host once raised" "$WORK/imported.err"; then
  echo "$(basename "$MODEL"): its fused operators run only raised"
else
  cat "$WORK/imported.err" >&2
  exit 1
fi
