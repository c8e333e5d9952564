#!/usr/bin/env bash
# Sweeps from the outside: a sweep killed with SIGKILL at several moments and
# run again ends with every point complete exactly once and a correct
# summary; sharded runs (--shard, and mpirun when Open MPI is installed)
# together equal a single run; bad specs are one-line errors that write
# nothing; time to accuracy is recorded; SIGINT while a point loads, trains
# or finishes starts no further point and lists the points left; a stdout
# closed by its reader stops nothing.
# Usage: sweep_cli_test.sh PATH/TO/runner   (run from the repository root)
set -u
runner=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_lib.sh"

# Four quick points of the real MNIST: two widths x two seeds, one epoch.
write sweep4.json '{"name": "sweep4", "base": "configs/tiny.json",
  "set": {"predict": 0},
  "grid": {"model.0.units": [16, 32]},
  "seeds": [1, 2],
  "metric": "test_accuracy"}'

# point_id status test_accuracy and the epoch losses of every report under
# DIR, one line per report, sorted: equal for equal sets of results.
points() {
  python3 - "$1" <<'PY'
import glob, json, sys
rows = []
for path in glob.glob(sys.argv[1] + "/**/report.json", recursive=True):
    r = json.load(open(path))
    rows.append(" ".join([r["sweep"]["point_id"], r["status"], repr(r["test"] and r["test"]["accuracy"])]
                         + [repr(e["loss"]) for e in r["epochs"]]))
print("\n".join(sorted(rows)))
PY
}

