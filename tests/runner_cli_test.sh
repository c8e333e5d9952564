#!/usr/bin/env bash
# The runner binary from the outside: bad configs and data stop with a
# one-line error naming the problem, exit code 2 and no run directory; a
# good config writes a complete run directory; a saved model loads back.
# Usage: runner_cli_test.sh PATH/TO/runner   (run from the repository root)
set -u
runner=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_lib.sh"

write unknown_key.json '{"epochs": 1, "optimizer": {"name": "rmsprop", "learnig_rate": 0.01}}'
expect_input_error unknown-key "optimizer.learnig_rate.*learning_rate" "$work/unknown_key.json"

write wrong_type.json '{"epochs": "five"}'
expect_input_error wrong-type "wrong_type.json.*epochs" "$work/wrong_type.json"

write out_of_range.json '{"batch_size": 0}'
expect_input_error out-of-range "batch_size" "$work/out_of_range.json"

write missing_data.json '{"data": {"train_images": "no/such/file.gz"}}'
expect_input_error missing-data-file "data.train_images.*no/such/file.gz" "$work/missing_data.json"

write malformed.json '{"epochs": 1,,}'
expect_input_error malformed-json "line 1" "$work/malformed.json"

expect_input_error missing-config "no_such_config.json" "$work/no_such_config.json"
expect_input_error bad-set "epochs" configs/tiny.json --set epochs=0
expect_input_error bad-threads "--threads" configs/tiny.json --threads zero
expect_input_error unknown-option "--frobnicate" configs/tiny.json --frobnicate

if "$runner" --help | grep -q "validation_split"; then pass help; else fail "help does not document the config keys"; fi

# A complete run: report.json (status completed, test accuracy), epochs.csv
# with one row per epoch, the saved model, and the Keras-like epoch line.
out="$work/good"
if "$runner" configs/tiny.json --set epochs=2 --set save_model=true --out "$out" >"$work/stdout" 2>"$work/stderr"; then
  run_dir=$(ls -d "$out"/*/ | head -n 1)
  if grep -q '"status": "completed"' "$run_dir/report.json" &&
     grep -q '"accuracy"' "$run_dir/report.json" &&
     [[ $(wc -l <"$run_dir/epochs.csv") -eq 3 ]] &&
     [[ -s "$run_dir/model.safetensors" ]] &&
     grep -Eq '^Epoch 2/2 - [0-9]+/[0-9]+ - [0-9.]+s - loss: [0-9.]+ - accuracy: [0-9.]+$' "$work/stdout"; then
    pass complete-run
  else
    fail "complete run: missing or wrong files in $run_dir: $(ls "$run_dir"); stdout: $(cat "$work/stdout")"
  fi
  # The saved model as init_from, trained for one more epoch.
  if "$runner" configs/tiny.json --set epochs=1 --set "init_from=\"${run_dir}model.safetensors\"" --out "$work/again" >"$work/stdout2" 2>"$work/stderr"; then
    pass init-from-saved-model
  else
    fail "init_from the saved model: $(cat "$work/stderr")"
  fi
else
  fail "complete run exited $?: $(cat "$work/stderr")"
fi

write wrong_init.json '{"init_from": "'"$work"'/wrong.safetensors"}'
printf 'not a safetensors file' >"$work/wrong.safetensors"
expect_input_error bad-init-from "wrong.safetensors" "$work/wrong_init.json"

# A run whose loss becomes NaN stops with exit 3 and a report marked diverged.
out="$work/diverged"
"$runner" configs/tiny.json --set 'optimizer={"name": "sgd", "learning_rate": 1e30}' --out "$out" >"$work/stdout" 2>"$work/stderr"
code=$?
if [[ $code -eq 3 ]] && grep -qs '"status": "diverged"' "$out"/*/report.json &&
   grep -qs '"diverged_epoch": 1' "$out"/*/report.json; then
  pass diverged
else
  fail "diverged: exit $code, $(cat "$work/stderr")"
fi

# SIGINT stops the run after the current step: exit 130, and the report says
# "interrupted" with the epochs completed so far.
out="$work/interrupted"
"$runner" configs/tiny.json --set epochs=1000 --out "$out" >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 100); do  # until the first epoch's report exists (at most 10 s)
  grep -qs '"epoch": 1' "$out"/*/report.json && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
if [[ $code -eq 130 ]] && grep -qs '"status": "interrupted"' "$out"/*/report.json; then
  pass interrupt
else
  fail "interrupt: exit $code, report: $(cat "$out"/*/report.json 2>/dev/null | head -3)"
fi

# stdout is line-buffered: in one log with stderr (a batch job's), each line
# comes out when it ends, so the "Run" line is there while the first epoch
# (about 3 s with 2048 units on one thread) runs, and before the
# interruption's lines.
out="$work/ordered"
"$runner" configs/tiny.json --set model.0.units=2048 --set epochs=1000 --threads 1 --out "$out" \
  >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 300); do  # until the "Run" line is out (at most 30 s)
  grep -q "^Run " "$work/log" && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
run_line=$(grep -n "^Run " "$work/log" | cut -d: -f1)
interrupted_line=$(grep -n "interrupted in epoch 1;" "$work/log" | cut -d: -f1)
if [[ $code -eq 130 && -n $run_line && -n $interrupted_line && $run_line -lt $interrupted_line ]]; then
  pass stdout-lines-in-order-with-stderr
else
  fail "stdout and stderr in one log: exit $code; $(cat "$work/log")"
fi

summary
