"""A small writer for single-subgraph TFLite flatbuffers.

It uses the object API of the schema module that ships inside the
``tflite-micro`` wheel (``schema_py_generated``) and quantizes the way the
TFLite converter does:

* activations: asymmetric int8, range widened to include 0,
  ``scale = (max - min) / 255``, ``zero_point = round(-128 - min / scale)``;
* weights: symmetric int8 in [-127, 127], zero point 0, per channel along
  ``quantized_dimension`` or per tensor;
* bias: int32, ``scale = input_scale * weight_scale`` (per channel), zero point 0.

A :class:`Graph` built with ``float_mode=True`` produces the float32 twin of
the same graph (weights and activations as float32); the op generator runs
that twin through TFLM to calibrate output ranges, like a converter would.
``float_mode="dequantized"`` gives the twin with the int8 model's weights,
biases and constants dequantized, which ``verify_op_models.py`` compares with.
Buffer data is 16-byte aligned, as the converter writes it.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

INT8_MIN, INT8_MAX = -128, 127

_TYPES = {
    "float32": schema.TensorType.FLOAT32,
    "int8": schema.TensorType.INT8,
    "int32": schema.TensorType.INT32,
}
_NP = {"float32": np.float32, "int8": np.int8, "int32": np.int32}


def choose_qparams(lo: float, hi: float) -> tuple[float, int]:
    """Asymmetric int8 (scale, zero_point) for the float range [lo, hi]."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-9:
        hi = lo + 1e-3
    scale = float(np.float32((hi - lo) / 255.0))
    zero_point = int(np.clip(np.round(INT8_MIN - lo / scale), INT8_MIN, INT8_MAX))
    return scale, zero_point


def quantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float -> int8, rounding half away from zero, with saturation."""
    x = np.asarray(values, dtype=np.float64) / scale
    q = np.sign(x) * np.floor(np.abs(x) + 0.5) + zero_point
    return np.clip(q, INT8_MIN, INT8_MAX).astype(np.int8)


def quantize_weights(values: np.ndarray, axis: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 in [-127, 127]: (int8 values, float32 scale per channel or one per tensor)."""
    if axis is None:
        scales = np.array([np.abs(values).max() / 127.0])
        q = np.round(values / scales[0])
    else:
        other = tuple(d for d in range(values.ndim) if d != axis)
        scales = np.abs(values).max(axis=other) / 127.0
        scales = np.where(scales == 0, 1.0, scales)
        shape = [1] * values.ndim
        shape[axis] = -1
        q = np.round(values / scales.reshape(shape))
    return np.clip(q, -127, 127).astype(np.int8), scales.astype(np.float32)


class _AlignedBuffer(schema.BufferT):
    """BufferT whose data vector is 16-byte aligned (the converter's force_align)."""

    def Pack(self, builder):  # noqa: N802 - flatbuffers naming
        data = None
        if self.data is not None and len(self.data) > 0:
            raw = bytes(self.data)
            builder.StartVector(1, len(raw), 16)
            builder.head = builder.head - len(raw)
            builder.Bytes[builder.head : builder.head + len(raw)] = raw
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        return schema.BufferEnd(builder)


def _quant(scales, zero_points, axis=0) -> schema.QuantizationParametersT:
    q = schema.QuantizationParametersT()
    q.scale = [float(s) for s in np.atleast_1d(scales)]
    q.zeroPoint = [int(z) for z in np.atleast_1d(zero_points)]
    q.quantizedDimension = int(axis)
    return q


