"""Shared helpers for writing TFLM golden vector sets.

A golden set is a directory ``ioto-ml/tests/golden/<name>/`` holding

* ``model.tflite`` - the model bytes,
* ``input.bin``    - N cases concatenated; a case is the raw bytes of every
  subgraph-0 input tensor, in input order,
* ``output.bin``   - N cases concatenated; a case is the raw bytes of every
  subgraph-0 output tensor, in output order, as produced by TFLM,
* ``meta.json``    - case count, tensor descriptions, source, oracle version
  and the operator names the model uses.

Every byte is deterministic: inputs come from ``numpy.random.default_rng``
seeded from the set name, and TFLM's reference kernels are deterministic.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tflite_micro.python.tflite_micro import _version as tflm_version
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

#: Number of seeded random cases per set (edge cases come on top).
RANDOM_CASES = 20

#: Oracle string recorded in every meta.json.
ORACLE = f"tflite-micro {tflm_version.__version__}"

_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_NUMPY_TYPES = {
    "INT8": np.int8,
    "UINT8": np.uint8,
    "INT16": np.int16,
    "INT32": np.int32,
    "FLOAT32": np.float32,
}


@dataclass
class TensorInfo:
    """Shape, element type and (per-tensor) quantization of one I/O tensor."""

    shape: list[int]
    dtype: str
    scale: float
    zero_point: int

    @property
    def np_dtype(self):
        """The numpy dtype matching ``dtype``."""
        return np.dtype(_NUMPY_TYPES[self.dtype.upper()])

    @property
    def nbytes(self) -> int:
        """Size of the tensor's raw data in bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.np_dtype.itemsize

    def to_json(self) -> dict:
        """The meta.json form of this tensor."""
        return {
            "shape": self.shape,
            "dtype": self.dtype,
            "bytes": self.nbytes,
            "scale": self.scale,
            "zero_point": self.zero_point,
        }


def _tensor_info(tensor) -> TensorInfo:
    dtype = _TYPE_NAMES[tensor.type].lower()
    scale, zero_point = 0.0, 0
    q = tensor.quantization
    if q is not None and q.scale is not None and len(q.scale) > 0:
        scale = float(np.float32(q.scale[0]))
        zero_point = int(q.zeroPoint[0])
    return TensorInfo([int(d) for d in tensor.shape], dtype, scale, zero_point)


def describe_model(model_bytes: bytes) -> tuple[list[TensorInfo], list[TensorInfo], list[str]]:
    """Return (inputs, outputs, operator names in execution order, unique)."""
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model_bytes, 0))
    graph = model.subgraphs[0]
    inputs = [_tensor_info(graph.tensors[i]) for i in graph.inputs]
    outputs = [_tensor_info(graph.tensors[i]) for i in graph.outputs]
    ops: list[str] = []
    for op in graph.operators or []:
        code = model.operatorCodes[op.opcodeIndex]
        name = _OP_NAMES[max(code.builtinCode, code.deprecatedBuiltinCode)]
        if name not in ops:
            ops.append(name)
    return inputs, outputs, ops


def seed_for(name: str) -> int:
    """Stable per-set seed (CRC32 of the set name)."""
    return zlib.crc32(name.encode("utf-8"))


