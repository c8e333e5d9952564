#!/usr/bin/env bash
# `runner resume` from the outside: a 4-epoch baseline killed with SIGKILL
# after its second epoch (MNISTBENCH_TEST_SIGKILL_AFTER_EPOCH kills it right
# after the checkpoint is written, before the report is) and resumed ends
# bitwise identical to the same run never interrupted: every epoch's
# metrics, the test results, the predictions and the saved weights. The
# same with a schedule, and on a smaller model for every optimizer and
# option with state, schedules, the callbacks, dropout, another thread
# count and kills after the last epoch and after an early stop. And what cannot be resumed is refused with one line.
# Usage: resume_cli_test.sh PATH/TO/runner   (run from the repository root)
set -u
runner=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_lib.sh"

# same_results A_DIR B_DIR: empty when the two run directories hold the same
# results bit for bit, else what differs.
same_results() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(d + "/report.json")) for d in sys.argv[1:3])
problems = []
for key in ("status", "config_hash", "test", "predictions", "early_stopping", "target"):
    if a.get(key) != b.get(key):
        problems.append(key)
keys = ("epoch", "steps", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
strip = lambda report: [{k: e.get(k) for k in keys} for e in report["epochs"]]
if strip(a) != strip(b):
    problems.append("epochs")
if open(sys.argv[1] + "/model.safetensors", "rb").read() != open(sys.argv[2] + "/model.safetensors", "rb").read():
    problems.append("model.safetensors")
print(" ".join(problems))
PY
}

# killed_run EPOCH RUNNER-ARGS...: the run, killed by SIGKILL once epoch
# EPOCH's checkpoint is written; returns its exit status (137). In a
# subshell, so that bash does not report the kill.
killed_run() {
  local epoch=$1
  shift
  (MNISTBENCH_TEST_SIGKILL_AFTER_EPOCH=$epoch "$runner" "$@" >/dev/null; exit $?) 2>/dev/null
}

# check_resume NAME KILL_EPOCH RUNNER-ARGS...: the run uninterrupted, and
# killed after epoch KILL_EPOCH then resumed, end the same.
check_resume() {
  local name=$1 kill_epoch=$2
  shift 2
  local whole="$work/$name/whole" cut="$work/$name/cut"
  "$runner" "$@" --set save_model=true --out "$whole" >/dev/null 2>"$work/stderr" ||
    { fail "$name: the uninterrupted run failed: $(cat "$work/stderr")"; return; }
  killed_run "$kill_epoch" "$@" --set save_model=true --out "$cut"
  local code=$?
  local run_dir
  run_dir=$(ls -d "$cut"/*/ 2>/dev/null | head -n 1)
  run_dir=${run_dir%/}
  local left
  left=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['status'], len(r['epochs']))" \
           "$run_dir/report.json" 2>&1)
  if [[ $code -ne 137 || ! -f $run_dir/checkpoint.safetensors || $left != "running $((kill_epoch - 1))" ]]; then
    fail "$name: the killed run: exit $code, report '$left', files $(ls "$run_dir" 2>&1)"
    return
  fi
  "$runner" resume "$run_dir" >"$work/stdout" 2>"$work/stderr"
  code=$?
  local differs
  differs=$(same_results "$(ls -d "$whole"/*/ | head -n 1)" "$run_dir" 2>&1)
  if [[ $code -eq 0 && -z $differs && ! -e $run_dir/checkpoint.safetensors ]] &&
     grep -q "^Resuming $run_dir after epoch $kill_epoch of" "$work/stdout"; then
    pass "$name"
  else
    fail "$name: resume exit $code; differs: '$differs'; $(ls "$run_dir"); $(cat "$work/stderr")"
  fi
}

# The baseline itself, 4 epochs killed after the second, and with a schedule
# (on the small model under the sanitizers: tests/meson.build).
base=(configs/baseline.json --set epochs=4)
[[ ${MB_SANITIZED:-} == 1 ]] && base=(configs/tiny.json --set epochs=4)
check_resume rmsprop 2 "${base[@]}"
check_resume cosine-schedule 2 "${base[@]}" \
  --set 'optimizer={"name": "rmsprop", "learning_rate": {"name": "cosine_decay", "initial_learning_rate": 0.002, "decay_steps": 1500}}'
# Every optimizer and option with state, on a 64-unit model (the same code
# paths at an eighth of the cost: this suite also runs under the
# sanitizers), 3 epochs killed after the second.
small=(configs/tiny.json --set epochs=3)
check_resume other-threads 2 "${small[@]}" --threads 1
# The sanitized build (tests/meson.build) keeps one optimizer of each kind
# of state (amsgrad's maxima, nadam's scalar); optimizer_state_test checks
# every optimizer's state there.
if [[ ${MB_SANITIZED:-} != 1 ]]; then
  check_resume sgd-nesterov 2 "${small[@]}" \
    --set 'optimizer={"name": "sgd", "momentum": 0.9, "nesterov": true}'
  check_resume rmsprop-momentum-centered 2 "${small[@]}" \
    --set 'optimizer={"name": "rmsprop", "momentum": 0.5, "centered": true}'
  check_resume adamw-clipnorm 2 "${small[@]}" --set 'optimizer={"name": "adamw", "clipnorm": 1.0}'
  check_resume adagrad-weight-decay 2 "${small[@]}" \
    --set 'optimizer={"name": "adagrad", "learning_rate": 0.01, "weight_decay": 0.01}'
  check_resume adadelta 2 "${small[@]}" --set 'optimizer={"name": "adadelta", "learning_rate": 1.0}'
  check_resume adamax-clipvalue 2 "${small[@]}" --set 'optimizer={"name": "adamax", "clipvalue": 0.5}'
