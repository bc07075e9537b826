"""Variants for ADD, MUL, RESHAPE, SOFTMAX, LOGISTIC, TANH, RELU, RELU6, QUANTIZE,
DEQUANTIZE, PAD, CONCATENATION and MEAN."""

from __future__ import annotations

import numpy as np
from op_models import OpSpec, with_output_q
from op_variants_conv import ACT, weight_rng
from tflite_builder import Graph, choose_qparams
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema


def _broadcast(a, b):
    return tuple(np.broadcast_shapes(tuple(a), tuple(b)))


def binary(name, opname, a_shape, b_shape, act="none", ranges=((-2.0, 3.0), (-1.0, 1.5)), const_b=False):
    """ADD or MUL of two int8 tensors (b may be a constant), numpy-style broadcasting."""
    out_shape = _broadcast(a_shape, b_shape)
    b_values = weight_rng(name).uniform(ranges[1][0], ranges[1][1], size=b_shape).astype(np.float32)

    def build(g: Graph):
        a = g.input("a", a_shape)
        b = g.const_activation("b", b_values) if const_b else g.input("b", b_shape)
        y = g.output("y", out_shape)
        opt = schema.AddOptionsT() if opname == "ADD" else schema.MulOptionsT()
        opt.fusedActivationFunction = ACT[act]
        version = 2
        if opname == "MUL" and not const_b:
            (sa, _), (sb, _), (sy, _) = (
                g.qparams.get("a", (0, 0)),
                g.qparams.get("b", (0, 0)),
                g.qparams.get("y", (1, 0)),
            )
            version = 3 if sa * sb / sy >= 1.0 else 2
        g.op(opname, [a, b], [y], opt, version=version)

    in_ranges = {"a": ranges[0]}
    if not const_b:
        in_ranges["b"] = ranges[1]
    desc = (
        f"{opname} {list(a_shape)} x {list(b_shape)}{' (constant)' if const_b else ''} -> {list(out_shape)}, "
        f"different input quantizations, fused {act.upper()}"
    )
    return OpSpec(name, desc, build, ranges=in_ranges, calibrate=["y"])


def reshape(name, in_shape, out_shape, shape_arg, mode):
    """RESHAPE with the shape as a constant int32 input ('tensor') or only in options ('options')."""

    def build(g: Graph):
        x = g.input("x", in_shape)
        y = g.output("y", out_shape, qkey="x")
        opt = schema.ReshapeOptionsT()
        opt.newShape = list(shape_arg)
        ins = [x, g.const_int32("shape", shape_arg)] if mode == "tensor" else [x]
        g.op("RESHAPE", ins, [y], opt, version=1)

    desc = f"RESHAPE {list(in_shape)} -> {list(out_shape)}, new shape {list(shape_arg)} given as {mode}"
    return OpSpec(name, desc, build, ranges={"x": (-1.0, 1.0)})


def unary(name, opname, shape, in_range, out_q=None, options=None, version=2, note=""):
    """An elementwise op x -> y.

    ``out_q`` is a fixed (scale, zero_point), ``"x"`` for the input's quantization,
    or None to calibrate the output.
    """
    same = out_q == "x"

    def build(g: Graph):
        x = g.input("x", shape)
        y = g.output("y", shape, qkey="x" if same else None)
        g.op(opname, [x], [y], options() if options else None, version=version)

    if same:
        note = ", output quantization = input quantization" + note
    spec = OpSpec(name, f"{opname} {list(shape)}, input range {list(in_range)}{note}", build, ranges={"x": in_range})
    spec.exhaustive = opname != "SOFTMAX"
    if out_q is None:
        spec.calibrate = ["y"]
    elif not same:
        spec.fixed = {"y": out_q}
    return spec


def softmax(name, shape, in_range, beta=1.0):
    """SOFTMAX along the last axis; output scale 1/256, zero point -128 (what TFLM requires for int8)."""

    def options():
        opt = schema.SoftmaxOptionsT()
        opt.beta = beta
        return opt

    return unary(name, "SOFTMAX", shape, in_range, (1.0 / 256.0, -128), options, note=f", beta {beta}")


