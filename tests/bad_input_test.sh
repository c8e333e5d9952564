#!/usr/bin/env bash
# Every kind of bad input against the built runner: configs, IDX data files,
# safetensors files for init_from, and an output directory that cannot be
# written. Each must end with exit 2 (4 for the output), one line on stderr
# naming the file (and key path where there is one), and nothing written.
# Usage: bad_input_test.sh PATH/TO/runner   (run from the repository root)
set -u
runner=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_lib.sh"

# --- Configs -----------------------------------------------------------------
# Each case overrides configs/tiny.json (a valid config) with one bad value.
bad_set() {  # NAME PATTERN KEY=VALUE
  expect_input_error "$1" "$2" configs/tiny.json --set "$3"
}
bad_set epochs-zero "tiny.json: epochs: must be between" epochs=0
bad_set epochs-negative "tiny.json: epochs: must be between" epochs=-3
bad_set batch-zero "tiny.json: batch_size: must be between" batch_size=0
bad_set units-zero "tiny.json: model.0.units: must be between" model.0.units=0
bad_set units-absurd "tiny.json: model.0.units: must be between" model.0.units=1000000000
bad_set last-layer-not-10 "tiny.json: model.1.units" model.1.units=7
bad_set lr-negative "tiny.json: optimizer.learning_rate" optimizer.learning_rate=-0.1
bad_set lr-zero "tiny.json: optimizer.learning_rate" optimizer.learning_rate=0
bad_set lr-nan "tiny.json: optimizer.learning_rate" optimizer.learning_rate=nan
bad_set lr-inf "optimizer.learning_rate" optimizer.learning_rate=1e999
bad_set validation-split-one "tiny.json: validation_split" validation_split=1.0
bad_set validation-split-negative "tiny.json: validation_split" validation_split=-0.1
bad_set unknown-activation "tiny.json: model.0.activation.*relu" model.0.activation=rellu
bad_set unknown-optimizer "tiny.json: optimizer.name" optimizer.name=adamax
bad_set unknown-initializer "tiny.json: model.0.kernel_initializer" model.0.kernel_initializer=ones
bad_set empty-name "tiny.json: name" name=
bad_set data-path-directory "tiny.json: data.train_images" data.train_images=configs
bad_set init-from-missing "tiny.json: init_from" init_from=no/such/model.safetensors
bad_set init-from-directory "tiny.json: init_from" init_from=configs
write empty.json ''
expect_input_error empty-config-file "empty.json" "$work/empty.json"
write malformed.json $'{\n  "epochs": 1,\n  "batch_size": 64,,\n}'
expect_input_error malformed-json-line-column "malformed.json.*line 3, column" "$work/malformed.json"
expect_input_error config-is-directory "configs" configs

# --- IDX data files ----------------------------------------------------------
# A valid tiny data set (4 training and 2 test images of 28x28), then one
# file at a time replaced by a broken one.
u32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
images() {  # FILE COUNT [ROWS COLS [PAYLOAD_BYTES]]
  local rows=${3:-28} cols=${4:-28}
  local bytes=${5:-$(($2 * rows * cols))}
  { u32 2051; u32 "$2"; u32 "$rows"; u32 "$cols"; head -c "$bytes" /dev/urandom; } >"$1"
}
labels() {  # FILE COUNT [LABEL_BYTE]
  { u32 2049; u32 "$2"; for _ in $(seq "$2"); do printf "\\x$(printf %02x "${3:-3}")"; done; } >"$1"
}
data="$work/data"
mkdir -p "$data"
images "$data/train-images" 4
labels "$data/train-labels" 4
images "$data/test-images" 2
labels "$data/test-labels" 2

data_config() {  # NAME FILE-KEY FILE: a config using the valid set but FILE for FILE-KEY
  local train_images=$data/train-images train_labels=$data/train-labels
  local test_images=$data/test-images test_labels=$data/test-labels
  local "$2=$3"
  write "$1.json" "{\"data\": {\"train_images\": \"$train_images\", \"train_labels\": \"$train_labels\",
    \"test_images\": \"$test_images\", \"test_labels\": \"$test_labels\", \"verify_checksums\": false},
    \"model\": [{\"units\": 8, \"activation\": \"relu\"}, {\"units\": 10, \"activation\": \"softmax\"}],
    \"epochs\": 1, \"batch_size\": 2}"
}
bad_data() {  # NAME FILE-KEY FILE PATTERN
  data_config "$1" "$2" "$3"
  expect_input_error "$1" "$4" "$work/$1.json"
}