class Graph:
    """Builder for one subgraph with one or more operators."""

    def __init__(self, qparams: dict[str, tuple[float, int]] | None = None, float_mode: bool | str = False):
        """``float_mode``: False for the int8 model; True for the float32 twin with the
        original float weights (calibration); ``"dequantized"`` for the float32 twin whose
        weights, biases and constants are the int8 model's values dequantized (verification).
        """
        self.qparams = dict(qparams or {})
        self.float_mode = float_mode
        self.tensors: list[schema.TensorT] = []
        self.buffers: list[schema.BufferT] = [_AlignedBuffer()]
        self.opcodes: list[schema.OperatorCodeT] = []
        self.operators: list[schema.OperatorT] = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []
        self._weight_scales: dict[int, np.ndarray] = {}
        #: quantization key of every activation tensor, by tensor index
        self.qkeys: dict[int, str] = {}

    # -- tensors ---------------------------------------------------------
    def _add_tensor(self, name, shape, dtype, data=None, quant=None) -> int:
        t = schema.TensorT()
        t.name = name
        t.shape = [int(d) for d in shape]
        t.type = _TYPES[dtype]
        t.buffer = 0
        if data is not None:
            buf = _AlignedBuffer()
            buf.data = np.frombuffer(np.ascontiguousarray(data, dtype=_NP[dtype]).tobytes(), dtype=np.uint8)
            self.buffers.append(buf)
            t.buffer = len(self.buffers) - 1
        t.quantization = quant
        self.tensors.append(t)
        return len(self.tensors) - 1

    def activation(self, name: str, shape, qkey: str | None = None, dtype: str = "int8") -> int:
        """A non-constant tensor; int8 ones take qparams[qkey or name] (float32 in float mode)."""
        if dtype == "float32" or self.float_mode:
            idx = self._add_tensor(name, shape, "float32")
        else:
            scale, zero_point = self.qparams[qkey or name]
            idx = self._add_tensor(name, shape, dtype, quant=_quant(scale, zero_point))
        if dtype != "float32":
            self.qkeys[idx] = qkey or name
        return idx

    def input(self, name: str, shape, qkey: str | None = None, dtype: str = "int8") -> int:
        """A subgraph input."""
        idx = self.activation(name, shape, qkey, dtype)
        self.inputs.append(idx)
        return idx

    def output(self, name: str, shape, qkey: str | None = None, dtype: str = "int8") -> int:
        """A subgraph output."""
        idx = self.activation(name, shape, qkey, dtype)
        self.outputs.append(idx)
        return idx

    def const_int32(self, name: str, values) -> int:
        """A constant int32 tensor (shapes, paddings, axes)."""
        arr = np.asarray(values, dtype=np.int32)
        return self._add_tensor(name, arr.shape, "int32", data=arr)

    def const_activation(self, name: str, values: np.ndarray) -> int:
        """A constant operand of an elementwise op, quantized asymmetrically on its own range."""
        values = np.asarray(values, dtype=np.float32)
        scale, zero_point = choose_qparams(values.min(), values.max())
        q = quantize(values, scale, zero_point)
        if self.float_mode:
            data = values if self.float_mode != "dequantized" else (q.astype(np.float64) - zero_point) * scale
            return self._add_tensor(name, values.shape, "float32", data=data)
        return self._add_tensor(name, values.shape, "int8", data=q, quant=_quant(scale, zero_point))

    def weights(self, name: str, values: np.ndarray, axis: int | None) -> int:
        """Symmetric int8 weights, per channel along ``axis`` or per tensor (``axis=None``)."""
        values = np.asarray(values, dtype=np.float32)
        q, scales = quantize_weights(values, axis)
        if self.float_mode:
            data = values
            if self.float_mode == "dequantized":
                shape = [1] * values.ndim
                if axis is not None:
                    shape[axis] = -1
                data = q.astype(np.float64) * scales.astype(np.float64).reshape(shape)
            idx = self._add_tensor(name, values.shape, "float32", data=data)
        else:
            zeros = np.zeros(len(scales), dtype=np.int64)
            idx = self._add_tensor(name, values.shape, "int8", data=q, quant=_quant(scales, zeros, axis or 0))
        self._weight_scales[idx] = scales
        return idx

    def bias(self, name: str, values: np.ndarray, input_qkey: str, weights_idx: int) -> int:
        """int32 bias with scale input_scale * weight_scale (per channel when the weights are)."""
        values = np.asarray(values, dtype=np.float32)
        if self.float_mode is True:
            return self._add_tensor(name, values.shape, "float32", data=values)
        in_scale = self.qparams[input_qkey][0]
        scales = (np.float64(in_scale) * self._weight_scales[weights_idx].astype(np.float64)).astype(np.float32)
        per = scales if len(scales) > 1 else np.full(values.shape, scales[0], dtype=np.float32)
        q = np.round(values.astype(np.float64) / per.astype(np.float64))
        q = np.clip(q, -(2**31), 2**31 - 1).astype(np.int32)
        if self.float_mode == "dequantized":
            return self._add_tensor(name, values.shape, "float32", data=q * per.astype(np.float64))
        return self._add_tensor(name, values.shape, "int32", data=q, quant=_quant(scales, np.zeros(len(scales))))

    # -- operators -------------------------------------------------------
    def op(self, opname: str, inputs, outputs, options=None, version: int = 1) -> None:
        """Append an operator; ``options`` is a schema ``*OptionsT`` instance or None."""
        code = getattr(schema.BuiltinOperator, opname)
        if self.float_mode:
            version = 1
        for i, oc in enumerate(self.opcodes):
            if oc.builtinCode == code and oc.version == version:
                index = i
                break
        else:
            oc = schema.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = version
            self.opcodes.append(oc)
            index = len(self.opcodes) - 1
        op = schema.OperatorT()
        op.opcodeIndex = index
        op.inputs = list(inputs)
        op.outputs = list(outputs)
        if options is not None:
            op.builtinOptionsType = getattr(schema.BuiltinOptions, type(options).__name__[:-1])
            op.builtinOptions = options
        self.operators.append(op)

    def to_bytes(self, description: str = "ioto-ml single-op test model") -> bytes:
        """Serialize as a TFLite model (file identifier TFL3, schema version 3)."""
        sub = schema.SubGraphT()
        sub.tensors = self.tensors
        sub.inputs = self.inputs
        sub.outputs = self.outputs
        sub.operators = self.operators
        sub.name = "main"
        model = schema.ModelT()
        model.version = 3
        model.operatorCodes = self.opcodes
        model.subgraphs = [sub]
        model.description = description
        model.buffers = self.buffers
        builder = flatbuffers.Builder(4096)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())
