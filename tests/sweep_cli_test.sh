#!/usr/bin/env bash
# Sweeps from the outside: a sweep killed with SIGKILL at several moments and
# run again ends with every point complete exactly once and a correct
# summary; sharded runs (--shard, and mpirun when Open MPI is installed)
# together equal a single run; bad specs are one-line errors that write
# nothing; time to accuracy is recorded; a summary counts each run once and
# only the current spec's points; reports of another schema_version are
# refused; SIGINT while a point loads, trains or finishes starts no further
# point and lists the points left; a stdout closed by its reader stops
# nothing; copies of one sweep started together or apart, and launchers of
# any numbering, run each point once under its claim.
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
cut_off=$(grep -c "was cut off" "$work/killed.log")
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

# Run again, with another thread count: every point is skipped (the thread
# count cannot change a point's numbers, so it is not part of its identity).
"$runner" "$work/sweep4.json" --set epochs=2 --threads 2 --out "$out" >"$work/stdout" 2>&1
if [[ $(grep -c "is complete, skipped" "$work/stdout") -eq 4 ]] &&
   grep -q "nothing left to claim (4 points complete, 0 running in another process)" "$work/stdout" &&
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

# A point killed after an epoch continues from its checkpoint when the sweep
# runs again, and its results are those of the sweep never interrupted
# ($out's, run with the same settings).
resumed="$work/resumed"
(MNISTBENCH_TEST_SIGKILL_AFTER_EPOCH=1 "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 \
   --out "$resumed" >/dev/null; exit $?) 2>/dev/null
"$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$resumed" >"$work/stdout" 2>&1
if grep -q "was cut off: resuming it from its checkpoint" "$work/stdout" &&
   [[ "$(points "$resumed")" == "$(points "$out")" ]] &&
   [[ $(grep -l '"after_epoch": 1' "$resumed"/sweep4/*/report.json | wc -l) -eq 1 ]]; then
  pass sweep-resumes-point-from-checkpoint
else
  fail "sweep resume from a checkpoint: $(cat "$work/stdout")"
fi

# summarize on demand prints the table and rewrites the files.
rm "$out/sweep4/summary.csv"
if "$runner" summarize "$out/sweep4" >"$work/stdout" 2>"$work/stderr" &&
   grep -Eq '^\| (16|32) \| 2 \| 0\.[0-9]{4} ± 0\.[0-9]{4} \(0\.[0-9]{4}-0\.[0-9]{4}\) \|' "$work/stdout" &&
   [[ $(wc -l <"$out/sweep4/summary.csv") -eq 3 ]]; then
  pass summarize
else
  fail "summarize: $(cat "$work/stdout" "$work/stderr")"
fi

# A killed sweep's temporaries (of the sweep's own files, of a point's) are
# removed when it runs again; a live process's are kept.
host=$(runner_host)
point_dir=$(ls -d "$out"/sweep4/*/ | head -n 1)
stale_top="$out/sweep4/summary.json.tmp.$host.$(dead_pid).Ab3dE9"
stale_point="${point_dir}model.safetensors.tmp.$host.$(dead_pid).Ab3dE9"
live="$out/sweep4/sweep.json.tmp.$host.$$.Ab3dE9"
touch "$stale_top" "$stale_point" "$live"
"$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$out" >"$work/stdout" 2>&1
if [[ ! -e $stale_top && ! -e $stale_point && -e $live ]] &&
   grep -q "^Sweep sweep4: removed 2 temporary files left by killed runs$" "$work/stdout"; then
  pass sweep-removes-stale-temporaries
else
  fail "sweep stale temporaries: $(find "$out/sweep4" -name '*.tmp*'); $(cat "$work/stdout")"
fi
rm -f "$live"

# The spec changed (one width left) in a copy of the sweep: the other
# width's points are left out of its summary, with a note, unless --all.
# Copies of a report count once, with a note.
mkdir -p "$work/respec"
cp -r "$out/sweep4" "$work/respec/sweep4"
for copy in 1 2 3; do cp -r "$point_dir" "$work/respec/sweep4/copy-$copy"; done
write sweep4-narrowed.json '{"name": "sweep4", "base": "configs/tiny.json",
  "set": {"predict": 0}, "grid": {"model.0.units": [16]}, "seeds": [1, 2]}'
"$runner" "$work/sweep4-narrowed.json" --set epochs=2 --threads 1 --out "$work/respec" >"$work/stdout" 2>&1
code=$?
"$runner" summarize --all "$work/respec/sweep4" >"$work/stdout-all" 2>&1
code_all=$?
rows() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(len(s['rows']), s['runs'], s['not_in_spec'], s['duplicate_reports'])" "$1"; }
narrowed=$(grep -c "is complete, skipped" "$work/stdout")
if [[ $code -eq 0 && $code_all -eq 0 && $narrowed -eq 2 ]] &&
   grep -q "^1 configs from 2 complete runs, .* 2 runs not in the current spec left out (runner summarize --all keeps them)\.$" "$work/stdout" &&
   grep -q "^2 configs from 4 complete runs, .* 3 duplicate reports of 1 runs merged (each run counts once, with its newest complete report)\.$" "$work/stdout-all" &&
   [[ $(rows "$work/respec/sweep4/summary.json") == "2 4 0 3" ]]; then
  pass summary-keeps-current-spec-and-merges-copies
else
  fail "narrowed spec: exit $code/$code_all, $narrowed skipped; $(tail -3 "$work/stdout") // $(tail -3 "$work/stdout-all")"
fi
# Without --all, summarize leaves them out again.
"$runner" summarize "$work/respec/sweep4" >"$work/stdout" 2>&1
if grep -q "^1 configs from 2 complete runs, .* 2 runs not in the current spec left out" "$work/stdout" &&
   [[ $(rows "$work/respec/sweep4/summary.json") == "1 2 "* ]]; then
  pass summarize-keeps-current-spec
else
  fail "summarize of the narrowed sweep: $(cat "$work/stdout")"
fi

# --- Shards: their union is the single run, bitwise ------------------------
single=$(points "$out")
for k in 0 1; do
  "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --shard "$k/2" --out "$work/shards" >"$work/stdout-$k" 2>&1
done
if [[ $(points "$work/shards") == "$single" ]] &&
   grep -q "shard 0/2 tries 2 of them" "$work/stdout-0"; then
  pass shard-union-equals-single-run
else
  fail "--shard union differs from the single run: $(points "$work/shards") vs $single"
fi

# only_rank_lines FILE RANK...: every line of FILE starts with one of the
# ranks' labels, and each rank printed; no live bar, no escape codes.
only_rank_lines() {
  local file=$1 rank
  shift
  for rank in "$@"; do grep -q "^\[$rank\] Sweep sweep4: 4 points, into" "$file" || return 1; done
  local labels
  labels=$(printf '%s\|' "$@")
  ! grep -v "^\[\(${labels%\\|}\)\] " "$file" | grep -q . && ! grep -q $'[\r\033]' "$file"
}

if command -v mpirun >/dev/null; then
  # The ranks share the points through their claims; each line says whose
  # it is (Open MPI gives the ranks a terminal: no bars were drawn all the same).
  mpirun --allow-run-as-root --oversubscribe -np 2 \
    "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$work/mpi" >"$work/stdout" 2>&1
  code=$?
  if [[ $code -eq 0 && $(points "$work/mpi") == "$single" ]] &&
     only_rank_lines "$work/stdout" OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_RANK=1; then
    pass mpirun-union-equals-single-run
  else
    fail "mpirun -np 2: exit $code; $(points "$work/mpi") vs $single; $(tail -5 "$work/stdout" | cat -A)"
  fi
else
  skip "mpirun-union-equals-single-run: mpirun not installed (apt-get install openmpi-bin)"
fi

# --- Two copies of one sweep into one --out ----------------------------------
# Each point runs once, under its claim: nothing is run twice, nothing of the
# other copy's is taken for cut off, and both exit 0.
claims_state() {  # DIR: exit codes, reports, run dirs, "cut off" lines, claim files left
  local dir=$1
  echo "exits=$2,$3 reports=$(find "$dir/sweep4" -name report.json | wc -l)" \
       "completed=$(grep -l '"status": "completed"' "$dir"/sweep4/*/report.json 2>/dev/null | wc -l)" \
       "dirs=$(find "$dir/sweep4" -mindepth 1 -maxdepth 1 -type d | wc -l)" \
       "cut_off=$(cat "$dir".log-* | grep -c 'was cut off')" \
       "claims=$(find "$dir" -name '*.claim*' | wc -l)"
}
expected_claims_state="reports=4 completed=4 dirs=4 cut_off=0 claims=0"
# two_copies DIR APART ENV_A ENV_B: the 4-point sweep twice into DIR, the
# second copy started at once or, with APART=apart, once the first is inside
# its first point; ENV_X are variable assignments for each ("" for none).
# Sets pid_a (the first copy's) and state (claims_state of both).
two_copies() {
  local dir=$1 apart=$2 env_a=$3 env_b=$4 waited=0
  : >"$dir.log-a"
  # shellcheck disable=SC2086  # the assignments split into words
  env $env_a "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$dir" >"$dir.log-a" 2>&1 &
  pid_a=$!
  while [[ $apart == apart ]] && ! grep -q "^Epoch 1/2" "$dir.log-a" && [[ $waited -lt 1200 ]] &&
        kill -0 "$pid_a" 2>/dev/null; do
    sleep 0.05
    waited=$((waited + 1))
  done
  # shellcheck disable=SC2086
  env $env_b "$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$dir" >"$dir.log-b" 2>&1
  local code_b=$?
  wait "$pid_a"
  state=$(claims_state "$dir" "$?" "$code_b")
}

together="$work/together"
two_copies "$together" together "" ""
ran=$(cat "$together".log-* | sed -n 's/.*: \([0-9]*\) points run.*/\1/p' | awk '{s += $1} END {print s + 0}')
if [[ $state == "exits=0,0 $expected_claims_state" && $ran -eq 4 &&
      $(points "$together") == "$single" ]]; then
  pass two-copies-started-together
else
  fail "two copies started together: $state, $ran points run; $(cat "$together".log-*)"
fi

# The second copy starts while the first is inside its first point.
apart="$work/apart"
two_copies "$apart" apart "" ""
if [[ $state == "exits=0,0 $expected_claims_state" && $(points "$apart") == "$single" ]] &&
   grep -q "is running on $(hostname) (pid $pid_a), skipped" "$apart.log-b"; then
  pass two-copies-started-apart
else
  fail "two copies started apart: $state; $(cat "$apart".log-*)"
fi

# A claim from another host: respected while its heartbeat is fresh, taken
# over once it is older than the timeout (120 s).
foreign="$work/foreign"
point0=$(basename "$(find "$together/sweep4" -mindepth 1 -maxdepth 1 -type d -name '000-*')")
mkdir -p "$foreign/sweep4"
echo '{"host": "elsewhere.example", "pid": 4242}' >"$foreign/sweep4/$point0.claim"
"$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$foreign" >"$work/stdout" 2>&1
code=$?
if [[ $code -eq 0 && $(find "$foreign/sweep4" -name report.json | wc -l) -eq 3 ]] &&
   grep -q "point 1/4 (model.0.units=16, seed=1) is running on elsewhere.example (pid 4242), skipped" "$work/stdout" &&
   grep -q "3 points run (0 diverged), 0 already complete, 1 running in another process" "$work/stdout" &&
   grep -q "slowest run. 1 still running is left out: $point0 running on elsewhere.example (pid 4242).$" "$work/stdout" &&
   python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(not (s['incomplete'] == 0 and
     [(r['host'], r['pid']) for r in s['running']] == [('elsewhere.example', 4242)]))" "$foreign/sweep4/summary.json"; then
  pass foreign-live-claim-respected
else
  fail "a live claim of another host: exit $code; $(cat "$work/stdout")"
fi
touch -d '10 minutes ago' "$foreign/sweep4/$point0.claim"
"$runner" "$work/sweep4.json" --set epochs=2 --threads 1 --out "$foreign" >"$work/stdout" 2>&1
code=$?
if [[ $code -eq 0 && $(points "$foreign") == "$single" && ! -e "$foreign/sweep4/$point0.claim" ]] &&
   grep -q "point 1/4 (model.0.units=16, seed=1) was claimed by elsewhere.example (pid 4242), which is gone: taking it over" "$work/stdout" &&
   grep -q "1 points run (0 diverged), 3 already complete" "$work/stdout"; then
  pass foreign-stale-claim-taken-over
else
  fail "a stale claim of another host: exit $code; $(cat "$work/stdout")"
fi

# An array of any ids (sbatch --array=1,3: task 3 "outside the 2 tasks" was
# an error) and plain srun without PMI (two tasks that each ran every point)
# share the points like any copies.
array="$work/array"
two_copies "$array" together "SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=1" \
  "SLURM_PROCID=1 SLURM_NTASKS=2"
if [[ $state == "exits=0,0 $expected_claims_state" && $(points "$array") == "$single" ]] &&
   only_rank_lines "$array.log-a" SLURM_ARRAY_TASK_ID=3 && only_rank_lines "$array.log-b" SLURM_PROCID=1; then
  pass launchers-of-any-numbering
else
  fail "array task 3 of 2 and srun without PMI: $state; $(cat "$array".log-*)"
fi

# On a terminal a run draws its live bar; under a launcher it does not (mpirun
# gives every rank a terminal, and the bars of ranks overwrote each other),
# and its lines carry the rank. `script` runs each on a terminal of its own
# (which turns \n into \r\n).
write one.json '{"name": "one", "base": "configs/tiny.json", "set": {"predict": 0}}'
on_terminal() {  # LOG COMMAND...
  local log=$1
  shift
  script -qec "$(printf '%q ' "$@")" /dev/null >"$log" 2>&1 </dev/null
}
if command -v script >/dev/null; then
  on_terminal "$work/tty.log" "$runner" configs/tiny.json --set predict=0 --threads 1 --out "$work/tty"
  on_terminal "$work/tty-rank.log" env SLURM_PROCID=1 "$runner" "$work/one.json" --threads 1 \
    --out "$work/tty"
  if grep -q $'\r\033\\[K' "$work/tty.log" && grep -q '\[=====' "$work/tty.log" &&
     ! grep -q $'\033' "$work/tty-rank.log" && ! grep -q '\[=====' "$work/tty-rank.log" &&
     grep -q '^\[SLURM_PROCID=1\] Epoch 1/1 - 469/469 - ' "$work/tty-rank.log" &&
     ! tr -d '\r' <"$work/tty-rank.log" | grep -v '^\[SLURM_PROCID=1\] ' | grep -q .; then
    pass rank-lines-prefixed-no-live-bar
  else
    fail "terminal output: $(cat -A "$work/tty.log" | head -3); under a rank: $(cat -A "$work/tty-rank.log" | head -5)"
  fi
else
  skip "rank-lines-prefixed-no-live-bar: script not installed (util-linux)"
fi

# --- Time to accuracy --------------------------------------------------------
if "$runner" configs/tiny.json --set validation_split=0.1 --set target_accuracy=0.85 \
     --set target_every_steps=20 --set predict=0 \
     --out "$work/target" >"$work/stdout" 2>"$work/stderr" &&
   python3 - "$work/target" <<'PY'
import glob, json, sys
r = json.load(open(glob.glob(sys.argv[1] + "/*/report.json")[0]))
t = r["target"]
ok = (t["reached"] and t["set"] == "validation" and t["step"] % 20 == 0 and t["reached_accuracy"] >= 0.85
      and 0 < t["seconds"] <= r["total_seconds"] and r["epochs"][0]["steps"] == t["step"] < 422
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
   grep -q "was cut off: \(removing\|resuming\)" "$work/stdout2"; then
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
expect_command_error compare-needs-two-sides "compare: expected at least two" compare "$work/t1"

# A report of another schema_version is refused by every reader, naming it.
mkdir -p "$work/future"
cp -r "$(ls -d "$work"/t1/*/ | head -n 1)" "$work/future/run"
sed -i 's/"schema_version": 1,/"schema_version": 999,/' "$work/future/run/report.json"
unsupported="future/run/report.json: schema_version: 999 is not supported (this build reads 1)$"
expect_command_error summarize-refuses-other-schema-version "$unsupported" summarize "$work/future"
expect_command_error compare-refuses-other-schema-version "$unsupported" compare "$work/t1" "$work/future"
expect_command_error plot-refuses-other-schema-version "$unsupported" plot "$work/future"

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
  expect_command_error "$command-of-a-file" "configs/tiny.json: not a directory" "$command" configs/tiny.json
done

summary
