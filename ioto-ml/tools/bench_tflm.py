#!/usr/bin/env python3
"""Median invoke time of TFLM's Python runtime on one model.

    .venv/bin/python ioto-ml/tools/bench_tflm.py MODEL.tflite [--runs N] [--warmup W] [--input IN.bin]

The input is fixed: ``--input`` gives raw bytes of every input tensor in order (the
layout of ``ioto-ml run --input`` and of one golden case); without it every input
tensor is filled from ``numpy.random.default_rng(0)`` (full int8 range, or uniform
[-1, 1) for float32), so repeated runs time the same work. Each run times
``invoke()`` alone with ``time.perf_counter_ns``. The last line is exactly
``median_us=<number>``, the same format the Rust ``ioto-ml bench`` CLI prints, so
``cargo xtask bench ml`` can divide the two. This is a benchmark (report only);
nothing asserts on the number.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import golden_lib  # noqa: E402
from tflite_micro.python.tflite_micro import runtime  # noqa: E402


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--runs", type=int, default=100, help="timed invocations (default 100)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed invocations first (default 3)")
    parser.add_argument("--input", type=Path, help="raw input bytes (all input tensors, in order)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    data = args.model.read_bytes()
    interp = runtime.Interpreter.from_bytes(data)
    arrays = inputs_from_file(data, args.input) if args.input else fixed_inputs(data)
    for i, arr in enumerate(arrays):
        interp.set_input(arr, i)
    for _ in range(args.warmup):
        interp.invoke()
    times_ns = []
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        interp.invoke()
        times_ns.append(time.perf_counter_ns() - start)
    median_us = statistics.median(times_ns) / 1000.0
    print(
        f"model={args.model} runs={args.runs} min_us={min(times_ns) / 1000.0:.3f} max_us={max(times_ns) / 1000.0:.3f}"
    )
    print(f"median_us={median_us:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
