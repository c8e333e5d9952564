#!/usr/bin/python3
"""train_mnist_fast's one-epoch recipe in PyTorch on CPU, timed as the harness times it.

    tools/speedrun_pytorch.py [--seeds 1-5] [--threads-setting auto|torch2-blas1|torch1-blas2]
                              [--json FILE]

--seeds takes "1-30", "1,2,3" or both ("1-3,7"). --threads-setting auto
(the default) first trains TRIAL_STEPS steps with each candidate setting,
keeps the fastest and prints it; the others fix it. The candidates are 2
torch threads over single-threaded OpenBLAS (torch2-blas1) and 1 torch
thread over OpenBLAS's 2 (torch1-blas2); on a CPU with AVX-512 each also
with OPENBLAS_CORETYPE=SkylakeX (the "-skylakex" settings), since Debian's
OpenBLAS 0.3.21 does not recognise recent AVX-512 CPUs and falls back to
older kernels (never without AVX-512: those kernels would not run there).
--json FILE writes the per-seed results (rewritten after each seed).
Run by another Python, it measures that Python's PyTorch (a virtual
environment's torch 2.x from PyPI, over MKL: `VENV/bin/python
tools/speedrun_pytorch.py`), where the OpenBLAS settings only set torch's
threads.

The recipe, checked against configs/speedrun_reference.json at start-up:
Conv2d(1->24, 5x5) -> MaxPool2d(2) -> ReLU -> Conv2d(24->32, 3x3) ->
MaxPool2d(2) -> ReLU -> Flatten (800) -> Linear(800, 256) -> ReLU ->
Linear(256, 10), PyTorch's default init, softmax cross-entropy; pixels
/ 255, then (x - 0.1307) / 0.3081; Adam(0.01, betas (0.7, 0.9), eps 1e-8)
under OneCycleLR (max_lr 0.01, 30% warm-up, cosine, div 25, final div 1e4,
no momentum cycling), stepped after every optimizer step; one epoch of
batches of 256 (235 steps, the last of 96), the training set shuffled once
by a torch.Generator seeded with the seed (which also seeds the init).

What it measures, per seed, as the C++ harness does: the training seconds
from the first step to the final weights (time.perf_counter; the batch
gathers, the steps and the schedule are all inside), the test accuracy on
the 10,000 test images, and apart from those the data load (once, all of it
decoded into one float tensor before any timing) and the evaluation. Then
the summary of a sweep: the mean test accuracy with the 95% t-interval of
the mean, the share of seeds at >= 0.99, and the training seconds' median,
min and max. It also prints which kernels ran: the torch build's BLAS, its
CPU capability, the BLAS library actually loaded (with OpenBLAS's own
report of its core) and OPENBLAS_CORETYPE; and it warns loudly when
Debian's torch fell back to the reference (netlib) BLAS, which it does
unless libopenblas0-pthread is installed.

The thread settings run in child processes of this script: OpenBLAS reads
OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE once, when torch loads it, so the
parent (which never imports torch) sets them in each child's environment.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the caller's environment are
removed in the children unless a setting chooses them.

A timing tool, not a test: it keeps both cores busy, about 7 s a seed on
the 2-core Zen 5 VM in a quiet spell (35 s in a slow one), plus about 20 s
for auto's trials. Run it by hand on an otherwise idle machine, never in
CI. Needs Debian's python3-torch (1.13) and libopenblas0-pthread, hence
/usr/bin/python3.
"""
import argparse
import importlib
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs/speedrun_reference.json"
DATA = ROOT / "data/mnist"

