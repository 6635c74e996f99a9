#!/bin/sh
# The main job on the bundled default model: build Prism, generate the tiny
# Llama (python/build_model.py --preset tiny), import it, bind its dims,
# print the summary, split it into @prefill and @decode raised to xfmr
# (printing their work per token), place them on a GPU + LPU system
# (remarks, and an HTML and JSON report), compile a host-prefill +
# LPU-decode bundle in one call and decode 16 tokens with it (prism-run
# --bundle; the LPU in Prism's simulator), and run it on the host CPU with
# prism-run. Extra arguments go to the first prismc.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/setup.sh"
MODEL="$BUILD_DIR/models/tiny.onnx"
mkdir -p "$BUILD_DIR/models"
/usr/bin/python3 "$ROOT/python/build_model.py" --preset tiny -o "$MODEL"
"$BUILD_DIR/bin/prismc" "$MODEL" --compile-to=static \
  --bind batch_size=1,sequence_length=128,past_sequence_length=0 \
  --summary -o "$BUILD_DIR/models/tiny.static.mlir" "$@"
echo "static IR written to $BUILD_DIR/models/tiny.static.mlir"
# The two programs: a 128-token prompt, then decode steps over 256 cached
# positions, the KV cache at their boundary.
"$BUILD_DIR/bin/prismc" "$MODEL" --compile-to=phases --prompt 128 --context 256 \
  --batch 1 --stats -o "$BUILD_DIR/models/tiny.phases.mlir"
echo "phases written to $BUILD_DIR/models/tiny.phases.mlir"
# Placed on a small disaggregated system: prefill on a GPU, decode on LPUs.
"$BUILD_DIR/bin/prismc" "$MODEL" --compile-to=plan --prompt 128 --context 256 \
  --system "prefill=h100-sxm*1,decode=lpu-v1*8,link=rdma:100GBps" --objective latency \
  --report "$BUILD_DIR/models/tiny.plan.html" -o "$BUILD_DIR/models/tiny.plan.mlir"
"$BUILD_DIR/bin/prismc" "$MODEL" --compile-to=plan --prompt 128 --context 256 \
  --system "prefill=h100-sxm*1,decode=lpu-v1*8,link=rdma:100GBps" --objective latency \
  --report "$BUILD_DIR/models/tiny.plan.json" --no-ir 2>/dev/null
echo "plan written to $BUILD_DIR/models/tiny.plan.mlir, report to $BUILD_DIR/models/tiny.plan.html and .json"
"$BUILD_DIR/bin/prismc" "$MODEL" --compile-to=bundle --prompt 8 --context 32 \
  --system "prefill=host-cpu*1,decode=lpu-v1*8,link=rdma:100GBps" \
  -o "$BUILD_DIR/models/tiny.bundle" 2>/dev/null
echo "bundle (host prefill, LPU decode, manifest.json) written to $BUILD_DIR/models/tiny.bundle"
"$BUILD_DIR/bin/prism-run" --bundle "$BUILD_DIR/models/tiny.bundle" --random-prompt 1 --steps 16 \
  --output-dir "$BUILD_DIR/models/tiny.bundle.out"
# Run it on the host: a 128-token prefill on deterministic random inputs.
"$BUILD_DIR/bin/prism-run" "$MODEL" \
  --bind batch_size=1,sequence_length=128,past_sequence_length=0 \
  --random-inputs=1 --output-dir "$BUILD_DIR/models/tiny.out" --time 5
echo "outputs (and the generated inputs) written to $BUILD_DIR/models/tiny.out"
