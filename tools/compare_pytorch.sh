#!/usr/bin/env bash
# The baseline in mnistbench and in PyTorch, one after the other on this
# machine: training seconds (5 epochs, data loading excluded in both), test
# accuracy, and the ratio torch/mnistbench of the training seconds. Medians
# over --repeat N runs of each.
#
#   tools/compare_pytorch.sh [--repeat N] [--runner build/src/runner]
#
# A timing measurement that keeps both cores busy for a while: run it by
# hand on an otherwise idle machine. It is not a test and CI must not run it.
#
# Needs Debian's python3-torch (hence /usr/bin/python3, not a pyenv one).
# PyTorch runs with OPENBLAS_CORETYPE=SkylakeX (Debian's OpenBLAS otherwise
# uses SSE3 kernels on this CPU) and OPENBLAS_NUM_THREADS=1 (PyTorch brings
# its own 2 threads), at its best.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=1
runner=build/src/runner
python=/usr/bin/python3
usage="usage: $0 [--repeat N] [--runner PATH]"
while [[ $# -gt 0 ]]; do
  case $1 in
    --repeat) repeat=${2:-}; shift 2 ;;
    --runner) runner=${2:-}; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "$usage (N >= 1)" >&2; exit 2; }
[[ -x $runner ]] || { echo "$0: no runner at $runner (build it, or pass --runner)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

for i in $(seq "$repeat"); do
  out="$work/runner-$i"
  "$runner" configs/baseline.json --out "$out" >/dev/null
  # The newest report under --out: the run just made.
  "$python" - "$out" >>"$work/runner.txt" <<'PY'
import json, os, sys
from pathlib import Path
path = max(Path(sys.argv[1]).glob("*/report.json"), key=os.path.getmtime)
report = json.loads(path.read_text())
if report["status"] != "completed":
    sys.exit(f"{path}: status {report['status']}")
print(sum(e["seconds"] for e in report["epochs"]), report["test"]["accuracy"])
PY
  OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 "$python" tools/pytorch_baseline.py --threads 2 \
    | awk '/^training_seconds:/ {s = $2} /^test_accuracy:/ {a = $2} END {print s, a}' >>"$work/torch.txt"
done

runner_s=$(cut -d' ' -f1 "$work/runner.txt" | median)
runner_acc=$(cut -d' ' -f2 "$work/runner.txt" | median)
torch_s=$(cut -d' ' -f1 "$work/torch.txt" | median)
torch_acc=$(cut -d' ' -f2 "$work/torch.txt" | median)
torch_name="PyTorch $("$python" -c 'import torch; print(torch.__version__)') (tools/pytorch_baseline.py)"
echo "baseline, 5 epochs, median of $repeat run(s) each, $(date -u +%Y-%m-%d), $(nproc) cores"
printf '| %-46s | %17s | %13s |\n' implementation "training seconds" "test accuracy"
printf '|%s|%s|%s|\n' "------------------------------------------------" "-------------------" "---------------"
printf '| %-46s | %17.2f | %13.4f |\n' "mnistbench ($runner)" "$runner_s" "$runner_acc"
printf '| %-46s | %17.2f | %13.4f |\n' "$torch_name" "$torch_s" "$torch_acc"
awk -v r="$runner_s" -v t="$torch_s" \
  'BEGIN {printf "torch/mnistbench training seconds: %.2f (mnistbench trains %.1fx faster)\n", t / r, t / r}'
