#!/usr/bin/env python3
"""Sanity check for the single-op models: int8 model vs its float32 twin, both in TFLM.

    .venv/bin/python ioto-ml/tools/verify_op_models.py

For every op spec, the committed int8 model and a float32 twin of the same graph
(its weights, biases and constants being the int8 model's, dequantized) run in
TFLM on the golden random inputs (dequantized for the twin). The int8 output,
dequantized, must stay within ``TOLERANCE_LSB`` output steps of the twin's
output clamped to the int8 range. This catches a
wrongly built model (bias scale, per-channel axis, option fields) - it does not
replace the byte-exact goldens. Single QUANTIZE / DEQUANTIZE models are checked
against the identity on the dequantized input; the requantizing CONCATENATION
graphs (no float twin) and the one documented TFLM quirk (RELU6 ignoring the
output quantization) are listed as skipped. Exit status 1
if any model is outside the tolerance.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import golden_lib  # noqa: E402
import op_models  # noqa: E402
from tflite_builder import Graph, choose_qparams  # noqa: E402

TOLERANCE_LSB = 1.0
NO_TWIN_OPS = {"QUANTIZE", "DEQUANTIZE"}
QUIRKS = {"op_relu6_output_q_ignored": "TFLM's int8 RELU6 clamps in input units and ignores the output quantization"}


def _float_twin(spec: op_models.OpSpec) -> bytes:
    qparams = {k: choose_qparams(*r) for k, r in spec.ranges.items()}
    qparams.update(spec.fixed)
    if spec.calibrate:
        qparams = op_models._calibrate(spec, qparams)  # noqa: SLF001 - same package
    twin = Graph(qparams, float_mode="dequantized")
    spec.build(twin)
    return twin.to_bytes()


def _dequantize(arr: np.ndarray, info: golden_lib.TensorInfo) -> np.ndarray:
    if info.dtype == "float32":
        return arr.astype(np.float64)
    return (arr.astype(np.float64) - info.zero_point) * info.scale


def check(spec: op_models.OpSpec) -> tuple[str, float | None]:
    """('ok'|'FAIL'|'skipped: why', worst error in output LSBs)."""
    inputs, outputs, ops = golden_lib.describe_model(spec.model_bytes)
    if spec.name in QUIRKS:
        return f"skipped: {QUIRKS[spec.name]}", None
    cases = golden_lib.build_cases(spec.name, inputs, spec.float_range)[: golden_lib.RANDOM_CASES]
    int8_out = golden_lib.run_tflm(spec.model_bytes, cases, len(outputs))
    float_in = [[_dequantize(a, t).astype(np.float32) for a, t in zip(c, inputs, strict=True)] for c in cases]
    if ops in (["QUANTIZE"], ["DEQUANTIZE"]):
        # the float meaning of (de)quantization is the identity on the dequantized input
        float_out = float_in
    elif NO_TWIN_OPS & set(ops):
        return "skipped: QUANTIZE inside a larger graph has no float twin", None
    else:
        float_out = golden_lib.run_tflm(_float_twin(spec), float_in, len(outputs))
    worst = 0.0
    for q_case, f_case in zip(int8_out, float_out, strict=True):
        for q, f, info in zip(q_case, f_case, outputs, strict=True):
            if info.dtype == "float32":  # DEQUANTIZE: measure in input steps
                err = np.abs(q.astype(np.float64) - f.astype(np.float64)) / inputs[0].scale
                worst = max(worst, float(err.max()))
                continue
            lo, hi = (-128 - info.zero_point) * info.scale, (127 - info.zero_point) * info.scale
            err = np.abs(_dequantize(q, info) - np.clip(f.astype(np.float64), lo, hi)) / info.scale
            worst = max(worst, float(err.max()))
    return ("ok" if worst <= TOLERANCE_LSB else "FAIL"), worst


def main() -> int:
    failed = 0
    for spec in op_models.all_specs():
        status, worst = check(spec)
        failed += status == "FAIL"
        detail = "" if worst is None else f" worst={worst:.2f} LSB"
        print(f"{spec.name:50s} {status}{detail}")
    print(f"{failed} model(s) outside {TOLERANCE_LSB} LSB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
