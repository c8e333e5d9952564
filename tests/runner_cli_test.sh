#!/usr/bin/env bash
# The runner binary from the outside: bad configs and data stop with a
# one-line error naming the problem, exit code 2 and no run directory; a
# good config writes a complete run directory; a saved model loads back;
# SIGINT during and after training, and a stdout closed by its reader, end
# with a clear line, the right report status and exit code.
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

expect_input_error evaluate-without-weights "tiny.json: init_from: evaluate needs the weights" \
  evaluate configs/tiny.json
expect_input_error evaluate-shard "evaluate: --shard is for sweeps" evaluate configs/tiny.json --shard 0/2

# A layer that cannot take its input is named before anything is read.
expect_input_error conv-too-large 'convnet.json: model.4.kernel_size: 6x5 kernel does not fit the 5x5 input from model.3' \
  configs/convnet.json --set 'model.4.kernel_size=[6,5]'
expect_input_error dense-on-image "model.1: dense needs a vector input" \
  configs/convnet.json --set 'model=[{"type": "conv2d", "filters": 2, "kernel_size": 3}, {"units": 10, "activation": "softmax"}]'

# Early stopping as Keras does it: improvements below min_delta 1.0 do not
# count, so patience 1 ends a 5-epoch run after epoch 2, complete, and the
# best epoch's weights are restored. A cosine schedule's rate is recorded.
out="$work/early"
if "$runner" configs/tiny.json --set epochs=5 --set predict=0 \
     --set 'early_stopping={"monitor": "loss", "patience": 1, "min_delta": 1.0, "restore_best_weights": true}' \
     --set 'optimizer={"name": "rmsprop", "learning_rate": {"name": "cosine_decay", "initial_learning_rate": 0.002, "decay_steps": 100}}' \
     --out "$out" >"$work/stdout" 2>"$work/stderr"; then
  run_dir=$(ls -d "$out"/*/ | head -n 1)
  if checked=$(python3 - "$run_dir" 2>&1 <<'EOF'
import csv, json, sys
report = json.load(open(sys.argv[1] + "/report.json"))
assert report["status"] == "completed", report["status"]
assert len(report["epochs"]) == 2, len(report["epochs"])
assert report["early_stopping"] == {"stopped_epoch": 2, "best_epoch": 1,
                                    "restored_best_weights": True}, report["early_stopping"]
# Keras' CosineDecay after 469 steps of 100: alpha * 0.002 = 0.
assert [e["learning_rate"] for e in report["epochs"]] == [0.0, 0.0], report["epochs"]
rows = list(csv.DictReader(open(sys.argv[1] + "/epochs.csv")))
assert [r["learning_rate"] for r in rows] == ["0", "0"], rows
EOF
  ) && grep -q "^Epoch 2: early stopping$" "$work/stdout"; then
    pass early-stopping
  else
    fail "early stopping: $checked $(cat "$work/stdout")"
  fi
else
  fail "early stopping: exit $?: $(cat "$work/stderr")"
fi

# A small convnet end to end (5% of the training set): the report lists
# its layers as Keras' summary does, and its saved model loads back.
out="$work/convnet"
small_convnet=(configs/convnet.json --set epochs=1 --set validation_split=0.95
               --set model.0.filters=4 --set model.2.filters=4 --set model.4.filters=4)
if "$runner" "${small_convnet[@]}" --set save_model=true --out "$out" >"$work/stdout" 2>"$work/stderr"; then
  run_dir=$(ls -d "$out"/*/ | head -n 1)
  if layers=$(python3 - "$run_dir/report.json" 2>&1 <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
layers = report["training"]["layers"]
shapes = [layer["output_shape"] for layer in layers]
assert report["status"] == "completed", report["status"]
assert [l["type"] for l in layers] == ["conv2d", "max_pooling2d", "conv2d", "max_pooling2d",
                                       "conv2d", "flatten", "dense", "dense"], layers
assert shapes == [[26, 26, 4], [13, 13, 4], [11, 11, 4], [5, 5, 4], [3, 3, 4], [36], [64], [10]], shapes
assert [l["parameters"] for l in layers] == [40, 0, 148, 0, 148, 0, 2368, 650], layers
assert report["training"]["parameters"] == 3354, report["training"]["parameters"]
assert report["training"]["first_layer_kernel"] == "dense"
EOF
  ) && "$runner" "${small_convnet[@]}" --set "init_from=\"${run_dir}model.safetensors\"" \
         --out "$work/convnet2" >/dev/null 2>"$work/stderr"; then
    pass convnet-run
  else
    fail "convnet run: $layers $(cat "$work/stderr")"
  fi
  # runner evaluate: the saved weights score on the test set exactly as at
  # the end of their run, with nothing trained.
  if "$runner" evaluate "${small_convnet[@]}" --set "init_from=\"${run_dir}model.safetensors\"" \
       --out "$work/evaluated" >"$work/stdout" 2>"$work/stderr" &&
     evaluated=$(python3 - "$run_dir/report.json" "$(ls -d "$work/evaluated"/*/)report.json" 2>&1 <<'EOF'
import json, sys
trained, evaluated = (json.load(open(path)) for path in sys.argv[1:3])
assert evaluated["status"] == "evaluated", evaluated["status"]
assert evaluated["epochs"] == [], evaluated["epochs"]
for key in ("loss", "accuracy", "confusion_matrix", "accuracy_ci95"):
    assert evaluated["test"][key] == trained["test"][key], key
EOF
     ) && grep -q "per class: 0:" "$work/stdout"; then
    pass evaluate
  else
    fail "evaluate: ${evaluated:-} $(cat "$work/stderr")"
  fi