fi
check_resume adam-amsgrad 2 "${small[@]}" --set 'optimizer={"name": "adam", "amsgrad": true}'
check_resume nadam 2 "${small[@]}" --set 'optimizer={"name": "nadam"}'
if [[ ${MB_SANITIZED:-} != 1 ]]; then
  check_resume lion-global-clipnorm 2 "${small[@]}" \
    --set 'optimizer={"name": "lion", "learning_rate": 0.0001, "global_clipnorm": 1.0}'
  check_resume one-cycle-adam 2 "${small[@]}" \
    --set 'optimizer={"name": "adam", "learning_rate": {"name": "one_cycle", "max_lr": 0.003}}'
fi
# The callbacks' counters and the best weights survive the kill.
check_resume callbacks-dropout-validation 2 "${small[@]}" --set validation_split=0.1 \
  --set 'model=[{"units": 64, "activation": "relu"}, {"type": "dropout", "rate": 0.3}, {"units": 10, "activation": "softmax"}]' \
  --set 'early_stopping={"monitor": "val_loss", "patience": 3, "restore_best_weights": true}' \
  --set 'reduce_lr_on_plateau={"monitor": "val_loss", "patience": 1, "factor": 0.5, "min_delta": 0.01}'
# Killed after the last epoch, or after the one early stopping ended the run
# on: the resumed run only evaluates.
check_resume after-last-epoch 3 "${small[@]}"
check_resume after-early-stop 2 "${small[@]}" \
  --set 'early_stopping={"monitor": "loss", "patience": 1, "min_delta": 1.0, "restore_best_weights": true}'

# What cannot be resumed: one line on stderr, exit 2, the directory untouched.
expect_resume_error() {  # NAME PATTERN RUN_DIR
  local before
  before=$(ls -l --time-style=full-iso "$3" 2>&1)
  "$runner" resume "$3" >"$work/stdout" 2>"$work/stderr"
  local code=$?
  if [[ $code -eq 2 && $(wc -l <"$work/stderr") -eq 1 ]] && grep -q -- "$2" "$work/stderr" &&
     [[ $(ls -l --time-style=full-iso "$3" 2>&1) == "$before" ]]; then
    pass "$1"
  else
    fail "$1: exit $code: $(cat "$work/stderr")"
  fi
}
done_dir=$(ls -d "$work"/rmsprop/whole/*/ | head -n 1)
expect_resume_error completed-run "status: the run is completed: nothing to resume" "${done_dir%/}"
expect_resume_error not-a-run "not a run directory" "$work/no-such-run"

# Killed in its first epoch: no checkpoint yet.
killed_run 1 "${small[@]}" --out "$work/early-kill"
first=$(ls -d "$work"/early-kill/*/ | head -n 1)
first=${first%/}
rm "$first/checkpoint.safetensors"
expect_resume_error no-checkpoint "checkpoint.safetensors: missing: the run was cut off before its first epoch" "$first"

# A checkpoint of another config is refused by its hash.
killed_run 1 "${small[@]}" --set seed=2 --out "$work/other"
other=$(ls -d "$work"/other/*/ | head -n 1)
cp "${other%/}/checkpoint.safetensors" "$first/"
expect_resume_error other-config "checkpoint.safetensors: config_hash: the checkpoint is of config" "$first"

# A run still running in another process is not resumed: it holds a lock
# on its directory, which its end (here SIGKILL) releases.
"$runner" "${small[@]}" --set epochs=100000 --out "$work/live" >/dev/null 2>&1 &
live_pid=$!
for _ in $(seq 600); do  # until its first checkpoint is written (at most 60 s)
  compgen -G "$work/live/*/checkpoint.safetensors" >/dev/null && break
  sleep 0.1
done
live=$(ls -d "$work"/live/*/ 2>/dev/null | head -n 1)
"$runner" resume "${live%/}" >/dev/null 2>"$work/stderr"
code=$?
kill -KILL "$live_pid" 2>/dev/null
wait "$live_pid" 2>/dev/null
if [[ $code -eq 2 && $(wc -l <"$work/stderr") -eq 1 ]] &&
   grep -q "the run is still running in another process" "$work/stderr"; then
  pass live-run-refused
else
  fail "resume of a live run: exit $code: $(cat "$work/stderr")"
fi

# An interrupted run (SIGINT: status "interrupted") resumes as a killed one.
sed -i 's/"status": "running"/"status": "interrupted"/' "${other%/}/report.json"
if "$runner" resume "${other%/}" >/dev/null 2>"$work/stderr" &&
   grep -q '"status": "completed"' "${other%/}/report.json" &&
   grep -q '"after_epoch": 1' "${other%/}/report.json"; then
  pass interrupted-run-resumes
else
  fail "interrupted run: $(cat "$work/stderr")"
fi

summary
