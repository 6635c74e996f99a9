#!/bin/sh
# Regenerates the generated documentation in docs/: the dialect and pass
# reference from TableGen (docs/generated/) and the ONNX operator and node-test
# tables (docs/onnx-ops.md, docs/onnx-node-tests.md, docs/onnx-node-host.md).
# Never edit those by hand.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/setup.sh"
ninja -C "$BUILD_DIR" mlir-doc
mkdir -p "$ROOT/docs/generated"
cp "$BUILD_DIR"/docs/Dialects/*.md "$BUILD_DIR"/docs/Passes/*.md "$ROOT/docs/generated/"
/usr/bin/python3 "$ROOT/test/onnx-node/run_node_tests.py" --bin-dir "$BUILD_DIR/bin" \
  --all -j "${JOBS:-$(nproc)}" --table "$ROOT/docs/onnx-node-tests.md" \
  --ops-table "$ROOT/docs/onnx-ops.md" || true
(cd "$ROOT" && /usr/bin/python3 test/onnx-node/run_node_execution.py --bin-dir build/bin \
  -j "${JOBS:-$(nproc)}" --expected-failures test/onnx-node/expected-host-failures.txt \
  --table docs/onnx-node-host.md) || true
