#!/bin/sh
# Installs onnxruntime-node@1.30.0 (its CPU build runs offline) into DIR
# (default: the build folder's ort/), once. Its install script would fetch
# GPU binaries, hence --ignore-scripts.
set -eu
DIR=${1:?usage: install.sh DIR}
if [ -f "$DIR/node_modules/onnxruntime-node/package.json" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "install.sh: npm not found (apt-get install npm)" >&2; exit 1; }
mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name": "prism-ort-oracle", "private": true}' > package.json
npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null
test -f node_modules/onnxruntime-node/package.json