def quantize_op(name, in_dtype, shape, in_q, out_q, float_range=(-1.0, 1.0)):
    """QUANTIZE float32->int8 or int8->int8 (requantize)."""

    def build(g: Graph):
        x = g.input("x", shape, dtype=in_dtype)
        y = g.output("y", shape)
        g.op("QUANTIZE", [x], [y], None, version=1)

    spec = OpSpec(
        name,
        f"QUANTIZE {in_dtype} {list(shape)} (input q {in_q}) -> int8 (scale {out_q[0]:.6g}, zero point {out_q[1]})",
        build,
        fixed={"y": out_q},
        float_range=float_range,
    )
    if in_q is not None:
        spec.fixed["x"] = in_q
        spec.exhaustive = True
    else:
        # values on and next to rounding ties (k + 1/2) * scale, and far out of range
        # (still small enough that value / scale fits in int32, as TFLM's cast requires)
        ties = [(k + 0.5) * out_q[0] for k in range(-140, 140, 5)]
        spec.float_extra = (
            ties
            + [np.nextafter(np.float32(t), np.float32(0)) for t in ties[:4]]
            + [
                -1.0e6,
                1.0e6,
                -0.0,
                float(np.float32(out_q[0] * -0.5)),
            ]
        )
    return spec


def dequantize(name, shape, in_q):
    """DEQUANTIZE int8 -> float32."""

    def build(g: Graph):
        x = g.input("x", shape)
        y = g.output("y", shape, dtype="float32")
        g.op("DEQUANTIZE", [x], [y], None, version=2)

    desc = f"DEQUANTIZE int8 {list(shape)} (scale {in_q[0]:.6g}, zero point {in_q[1]}) -> float32"
    return OpSpec(name, desc, build, fixed={"x": in_q}, exhaustive=True)


def pad(name, in_shape, paddings, in_range):
    """PAD with constant int32 paddings; pad value is the (non-zero) zero point."""
    out_shape = tuple(d + lo + hi for d, (lo, hi) in zip(in_shape, paddings, strict=True))

    def build(g: Graph):
        x = g.input("x", in_shape)
        y = g.output("y", out_shape, qkey="x")
        g.op("PAD", [x, g.const_int32("paddings", paddings)], [y], schema.PadOptionsT(), version=2)

    zp = choose_qparams(*in_range)[1]
    desc = f"PAD {list(in_shape)} by {[list(p) for p in paddings]} -> {list(out_shape)}, zero point {zp}"
    return OpSpec(name, desc, build, ranges={"x": in_range})


def concat(name, shapes, axis, ranges, requantize=False):
    """CONCATENATION of int8 inputs along ``axis``.

    TFLM requires every input to carry the output's scale and zero point, so
    inputs with differing quantization are first requantized with QUANTIZE
    (``requantize=True``), the graph the TFLite converter emits. With
    ``requantize=False`` and differing ranges the model is the direct form
    TFLM refuses (kept to document the refusal).
    """
    norm = axis % len(shapes[0])
    out_shape = list(shapes[0])
    out_shape[norm] = sum(s[norm] for s in shapes)
    union = (min(r[0] for r in ranges), max(r[1] for r in ranges))

    def build(g: Graph):
        ins = []
        for i, (shape, rng) in enumerate(zip(shapes, ranges, strict=True)):
            x = g.input(f"x{i}", shape)
            if requantize and rng != union:
                t = g.activation(f"x{i}_requantized", shape, qkey="y")
                g.op("QUANTIZE", [x], [t], None, version=1)
                x = t
            ins.append(x)
        y = g.output("y", out_shape)
        opt = schema.ConcatenationOptionsT()
        opt.axis = axis
        g.op("CONCATENATION", ins, [y], opt, version=2)

    same = len(set(ranges)) == 1
    how = "identical" if same else "differing, requantized by QUANTIZE first" if requantize else "differing"
    desc = f"CONCATENATION of {[list(s) for s in shapes]} along axis {axis} -> {out_shape}, {how} input quantization"
    return OpSpec(
        name, desc, build, ranges={f"x{i}": r for i, r in enumerate(ranges)}, fixed={"y": choose_qparams(*union)}
    )


