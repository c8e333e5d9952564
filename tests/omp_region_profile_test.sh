#!/bin/bash
# tools/omp_region_profile.py on tests/omp_imbalance.cc, whose waits are
# known: Uneven's three calls leave thread 1 waiting at least 30 ms each
# for thread 0; Empty's five calls wait for nothing much. Then its errors.
# Usage: omp_region_profile_test.sh OMP_IMBALANCE LIBRARY
set -u
program=$1
library=$2
tool=tools/omp_region_profile.py
source "$(dirname "$0")/cli_lib.sh"

out=$(OMP_NUM_THREADS=2 python3 "$tool" --library "$library" -- "$program" 2>&1)
status=$?
echo "$out"
check "profiles a command" test "$status" -eq 0
# The row of a region: calls threads wall busy waiting wait% fork region.
row() { echo "$out" | grep -E "^ *[0-9]+ .*$1" | head -1; }
uneven=$(row "Uneven")
empty=$(row "Empty")
check "names the uneven region" test -n "$uneven"
check "names the empty region" test -n "$empty"
field() { echo "$1" | awk -v i="$2" '{print $i}'; }
check "counts the uneven calls" test "$(field "$uneven" 1)" = 3
check "counts the empty calls" test "$(field "$empty" 1)" = 5
check "sees the team of two" test "$(field "$uneven" 2)" = 2
# Thread 0 slept at least 3 x 30 ms; thread 1 waited about as long.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
check "uneven: wall >= 0.09 s" at_least "$(field "$uneven" 3)" 0.09
check "uneven: busy >= 0.09 s" at_least "$(field "$uneven" 4)" 0.09
check "uneven: waiting >= 0.089 s" at_least "$(field "$uneven" 5)" 0.089
check "uneven: waiting is about half the thread time" at_least "$(field "$uneven" 6)" 45
check "empty: waits less than the uneven" at_least "$(field "$uneven" 5)" "$(field "$empty" 5)"
check "prints the totals" grep -q "all [0-9]* regions" <<< "$out"

out=$(python3 "$tool" --library /nonexistent/lib.so -- "$program" 2>&1)
check "missing library: exit 2" test $? -eq 2
check "missing library: says so" grep -q "/nonexistent/lib.so: no such library" <<< "$out"
out=$(python3 "$tool" --library "$library" 2>&1)
check "no command: exit 2" test $? -eq 2
check "no command: says so" grep -q "no command given" <<< "$out"
out=$(python3 "$tool" --library "$library" -- "$program" --fail 2>&1)
check "failing command: exit 2" test $? -eq 2
check "failing command: says so" grep -q "omp_imbalance exited with status 3; no table" <<< "$out"

summary
