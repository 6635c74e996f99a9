#!/bin/sh
# The compiler does not depend on simulators or runtimes: nothing under
# lib/Conversion, lib/Target or their headers includes a prism/Sim/ or
# prism/Runtime/ header, and no CMake library there links one. Program
# formats (lib/Target/<T>/Format) are what both sides share.
# Prints each offending line and exits 1, or prints "dependencies: ok".
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bad=$(grep -rnE '#include[[:space:]]+"prism/(Sim|Runtime)/' \
        lib/Conversion lib/Target include/prism/Conversion include/prism/Target || true)
links=$(grep -rnE '\bPrism(Sim[A-Za-z]*|Runtime|[A-Za-z]*Runtime)\b' \
          --include=CMakeLists.txt lib/Conversion lib/Target |
        grep -E 'target_link_libraries|LINK_LIBS' || true)
if [ -n "$bad$links" ]; then
  echo "dependencies: the compiler (lib/Conversion, lib/Target) reaches a simulator or runtime:"
  [ -z "$bad" ] || echo "$bad"
  [ -z "$links" ] || echo "$links"
  exit 1
fi
echo "dependencies: ok"