# configs/speedrun_reference.json as this script implements it: the check at
# start-up refuses to run if the file says anything else, so that the two
# cannot drift apart and be compared as if they were one recipe.
# build_model, make_optimizer and train spell it out in torch.
RECIPE = {
    "name": "speedrun_reference",
    "data": {"normalize": {"mean": 0.1307, "std": 0.3081}},
    "model": [
        {"type": "conv2d", "filters": 24, "kernel_size": 5,
         "kernel_initializer": "pytorch_default", "bias_initializer": "pytorch_default"},
        {"type": "max_pooling2d", "pool_size": 2},
        {"type": "activation", "activation": "relu"},
        {"type": "conv2d", "filters": 32, "kernel_size": 3,
         "kernel_initializer": "pytorch_default", "bias_initializer": "pytorch_default"},
        {"type": "max_pooling2d", "pool_size": 2},
        {"type": "activation", "activation": "relu"},
        {"type": "flatten"},
        {"units": 256, "activation": "relu",
         "kernel_initializer": "pytorch_default", "bias_initializer": "pytorch_default"},
        {"units": 10, "activation": "softmax",
         "kernel_initializer": "pytorch_default", "bias_initializer": "pytorch_default"},
    ],
    "optimizer": {
        "name": "adam",
        "learning_rate": {"name": "one_cycle", "max_lr": 0.01, "total_steps": None,
                          "pct_start": 0.3, "anneal_strategy": "cos", "div_factor": 25.0,
                          "final_div_factor": 10000.0},
        "beta_1": 0.7,
        "beta_2": 0.9,
        "epsilon": 1e-8,
    },
    "epochs": 1,
    "batch_size": 256,
    "shuffle": "once",
}
TRAIN_SAMPLES = 60000
BATCH_SIZE = RECIPE["batch_size"]
# total_steps null in the config: the epoch's steps, 234 of 256 and one of 96.
TOTAL_STEPS = math.ceil(TRAIN_SAMPLES / BATCH_SIZE)
EVAL_BATCH = 1000  # the first conv's output for all 10,000 test images would take 553 MB
ACCURACY_THRESHOLD = 0.99  # experiments/speedrun_seeds.json's accuracy_threshold
# Steps per candidate in auto, timed from the first as a run is: enough that
# the first steps' set-up (oneDNN primitives, thread pools) weighs little.
TRIAL_STEPS = 40

# name: (torch threads, OpenBLAS threads, OPENBLAS_CORETYPE or None for
# OpenBLAS's own detection).
SETTINGS = {
    "torch2-blas1": (2, 1, None),
    "torch1-blas2": (1, 2, None),
    "torch2-blas1-skylakex": (2, 1, "SkylakeX"),
    "torch1-blas2-skylakex": (1, 2, "SkylakeX"),
}
# Removed from the children's environment unless a setting sets them: a
# caller's OPENBLAS_CORETYPE=Haswell would otherwise pick the kernels
# behind the setting's back.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
EVENT = "@speedrun "  # prefixes the child's result lines on its stdout

# Student's t 0.975 quantiles for 1..40 degrees of freedom (scipy 1.10's
# t.ppf); beyond, the Cornish-Fisher expansion in t975 is within 1e-6.
T975 = [12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
        2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
        2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
        2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272, 2.039513, 2.036933,
        2.034515, 2.032245, 2.030108, 2.028094, 2.026192, 2.024394, 2.022691, 2.021075]


# ---------------------------------------------------------------- parent side
# The parent never imports torch: the children must be the first to load
# OpenBLAS, with their own environment.

def parse_seeds(text):
    """"1-30", "1,2,3" or a mix ("1-3,7") as a list of distinct seeds."""
    seeds = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise argparse.ArgumentTypeError(f"bad seed range {part!r} (use 1-30 or 1,2,3)")
        seeds.extend(range(int(first), int(last or first) + 1))
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{text!r}: no seeds, or a seed twice")
    return seeds


def check_reference_config():
    """Exits (2) if configs/speedrun_reference.json is not RECIPE."""
    config = json.loads(CONFIG.read_text())
    if config != RECIPE:
        keys = sorted(k for k in set(config) | set(RECIPE) if config.get(k) != RECIPE.get(k))
        print(f"{sys.argv[0]}: {CONFIG.relative_to(ROOT)} differs from the recipe this "
              f"script implements (in: {', '.join(keys)}); update the script with it",
              file=sys.stderr)
        sys.exit(2)


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def candidate_settings(requested, avx512):
    """The settings to try: the requested one, or auto's candidates (the
    SkylakeX ones only on a CPU with AVX-512, whose instructions they use)."""
    if requested != "auto":
        if SETTINGS[requested][2] == "SkylakeX" and not avx512:
            sys.exit(f"{sys.argv[0]}: {requested} needs AVX-512, which this CPU lacks")
        return [requested]
    return [name for name, (_, _, coretype) in SETTINGS.items()
            if coretype is None or avx512]


