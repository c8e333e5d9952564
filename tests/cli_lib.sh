# Shared by the command-line test scripts (the runner's and the tools'):
# pass/fail/skip counting, the input-error check, and signalling the runner
# at a given moment. Source it after setting $runner and $work.
failures=0
passes=0
# A command the runner is started through (expect_input_error_within sets it).
run_with=()
skips=0

pass() { passes=$((passes + 1)); echo "ok   $1"; }
fail() { failures=$((failures + 1)); echo "FAIL $1"; }
# A case this machine cannot run: counted apart, so the summary line shows
# what was not checked.
skip() { skips=$((skips + 1)); echo "skip $1"; }
# check NAME CONDITION...: passes when the command CONDITION succeeds.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# expect_input_error NAME PATTERN RUNNER-ARGS...: exit 2, one stderr line
# matching PATTERN, and no output directory created.
expect_input_error() {
  local name=$1 pattern=$2
  shift 2
  local out="$work/out-$name"
  "${run_with[@]}" "$runner" "$@" --out "$out" >"$work/stdout" 2>"$work/stderr"
  local code=$?
  local lines
  lines=$(wc -l <"$work/stderr")
  if [[ $code -ne 2 ]]; then
    fail "$name: exit code $code, expected 2 ($(cat "$work/stderr"))"
  elif [[ $lines -ne 1 ]]; then
    fail "$name: stderr has $lines lines: $(cat "$work/stderr")"
  elif ! grep -q -- "$pattern" "$work/stderr"; then
    fail "$name: stderr does not match '$pattern': $(cat "$work/stderr")"
  elif [[ -e "$out" ]]; then
    fail "$name: created $out: $(ls -A "$out")"
  else
    pass "$name"
  fi
}

# expect_input_error_within NAME MAX_KB PATTERN RUNNER-ARGS...: as
# expect_input_error, and the refused process's peak RSS (GNU time's %M,
# in KB) stays under MAX_KB.
expect_input_error_within() {
  local name=$1 max_kb=$2
  shift 2
  if [[ ! -x /usr/bin/time ]]; then
    expect_input_error "$name" "$@"
    skip "$name: peak RSS not measured: /usr/bin/time (Debian package time) is missing"
    return
  fi
  local peak="$work/peak-kb"
  run_with=(/usr/bin/time -f %M -o "$peak")
  expect_input_error "$name" "$@"
  run_with=()
  # After "Command exited with non-zero status 2", the last line.
  local kb
  kb=$(tail -n 1 "$peak")
  if [[ $kb =~ ^[0-9]+$ && $kb -lt $max_kb ]]; then
    pass "$name: peak RSS $kb KB, under $max_kb KB"
  else
    fail "$name: peak RSS '$kb' KB, expected under $max_kb KB"
  fi
}

# expect_command_error NAME PATTERN RUNNER-ARGS...: exit 2 and one stderr
# line matching PATTERN, for the commands that take no --out.
expect_command_error() {
  local name=$1 pattern=$2
  shift 2
  "$runner" "$@" >/dev/null 2>"$work/stderr"
  local code=$?
  if [[ $code -eq 2 && $(wc -l <"$work/stderr") -eq 1 ]] && grep -q -- "$pattern" "$work/stderr"; then
    pass "$name"
  else
    fail "$name: exit $code, $(cat "$work/stderr")"
  fi
}

write() { printf '%s\n' "$2" >"$work/$1"; }

# The host as the runner names it in its temporary files
# (src/report/atomic_temporaries.cc): [A-Za-z0-9_-], anything else as '_'.
runner_host() {
  python3 -c 'import re, socket; print(re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()[:64]) or "_")'
}
# The pid of a process that has ended.
dead_pid() {
  sh -c 'exit 0' &
  local pid=$!
  wait "$pid"
  echo "$pid"
}

# --- Signals -----------------------------------------------------------------
# Each waits for a sign that the runner has reached the moment to signal,
# never for a fixed time.

# wait_for_report OUT PATTERN: until a report.json under OUT matches PATTERN
# (at most 60 s: the data set loads slowly under the sanitizers).
wait_for_report() {
  local _
  for _ in $(seq 600); do
    grep -qs -- "$2" "$1"/*/report.json && return 0
    sleep 0.1
  done
  return 1
}

# wait_until_open PID NAME: until process PID has a file whose path holds
# NAME open (at most 60 s); fails at once if PID ends.
wait_until_open() {
  local deadline=$((SECONDS + 60))
  until ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "$2"; do
    ((SECONDS < deadline)) && kill -0 "$1" 2>/dev/null || return 1
  done
}

# signal_while_loading SIGNAL OUT RUNNER-ARGS...: runs the runner with
# --out OUT, stdout to $work/stdout and stderr to $work/stderr, and sends
# SIGNAL while it loads the data: once it has the vendored MNIST's training
# images open, which take a good part of a second to read and inflate. A
# signal that still came too late (the runner printed its "Run" line, so
# it had loaded the data) is tried again with OUT removed, up to 5 times.
# Returns the runner's exit code.
signal_while_loading() {
  local signal=$1 out=$2 attempt pid code
  shift 2
  for attempt in 1 2 3 4 5; do
    rm -rf "$out"
    "$runner" "$@" --out "$out" >"$work/stdout" 2>"$work/stderr" &
    pid=$!
    wait_until_open "$pid" train-images-idx3-ubyte && kill -"$signal" "$pid"
    wait "$pid"
    code=$?
    grep -q "^Run " "$work/stdout" || break
  done
  return "$code"
}

# signal_at_line SIGNAL PATTERN STDOUT RUNNER-ARGS...: runs the runner with
# stdout into a pipe and stderr to $work/stderr, reads its stdout into the
# file STDOUT, and sends SIGNAL right after the first line that matches the
# bash regex PATTERN. The runner cannot end before it: what it prints next
# must outgrow the pipe's 64 KiB (predict=10000 prints 10000 lines), and the
# pipe is read again only after the signal. Returns the runner's exit code.
signal_at_line() {
  local signal=$1 pattern=$2 stdout=$3 pipe="$work/stdout.pipe" line pid fd
  shift 3
  rm -f "$pipe"
  mkfifo "$pipe"
  "$runner" "$@" >"$pipe" 2>"$work/stderr" &
  pid=$!
  exec {fd}<"$pipe"
  : >"$stdout"
  while IFS= read -r line <&"$fd"; do
    printf '%s\n' "$line" >>"$stdout"
    if [[ $line =~ $pattern ]]; then
      kill -"$signal" "$pid"
      break
    fi
  done
  cat <&"$fd" >>"$stdout"
  exec {fd}<&-
  wait "$pid"
}

# stderr_lines: $work/stderr without its empty lines (an interrupt's
# message starts with a newline, to end the terminal's "^C").
stderr_lines() { grep -v '^$' "$work/stderr"; }

# The last line, which .ci/run adds up: "N passed, N failed, N skipped".
summary() {
  echo "$passes passed, $failures failed, $skips skipped"
  [[ $failures -eq 0 ]]
}
