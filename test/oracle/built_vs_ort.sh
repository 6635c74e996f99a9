#!/bin/sh
# Builds a model with one of python/'s builders, then compares prism-run with
# ONNX Runtime on it (model_vs_ort.sh).
#   built_vs_ort.sh ORT_DIR BIN_DIR WORK_DIR BINDINGS BUILDER [BUILDER_ARGS...]
set -eu
ORT_DIR=$1
BIN_DIR=$2
WORK=$3
BINDINGS=$4
BUILDER=$5
shift 5
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"
/usr/bin/python3 "$ROOT/python/$BUILDER" "$@" -o "$WORK/model.onnx" >/dev/null
"$ROOT/test/oracle/model_vs_ort.sh" "$ORT_DIR" "$BIN_DIR" "$WORK/run" "$WORK/model.onnx" "$BINDINGS"
