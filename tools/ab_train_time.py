#!/usr/bin/env python3
"""Training time of two runner binaries, interleaved, with per-pair ratios.

  tools/ab_train_time.py OLD_RUNNER NEW_RUNNER [--pairs 9] [--threads 2]
                         [--config configs/baseline.json] [--set key=value ...]
                         [--set-a key=value ...] [--set-b key=value ...]

Runs A, B, B, A, A, B, ... on the config (predict=0), takes each run's training
seconds (report.json's timing.training_seconds, from the first step to the
final weights: no start-up, data loading or test evaluation; older reports'
sum of epoch seconds) and prints each run, the medians and the median of the per-pair
ratios B/A. --set applies to both sides, --set-a / --set-b to one (for example
--set-b kernels.target=AVX2 with the same binary twice). Results go to a
temporary directory that is removed afterwards.
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import tempfile


def train_seconds(runner, config, threads, sets, out):
    command = [runner, config, "--threads", str(threads), "--out", str(out), "--set", "predict=0"]
    for item in sets:
        command += ["--set", item]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    report = max(pathlib.Path(out).glob("*/report.json"), key=lambda p: p.stat().st_mtime)
    data = json.loads(report.read_text())
    seconds = data.get("timing", {}).get("training_seconds")
    if seconds is None:
        seconds = sum(e["seconds"] for e in data["epochs"])
    return seconds, data["epochs"][-1]["loss"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--config", default="configs/baseline.json")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--set-a", action="append", default=[])
    parser.add_argument("--set-b", action="append", default=[])
    args = parser.parse_args()
    times = {"A": [], "B": []}
    losses = {}
    with tempfile.TemporaryDirectory() as out:
        for pair in range(args.pairs):
            sides = [("A", args.a, args.set_a), ("B", args.b, args.set_b)]
            # Alternate which runs first: the second run of a pair was
            # measured 4-6% slower or faster than the first on the Zen 5 VM,
            # whichever binary it was.
            if pair % 2 == 1:
                sides.reverse()
            for side, runner, extra in sides:
                seconds, loss = train_seconds(runner, args.config, args.threads,
                                              args.set + extra, out)
                times[side].append(seconds)
                losses[side] = loss
            print(f"pair {pair + 1}: A {times['A'][-1]:.3f} s  B {times['B'][-1]:.3f} s  "
                  f"B/A {times['B'][-1] / times['A'][-1]:.3f}", flush=True)
    ratios = [b / a for a, b in zip(times["A"], times["B"])]
    print(f"A: median {statistics.median(times['A']):.3f} s (min {min(times['A']):.3f})")
    print(f"B: median {statistics.median(times['B']):.3f} s (min {min(times['B']):.3f})")
    print(f"B/A: median of per-pair ratios {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    print(f"final loss A {losses['A']!r}, B {losses['B']!r}"
          f" ({'bitwise equal' if losses['A'] == losses['B'] else 'different'})")


if __name__ == "__main__":
    main()