else
  fail "convnet run: exit $?: $(cat "$work/stderr")"
fi

# A complete run: report.json (status completed, test accuracy), epochs.csv
# with one row per epoch, the saved model, and the Keras-like epoch line.
# MB_MEMORY_LIMIT_BYTES (4 GB) is the available memory the report records.
out="$work/good"
if MB_MEMORY_LIMIT_BYTES=4000000000 "$runner" configs/tiny.json --set epochs=2 --set save_model=true \
     --out "$out" >"$work/stdout" 2>"$work/stderr"; then
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
  # report.json's memory: the estimate is the sum of its parts and within a
  # factor of 2 of the measured peak RSS.
  if memory=$(python3 - "$run_dir/report.json" 2>&1 <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
memory = report["memory"]
estimated, peak = memory["estimated_bytes"], report["peak_rss_bytes"]
print(f"estimated {estimated} bytes, peak {peak} bytes")
assert estimated == sum(memory["estimate"].values()), memory
assert memory["available_bytes"] == 4000000000, memory
assert memory["available_source"] == "MB_MEMORY_LIMIT_BYTES", memory
assert 0.5 <= peak / estimated <= 2, "peak / estimated out of [0.5, 2]"
EOF
  ); then
    pass "memory-in-report ($memory)"
  else
    fail "memory in report.json: $memory"
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

# max_steps: 3 epochs of 469 steps cut at 600, the second part-way; the
# report's timing adds up to no more than the run's total.
out="$work/max-steps"
if "$runner" configs/tiny.json --set epochs=3 --set max_steps=600 --set predict=0 \
     --out "$out" >"$work/stdout" 2>"$work/stderr" &&
   checked=$(python3 - "$(ls -d "$out"/*/ | head -n 1)report.json" 2>&1 <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["status"] == "completed", report["status"]
assert [e["steps"] for e in report["epochs"]] == [469, 131], report["epochs"]
t = report["timing"]
parts = [t["load_seconds"], t["setup_seconds"], t["training_seconds"], t["test_seconds"]]
assert all(p > 0 for p in parts), t
assert sum(parts) <= report["total_seconds"], (t, report["total_seconds"])
assert t["training_seconds"] >= sum(e["seconds"] for e in report["epochs"]), t
EOF
   ) && grep -q "^Epoch 2/3 - 131/131 - " "$work/stdout"; then
  pass max-steps-and-timing
else
  fail "max_steps: $checked $(cat "$work/stdout" "$work/stderr")"
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
wait_for_report "$out" '"epoch": 1'
kill -INT "$pid"
wait "$pid"
code=$?
if [[ $code -eq 130 ]] && grep -qs '"status": "interrupted"' "$out"/*/report.json &&
   stderr_lines | tail -n 1 | grep -Eq '^tiny: interrupted in epoch [0-9]+; [0-9]+ epochs completed$'; then
  pass interrupt
else
  fail "interrupt: exit $code, report: $(cat "$out"/*/report.json 2>/dev/null | head -3), stderr: $(cat "$work/stderr")"
fi

# SIGINT after the last training step (here while the predictions are
# printed): the run is complete, so it writes its test results, predictions
# and model, ends "completed", and exits 130 saying so.
out="$work/interrupted-after-training"
signal_at_line INT '^Test: ' "$work/stdout" configs/tiny.json --set predict=10000 \
  --set save_model=true --out "$out"
code=$?
if [[ $code -eq 130 ]] && grep -qs '"status": "completed"' "$out"/*/report.json &&
   [[ -s $(ls "$out"/*/model.safetensors) && $(grep -c '^  image ' "$work/stdout") -eq 10000 ]] &&
   [[ $(tail -n 1 "$work/stdout") == "Report: $out/"*"/report.json ("*"s total)" ]] &&
   [[ $(stderr_lines | tail -n 1) == "tiny: interrupted after training had finished: the run is complete" ]]; then
  pass interrupt-after-training
else
  fail "interrupt after training: exit $code, $(grep -s '"status"' "$out"/*/report.json), stdout ends: $(tail -n 1 "$work/stdout"), stderr: $(cat "$work/stderr")"
fi

# A reader that closes stdout early (| head -1) stops nothing: the run goes
# on and completes, stderr says so and repeats the report's line, and the
# exit code is the run's (0). The predictions outgrow the pipe, so the
# runner writes to it after head has gone.
out="$work/piped"
"$runner" configs/tiny.json --set predict=10000 --out "$out" 2>"$work/stderr" | head -n 1 >"$work/stdout"
code=${PIPESTATUS[0]}
if [[ $code -eq 0 && $(wc -l <"$work/stdout") -eq 1 ]] && grep -q '^Run ' "$work/stdout" &&
   grep -qs '"status": "completed"' "$out"/*/report.json &&
   [[ $(stderr_lines | wc -l) -eq 2 ]] &&
   grep -q '^stdout was closed (as by `| head`) or cannot be written: carrying on without it' "$work/stderr" &&
   [[ $(tail -n 1 "$work/stderr") == "Report: $out/"*"/report.json ("*"s total)" ]]; then
  pass stdout-closed-by-reader
else
  fail "stdout closed by its reader: exit $code, $(grep -s '"status"' "$out"/*/report.json), stderr: $(cat "$work/stderr")"
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
# The "Run" line counts threads in words: "1 thread", "2 threads".
if grep -Eq "^Run .*; 1 thread, [A-Za-z0-9_]+ kernels$" "$work/log"; then
  pass run-line-one-thread
else
  fail "Run line with --threads 1: $(grep "^Run " "$work/log")"
fi

summary