def mean(name, in_shape, axes, keep_dims, same_q):
    """MEAN over ``axes`` (constant int32 tensor)."""
    norm = {a % len(in_shape) for a in axes}
    out_shape = (
        [1 if i in norm else d for i, d in enumerate(in_shape)]
        if keep_dims
        else [d for i, d in enumerate(in_shape) if i not in norm]
    )

    def build(g: Graph):
        x = g.input("x", in_shape)
        y = g.output("y", out_shape, qkey="x" if same_q else None)
        opt = schema.ReducerOptionsT()
        opt.keepDims = keep_dims
        g.op("MEAN", [x, g.const_int32("axis", axes)], [y], opt, version=2)

    desc = (
        f"MEAN {list(in_shape)} over axes {list(axes)}, keep_dims={keep_dims}, output quantization "
        f"{'= input' if same_q else 'calibrated (differs from input)'}"
    )
    spec = OpSpec(name, desc, build, ranges={"x": (-2.0, 4.0)})
    if not same_q:
        spec.calibrate = ["y"]
    return spec


def specs() -> list[OpSpec]:
    """All variants of this module."""
    nhwc = (1, 4, 4, 8)
    return [
        binary("op_add_same_shape", "ADD", nhwc, nhwc),
        binary("op_add_broadcast_channel_relu", "ADD", nhwc, (1, 1, 1, 8), act="relu"),
        binary("op_add_broadcast_both", "ADD", (1, 4, 1, 8), (1, 1, 5, 1)),
        binary("op_add_broadcast_rank2_relu6", "ADD", (3, 8), (8,), act="relu6"),
        binary("op_add_const_operand", "ADD", nhwc, nhwc, const_b=True),
        binary("op_mul_same_shape", "MUL", nhwc, nhwc),
        binary("op_mul_broadcast_scalar", "MUL", nhwc, (1,), ranges=((-2.0, 3.0), (-0.5, 2.0))),
        binary("op_mul_broadcast_channel_relu6", "MUL", nhwc, (1, 1, 1, 8), act="relu6"),
        binary("op_mul_const_broadcast_relu", "MUL", (1, 3, 3, 4), (1, 1, 3, 1), act="relu", const_b=True),
        with_output_q(
            binary("op_mul_rescale_above_one", "MUL", (1, 32), (1, 32), ranges=((-4.0, 4.0), (-3.0, 5.0))),
            0.001,
            0,
            "input1_scale * input2_scale / output_scale >= 1 (op version 3)",
        ),
        binary("op_add_scale_ratio_100", "ADD", (1, 32), (1, 32), ranges=((-100.0, 150.0), (-0.8, 1.2))),
        reshape("op_reshape_shape_tensor", (1, 4, 4, 3), (1, 48), (1, 48), "tensor"),
        reshape("op_reshape_minus_one", (1, 6, 2, 4), (1, 12, 4), (1, -1, 4), "tensor"),
        reshape("op_reshape_options_only", (2, 3, 4), (6, 4), (6, 4), "options"),
        reshape("op_reshape_to_rank1", (1, 3, 4, 2), (24,), (24,), "tensor"),
        softmax("op_softmax_2d", (1, 10), (-6.0, 6.0)),
        softmax("op_softmax_4d_rows", (1, 2, 3, 6), (-3.0, 2.0)),
        softmax("op_softmax_wide_input", (2, 12), (-40.0, 25.0)),
        softmax("op_softmax_beta_half", (1, 16), (-8.0, 8.0), beta=0.5),
        unary("op_logistic_range8", "LOGISTIC", (1, 64), (-8.0, 8.0), (1.0 / 256.0, -128)),
        unary("op_logistic_wide", "LOGISTIC", (1, 64), (-30.0, 12.0), (1.0 / 256.0, -128)),
        unary("op_logistic_narrow", "LOGISTIC", (2, 32), (-0.6, 0.4), (1.0 / 256.0, -128)),
        unary("op_tanh_range4", "TANH", (1, 64), (-4.0, 4.0), (1.0 / 128.0, 0)),
        unary("op_tanh_wide", "TANH", (1, 64), (-16.0, 9.0), (1.0 / 128.0, 0)),
        unary("op_tanh_narrow", "TANH", (2, 32), (-0.5, 0.7), (1.0 / 128.0, 0)),
        unary("op_relu_requant", "RELU", (1, 4, 4, 4), (-3.0, 5.0)),
        unary("op_relu_narrow_output", "RELU", (1, 64), (-10.0, 1.5)),
        unary("op_relu6_same_q", "RELU6", (1, 4, 4, 4), (-8.0, 10.0), "x"),
        unary("op_relu6_six_above_range", "RELU6", (1, 64), (-1.0, 4.0), "x"),
        unary(
            "op_relu6_output_q_ignored",
            "RELU6",
            (1, 64),
            (-8.0, 10.0),
            (6.0 / 255.0, -128),
            note=" - output quantization differs; TFLM's int8 RELU6 clamps in input units and ignores it",
        ),
        quantize_op("op_quantize_float_to_int8", "float32", (1, 64), None, (0.0196078, -26), float_range=(-4.0, 6.0)),
        quantize_op("op_quantize_int8_to_int8_finer", "int8", (1, 64), (0.05, 3), (0.02, -20)),
        quantize_op("op_quantize_int8_to_int8_coarser", "int8", (1, 64), (0.0123, -7), (0.0456, 11)),
        dequantize("op_dequantize_int8_to_float", (1, 64), (0.0372, 12)),
        pad("op_pad_spatial_zp17", (1, 5, 5, 3), ((0, 0), (1, 2), (2, 1), (0, 0)), (-2.0, 1.2)),
        pad("op_pad_channels_batch", (1, 4, 4, 2), ((1, 0), (0, 0), (0, 0), (1, 3)), (-0.5, 3.0)),
        pad("op_pad_rank2", (3, 5), ((1, 1), (2, 0)), (-1.0, 0.4)),
        concat("op_concatenation_axis3_same_q", ((1, 4, 4, 3), (1, 4, 4, 5)), 3, ((-1.0, 2.0),) * 2),
        concat("op_concatenation_axis1_same_q", ((1, 2, 4, 3), (1, 3, 4, 3)), 1, ((-4.0, 1.0),) * 2),
        concat("op_concatenation_axis_neg1_three", ((2, 3), (2, 5), (2, 2)), -1, ((-3.0, 6.0),) * 3),
        concat("op_concatenation_axis0_same_q", ((1, 6), (2, 6)), 0, ((-2.0, 3.0),) * 2),
        concat(
            "op_concatenation_axis2_requantized",
            ((1, 3, 2, 4), (1, 3, 5, 4)),
            2,
            ((-1.0, 2.0), (-4.0, 1.0)),
            requantize=True,
        ),
        concat(
            "op_concatenation_axis3_three_requantized",
            ((1, 2, 2, 3), (1, 2, 2, 2), (1, 2, 2, 4)),
            3,
            ((-1.0, 1.0), (0.0, 6.0), (-3.0, 0.5)),
            requantize=True,
        ),
        concat("op_concatenation_axis1_diff_q_direct", ((1, 2, 4, 3), (1, 3, 4, 3)), 1, ((-1.0, 2.0), (-4.0, 1.0))),
        mean("op_mean_spatial_keepdims", (1, 6, 6, 8), (1, 2), True, same_q=False),
        mean("op_mean_spatial_keepdims_same_q", (1, 5, 5, 4), (1, 2), True, same_q=True),
        mean("op_mean_spatial_no_keepdims", (1, 4, 6, 8), (1, 2), False, same_q=False),
        mean("op_mean_channel_axis", (1, 3, 3, 10), (3,), True, same_q=False),
        mean("op_mean_negative_axis_no_keepdims", (1, 4, 5, 6), (-1,), False, same_q=False),
        mean("op_mean_height_axis_same_q", (1, 7, 3, 4), (1,), True, same_q=True),
        mean("op_mean_large_spatial", (1, 25, 20, 4), (1, 2), True, same_q=False),
    ]