data_config valid-data train_images "$data/train-images"
if "$runner" "$work/valid-data.json" --out "$work/valid-out" >/dev/null 2>"$work/stderr"; then
  pass valid-tiny-data-set
else
  fail "valid tiny data set rejected: $(cat "$work/stderr")"
fi

expect_input_error batch-larger-than-data "valid-data.json: batch_size: 100 is larger than the 4" \
  "$work/valid-data.json" --set batch_size=100

{ u32 2049; u32 4; u32 28; u32 28; head -c 3136 /dev/zero; } >"$work/wrong-magic"
bad_data wrong-magic train_images "$work/wrong-magic" "wrong-magic.*magic"
head -c 5 "$data/train-images" >"$work/truncated-header"
bad_data truncated-header train_images "$work/truncated-header" "truncated-header"
head -c 2000 "$data/train-images" >"$work/truncated-body"
bad_data truncated-body train_images "$work/truncated-body" "truncated-body"
images "$work/extra-bytes" 4 28 28 $((4 * 784 + 10))
bad_data count-disagrees-with-size train_images "$work/extra-bytes" "extra-bytes"
labels "$work/five-labels" 5
bad_data image-label-count-mismatch train_labels "$work/five-labels" "five-labels\|train-images"
labels "$work/label-ten" 4 10
bad_data label-out-of-range train_labels "$work/label-ten" "label-ten.*10"
images "$work/huge-count" 2147483648 28 28 100
bad_data header-claims-2-31-images train_images "$work/huge-count" "huge-count"
images "$work/huge-pixels" 1 1048576 1048576 100
bad_data header-claims-2-20-square-pixels train_images "$work/huge-pixels" "huge-pixels"
gzip -c "$data/train-images" >"$work/good.gz"
{ head -c 40 "$work/good.gz"; printf 'garbage-in-the-middle'; tail -c +62 "$work/good.gz"; } >"$work/corrupt.gz"
bad_data corrupt-gzip train_images "$work/corrupt.gz" "corrupt.gz"
head -c 30 "$work/good.gz" >"$work/truncated.gz"
bad_data truncated-gzip train_images "$work/truncated.gz" "truncated.gz"
: >"$work/empty-file"
bad_data empty-data-file test_labels "$work/empty-file" "empty-file"
bad_data data-file-missing test_images "$work/no-such-file" "no-such-file"

# --- safetensors for init_from -----------------------------------------------
"$runner" configs/tiny.json --set save_model=true --set epochs=1 --out "$work/saved" >/dev/null 2>&1
model=$(ls "$work"/saved/*/model.safetensors)
bad_model() {  # NAME FILE PATTERN
  expect_input_error "$1" "$3" configs/tiny.json --set "init_from=$2"
}
{ printf '\xff\xff\xff\xff\xff\xff\x00\x00'; tail -c +9 "$model"; } >"$work/bad-length.safetensors"
bad_model bad-header-length "$work/bad-length.safetensors" "bad-length.safetensors"
cp "$model" "$work/not-json.safetensors"  # same header length, garbage in the header
printf 'this is not json' | dd of="$work/not-json.safetensors" bs=1 seek=8 conv=notrunc status=none
bad_model header-not-json "$work/not-json.safetensors" "not-json.safetensors.*JSON"
sed 's/layers\.1\.bias/layers.1.bIas/' "$model" >"$work/missing.safetensors"
bad_model missing-tensor "$work/missing.safetensors" "missing.safetensors.*layers.1.bias"
expect_input_error wrong-shape "tiny.json\|model.safetensors.*shape" configs/tiny.json --set model.0.units=32 --set "init_from=$model"
sed '0,/"F32"/s//"F16"/' "$model" >"$work/f16.safetensors"
bad_model wrong-dtype "$work/f16.safetensors" "f16.safetensors.*F16"
head -c -100 "$model" >"$work/short.safetensors"
bad_model offsets-outside-file "$work/short.safetensors" "short.safetensors"

# --- Results that cannot be written -------------------------------------------
printf 'a file\n' >"$work/a-file"
"$runner" configs/tiny.json --out "$work/a-file/sub" >"$work/stdout" 2>"$work/stderr"
code=$?
if [[ $code -eq 4 && $(wc -l <"$work/stderr") -eq 1 ]] && grep -q "a-file" "$work/stderr" &&
   [[ "$(cat "$work/a-file")" == "a file" ]]; then
  pass output-under-a-file
else
  fail "output under a file: exit $code, stderr: $(cat "$work/stderr")"
fi

summary
