#!/usr/bin/env bash
# A model in mnistbench and in PyTorch, one after the other on this machine:
# training seconds (data loading excluded in both), test accuracy, and the
# ratio torch/mnistbench of the training seconds. Medians over --repeat N
# runs of each, the two alternating.
#
#   tools/compare_pytorch.sh [--model baseline|convnet] [--epochs N] [--repeat N]
#                            [--runner build/src/runner] [--target AVX2]
#                            [--python PATH]...
#
# --model baseline (the default) runs configs/baseline.json against
# tools/pytorch_baseline.py, --model convnet configs/convnet.json against
# tools/pytorch_convnet.py. --epochs N trains N epochs on both sides (the
# runner with --set epochs=N); without it each side trains its default, 5.
#
# PyTorch runs at its best on the machine at hand: first each candidate
# setting trains one epoch and the fastest is kept (printed with the
# results). Each Python given with --python is a candidate PyTorch build
# (default: Debian's, /usr/bin/python3; give it too to keep it among
# them). A PyTorch over OpenBLAS (Debian's python3-torch) is tried at 2
# PyTorch threads over single-threaded OpenBLAS and at 1 over OpenBLAS's
# 2; on a CPU with AVX-512 each also with OPENBLAS_CORETYPE=SkylakeX, since
# Debian's OpenBLAS 0.3.21 does not recognise recent AVX-512 CPUs and falls
# back to older kernels (never without AVX-512: those kernels would not
# run). Any other build (PyPI's torch 2.x, over MKL, whose threads are
# PyTorch's own) is tried at 2 threads and at 1. PyPI's torch is not a
# Debian package: install it into a virtual environment (python3 -m venv
# DIR && DIR/bin/pip install torch numpy) and pass --python DIR/bin/python
# --python /usr/bin/python3. On the Xeon VM (2026-12-04) torch 2.15 over
# MKL trained the dense baseline 1.36x faster than Debian's 1.13, and the
# convnet 1.08x slower.
#
# --target AVX2 makes this AVX-512 machine stand in for one without it:
# mnistbench with kernels.target=AVX2, PyTorch with ATEN_CPU_CAPABILITY=avx2,
# oneDNN limited to AVX2 and OpenBLAS's Haswell kernels (MKL's AVX2 ones).
#
# A timing measurement that keeps both cores busy for a while: run it by
# hand on an otherwise idle machine. It is not a test and CI must not run it.
# Debian's python3-torch needs libopenblas0-pthread (hence /usr/bin/python3,
# not a pyenv one, by default).
set -euo pipefail
cd "$(dirname "$0")/.."
model=baseline
epochs=""
repeat=1
runner=build/src/runner
target=auto
pythons=()
usage="usage: $0 [--model baseline|convnet] [--epochs N] [--repeat N] [--runner PATH] [--target AVX2] [--python PATH]..."
while [[ $# -gt 0 ]]; do
  case $1 in
    --model) model=${2:-}; shift 2 ;;
    --epochs) epochs=${2:-}; shift 2 ;;
    --repeat) repeat=${2:-}; shift 2 ;;
    --runner) runner=${2:-}; shift 2 ;;
    --target) target=${2:-}; shift 2 ;;
    --python) pythons+=("${2:-}"); shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[[ $model == baseline || $model == convnet ]] || { echo "$usage (--model: baseline or convnet)" >&2; exit 2; }
