#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer in
# build-asan/ and runs the whole test suite there; any sanitizer report
# fails the run.
# Usage: tools/ci-sanitize.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d build-asan ]]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized -Dbenchmarks=false
fi
# halt_on_error: the first report ends the test with a failure.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --print-errorlogs --timeout-multiplier 4
