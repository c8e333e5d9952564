#!/bin/bash
# tools/compare_pytorch.sh's choice of PyTorch, with stand-in PyTorch builds
# whose speeds are known: a Debian-like one over OpenBLAS (BLAS_INFO=generic)
# and a PyPI-like one over MKL, each a Python that answers the script's
# questions through a stand-in torch module and "trains" in a time set by
# its threads and environment. The fastest candidate of either build must
# win, each build must get its own candidates (OpenBLAS settings only for
# the OpenBLAS one), --target AVX2 must limit both, and a bad --python must
# stop the script with a one-line error. No timing is measured.
# Usage: compare_pytorch_test.sh RUNNER
set -u
runner=$1
tool=tools/compare_pytorch.sh
source "$(dirname "$0")/cli_lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/torch"
cat > "$work/torch/__init__.py" <<'PY'
import os
__version__ = os.environ["FAKE_TORCH_VERSION"]
class _Config:
    @staticmethod
    def show():
        return "PyTorch built with: BLAS_INFO=" + os.environ["FAKE_TORCH_BLAS"] + ", USE_MKLDNN=ON"
__config__ = _Config()
PY
# fake_python NAME BLAS VERSION SECONDS_EXPRESSION: a Python whose torch is
# the stand-in, and whose training script prints the seconds that the
# expression (bash arithmetic on $threads and $skylakex, in tenths) gives.
fake_python() {
  cat > "$work/$1" <<SH
#!/bin/bash
export PYTHONPATH="$work" FAKE_TORCH_BLAS=$2 FAKE_TORCH_VERSION=$3
if [[ \${1:-} == *tools/pytorch_*.py ]]; then
  threads=0
  while [[ \$# -gt 0 ]]; do [[ \$1 == --threads ]] && threads=\$2; shift; done
  skylakex=0
  [[ \${OPENBLAS_CORETYPE:-} == SkylakeX ]] && skylakex=1
  env | grep -E '^(OPENBLAS|MKL|DNNL|ONEDNN|ATEN)_' | sort | tr '\n' ' ' >> "$work/$1.env"
  echo >> "$work/$1.env"
  tenths=\$(( $4 ))
  echo "training_seconds: \$((tenths / 10)).\$((tenths % 10))"
  echo "test_accuracy: 0.5"
  exit 0
fi
exec python3 "\$@"
SH
  chmod +x "$work/$1"
}
# OpenBLAS build: 5.0 s, 3.0 with 2 threads and SkylakeX kernels.
fake_python debian generic 1.13-fake '(threads == 2 && skylakex) ? 30 : 50'
# MKL build: 2.5 s at 2 threads, 4.0 at 1.
fake_python pypi mkl 2.15-fake 'threads == 2 ? 25 : 40'
avx512=false
grep -qw avx512f /proc/cpuinfo && avx512=true

out=$(bash "$tool" --runner "$runner" --epochs 1 --python "$work/debian" --python "$work/pypi" 2>&1)
status=$?
echo "$out"
check "compares with two builds" test "$status" -eq 0
trials=$(grep -c "^PyTorch trial" <<< "$out")
if $avx512; then
  check "tries 4 OpenBLAS settings and 2 MKL ones" test "$trials" -eq 6
else
  check "tries 2 OpenBLAS settings and 2 MKL ones" test "$trials" -eq 4
fi
check "keeps the MKL build's 2 threads" grep -q "PyTorch: $work/pypi, 2 torch threads$" <<< "$out"
check "names the winning build's version" grep -q "PyTorch 2.15-fake" <<< "$out"
check "the MKL build gets no OpenBLAS settings" bash -c "! grep -q OPENBLAS '$work/pypi.env'"
check "the OpenBLAS build gets OpenBLAS settings" grep -q "OPENBLAS_NUM_THREADS=1" "$work/debian.env"
check "the ratio is the winner's" grep -q "torch/mnistbench training seconds" <<< "$out"

# The OpenBLAS build alone: its SkylakeX setting wins on AVX-512.
if $avx512; then
  out=$(bash "$tool" --runner "$runner" --epochs 1 --python "$work/debian" 2>&1)
  check "keeps OpenBLAS's SkylakeX kernels where they are fastest" \
    grep -q "PyTorch: $work/debian, 2 torch threads, OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX$" <<< "$out"
fi

# --target AVX2: both builds limited, OpenBLAS to Haswell, MKL and oneDNN to AVX2.
rm -f "$work/debian.env" "$work/pypi.env"
out=$(bash "$tool" --runner "$runner" --epochs 1 --target AVX2 \
        --python "$work/debian" --python "$work/pypi" 2>&1)
status=$?
check "compares pinned to AVX2" test "$status" -eq 0
check "pins mnistbench to AVX2" grep -q "mnistbench: AVX2 kernels" <<< "$out"
# Every run of each build, trials and timed runs, limited.
check "pins the MKL build" bash -c "! grep -qv 'MKL_ENABLE_INSTRUCTIONS=AVX2' '$work/pypi.env' &&
  ! grep -qv 'ONEDNN_MAX_CPU_ISA=AVX2' '$work/pypi.env'"
check "pins the OpenBLAS build" bash -c "! grep -qv 'OPENBLAS_CORETYPE=Haswell' '$work/debian.env' &&
  ! grep -qv 'DNNL_MAX_CPU_ISA=AVX2' '$work/debian.env'"

# Bad --python: one line, exit 2, before any run.
out=$(bash "$tool" --runner "$runner" --python "$work/none" 2>&1)
status=$?
check "a missing Python: exit 2" test "$status" -eq 2
check "a missing Python: one line naming it" \
  test "$out" = "$tool: --python: no Python at '$work/none'"
printf '#!/bin/sh\nexit 1\n' > "$work/notorch"
chmod +x "$work/notorch"
out=$(bash "$tool" --runner "$runner" --python "$work/notorch" 2>&1)
status=$?
check "a Python without torch: exit 2" test "$status" -eq 2
check "a Python without torch: one line naming it" \
  test "$out" = "$tool: --python $work/notorch: it cannot import torch"

summary
