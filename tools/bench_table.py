#!/usr/bin/env python3
"""Turns bench_kernels' JSON output into the kernel table of docs/performance.md.

    build/bench/bench_kernels --benchmark_repetitions=5 \
        --benchmark_enable_random_interleaving=true \
        --benchmark_report_aggregates_only=true \
        --benchmark_out=kernels.json --benchmark_out_format=json
    tools/bench_table.py kernels.json

One row per product and shape, in the order bench_kernels registers them:
mnistbench's GFLOP/s (median of the repetitions), OpenBLAS's and oneDNN's
when present, mnistbench as a fraction of the better library, and as a
fraction of the measured FMA peak. The sparse kernels' GFLOP/s count the
multiply-adds they execute (zeros inside stored blocks included), and their
dense-equivalent rate (2 M K N) is in its own column. (Random interleaving runs the
repetitions of all benchmarks in a shuffled order, so a slow spell of this
shared machine does not fall on one implementation only.)
"""
import json
import sys
from collections import defaultdict


def main(path):
    with open(path) as f:
        report = json.load(f)
    context = report["context"]
    rates = defaultdict(dict)  # (product, shape) -> {impl: GFLOP/s}
    order = {}  # (product, shape) -> first registration index
    for b in report["benchmarks"]:
        if b.get("aggregate_name", "median") != "median" or "GFLOP/s" not in b:
            continue
        product, impl, *shape = b["run_name"].split("/")
        shape = "x".join(s for s in shape if s != "real_time")
        rates[(product, shape)][impl] = b["GFLOP/s"]
        if "dense_GFLOP/s" in b:
            rates[(product, shape)]["dense"] = b["dense_GFLOP/s"]
        index = (b.get("family_index", 0), b.get("per_family_instance_index", 0))
        order[(product, shape)] = min(order.get((product, shape), index), index)
    peak = float(context["fma_peak_gflops"])
    print(f"Measured FMA peak: {peak:.0f} GFLOP/s on {context.get('omp_threads')} threads "
          f"({context.get('simd_target')}); {context.get('date', '')}\n")
    print("| product | M x K x N | mnistbench | OpenBLAS | oneDNN | vs best library | of FMA peak "
          "| dense-equivalent |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (product, shape) in sorted(rates, key=order.get):
        r = rates[(product, shape)]
        ours = r.get("mnistbench")
        if ours is None:
            continue
        libs = [r[k] for k in ("openblas", "onednn") if k in r]
        best = max(libs) if libs else None
        cell = lambda v: f"{v:.0f}" if v is not None else "-"
        ratio = f"{ours / best:.2f}" if best else "-"
        print(f"| {product} | {shape} | {ours:.0f} | {cell(r.get('openblas'))} | "
              f"{cell(r.get('onednn'))} | {ratio} | {ours / peak:.2f} | {cell(r.get('dense'))} |")


if __name__ == "__main__":
    main(sys.argv[1])