def describe_setting(name):
    torch_threads, blas_threads, coretype = SETTINGS[name]
    return (f"{name} ({torch_threads} torch thread(s), OPENBLAS_NUM_THREADS={blas_threads}, "
            f"OPENBLAS_CORETYPE={coretype or 'unset'})")


def child_environment(name):
    """The caller's environment with the setting's thread counts and
    OpenBLAS core, and without the caller's OpenBLAS overrides."""
    torch_threads, blas_threads, coretype = SETTINGS[name]
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    # So that libgomp starts its pool at the size torch.set_num_threads asks for.
    env["OMP_NUM_THREADS"] = str(torch_threads)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def run_child(name, seeds_text, trial_steps):
    """Runs this script as a child with the setting's environment and yields
    its events (dicts) as it prints them; exits as the child did if it
    failed (2 for torch missing, with the child's one-line message)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name,
               "--seeds", seeds_text, "--trial-steps", str(trial_steps)]
    with subprocess.Popen(command, env=child_environment(name), stdout=subprocess.PIPE,
                          text=True) as child:
        for line in child.stdout:
            if line.startswith(EVENT):
                yield json.loads(line[len(EVENT):])
            else:
                print(line, end="")  # anything else the child prints, as it is
    if child.returncode != 0:
        sys.exit(child.returncode if child.returncode == 2 else 1)


def choose_setting(candidates, seed):
    """The fastest candidate over TRIAL_STEPS steps of the given seed, and
    the trials' results; a single candidate is taken without a trial."""
    if len(candidates) == 1:
        return candidates[0], []
    trials = []
    for name in candidates:
        trial = {"setting": name, "steps": TRIAL_STEPS}
        for event in run_child(name, str(seed), TRIAL_STEPS):
            if event["kind"] == "environment":
                trial["blas_core"] = event["blas"].get("openblas_corename")
            elif event["kind"] == "trial":
                trial["seconds"] = event["seconds"]
        trials.append(trial)
        core = f", OpenBLAS core {trial['blas_core']}" if trial.get("blas_core") else ""
        print(f"trial {describe_setting(name)}{core}: {TRIAL_STEPS} steps in "
              f"{trial['seconds']:.3f} s", flush=True)
    best = min(trials, key=lambda t: t["seconds"])
    print(f"chosen: {best['setting']} (the fastest of {len(trials)} trials)", flush=True)
    return best["setting"], trials


def t975(df):
    """Student's t 0.975 quantile."""
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959963984540054
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


def mean_interval95(values):
    """The 95% interval of the mean (Student's t), None for a single value:
    src/common/statistics.cc's MeanInterval95."""
    if len(values) < 2:
        return None
    half = t975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    mean = statistics.fmean(values)
    return [mean - half, mean + half]


def summarize(runs, load_seconds):
    """The harness's sweep summary of the runs (src/sweep/summary.cc):
    accuracy mean, std and interval, the share at the threshold, the
    training seconds' median, min and max, and the MLPerf time (the mean
    after dropping the fastest and the slowest run, from 3 runs on)."""
    accuracy = [r["test_accuracy"] for r in runs]
    seconds = [r["training_seconds"] for r in runs]
    trimmed = sorted(seconds)[1:-1] if len(seconds) >= 3 else seconds
    return {
        "runs": len(runs),
        "test_accuracy": {"mean": statistics.fmean(accuracy),
                          "std": statistics.stdev(accuracy) if len(runs) > 1 else 0.0,
                          "ci95": mean_interval95(accuracy)},
        "accuracy_threshold": {"threshold": ACCURACY_THRESHOLD, "of": len(runs),
                               "at_least": sum(a >= ACCURACY_THRESHOLD for a in accuracy)},
        "train_loss_mean": statistics.fmean(r["train_loss"] for r in runs),
        "training_seconds": {"median": statistics.median(seconds), "min": min(seconds),
                             "max": max(seconds), "mean": statistics.fmean(seconds)},
        "mlperf_seconds": statistics.fmean(trimmed),
        "load_seconds": load_seconds,
        "eval_seconds": {"median": statistics.median(r["eval_seconds"] for r in runs)},
    }


