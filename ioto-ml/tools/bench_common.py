"""What the host benchmark scripts share: the fixed input, the timing loop, the output.

``bench_tflm.py`` (TFLM's Python runtime) and ``bench_litert.py`` (LiteRT) differ only in
how they load a model, set its inputs and invoke it; :func:`main` does the rest. The input
is fixed: ``--input`` gives raw bytes of every input tensor in order (the layout of
``ioto-ml run --input`` and of one golden case); without it every input tensor is filled
from ``numpy.random.default_rng(0)`` (full int8 range, or uniform [-1, 1) for float32), so
repeated runs time the same work. Each run times the invoke call alone with
``time.perf_counter_ns``. The last line is exactly ``median_us=<number>``, the same format
the Rust ``ioto-ml bench`` CLI prints, so ``cargo xtask bench ml`` can divide the two.
These are benchmarks (report only); nothing asserts on the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import golden_lib  # noqa: E402

# Loads a model's bytes and sets its inputs; returns the invoke call to time.
Loader = Callable[[bytes, list[np.ndarray]], Callable[[], object]]


def fixed_inputs(model_bytes: bytes) -> list[np.ndarray]:
    """The deterministic input arrays for ``model_bytes``."""
    inputs, _, _ = golden_lib.describe_model(model_bytes)
    rng = np.random.default_rng(0)
    arrays = []
    for info in inputs:
        if info.dtype == "float32":
            arrays.append(rng.uniform(-1.0, 1.0, size=info.shape).astype(np.float32))
        else:
            limits = np.iinfo(info.np_dtype)
            arrays.append(rng.integers(limits.min, limits.max, size=info.shape, endpoint=True, dtype=info.np_dtype))
    return arrays


def inputs_from_file(model_bytes: bytes, path: Path) -> list[np.ndarray]:
    """Split raw input bytes into one array per input tensor; exit on a size mismatch."""
    inputs, _, _ = golden_lib.describe_model(model_bytes)
    raw = path.read_bytes()
    want = sum(t.nbytes for t in inputs)
    if len(raw) != want:
        raise SystemExit(f"{path}: {len(raw)} bytes, the model's inputs take {want}")
    arrays, offset = [], 0
    for info in inputs:
        chunk = raw[offset : offset + info.nbytes]
        arrays.append(np.frombuffer(chunk, dtype=info.np_dtype).reshape(info.shape).copy())
        offset += info.nbytes
    return arrays


def main(doc: str, load: Loader) -> int:
    """Parse the command line, load the model with ``load``, time its invoke call."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--runs", type=int, default=100, help="timed invocations (default 100)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed invocations first (default 3)")
    parser.add_argument("--input", type=Path, help="raw input bytes (all input tensors, in order)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    data = args.model.read_bytes()
    arrays = inputs_from_file(data, args.input) if args.input else fixed_inputs(data)
    invoke = load(data, arrays)
    for _ in range(args.warmup):
        invoke()
    times_ns = []
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        invoke()
        times_ns.append(time.perf_counter_ns() - start)
    median_us = statistics.median(times_ns) / 1000.0
    print(
        f"model={args.model} runs={args.runs} min_us={min(times_ns) / 1000.0:.3f} max_us={max(times_ns) / 1000.0:.3f}"
    )
    print(f"median_us={median_us:.3f}")
    return 0