# --- SIGKILL at several moments, then the same command again ---------------
# Two epochs a point. The kills land at fixed times (during start-up and
# data loading, or wherever the sweep is by then) and, twice, inside a point:
# after one of its epochs ended and before its second did, when its report
# says "running" (epoch lines are flushed as they are printed).
out="$work/killed"
kills=0
sweep_then_kill() {  # WHEN: a number of seconds, or "mid-point"
  kills=$((kills + 1))
  local log="$work/kill-$kills.log"
  : >"$log"  # before the background job opens it, for the first grep
  "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$out" >"$log" 2>&1 &
  local pid=$! waited=0
  if [[ $1 == mid-point ]]; then
    # Until more points have finished epoch 1 than epoch 2 (at most 60 s).
    while [[ $(grep -c "^Epoch 1/2" "$log") -le $(grep -c "^Epoch 2/2" "$log") && $waited -lt 1200 ]] &&
          kill -0 "$pid" 2>/dev/null; do
      sleep 0.05
      waited=$((waited + 1))
    done
  else
    sleep "$1"
  fi
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  cat "$log" >>"$work/killed.log"
}
for when in 0.2 mid-point 0.9 mid-point; do sweep_then_kill "$when"; done
"$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$out" >"$work/stdout" 2>"$work/stderr"
code=$?
cat "$work/stdout" >>"$work/killed.log"
cut_off=$(grep -c "was cut off: removing" "$work/killed.log")
reports=$(find "$out/sweep4" -name report.json | wc -l)
run_dirs=$(find "$out/sweep4" -mindepth 1 -maxdepth 1 -type d | wc -l)
complete=$(grep -l '"status": "completed"' "$out"/sweep4/*/report.json 2>/dev/null | wc -l)
distinct=$(points "$out" | cut -d' ' -f1 | sort -u | wc -l)
temporaries=$(find "$out" -name '*.tmp*' | wc -l)
summary_runs=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['runs'], len(s['rows']), [r['runs'] for r in s['rows']])" "$out/sweep4/summary.json" 2>&1)
state="exit=$code reports=$reports dirs=$run_dirs complete=$complete distinct=$distinct temporaries=$temporaries summary=$summary_runs"
if [[ $state == "exit=0 reports=4 dirs=4 complete=4 distinct=4 temporaries=0 summary=4 2 [2, 2]" && $cut_off -ge 1 ]]; then
  pass sigkill-resume
else
  fail "sweep killed and resumed: $state, $cut_off points cut off; stderr: $(cat "$work/stderr")"
fi

# Run again: every point is skipped.
"$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$out" >"$work/stdout" 2>&1
if [[ $(grep -c "is complete, skipped" "$work/stdout") -eq 4 ]] &&
   [[ $(find "$out/sweep4" -name report.json | wc -l) -eq 4 ]]; then
  pass sweep-rerun-skips-complete-points
else
  fail "sweep rerun: $(cat "$work/stdout")"
fi

# A point cut off half-way (its report says running) is run again.
victim=$(ls -d "$out"/sweep4/*/ | head -n 1)
sed -i 's/"status": "completed"/"status": "running"/' "$victim/report.json"
"$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$out" >"$work/stdout" 2>&1
if grep -q "was cut off: removing" "$work/stdout" &&
   [[ $(grep -c "is complete, skipped" "$work/stdout") -eq 3 ]] &&
   [[ $(grep -l '"status": "completed"' "$out"/sweep4/*/report.json | wc -l) -eq 4 ]]; then
  pass sweep-reruns-cut-off-point
else
  fail "cut-off point: $(cat "$work/stdout")"
fi

# summarize on demand prints the table and rewrites the files.
rm "$out/sweep4/summary.csv"
if "$runner" summarize "$out/sweep4" >"$work/stdout" 2>"$work/stderr" &&
   grep -Eq '^\| (16|32) \| 2 \| 0\.[0-9]{4} ± 0\.[0-9]{4} \|' "$work/stdout" &&
   [[ $(wc -l <"$out/sweep4/summary.csv") -eq 3 ]]; then
  pass summarize
else
  fail "summarize: $(cat "$work/stdout" "$work/stderr")"
fi

# --- Shards: their union is the single run, bitwise ------------------------
single=$(points "$out")
for k in 0 1; do
  "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --shard "$k/2" --out "$work/shards" >"$work/stdout-$k" 2>&1
done
if [[ $(points "$work/shards") == "$single" ]] &&
   grep -q "shard 0/2 (from --shard) runs 2 of them" "$work/stdout-0"; then
  pass shard-union-equals-single-run
else
  fail "--shard union differs from the single run: $(points "$work/shards") vs $single"
fi

if command -v mpirun >/dev/null; then
  # Each rank takes its shard from OMPI_COMM_WORLD_RANK/SIZE.
  mpirun --allow-run-as-root --oversubscribe -np 2 \
    "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$work/mpi" >"$work/stdout" 2>&1
  code=$?
  if [[ $code -eq 0 && $(points "$work/mpi") == "$single" ]] &&
     grep -q "shard 1/2 (from OMPI_COMM_WORLD_RANK) runs 2 of them" "$work/stdout"; then
    pass mpirun-union-equals-single-run
  else
    fail "mpirun -np 2: exit $code; $(points "$work/mpi") vs $single; $(tail -5 "$work/stdout")"
  fi
else
  skip "mpirun-union-equals-single-run: mpirun not installed (apt-get install openmpi-bin)"
fi

# --- Time to accuracy --------------------------------------------------------
if "$runner" configs/tiny.json --set target_accuracy=0.85 --set target_every_steps=20 --set predict=0 \
     --out "$work/target" >"$work/stdout" 2>"$work/stderr" &&
   python3 - "$work/target" <<'PY'
import glob, json, sys
r = json.load(open(glob.glob(sys.argv[1] + "/*/report.json")[0]))
t = r["target"]
ok = (t["reached"] and t["set"] == "test" and t["step"] % 20 == 0 and t["reached_accuracy"] >= 0.85
      and 0 < t["seconds"] <= r["total_seconds"] and r["epochs"][0]["steps"] == t["step"] < 469
      and r["status"] == "completed")
sys.exit(0 if ok else 1)
PY
then
  pass time-to-accuracy
else
  fail "target_accuracy: $(cat "$work/stdout" "$work/stderr")"
fi

# --- SIGINT stops the sweep (exit 130); the same command finishes it --------
# run_dirs DIR: how many run directories the sweep directory DIR holds.
run_dirs() { find "$1" -mindepth 1 -maxdepth 1 -type d | wc -l; }
# The point was cut off, or its training had just finished.
left_line="^$work/sweep4.json: sweep interrupted; (4 of 4 points left \(1-4\)|3 of 4 points left \(2-4\)): run the same command again to resume$"

# During a point's training: it stops after the current step, no other
# point starts, and the same command runs the cut-off point again.
"$runner" "$work/sweep4.json" --set epochs=3 --threads 1 --out "$work/sigint" >"$work/stdout" 2>"$work/stderr" &
pid=$!
# Once the first point is training (its handlers are installed by then).
for _ in $(seq 1200); do grep -q "^Epoch 1/3" "$work/stdout" && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"
code=$?
dirs=$(run_dirs "$work/sigint/sweep4")
"$runner" "$work/sweep4.json" --set epochs=3 --threads 1 --out "$work/sigint" >"$work/stdout2" 2>&1
code2=$?
complete=$(grep -l '"status": "completed"' "$work"/sigint/sweep4/*/report.json 2>/dev/null | wc -l)
if [[ $code -eq 130 && $dirs -eq 1 && $code2 -eq 0 && $complete -eq 4 ]] &&
   ! grep -q "point 2/4" "$work/stdout" && stderr_lines | tail -n 1 | grep -Eq "$left_line" &&
   grep -q "was cut off: removing" "$work/stdout2"; then
  pass sweep-sigint-then-resume
else
  fail "SIGINT in a sweep: exit $code then $code2, $dirs run dirs, then $complete complete; $(cat "$work/stderr")"
fi

# Below, $sweep_out: $out keeps the sweep that summarize and plot read.
# After a point's last training step (while it prints its predictions): that
# point completes, and the next does not start.
sweep_out="$work/sigint-after-training"
signal_at_line INT '^Test: ' "$work/stdout" "$work/sweep4.json" --set predict=10000 --threads 1 \
  --out "$sweep_out"
code=$?
if [[ $code -eq 130 && $(run_dirs "$sweep_out/sweep4") -eq 1 ]] &&
   grep -qs '"status": "completed"' "$sweep_out"/sweep4/000-*/report.json &&
   ! grep -q "point 2/4" "$work/stdout" &&
   [[ $(stderr_lines | tail -n 2) == "sweep4: interrupted after training had finished: the run is complete
$work/sweep4.json: sweep interrupted; 3 of 4 points left (2-4): run the same command again to resume" ]]; then
  pass sweep-sigint-after-training
else
  fail "SIGINT after a point's training: exit $code, $(run_dirs "$sweep_out/sweep4") run dirs; $(cat "$work/stderr")"
fi

# While the first point loads its data: at once, nothing written for it.
sweep_out="$work/sigint-loading"
signal_while_loading INT "$sweep_out" "$work/sweep4.json" --threads 1
code=$?
if [[ $code -eq 130 && -f $sweep_out/sweep4/sweep.json && $(run_dirs "$sweep_out/sweep4") -eq 0 ]] &&
   [[ $(stderr_lines) == "$work/sweep4.json: sweep interrupted while loading point 1/4's data, nothing written for it; 4 of 4 points left (1-4): run the same command again to resume" ]]; then
  pass sweep-sigint-while-loading
else
  fail "SIGINT while a point loads: exit $code, $(run_dirs "$sweep_out/sweep4") run dirs; $(cat "$work/stderr")"
fi

# --- A stdout closed by its reader stops nothing ----------------------------
# Every point runs and completes, the summary is written, exit 0; stderr
# says stdout was closed and gives each report's line and the summary's.
write sweep2.json '{"name": "sweep2", "base": "configs/tiny.json", "seeds": [1, 2]}'
sweep_out="$work/piped"
"$runner" "$work/sweep2.json" --set predict=10000 --threads 1 --out "$sweep_out" 2>"$work/stderr" |
  head -n 1 >"$work/stdout"
code=${PIPESTATUS[0]}
complete=$(grep -l '"status": "completed"' "$sweep_out"/sweep2/*/report.json 2>/dev/null | wc -l)
if [[ $code -eq 0 && $complete -eq 2 && -s $sweep_out/sweep2/summary.csv ]] &&
   [[ $(cat "$work/stdout") == "Sweep sweep2: 2 points, into $sweep_out/sweep2" ]] &&
   [[ $(grep -c '^Report: ' "$work/stderr") -eq 2 ]] &&
   grep -q '^stdout was closed (as by `| head`)' "$work/stderr" &&
   [[ $(tail -n 1 "$work/stderr") == "Sweep sweep2: summary in $sweep_out/sweep2/summary.csv and summary.json" ]]; then
  pass sweep-stdout-closed-by-reader
else
  fail "sweep with stdout closed by its reader: exit $code, $complete complete; $(cat "$work/stderr")"
fi

# --- A diverging point is recorded and the sweep goes on --------------------
write diverge.json '{"name": "diverge", "base": "configs/tiny.json",
  "set": {"predict": 0, "optimizer": {"name": "sgd"}},
  "grid": {"optimizer.learning_rate": [1e30, 0.01]}}'
"$runner" "$work/diverge.json" --out "$work/diverge" >"$work/stdout" 2>"$work/stderr"
code=$?
statuses=$(python3 -c "
import glob, json, sys
rows = []
for p in sorted(glob.glob(sys.argv[1] + '/diverge/*/report.json')):
    r = json.load(open(p))
    rows.append('%s:%s:%s' % (r['sweep']['index'], r['status'], r.get('diverged_epoch')))
print(' '.join(rows))" "$work/diverge")
if [[ $code -eq 0 && $statuses == "0:diverged:1 1:completed:None" ]] &&
   grep -q "^| 1e+30 | 1 (1 diverged) | - |" "$work/stdout"; then
  pass sweep-diverged-point-recorded
else
  fail "diverging point: exit $code, $statuses, $(tail -4 "$work/stdout") $(cat "$work/stderr")"
fi

# --- compare: one config at 1 and 2 threads ---------------------------------
"$runner" configs/tiny.json --set predict=0 --threads 1 --out "$work/t1" >/dev/null 2>&1
"$runner" configs/tiny.json --set predict=0 --threads 2 --out "$work/t2" >/dev/null 2>&1
if "$runner" compare "$work/t1" "$work/t2" >"$work/stdout" 2>"$work/stderr" &&
   grep -Eq '^\| tiny \| [0-9a-f]{8} \| 1/1 \| 0\.[0-9]{4} \| 0\.[0-9]{4} \| \+0\.0000 \|.*\| yes \| completed \|$' "$work/stdout" &&
   grep -q -- "- B vs A, tiny ([0-9a-f]*): threads: 1 -> 2$" "$work/stdout"; then
  pass compare-names-thread-count
else
  fail "compare at 1 and 2 threads: $(cat "$work/stdout" "$work/stderr")"
fi
"$runner" compare "$work/t1" >/dev/null 2>"$work/stderr"
code=$?
if [[ $code -eq 2 && $(wc -l <"$work/stderr") -eq 1 ]] && grep -q "compare: expected at least two" "$work/stderr"; then
  pass compare-needs-two-sides
else
  fail "compare with one side: exit $code, $(cat "$work/stderr")"
fi

# --- plot: SVGs for a sweep, well-formed (and rendered, with rsvg-convert) ---
if "$runner" plot "$out/sweep4" >"$work/stdout" 2>"$work/stderr" &&
   python3 - "$out/sweep4/plots" <<'PY'
import os, sys, xml.etree.ElementTree as ET
names = sorted(os.listdir(sys.argv[1]))
expected = ["accuracy_vs_model.0.units.svg", "accuracy_vs_time.svg",
            "learning_curves_accuracy.svg", "learning_curves_loss.svg"]
for name in names:
    root = ET.parse(os.path.join(sys.argv[1], name)).getroot()
    assert root.tag.endswith("svg"), name
    text = "".join(root.itertext())
    assert "accuracy" in text or "loss" in text, name
sys.exit(0 if names == expected else 1)
PY
then
  rendered=ok
  if command -v rsvg-convert >/dev/null; then
    for svg in "$out"/sweep4/plots/*.svg; do
      rsvg-convert -o "$work/plot.png" "$svg" 2>>"$work/stderr" && [[ -s $work/plot.png ]] || rendered="failed: $svg"
    done
  fi
  if [[ $rendered == ok && $(grep -c "^Plot: " "$work/stdout") -eq 4 ]]; then
    pass plot-writes-svgs
  else
    fail "plot: render $rendered; $(cat "$work/stdout" "$work/stderr")"
  fi
else
  fail "plot: $(ls "$out/sweep4/plots" 2>&1) $(cat "$work/stdout" "$work/stderr")"
fi

# --- Bad specs and commands --------------------------------------------------
write bad_axis.json '{"name": "bad", "base": "configs/tiny.json", "grid": {"model.0.unitz": [1, 2]}}'
expect_input_error sweep-unknown-axis-key "bad_axis.json: point 0 (model.0.unitz=1): configs/tiny.json: model.0.unitz: unknown key" \
  "$work/bad_axis.json"
write bad_spec.json '{"name": "bad", "base": "configs/tiny.json", "seeds": [1, 1]}'
expect_input_error sweep-bad-spec "bad_spec.json: seeds.1: seed 1 is listed twice" "$work/bad_spec.json"
write no_base.json '{"name": "bad", "base": "no/such/config.json"}'
expect_input_error sweep-missing-base "no/such/config.json" "$work/no_base.json"
expect_input_error shard-on-a-config "--shard: configs/tiny.json is a config, not a sweep spec" \
  configs/tiny.json --shard 0/2
expect_input_error bad-shard "--shard: expected K/N" "$work/sweep4.json" --shard 2/2
OMPI_COMM_WORLD_RANK=x OMPI_COMM_WORLD_SIZE=2 \
  expect_input_error bad-shard-environment "environment variable OMPI_COMM_WORLD_RANK" "$work/sweep4.json"
mkdir -p "$work/empty"
"$runner" summarize "$work/empty" >/dev/null 2>"$work/stderr"
code=$?
if [[ $code -eq 2 && $(wc -l <"$work/stderr") -eq 1 ]] && grep -q "empty: no report.json files" "$work/stderr" &&
   [[ -z $(ls -A "$work/empty") ]]; then
  pass summarize-empty-dir
else
  fail "summarize of an empty dir: exit $code, $(cat "$work/stderr")"
fi

for command in summarize plot; do
  "$runner" "$command" configs/tiny.json >/dev/null 2>"$work/stderr"
  code=$?
  if [[ $code -eq 2 && $(wc -l <"$work/stderr") -eq 1 ]] &&
     grep -q "configs/tiny.json: not a directory" "$work/stderr"; then
    pass "$command-of-a-file"
  else
    fail "$command of a file: exit $code, $(cat "$work/stderr")"
  fi
done

summary
