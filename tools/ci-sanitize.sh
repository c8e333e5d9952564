#!/usr/bin/env bash
# Builds everything with AddressSanitizer (and LeakSanitizer) and
# UndefinedBehaviorSanitizer in build-asan/ and runs the whole test suite
# there, the runner scripts included; any sanitizer report fails the run.
# Usage: tools/ci-sanitize.sh   (from anywhere; exits non-zero on failure)
set -euo pipefail
cd "$(dirname "$0")/.."

# -O1 with line tables (-g1) rather than -O2 -g: every kernel is compiled for
# five SIMD targets, and with both sanitizers that build took 19 of CI's 38
# minutes; -O1 -g1 compiles the largest file (kernels/gemm.cc) in 40% of the
# time, and the reports still name file and line.
options=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=custom
         -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 -Dbenchmarks=false -Dtests=true)
# A build dir left behind by a failed setup is configured afresh; an existing
# one gets the options again, in case it was configured otherwise.
if [[ -f build-asan/meson-private/coredata.dat ]]; then
  meson configure build-asan "${options[@]}"
else
  rm -rf build-asan
  meson setup build-asan "${options[@]}"
fi
ninja -C build-asan -j2

# halt_on_error: the first report of either sanitizer ends the process, and
# abort_on_error makes that an abort (exit 134) rather than an exit code a
# test might expect. UBSan would otherwise print and carry on.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
meson test -C build-asan --no-rebuild --print-errorlogs --timeout-multiplier 4