def print_summary(summary, setting):
    accuracy, share = summary["test_accuracy"], summary["accuracy_threshold"]
    interval = (f", 95% interval of the mean {accuracy['ci95'][0]:.4f}-{accuracy['ci95'][1]:.4f}"
                if accuracy["ci95"] else "")
    t = summary["training_seconds"]
    print(f"\nsummary, {summary['runs']} seed(s), {describe_setting(setting)}:")
    spread = f" ± {accuracy['std']:.4f}" if summary["runs"] > 1 else ""  # as the harness
    print(f"  test accuracy: {accuracy['mean']:.4f}{spread}{interval}")
    print(f"  >= {share['threshold']}: {share['at_least']}/{share['of']} "
          f"({100 * share['at_least'] / share['of']:.0f}%)")
    print(f"  train loss (mean over the epoch): {summary['train_loss_mean']:.4f}")
    print(f"  training seconds: median {t['median']:.2f} (min {t['min']:.2f}, max {t['max']:.2f}), "
          f"MLPerf {summary['mlperf_seconds']:.2f}")
    print(f"  load seconds: {summary['load_seconds']:.2f} (once); eval seconds: median "
          f"{summary['eval_seconds']['median']:.2f}", flush=True)


def print_environment(env):
    """Which torch, BLAS and kernels ran; a loud warning on the reference BLAS."""
    blas = env["blas"]
    print(f"PyTorch {env['torch_version']}: {env['torch_threads']} torch thread(s), "
          f"oneDNN (runs the convolutions) {'on' if env['mkldnn'] else 'off'}")
    for line in env["torch_config"]:
        print(f"  torch config: {line}")
    print(f"CPU capability: {env['cpu_capability']} ({env['cpu_capability_source']}); "
          f"ATEN_CPU_CAPABILITY={env['aten_cpu_capability'] or 'unset'}")
    print(f"BLAS used: {blas['kind']} (sgemm_ from {blas['sgemm_provider'] or 'unknown'}); "
          f"mapped: {', '.join(blas['libraries']) or 'no BLAS library'}")
    if blas.get("openblas_config"):
        print(f"  OpenBLAS says: {blas['openblas_config']}; core {blas['openblas_corename']}, "
              f"{blas['openblas_threads']} thread(s)")
    print(f"OPENBLAS_CORETYPE={env['openblas_coretype'] or 'unset (OpenBLAS detects the core)'}",
          flush=True)
    warn_if_reference_blas(blas)


def warn_if_reference_blas(blas):
    """Loudly: timings on the reference BLAS say nothing about PyTorch."""
    if blas["kind"] == "reference":
        banner = "!" * 78
        print(f"{banner}\nWARNING: PyTorch runs on the REFERENCE (netlib) BLAS, unoptimised "
              f"loops:\n  {blas['sgemm_provider'] or ', '.join(blas['libraries'])}\n"
              "  These timings do not represent PyTorch. Install libopenblas0-pthread\n"
              "  (apt-get install libopenblas0-pthread) and run again.\n"
              f"{banner}", file=sys.stderr, flush=True)


