#!/bin/sh
# Builds Prism and runs the whole test suite through ctest. The last line is
# "N passed, N failed".
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/setup.sh"
status=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"${JOBS:-$(nproc)}" \
  2>&1 | tee "$BUILD_DIR/ctest.log" || true
summary=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$BUILD_DIR/ctest.log" | tail -1)
total=$(echo "$summary" | sed -E 's/.* out of ([0-9]+).*/\1/')
failed=$(echo "$summary" | sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/')
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
[ "$failed" = 0 ] || status=1
# Tests that need what this machine lacks (a GPU) skip: named, not passed.
skipped=$(grep -cE "\*\*\*Skipped" "$BUILD_DIR/ctest.log" || true)
if [ "$skipped" -gt 0 ]; then
  echo "$skipped skipped: $(grep -E "\*\*\*Skipped" "$BUILD_DIR/ctest.log" | sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' | tr '\n' ' ')"
fi
echo "$((total - failed - skipped)) passed, $failed failed"
exit $status
