#!/usr/bin/env python3
"""Where OpenMP threads wait: times every parallel region a command runs.

    tools/omp_region_profile.py [--top N] [--library PATH] -- COMMAND [ARGS...]

Runs COMMAND with build/tools/omp_region_profile/libomp_region_profile.so
preloaded (it wraps libgomp's GOMP_parallel), then prints one row per
region, the function whose body it is (addr2line), slowest first:

  calls    how many times the region ran
  wall     seconds from fork to join, summed
  busy     seconds every thread spent in the body, summed over threads
  waiting  seconds threads spent short of the slowest thread of the same
           call, summed: the work an even split would have saved
  wait%    waiting / (busy + waiting)
  fork     seconds of wall beyond the slowest thread: fork and join

A region the kernels enter from inside another (a team of one) shows one
thread, and its time counts in the enclosing region's too. The totals line
sums every region; wall outside regions is not counted. Timing changes
nothing the command computes. An LD_PRELOAD already set stays first, and
the AddressSanitizer runtime a sanitized command links comes before the
library, as it must.
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile

DEFAULT_LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "build",
                               "tools", "omp_region_profile", "libomp_region_profile.so")


def fail(message):
    print(f"omp_region_profile: {message}", file=sys.stderr)
    sys.exit(2)


def sanitizer_runtime(program):
    """The AddressSanitizer or ThreadSanitizer runtime `program` links, if
    any: it must be loaded before any preloaded library."""
    path = shutil.which(program)
    if not path:
        return None
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith(("libasan.", "libtsan.")):
            return parts[2]
    return None


def symbolize(rows):
    """The function name of each row's region body, by module and offset."""
    names = {}
    by_module = {}
    for row in rows:
        by_module.setdefault(row["module"], []).append(row["offset"])
    for module, offsets in by_module.items():
        if module == "?" or not os.path.exists(module):
            continue
        try:
            out = subprocess.run(["addr2line", "-f", "-C", "-e", module] + offsets,
                                 capture_output=True, text=True, check=True).stdout.splitlines()
        except (OSError, subprocess.CalledProcessError):
            continue
        for offset, name in zip(offsets, out[0::2]):
            names[(module, offset)] = name
    return names


def short(name, width=90):
    # "f(args) [clone ._omp_fn.0]" -> "f [omp_fn.0]": the body's function.
    name = name.replace("(anonymous namespace)", "{anonymous}")
    clone = ""
    if "._omp_fn." in name:
        clone = " [omp_fn." + name.rsplit("._omp_fn.", 1)[1].rstrip("]") + "]"
    depth, cut = 0, len(name)
    for i, ch in enumerate(name):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0:
            cut = i
            break
    base = name[:cut] + clone
    return base if len(base) <= width else base[:width - 3] + "..."


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", default=DEFAULT_LIBRARY,
                        help="the preloaded library (default: %(default)s)")
    parser.add_argument("--top", type=int, default=20, help="rows to print (default 20)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        fail("no command given: tools/omp_region_profile.py -- COMMAND [ARGS...]")
    library = os.path.abspath(args.library)
    if not os.path.isfile(library):
        fail(f"{library}: no such library (build it: ninja -C build)")
    if args.top <= 0:
        fail(f"--top {args.top}: must be at least 1")

    with tempfile.TemporaryDirectory() as tmp:
        table = os.path.join(tmp, "regions.tsv")
        preload = [os.environ.get("LD_PRELOAD"), sanitizer_runtime(command[0]), library]
        env = dict(os.environ, OMP_REGION_PROFILE_OUT=table,
                   LD_PRELOAD=":".join(filter(None, preload)))
        try:
            status = subprocess.run(command, env=env).returncode
        except OSError as e:
            fail(f"{command[0]}: {e.strerror}")
        if status != 0:
            fail(f"{command[0]} exited with status {status}; no table")
        if not os.path.exists(table):
            fail(f"{command[0]} ran no OpenMP region through libgomp (or did not exit normally)")
        with open(table, newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))

    names = symbolize(rows)
    for row in rows:
        for key in ("wall", "slowest", "busy", "waiting"):
            row[key] = float(row[key])
        row["name"] = short(names.get((row["module"], row["offset"]),
                                      f"{os.path.basename(row['module'])}+{row['offset']}"))
    rows.sort(key=lambda r: -r["wall"])
    print(f"{'calls':>7} {'threads':>7} {'wall s':>9} {'busy s':>9} {'waiting s':>9} "
          f"{'wait%':>6} {'fork s':>8}  region")

    def line(calls, threads, wall, busy, waiting, slowest, name):
        share = 100.0 * waiting / (busy + waiting) if busy + waiting > 0 else 0.0
        print(f"{calls:>7} {threads:>7} {wall:9.4f} {busy:9.4f} {waiting:9.4f} {share:6.1f} "
              f"{wall - slowest:8.4f}  {name}")

    for r in rows[:args.top]:
        line(r["calls"], r["threads"], r["wall"], r["busy"], r["waiting"], r["slowest"], r["name"])
    line(sum(int(r["calls"]) for r in rows), "", sum(r["wall"] for r in rows),
         sum(r["busy"] for r in rows), sum(r["waiting"] for r in rows),
         sum(r["slowest"] for r in rows), f"all {len(rows)} regions")


if __name__ == "__main__":
    main()
