#!/usr/bin/env python3
"""Median invoke time of LiteRT (PyPI ``ai-edge-litert``) on one model, one thread.

    .venv/bin/python ioto-ml/tools/bench_litert.py MODEL.tflite [--runs N] [--warmup W] [--input IN.bin]

LiteRT is desktop TensorFlow Lite: its interpreter applies the XNNPACK delegate by default
(optimised int8 kernels for the host's SIMD), here with ``num_threads=1`` so it is compared
with the single-threaded ``ioto-ml bench``. The input, the timing and the output format are
those of ``bench_common`` (shared with ``bench_tflm.py``): ``--input`` gives raw bytes of every
input tensor in order (else ``default_rng(0)`` random), each run times ``invoke()`` alone,
and the last line is exactly ``median_us=<number>``. This is a benchmark (report only);
nothing asserts on the number.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402


def load(data: bytes, arrays: list) -> object:
    """LiteRT's interpreter (one thread, default delegates) on ``data`` with ``arrays`` set;
    returns its ``invoke``."""
    interp = Interpreter(model_content=data, num_threads=1)
    interp.allocate_tensors()
    details = interp.get_input_details()
    if len(details) != len(arrays):
        raise SystemExit(f"model has {len(details)} inputs, got {len(arrays)} arrays")
    for info, arr in zip(details, arrays, strict=True):
        interp.set_tensor(info["index"], arr)
    return interp.invoke


if __name__ == "__main__":
    sys.exit(bench_common.main(__doc__, load))
