#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in build-fuzz/ with clang-14 and
# runs each for SECONDS (default 30) on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/), so the repository is never modified. Any
# crash, sanitizer report, leak, timeout or allocation over the limits fails
# the run; the input that caused it is kept in build-fuzz/fuzz-artifacts/.
# Prints one line per target, then "N passed, N failed" (one per target),
# and exits non-zero if any target failed.
# Needs clang-14, libclang-rt-14-dev (libFuzzer) and libomp-14-dev (OpenMP
# for clang, which the rest of the project needs to configure):
#   tools/install-deps.sh --fuzz
# Usage: tools/ci-fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."  # fuzz_config resolves configs against data/mnist

seconds=${1:-30}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: tools/ci-fuzz.sh [SECONDS]" >&2
  exit 2
fi

# A build dir left behind by a failed setup is configured afresh.
if [[ ! -f build-fuzz/meson-private/coredata.dat ]]; then
  rm -rf build-fuzz
  CC=clang-14 CXX=clang++-14 meson setup build-fuzz -Dfuzz=true -Dtests=false \
    -Dbenchmarks=false -Dbuildtype=debugoptimized
fi
targets=(fuzz_idx_reader fuzz_config fuzz_safetensors fuzz_sweep_spec)
# Only the targets: the runner and the kernels are not needed here.
meson compile -C build-fuzz "${targets[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=build-fuzz/fuzz-artifacts
mkdir -p "$artifacts"
# Every sanitizer report is fatal and shows where it happened.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

failed=0
failures=0
for target in "${targets[@]}"; do
  corpus=${target#fuzz_}
  corpus=${corpus%_reader}  # fuzz_idx_reader -> idx
  cp -r "tests/fuzz/corpus/$corpus" "$work/$corpus"
  extra=()
  [[ -f tests/fuzz/$corpus.dict ]] && extra+=("-dict=tests/fuzz/$corpus.dict")
  log=$work/$target.log
  status=0
  "build-fuzz/tests/fuzz/$target" "${extra[@]}" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" "$work/$corpus" >"$log" 2>&1 || status=$?
  executions=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
  inputs=$(find "$work/$corpus" -type f | wc -l)
  if [[ $status -eq 0 ]]; then
    echo "$target: OK, ${executions:-0} executions in ${seconds}s, corpus $inputs inputs"
  else
    failed=1
    failures=$((failures + 1))
    echo "$target: FAILED (exit $status) after ${executions:-?} executions; the input is in $artifacts/"
    # The sanitizer or libFuzzer report, without the run's progress lines.
    grep -v -E '^#[0-9]+|NEW_FUNC|^INFO: ' "$log" | tail -n 40 | sed "s/^/  $target: /"
  fi
done
echo "$((${#targets[@]} - failures)) passed, $failures failed"
exit "$failed"
