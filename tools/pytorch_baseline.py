#!/usr/bin/python3
"""The mnistbench baseline in PyTorch: the reference for speed and correctness.

A faithful port of configs/baseline.json (the Keras book's "hello world"):
MNIST pixels / 255 as float32, all in memory; Dense(512, relu) -> Dense(10)
with softmax cross-entropy (mean over the batch); glorot_uniform kernels in
the Keras layout [inputs, units] and zero biases; RMSprop with Keras'
formula, which torch.optim.RMSprop does not implement (it adds epsilon
outside the square root):
    v = rho * v + (1 - rho) * g^2;  w -= lr * g / sqrt(v + epsilon)
5 epochs of batches of 128, reshuffled every epoch.

    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 tools/pytorch_baseline.py

(Debian's OpenBLAS does not recognise recent AVX-512 CPUs and falls back to
SSE3 kernels without OPENBLAS_CORETYPE; PyTorch brings its own threads.)

--save-fixture writes the C++ test fixture of tests/pytorch_fixture_test.cc:
a small model (hidden 32) trained for one epoch of four batches of 128 on the
first 512 training images, without shuffling, from an initialisation saved
next to it (pytorch_init.safetensors), with the loss of each step and the
final weights (pytorch_final.safetensors). It runs in float64: its rounding
errors (~1e-16) vanish next to float32's (~1e-7), so what the C++ test
measures is the float32 code's own error, not the sum of two float32 errors
with different summation orders.
"""
import argparse
import gzip
import json
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent


def read_idx(path):
    """An IDX file (.gz or raw) as a numpy array of uint8."""
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, count * rows * cols, 16).reshape(count, rows * cols)
    if magic == 0x801:
        return np.frombuffer(data, np.uint8, count, 8)
    raise ValueError(f"{path}: not an IDX file (magic {magic:#x})")


def load_mnist(directory):
    d = Path(directory)
    name = lambda stem: d / f"{stem}.gz" if (d / f"{stem}.gz").exists() else d / stem
    x_train = read_idx(name("train-images-idx3-ubyte"))
    y_train = read_idx(name("train-labels-idx1-ubyte"))
    x_test = read_idx(name("t10k-images-idx3-ubyte"))
    y_test = read_idx(name("t10k-labels-idx1-ubyte"))
    scale = lambda x: torch.from_numpy(x.astype(np.float32) / 255)  # as Keras: float32 / 255
    label = lambda y: torch.from_numpy(y.astype(np.int64))
    return scale(x_train), label(y_train), scale(x_test), label(y_test)