def random_case(rng: np.random.Generator, info: TensorInfo, float_range: tuple[float, float], k: int):
    """Random array number ``k`` for ``info``.

    Integers: even ``k`` draws uniformly over the full type range; odd ``k``
    draws a normal distribution around the zero point (spread 4..64) so that
    outputs do not all saturate. Floats: uniform over ``float_range``.
    """
    if info.dtype == "float32":
        lo, hi = float_range
        return rng.uniform(lo, hi, size=info.shape).astype(np.float32)
    limits = np.iinfo(info.np_dtype)
    if k % 2 == 0:
        return rng.integers(limits.min, limits.max, size=info.shape, endpoint=True, dtype=info.np_dtype)
    spread = (4, 8, 16, 32, 64)[(k // 2) % 5]
    values = np.rint(rng.normal(info.zero_point, spread, size=info.shape))
    return np.clip(values, limits.min, limits.max).astype(info.np_dtype)


def edge_cases(info: TensorInfo, float_range: tuple[float, float]) -> list[np.ndarray]:
    """Edge inputs: all minimum, all maximum, all zero point (or 0.0 / range ends for floats)."""
    if info.dtype == "float32":
        lo, hi = float_range
        values = [np.float32(lo), np.float32(hi), np.float32(0.0)]
    else:
        limits = np.iinfo(info.np_dtype)
        values = [limits.min, limits.max, info.zero_point]
    return [np.full(info.shape, v, dtype=info.np_dtype) for v in values]


def build_cases(name: str, inputs: list[TensorInfo], float_range=(-1.0, 1.0), extra=None):
    """Seeded random cases followed by edge cases (applied to all inputs at once).

    ``extra`` is an optional list of additional cases (each a list of arrays).
    """
    rng = np.random.default_rng(seed_for(name))
    cases = [[random_case(rng, t, float_range, k) for t in inputs] for k in range(RANDOM_CASES)]
    per_input_edges = [edge_cases(t, float_range) for t in inputs]
    for k in range(3):
        cases.append([edges[k] for edges in per_input_edges])
    cases.extend(extra or [])
    return cases


def run_tflm(model_bytes: bytes, cases, n_outputs: int) -> list[list[np.ndarray]]:
    """Run every case through a fresh-state TFLM interpreter; return outputs per case."""
    # TFLM's default arena (10x the model size) is too small for tiny models with big tensors
    interp = runtime.Interpreter.from_bytes(model_bytes, arena_size=max(10 * len(model_bytes), 1 << 20))
    results = []
    for case in cases:
        interp.reset()
        for i, arr in enumerate(case):
            interp.set_input(np.ascontiguousarray(arr), i)
        interp.invoke()
        results.append([np.array(interp.get_output(i), copy=True) for i in range(n_outputs)])
    return results


def _check_case(arrays, infos, what: str) -> bytes:
    out = b""
    for arr, info in zip(arrays, infos, strict=True):
        if arr.dtype != info.np_dtype or list(arr.shape) != info.shape:
            raise ValueError(f"{what}: got {arr.dtype}{list(arr.shape)}, want {info.dtype}{info.shape}")
        out += arr.tobytes(order="C")
    return out


def write_set(
    out_dir: Path,
    name: str,
    model_bytes: bytes,
    source: str,
    float_range=(-1.0, 1.0),
    extra_cases=None,
) -> dict:
    """Generate, run and write one golden set. Returns its meta dict."""
    inputs, outputs, ops = describe_model(model_bytes)
    cases = build_cases(name, inputs, float_range, extra_cases)
    results = run_tflm(model_bytes, cases, len(outputs))
    in_blob = b"".join(_check_case(c, inputs, f"{name} input") for c in cases)
    out_blob = b"".join(_check_case(r, outputs, f"{name} output") for r in results)
    meta = {
        "cases": len(cases),
        "inputs": [t.to_json() for t in inputs],
        "outputs": [t.to_json() for t in outputs],
        "source": source,
        "oracle": ORACLE,
        "ops": ops,
    }
    target = out_dir / name
    target.mkdir(parents=True, exist_ok=True)
    (target / "model.tflite").write_bytes(model_bytes)
    (target / "input.bin").write_bytes(in_blob)
    (target / "output.bin").write_bytes(out_blob)
    (target / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


@contextlib.contextmanager
def captured_stderr(sink: list[str]):
    """Capture file descriptor 2 (where TFLM's C++ logs go); append the text to ``sink``."""
    with tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            log.seek(0)
            sink.append(log.read().decode("utf-8", "replace"))
