# Shared by the runner's command-line test scripts: pass/fail counting and
# the input-error check. Source it after setting $runner and $work.
failures=0
passes=0
# A command the runner is started through (expect_input_error_within sets it).
run_with=()

pass() { passes=$((passes + 1)); echo "ok   $1"; }
fail() { failures=$((failures + 1)); echo "FAIL $1"; }
# A case this machine cannot run (counted as neither passed nor failed).
skip() { echo "skip $1"; }

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

summary() {
  echo "$passes passed, $failures failed"
  [[ $failures -eq 0 ]]
}
