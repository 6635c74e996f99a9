#!/bin/sh
# Fuzzes the ONNX importer with libFuzzer for a while (not a CI test).
#
#   benchmarks/fuzz_importer.sh [SECONDS]      (default 300)
#
# Builds Prism with clang-14, -fsanitize=fuzzer-no-link,address,undefined into
# build-fuzz/ (needs clang-14 and libclang-rt-14-dev), seeds the corpus with
# ../shared/corpus and ONNX's node tests, and prints libFuzzer's final stats.
# Crashing inputs are left in build-fuzz/crashes/.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_TO_RUN=${1:-300}
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -G Ninja -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRISM_BUILD_FUZZERS=ON \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
ninja -C "$BUILD" -j"${JOBS:-$(nproc)}" prism-import-fuzzer
SEEDS="$BUILD/seeds"
mkdir -p "$SEEDS" "$BUILD/crashes" "$BUILD/corpus"
cp "$ROOT"/../shared/corpus/*.onnx "$SEEDS/" 2>/dev/null || true
i=0
for m in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
  [ -f "$m" ] || continue
  i=$((i + 1))
  cp "$m" "$SEEDS/node$i.onnx"
done
cd "$BUILD"
ASAN_OPTIONS=detect_leaks=0 "$BUILD/bin/prism-import-fuzzer" \
  -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$BUILD/crashes/" -print_final_stats=1 \
  "$BUILD/corpus" "$SEEDS"