[[ -z $epochs || $epochs =~ ^[1-9][0-9]*$ ]] || { echo "$usage (--epochs N >= 1)" >&2; exit 2; }
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "$usage (N >= 1)" >&2; exit 2; }
[[ $target == auto || $target == AVX2 ]] || { echo "$usage (--target: only AVX2)" >&2; exit 2; }
[[ -x $runner ]] || { echo "$0: no runner at $runner (build it, or pass --runner)" >&2; exit 2; }
[[ ${#pythons[@]} -gt 0 ]] || pythons=(/usr/bin/python3)
for python in "${pythons[@]}"; do
  [[ -n $python && -x $python ]] || { echo "$0: --python: no Python at '$python'" >&2; exit 2; }
  "$python" -c 'import torch' 2>/dev/null ||
    { echo "$0: --python $python: it cannot import torch" >&2; exit 2; }
done
config=configs/$model.json
script=tools/pytorch_$model.py
[[ -f $config ]] || { echo "$0: no $config" >&2; exit 2; }
# --epochs N on both sides, or nothing: each side's default.
runner_epochs=() torch_epochs=()
if [[ -n $epochs ]]; then
  runner_epochs=(--set epochs="$epochs") torch_epochs=(--epochs "$epochs")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# Candidate PyTorch settings: "python|torch threads|environment".
avx512=false
grep -qw avx512f /proc/cpuinfo && avx512=true
avx2_env="ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2"
candidates=()
for python in "${pythons[@]}"; do
  # Debian's build reports BLAS_INFO=generic: the system's BLAS, OpenBLAS.
  if ! "$python" -c 'import sys, torch; sys.exit("BLAS_INFO=mkl" not in torch.__config__.show())'; then
    # OpenBLAS's kernels to try, each at 2 torch threads over 1 OpenBLAS
    # thread and at 1 over 2.
    cores=("")
    if [[ $target == AVX2 ]]; then
      cores=("OPENBLAS_CORETYPE=Haswell $avx2_env")
    elif $avx512; then
      cores+=("OPENBLAS_CORETYPE=SkylakeX")
    fi
    for core in "${cores[@]}"; do
      candidates+=("$python|2|OPENBLAS_NUM_THREADS=1${core:+ $core}"
                   "$python|1|OPENBLAS_NUM_THREADS=2${core:+ $core}")
    done
  else
    limits=""
    [[ $target == AVX2 ]] && limits="MKL_ENABLE_INSTRUCTIONS=AVX2 $avx2_env"
    candidates+=("$python|2|$limits" "$python|1|$limits")
  fi
done

# torch SETTING [ARGS...]: prints "training_seconds test_accuracy".
torch() {
  local python threads environment
  IFS='|' read -r python threads environment <<< "$1"
  shift
  # shellcheck disable=SC2086  # the environment is words VAR=value, split on purpose
  env $environment "$python" "$script" --threads "$threads" "$@" \
    | awk '/^training_seconds:/ {s = $2} /^test_accuracy:/ {a = $2} END {print s, a}'
}

# "PATH, N torch threads, ENVIRONMENT" of a candidate.
describe() {
  local python threads environment
  IFS='|' read -r python threads environment <<< "$1"
  echo "$python, $threads torch threads${environment:+, $environment}"
}

best="" best_seconds=""
for candidate in "${candidates[@]}"; do
  seconds=$(torch "$candidate" --epochs 1 | cut -d' ' -f1)
  echo "PyTorch trial, 1 epoch: $(describe "$candidate"): ${seconds} s" >&2
  if [[ -z $best ]] || awk -v a="$seconds" -v b="$best_seconds" 'BEGIN {exit !(a < b)}'; then
    best=$candidate best_seconds=$seconds
  fi
done
python=${best%%|*}

for i in $(seq "$repeat"); do
  out="$work/runner-$i"
  "$runner" "$config" "${runner_epochs[@]}" --set kernels.target="$target" --out "$out" >/dev/null
  # The newest report under --out: the run just made.
  "$python" - "$out" >>"$work/runner.txt" <<'PY'
import json, os, sys
from pathlib import Path
path = max(Path(sys.argv[1]).glob("*/report.json"), key=os.path.getmtime)
report = json.loads(path.read_text())
if report["status"] != "completed":
    sys.exit(f"{path}: status {report['status']}")
print(sum(e["seconds"] for e in report["epochs"]), report["test"]["accuracy"],
      report["machine"]["simd_target"], len(report["epochs"]))
PY
  torch "$best" "${torch_epochs[@]}" >>"$work/torch.txt"
done

runner_s=$(cut -d' ' -f1 "$work/runner.txt" | median)
runner_acc=$(cut -d' ' -f2 "$work/runner.txt" | median)
runner_target=$(cut -d' ' -f3 "$work/runner.txt" | head -n 1)
runner_epochs_run=$(cut -d' ' -f4 "$work/runner.txt" | head -n 1)
torch_s=$(cut -d' ' -f1 "$work/torch.txt" | median)
torch_acc=$(cut -d' ' -f2 "$work/torch.txt" | median)
torch_name="PyTorch $("$python" -c 'import torch; print(torch.__version__)') ($script)"
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "$model, $runner_epochs_run epochs, median of $repeat run(s) each, $(date -u +%Y-%m-%d), $cpu, $(nproc) cores"
echo "mnistbench: $runner_target kernels; PyTorch: $(describe "$best")"
printf '| %-52s | %17s | %13s |\n' implementation "training seconds" "test accuracy"
printf '|%s|%s|%s|\n' "------------------------------------------------------" "-------------------" "---------------"
printf '| %-52s | %17.2f | %13.4f |\n' "mnistbench ($runner)" "$runner_s" "$runner_acc"
printf '| %-52s | %17.2f | %13.4f |\n' "$torch_name" "$torch_s" "$torch_acc"
awk -v r="$runner_s" -v t="$torch_s" \
  'BEGIN {printf "torch/mnistbench training seconds: %.2f (mnistbench trains %.1fx faster)\n", t / r, t / r}'