def write_json_atomic(path, data):
    """Writes to a temporary file beside path, then renames it over path: a
    reader never sees half a file, and an interrupted run leaves the last
    complete one."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w") as f:
        f.write(json.dumps(data, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def parent_main(args):
    if importlib.util.find_spec("torch") is None:
        print(f"{sys.argv[0]}: no torch for {sys.executable}; install python3-torch and run "
              "with /usr/bin/python3", file=sys.stderr)
        return 2
    check_reference_config()
    seeds = parse_seeds(args.seeds)
    avx512 = "avx512f" in cpu_flags()
    overridden = {k: os.environ[k] for k in OPENBLAS_OVERRIDES if k in os.environ}
    print(f"{CONFIG.relative_to(ROOT)} in PyTorch, {len(seeds)} seed(s), "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu_model()}, {os.cpu_count()} "
          f"cores, AVX-512 {'yes' if avx512 else 'no'}", flush=True)
    if overridden:
        print("removed from the children's environment: "
              + " ".join(f"{k}={v}" for k, v in overridden.items()), flush=True)

    setting, trials = choose_setting(candidate_settings(args.threads_setting, avx512), seeds[0])
    report = {"tool": "tools/speedrun_pytorch.py", "config": str(CONFIG.relative_to(ROOT)),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "cpu": cpu_model(), "cores": os.cpu_count(), "avx512": avx512,
              "threads_setting": setting, "setting": dict(zip(
                  ("torch_threads", "openblas_threads", "openblas_coretype"), SETTINGS[setting])),
              "trials": trials, "runs": []}
    print(f"running {describe_setting(setting)}", flush=True)
    for event in run_child(setting, args.seeds, 0):
        if event["kind"] == "environment":
            report["environment"] = {k: v for k, v in event.items() if k != "kind"}
            print_environment(report["environment"])
        elif event["kind"] == "load":
            report["load_seconds"] = event["seconds"]
            print(f"data loaded in {event['seconds']:.2f} s", flush=True)
        elif event["kind"] == "run":
            report["runs"].append(event["run"])
            r = event["run"]
            print(f"seed {r['seed']}: test accuracy {r['test_accuracy']:.4f} "
                  f"({r['test_correct']}/{r['test_samples']}), train loss {r['train_loss']:.4f}, "
                  f"training {r['training_seconds']:.3f} s, eval {r['eval_seconds']:.3f} s",
                  flush=True)
            if args.json:
                write_json_atomic(args.json, report)
    report["summary"] = summarize(report["runs"], report["load_seconds"])
    print_summary(report["summary"], setting)
    warn_if_reference_blas(report["environment"]["blas"])  # again, where the numbers are
    if args.json:
        write_json_atomic(args.json, report)
    return 0


# ----------------------------------------------------------------- child side
# Runs with the setting's environment; prints its results as EVENT lines.

def emit(kind, **fields):
    print(EVENT + json.dumps({"kind": kind, **fields}), flush=True)


def import_torch():
    """torch, or exit 2 with one line (the parent relays the exit code)."""
    try:
        import torch
    except ImportError as error:
        print(f"{sys.argv[0]}: cannot import torch ({error}); install python3-torch and run "
              "with /usr/bin/python3", file=sys.stderr)
        sys.exit(2)
    return torch


def loaded_libraries():
    """The shared objects mapped into this process (after torch's import,
    which loads its BLAS)."""
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith("/"):
                paths.add(fields[5].strip())
    return sorted(paths)


def sgemm_provider():
    """The real path of the library whose sgemm_ libtorch_cpu calls, or
    None if that cannot be told (a torch without libtorch_cpu.so, or with
    its BLAS linked in). dlsym on libtorch_cpu's handle searches it and its
    dependencies in load order, as its own calls are bound: the libraries
    mapped are not enough, since Debian's liblapack.so.3 from OpenBLAS maps
    libopenblas even when libblas.so.3 is the reference one."""
    import ctypes

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    libtorch = [p for p in loaded_libraries() if Path(p).name.startswith("libtorch_cpu.so")]
    if not libtorch:
        return None
    try:  # dlopen of a loaded library: its handle, nothing loaded again
        address = ctypes.cast(ctypes.CDLL(libtorch[0]).sgemm_, ctypes.c_void_p)
    except (AttributeError, OSError):
        return None
    info = DlInfo()
    if ctypes.CDLL(None).dladdr(address, ctypes.byref(info)) == 0:
        return None
    return os.path.realpath(info.dli_fname.decode())


def blas_kind(path):
    """OpenBLAS, MKL, BLIS or the reference BLAS, from a library's path
    (Debian keeps each in its own directory, the reference one in blas/)."""
    for word, kind in (("openblas", "OpenBLAS"), ("mkl", "MKL"), ("blis", "BLIS")):
        if word in path.lower():
            return kind
    return "reference" if Path(path).name.startswith("libblas.so") else "unknown"


def blas_report():
    """The BLAS actually used: Debian's torch links libblas.so.3, which the
    alternatives system points at OpenBLAS, BLIS, MKL or, when nothing
    better is installed, the reference netlib BLAS. For OpenBLAS, its own
    report of its build and of the core whose kernels it picked."""
    import ctypes
    libraries = [p for p in loaded_libraries()
                 if any(word in Path(p).name for word in ("blas", "lapack", "mkl", "blis"))]
    provider = sgemm_provider()
    report = {"libraries": libraries, "sgemm_provider": provider}
    if provider:
        report["kind"] = blas_kind(provider)
    else:  # the maps alone, less sure: OpenBLAS if mapped at all, else the first BLAS
        kinds = [blas_kind(p) for p in libraries]
        report["kind"] = ("OpenBLAS" if "OpenBLAS" in kinds
                          else next((k for k in kinds if k != "unknown"), "unknown"))
    openblas = [p for p in libraries if Path(p).name.startswith("libopenblas")]
    if report["kind"] == "OpenBLAS" and openblas:
        # Debian's OpenBLAS libblas.so.3 is a thin interface over
        # libopenblas.so.0, which holds the kernels and their settings.
        library = ctypes.CDLL(openblas[0])
        library.openblas_get_config.restype = ctypes.c_char_p
        library.openblas_get_corename.restype = ctypes.c_char_p
        report["openblas_config"] = library.openblas_get_config().decode()
        report["openblas_corename"] = library.openblas_get_corename().decode()
        report["openblas_threads"] = library.openblas_get_num_threads()
    return report


def torch_config_lines(torch):
    """torch.__config__.show()'s lines about BLAS, LAPACK and the CPU
    capability, with only those keys of its long Build settings line."""
    lines = []
    for line in torch.__config__.show().splitlines():
        line = line.strip(" -")
        if line.startswith("Build settings:"):
            keys = ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP")
            pairs = [p.strip() for p in line.split(":", 1)[1].split(",")]
            lines.append(", ".join(p for p in pairs if p.split("=")[0] in keys))
        elif any(word in line for word in ("BLAS", "LAPACK", "MKL", "CPU capability")):
            lines.append(line)
    return lines


def cpu_capability(torch):
    """The ATen kernels' instruction set, and where it was read: torch 1.13
    has no torch.backends.cpu, but its config names the capability in use."""
    try:
        return (importlib.import_module("torch.backends.cpu").get_cpu_capability(),
                "torch.backends.cpu")
    except (ImportError, AttributeError):
        for line in torch.__config__.show().splitlines():
            if "CPU capability usage:" in line:
                return line.split(":", 1)[1].strip(), "torch.__config__.show()"
    return "unknown", "not reported by this torch"


def environment_report(torch):
    capability, capability_source = cpu_capability(torch)
    return {"torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(),
            "torch_config": torch_config_lines(torch),
            "cpu_capability": capability, "cpu_capability_source": capability_source,
            "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY"),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "blas": blas_report()}


def load_mnist(torch):
    """The four IDX files as tensors: images [N, 1, 28, 28] float32, / 255
    then normalised with the recipe's mean and std; labels int64."""
    from pytorch_baseline import read_idx  # imports torch: only in the child
    normalize = RECIPE["data"]["normalize"]

    def images(stem):
        # read_idx's arrays view the read-only file bytes: copied, as torch wants
        x = torch.from_numpy(read_idx(DATA / f"{stem}.gz").copy()).to(torch.float32).div_(255)
        return x.sub_(normalize["mean"]).div_(normalize["std"]).reshape(-1, 1, 28, 28)

    def labels(stem):
        return torch.from_numpy(read_idx(DATA / f"{stem}.gz").astype("int64"))

    return (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte"),
            images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte"))


def build_model(torch):
    """RECIPE["model"] in torch, with PyTorch's default init (drawn from the
    global generator, seeded by the caller)."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 24, 5), nn.MaxPool2d(2), nn.ReLU(),   # 28 -> 24 -> 12
        nn.Conv2d(24, 32, 3), nn.MaxPool2d(2), nn.ReLU(),  # 12 -> 10 -> 5
        nn.Flatten(),                                      # 32 * 5 * 5 = 800
        nn.Linear(800, 256), nn.ReLU(),
        nn.Linear(256, 10))  # logits: the softmax is in the loss


def make_optimizer(torch, model):
    """Adam under OneCycleLR, as RECIPE["optimizer"] says."""
    opt, lr = RECIPE["optimizer"], RECIPE["optimizer"]["learning_rate"]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr["max_lr"],
                                 betas=(opt["beta_1"], opt["beta_2"]), eps=opt["epsilon"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr["max_lr"], total_steps=TOTAL_STEPS, pct_start=lr["pct_start"],
        anneal_strategy=lr["anneal_strategy"], cycle_momentum=False,
        div_factor=lr["div_factor"], final_div_factor=lr["final_div_factor"])
    return optimizer, scheduler


def train(torch, model, x, y, seed, steps):
    """steps steps of the epoch (all TOTAL_STEPS for a run): returns the
    seconds from the first step to the final weights and the mean training
    loss over the samples (each batch's loss before its update)."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    optimizer, scheduler = make_optimizer(torch, model)
    loss_sum, samples = 0.0, 0
    start = time.perf_counter()
    for step in range(steps):
        index = order[step * BATCH_SIZE:(step + 1) * BATCH_SIZE]
        loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_sum += loss.item() * len(index)  # CPU: no device to wait for
        samples += len(index)
    return time.perf_counter() - start, loss_sum / samples


def evaluate(torch, model, x, y):
    """Correct predictions on (x, y), without gradients, in EVAL_BATCH batches."""
    correct = 0
    with torch.no_grad():
        for first in range(0, len(x), EVAL_BATCH):
            logits = model(x[first:first + EVAL_BATCH])
            correct += (logits.argmax(1) == y[first:first + EVAL_BATCH]).sum().item()
    return correct


def child_main(args):
    torch = import_torch()
    torch_threads = SETTINGS[args.child][0]
    torch.set_num_threads(torch_threads)
    emit("environment", **environment_report(torch))

    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_mnist(torch)
    emit("load", seconds=time.perf_counter() - start)
    if len(x_train) != TRAIN_SAMPLES or len(x_test) != 10000:
        sys.exit(f"{sys.argv[0]}: {DATA}: expected 60000 training and 10000 test images")

    for seed in parse_seeds(args.seeds):
        torch.manual_seed(seed)  # the default init's draws
        model = build_model(torch)
        if args.trial_steps:
            seconds, _ = train(torch, model, x_train, y_train, seed, args.trial_steps)
            emit("trial", seconds=seconds)
            continue
        seconds, train_loss = train(torch, model, x_train, y_train, seed, TOTAL_STEPS)
        start = time.perf_counter()
        correct = evaluate(torch, model, x_test, y_test)
        emit("run", run={"seed": seed, "test_accuracy": correct / len(x_test),
                         "test_correct": correct, "test_samples": len(x_test),
                         "train_loss": train_loss, "training_seconds": seconds,
                         "eval_seconds": time.perf_counter() - start, "steps": TOTAL_STEPS})
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1-5", help='"1-30", "1,2,3" (default 1-5)')
    parser.add_argument("--threads-setting", default="auto", choices=["auto", *SETTINGS],
                        help="auto: the fastest over a short trial of each candidate")
    parser.add_argument("--json", help="write the per-seed results here (atomically)")
    # Internal: the child process that runs one setting.
    parser.add_argument("--child", choices=list(SETTINGS), help=argparse.SUPPRESS)
    parser.add_argument("--trial-steps", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        parse_seeds(args.seeds)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    return child_main(args) if args.child else parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
