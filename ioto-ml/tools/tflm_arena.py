#!/usr/bin/env python3
"""TFLM's tensor-arena use for one or more models (for the "arena <= TFLM" comparison).

    .venv/bin/python ioto-ml/tools/tflm_arena.py MODEL.tflite [MODEL.tflite ...]

Prints one line per model:
``TFLM_ARENA model=<path> total_bytes=<t> head_bytes=<h> tail_bytes=<p>``
from TFLM's RecordingMicroAllocator after one invoke. ``head`` is the planned,
non-persistent part (activations and scratch: the number an offline planner
competes with); ``tail`` is persistent data (tensor structs, kernel op data).
This runs on the 64-bit host, so ``tail`` is larger than on a 32-bit MCU,
while ``head`` is laid out by the same planner with the same 16-byte alignment.
Report only; nothing asserts on these numbers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import golden_lib  # noqa: E402
from tflite_micro.python.tflite_micro import runtime  # noqa: E402

_PATTERN = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


def arena(model_path: Path) -> dict[str, int]:
    """{'total', 'head', 'tail'} bytes of TFLM's arena for the model."""
    data = model_path.read_bytes()
    inputs, _, _ = golden_lib.describe_model(data)
    logs: list[str] = []
    interp = runtime.Interpreter.from_bytes(data)
    for i, info in enumerate(inputs):
        interp.set_input(np.zeros(info.shape, dtype=info.np_dtype), i)
    interp.invoke()
    with golden_lib.captured_stderr(logs):
        interp.print_allocations()
    found = {kind: int(n) for kind, n in _PATTERN.findall(logs[0])}
    if set(found) != {"total", "head", "tail"}:
        raise SystemExit(f"{model_path}: no arena figures in TFLM's allocation report")
    return found


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    for name in sys.argv[1:]:
        a = arena(Path(name))
        print(f"TFLM_ARENA model={name} total_bytes={a['total']} head_bytes={a['head']} tail_bytes={a['tail']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
