#!/usr/bin/env python3
"""Median invoke time of TFLM's Python runtime on one model.

    .venv/bin/python ioto-ml/tools/bench_tflm.py MODEL.tflite [--runs N] [--warmup W] [--input IN.bin]

The input, the timing and the output format are those of ``bench_common`` (shared with
``bench_litert.py``): ``--input`` gives raw bytes of every input tensor in order (else
``default_rng(0)`` random), each run times ``invoke()`` alone, and the last line is exactly
``median_us=<number>``, the format of ``ioto-ml bench``. This is a benchmark (report only);
nothing asserts on the number.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_common  # noqa: E402
from tflite_micro.python.tflite_micro import runtime  # noqa: E402


def load(data: bytes, arrays: list) -> object:
    """TFLM's interpreter on ``data`` with ``arrays`` set; returns its ``invoke``."""
    interp = runtime.Interpreter.from_bytes(data)
    for i, arr in enumerate(arrays):
        interp.set_input(arr, i)
    return interp.invoke


if __name__ == "__main__":
    sys.exit(bench_common.main(__doc__, load))
