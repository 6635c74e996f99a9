#!/bin/sh
# Installs what Prism needs on Debian 12 (as root), or prints the one
# apt-get line to run; then configures and builds Prism into $BUILD_DIR.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PACKAGES="cmake ninja-build g++ ccache llvm-22-dev libmlir-22-dev mlir-22-tools \
llvm-22-tools libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx \
python3-numpy libgtest-dev libonnx-testdata"
# Wanted, not required: headless Chromium renders the HTML plan report in a
# test (skipped without it).
OPTIONAL_PACKAGES="chromium"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
# The ONNX Runtime oracle runs in Node.js (npm's onnxruntime-node).
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "prism: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "prism: missing Debian packages; run as root:"
    echo "  apt-get install -y$missing"
    exit 1
  fi
fi

for p in $OPTIONAL_PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    if [ "$(id -u)" = 0 ]; then
      echo "prism: installing $p (optional)"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"; } \
        >/dev/null 2>&1 || echo "prism: could not install $p; the tests that need it are skipped"
    else
      echo "prism: note: without $p (apt-get install -y $p) the tests that need it are skipped"
    fi
  fi
done

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit ${PRISM_CMAKE_ARGS:-}
fi
ninja -C "$BUILD_DIR" -j"${JOBS:-$(nproc)}"