# safetensors (https://huggingface.co/docs/safetensors), float32 only: an
# 8-byte little-endian header length, a JSON header naming each tensor's
# dtype, shape and [begin, end) byte range within the data, then the data.
def write_safetensors(path, tensors):
    """Writes {name: tensor} as F32 (float64 tensors are rounded to float32)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        blob = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """{name: float32 tensor}; refuses other dtypes and byte ranges that do
    not match the shape or the file."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: only F32 is supported")
        begin, end = spec["data_offsets"]
        if end - begin != 4 * int(np.prod(spec["shape"])) or 8 + length + end > len(data):
            raise ValueError(f"{path}: {name}: byte range {begin}..{end} does not fit "
                             f"shape {spec['shape']} and the file")
        array = np.frombuffer(data, "<f4", (end - begin) // 4, 8 + length + begin)
        tensors[name] = torch.from_numpy(array.copy()).reshape(spec["shape"])
    return tensors


def glorot_uniform(fan_in, fan_out, generator, dtype):
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    return (torch.rand(fan_in, fan_out, generator=generator, dtype=torch.float64) * 2 - 1).mul_(
        limit).to(dtype)


def initial_parameters(hidden, generator, dtype):
    return {
        "layers.0.kernel": glorot_uniform(784, hidden, generator, dtype),
        "layers.0.bias": torch.zeros(hidden, dtype=dtype),
        "layers.1.kernel": glorot_uniform(hidden, 10, generator, dtype),
        "layers.1.bias": torch.zeros(10, dtype=dtype),
    }


def check_parameters(params, source):
    """The four tensors of a 784-hidden-10 model, as the C++ checkpoint names
    them (src/nn/checkpoint.h), with consistent shapes."""
    hidden = params["layers.0.bias"].shape[0] if "layers.0.bias" in params else 0
    expected = {"layers.0.kernel": (784, hidden), "layers.0.bias": (hidden,),
                "layers.1.kernel": (hidden, 10), "layers.1.bias": (10,)}
    actual = {name: tuple(t.shape) for name, t in params.items()}
    if actual != expected:
        raise ValueError(f"{source}: expected tensors {expected}, found {actual}")


def logits(params, x):
    h = torch.relu(x @ params["layers.0.kernel"] + params["layers.0.bias"])
    return h @ params["layers.1.kernel"] + params["layers.1.bias"]


def train_epoch(params, velocity, x, y, batch_size, order, forward=logits, lr=1e-3, rho=0.9,
                epsilon=1e-7):
    """One epoch of Keras RMSprop on the model whose logits forward(params,
    x) computes (this file's by default; tools/pytorch_convnet.py passes the
    convnet's). Returns Keras' epoch loss and accuracy (means over the
    samples, each measured before its step's update) and the list of the
    steps' losses (means over their batches)."""
    for p in params.values():
        p.requires_grad_(True)
    step_losses, correct = [], 0
    for first in range(0, len(order), batch_size):
        index = order[first:first + batch_size]
        xb, yb = x[index], y[index]
        z = forward(params, xb)
        loss = torch.nn.functional.cross_entropy(z, yb)
        loss.backward()
        with torch.no_grad():
            for name, p in params.items():
                g = p.grad
                velocity[name].mul_(rho).addcmul_(g, g, value=1 - rho)
                p.sub_(lr * g / torch.sqrt(velocity[name] + epsilon))
                p.grad = None
        step_losses.append(loss.item())
        correct += (z.argmax(dim=1) == yb).sum().item()
    step_sizes = [min(batch_size, len(order) - first) for first in range(0, len(order), batch_size)]
    epoch_loss = sum(l * n for l, n in zip(step_losses, step_sizes)) / len(order)
    return epoch_loss, correct / len(order), step_losses


def evaluate(params, x, y):
    with torch.no_grad():
        z = logits(params, x)
        return torch.nn.functional.cross_entropy(z, y).item(), (z.argmax(1) == y).float().mean().item()


def save_fixture(path, x, y):
    """The float64 reference for tests/pytorch_fixture_test.cc (see module doc)."""
    fixture_dir = Path(path).parent
    fixture_dir.mkdir(parents=True, exist_ok=True)
    # Any fixed seed will do: the C++ test reads the initialisation from the
    # file, not from this generator. The init is float32, as the C++ model
    # holds it, and is widened exactly to float64; so are the pixels.
    generator = torch.Generator().manual_seed(20261128)
    init = initial_parameters(32, generator, torch.float32)
    write_safetensors(fixture_dir / "pytorch_init.safetensors", init)
    params = {k: v.to(torch.float64) for k, v in init.items()}
    velocity = {k: torch.zeros_like(v) for k, v in params.items()}
    count = 512
    loss, accuracy, step_losses = train_epoch(params, velocity, x[:count].double(), y[:count],
                                              128, torch.arange(count))
    write_safetensors(fixture_dir / "pytorch_final.safetensors", params)
    Path(path).write_text(json.dumps({
        "description": "tools/pytorch_baseline.py --save-fixture: hidden 32, first 512 "
                       "training images, batch 128, no shuffle, 1 epoch of Keras RMSprop "
                       "(lr 0.001, rho 0.9, epsilon 1e-7), float64",
        "train_count": count, "batch_size": 128, "hidden": 32,
        "step_losses": step_losses, "epoch_loss": loss, "epoch_accuracy": accuracy},
        indent=2) + "\n")
    print(f"fixture: epoch loss {loss:.10f}, accuracy {accuracy:.4f} -> {fixture_dir}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT / "data/mnist"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=512, help="hidden units (without --init)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-shuffle", action="store_true")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N samples")
    parser.add_argument("--init", help="safetensors file with the initial parameters")
    parser.add_argument("--save-fixture", help="write the C++ test fixture here and exit")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    x_train, y_train, x_test, y_test = load_mnist(args.data)
    if args.save_fixture:
        save_fixture(args.save_fixture, x_train, y_train)
        return
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    generator = torch.Generator().manual_seed(args.seed)
    if args.init:  # the hidden width comes from the file
        params = read_safetensors(args.init)
        check_parameters(params, args.init)
    else:
        params = initial_parameters(args.hidden, generator, torch.float32)
    velocity = {k: torch.zeros_like(v) for k, v in params.items()}

    steps = (len(x_train) + args.batch_size - 1) // args.batch_size
    training_seconds = 0.0
    for epoch in range(1, args.epochs + 1):
        order = (torch.arange(len(x_train)) if args.no_shuffle
                 else torch.randperm(len(x_train), generator=generator))
        start = time.perf_counter()
        loss, accuracy, _ = train_epoch(params, velocity, x_train, y_train, args.batch_size,
                                        order)
        seconds = time.perf_counter() - start
        training_seconds += seconds
        print(f"Epoch {epoch}/{args.epochs} - {steps}/{steps} - {seconds:.1f}s - "
              f"loss: {loss:.4f} - accuracy: {accuracy:.4f}", flush=True)
    test_loss, test_accuracy = evaluate(params, x_test, y_test)
    print(f"Test: loss: {test_loss:.4f} - accuracy: {test_accuracy:.4f}")
    print(f"training_seconds: {training_seconds:.3f}")
    print(f"test_accuracy: {test_accuracy:.4f}")


if __name__ == "__main__":
    sys.exit(main())
