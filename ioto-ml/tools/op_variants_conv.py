"""Variants for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D."""

from __future__ import annotations

import math

import golden_lib
import numpy as np
from op_models import OpSpec, with_output_q
from tflite_builder import Graph
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

ACT = {
    "none": schema.ActivationFunctionType.NONE,
    "relu": schema.ActivationFunctionType.RELU,
    "relu6": schema.ActivationFunctionType.RELU6,
}
PAD = {"same": schema.Padding.SAME, "valid": schema.Padding.VALID}


def weight_rng(name: str) -> np.random.Generator:
    """Seeded generator for a spec's weights."""
    return np.random.default_rng(golden_lib.seed_for(name + "/weights"))


def out_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """Spatial output size, TFLite rules."""
    if padding == "same":
        return math.ceil(size / stride)
    effective = (kernel - 1) * dilation + 1
    return (size - effective + stride) // stride


def channel_weights(rng, shape, axis: int) -> np.ndarray:
    """Normal weights with a different magnitude per output channel (so per-channel scales differ)."""
    fan_in = int(np.prod(shape)) // shape[axis]
    w = rng.normal(0.0, 1.0 / math.sqrt(fan_in), size=shape)
    gain_shape = [1] * len(shape)
    gain_shape[axis] = shape[axis]
    return (w * rng.uniform(0.2, 2.0, size=gain_shape)).astype(np.float32)


def conv(
    name,
    in_shape,
    out_ch,
    kernel,
    stride,
    padding,
    dilation=(1, 1),
    act="none",
    per_channel=True,
    in_range=(-1.5, 2.5),
    bias=True,
):
    """A CONV_2D spec. ``kernel``, ``stride``, ``dilation`` are (h, w)."""
    rng = weight_rng(name)
    w = channel_weights(rng, (out_ch, kernel[0], kernel[1], in_shape[3]), axis=0)
    b = rng.normal(0.0, 0.3, size=out_ch).astype(np.float32)
    oh = out_size(in_shape[1], kernel[0], stride[0], dilation[0], padding)
    ow = out_size(in_shape[2], kernel[1], stride[1], dilation[1], padding)

    def build(g: Graph):
        x = g.input("x", in_shape)
        wi = g.weights("w", w, 0 if per_channel else None)
        bi = g.bias("b", b, "x", wi) if bias else -1
        y = g.output("y", (in_shape[0], oh, ow, out_ch))
        opt = schema.Conv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = PAD[padding], stride[0], stride[1]
        opt.dilationHFactor, opt.dilationWFactor = dilation
        opt.fusedActivationFunction = ACT[act]
        g.op("CONV_2D", [x, wi, bi], [y], opt, version=3)

    quant = "per-channel" if per_channel else "per-tensor"
    desc = (
        f"CONV_2D input {list(in_shape)}, {out_ch}x{kernel[0]}x{kernel[1]} {quant} int8 filter, stride {stride}, "
        f"{padding.upper()} padding, dilation {dilation}, fused {act.upper()}{'' if bias else ', no bias'}"
    )
    return OpSpec(name, desc, build, ranges={"x": in_range}, calibrate=["y"])


def depthwise(name, in_shape, mult, kernel, stride, padding, dilation=(1, 1), act="none", per_channel=True):
    """A DEPTHWISE_CONV_2D spec with depth multiplier ``mult``."""
    rng = weight_rng(name)
    out_ch = in_shape[3] * mult
    w = channel_weights(rng, (1, kernel[0], kernel[1], out_ch), axis=3)
    b = rng.normal(0.0, 0.3, size=out_ch).astype(np.float32)
    oh = out_size(in_shape[1], kernel[0], stride[0], dilation[0], padding)
    ow = out_size(in_shape[2], kernel[1], stride[1], dilation[1], padding)

    def build(g: Graph):
        x = g.input("x", in_shape)
        wi = g.weights("w", w, 3 if per_channel else None)
        bi = g.bias("b", b, "x", wi)
        y = g.output("y", (in_shape[0], oh, ow, out_ch))
        opt = schema.DepthwiseConv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = PAD[padding], stride[0], stride[1]
        opt.dilationHFactor, opt.dilationWFactor = dilation
        opt.depthMultiplier = mult
        opt.fusedActivationFunction = ACT[act]
        g.op("DEPTHWISE_CONV_2D", [x, wi, bi], [y], opt, version=3)

    quant = "per-channel" if per_channel else "per-tensor"
    desc = (
        f"DEPTHWISE_CONV_2D input {list(in_shape)}, {kernel[0]}x{kernel[1]} {quant} filter, depth multiplier "
        f"{mult}, stride {stride}, {padding.upper()} padding, dilation {dilation}, fused {act.upper()}"
    )
    return OpSpec(name, desc, build, ranges={"x": (-2.0, 2.0)}, calibrate=["y"])


def fully_connected(name, in_shape, units, act="none", keep_num_dims=False, bias=True, per_channel=False):
    """A FULLY_CONNECTED spec; the input is flattened to [-1, in_shape[-1]]."""
    rng = weight_rng(name)
    depth = in_shape[-1]
    w = channel_weights(rng, (units, depth), axis=0)
    b = rng.normal(0.0, 0.3, size=units).astype(np.float32)
    if keep_num_dims:
        out_shape = (*in_shape[:-1], units)
    else:
        out_shape = (int(np.prod(in_shape)) // depth, units)
    version = 6 if not bias else 5 if keep_num_dims else 4

    def build(g: Graph):
        x = g.input("x", in_shape)
        wi = g.weights("w", w, 0 if per_channel else None)
        ins = [x, wi, g.bias("b", b, "x", wi) if bias else -1]
        y = g.output("y", out_shape)
        opt = schema.FullyConnectedOptionsT()
        opt.fusedActivationFunction = ACT[act]
        opt.keepNumDims = keep_num_dims
        g.op("FULLY_CONNECTED", ins, [y], opt, version=version)

    desc = (
        f"FULLY_CONNECTED input {list(in_shape)} -> {units} units, {'per-channel' if per_channel else 'per-tensor'} "
        f"weights, {'int32 bias' if bias else 'no bias'}, keep_num_dims={keep_num_dims}, fused {act.upper()}"
    )
    return OpSpec(name, desc, build, ranges={"x": (-1.0, 3.0)}, calibrate=["y"])


def pool(name, opname, in_shape, filt, stride, padding, act="none", in_range=(-3.0, 2.0)):
    """An AVERAGE_POOL_2D or MAX_POOL_2D spec; output keeps the input's quantization."""
    oh = out_size(in_shape[1], filt[0], stride[0], 1, padding)
    ow = out_size(in_shape[2], filt[1], stride[1], 1, padding)

    def build(g: Graph):
        x = g.input("x", in_shape)
        y = g.output("y", (in_shape[0], oh, ow, in_shape[3]), qkey="x")
        opt = schema.Pool2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = PAD[padding], stride[0], stride[1]
        opt.filterHeight, opt.filterWidth = filt
        opt.fusedActivationFunction = ACT[act]
        g.op(opname, [x], [y], opt, version=2)

    desc = (
        f"{opname} input {list(in_shape)}, filter {filt}, stride {stride}, {padding.upper()} padding, "
        f"fused {act.upper()}, output quantization = input quantization"
    )
    return OpSpec(name, desc, build, ranges={"x": in_range})


def specs() -> list[OpSpec]:
    """All variants of this module."""
    return [
        conv("op_conv_2d_valid_s1_perchannel", (1, 8, 8, 3), 4, (3, 3), (1, 1), "valid"),
        conv("op_conv_2d_same_s2_relu", (1, 9, 9, 4), 8, (3, 3), (2, 2), "same", act="relu"),
        conv(
            "op_conv_2d_same_dilation2_relu6",
            (1, 10, 10, 3),
            6,
            (3, 3),
            (1, 1),
            "same",
            (2, 2),
            act="relu6",
            in_range=(-4.0, 4.0),
        ),
        conv("op_conv_2d_valid_dilation_h2w3", (1, 12, 13, 2), 3, (3, 2), (1, 2), "valid", (2, 3)),
        conv("op_conv_2d_pertensor_s21", (1, 9, 7, 3), 5, (5, 3), (2, 1), "same", per_channel=False),
        conv("op_conv_2d_1x1_pointwise", (1, 6, 6, 16), 8, (1, 1), (1, 1), "valid", act="relu6"),
        conv("op_conv_2d_same_s2_even_kernel", (1, 8, 8, 2), 4, (4, 4), (2, 2), "same"),
        conv("op_conv_2d_batch2_same", (2, 5, 5, 3), 4, (3, 3), (1, 1), "same", act="relu"),
        conv("op_conv_2d_no_bias", (1, 6, 6, 4), 4, (3, 3), (1, 1), "valid", bias=False),
        conv("op_conv_2d_valid_stride3_kernel2", (1, 11, 10, 3), 4, (2, 2), (3, 3), "valid"),
        with_output_q(
            conv("op_conv_2d_multiplier_above_one", (1, 5, 5, 4), 4, (3, 3), (1, 1), "same"),
            0.002,
            3,
            "input_scale * weight_scale / output_scale > 1 (left shift in the requantization)",
        ),
        with_output_q(
            conv("op_conv_2d_tiny_multiplier", (1, 5, 5, 4), 4, (3, 3), (1, 1), "same"),
            40.0,
            -2,
            "very small effective scale (large right shift)",
        ),
        depthwise("op_depthwise_conv_2d_same_s1_relu6", (1, 8, 8, 4), 1, (3, 3), (1, 1), "same", act="relu6"),
        depthwise("op_depthwise_conv_2d_valid_s2_mult2", (1, 9, 9, 3), 2, (3, 3), (2, 2), "valid"),
        depthwise(
            "op_depthwise_conv_2d_same_dilation2_mult3_relu",
            (1, 9, 9, 2),
            3,
            (3, 3),
            (1, 1),
            "same",
            (2, 2),
            act="relu",
        ),
        depthwise("op_depthwise_conv_2d_pertensor_s12", (1, 7, 8, 5), 1, (3, 3), (1, 2), "same", per_channel=False),
        depthwise("op_depthwise_conv_2d_same_10x4_kernel_s2", (1, 49, 10, 4), 1, (10, 4), (2, 2), "same"),
        depthwise("op_depthwise_conv_2d_one_channel_mult8", (1, 8, 8, 1), 8, (3, 3), (2, 2), "same", act="relu6"),
        fully_connected("op_fully_connected_basic", (1, 32), 10),
        fully_connected("op_fully_connected_batch3_relu", (3, 16), 8, act="relu"),
        fully_connected("op_fully_connected_4d_input_relu6", (1, 2, 2, 8), 6, act="relu6"),
        fully_connected("op_fully_connected_keep_num_dims", (1, 4, 8), 5, keep_num_dims=True),
        fully_connected("op_fully_connected_no_bias", (1, 24), 7, bias=False),
        fully_connected("op_fully_connected_perchannel", (2, 20), 6, per_channel=True),
        with_output_q(
            fully_connected("op_fully_connected_multiplier_above_one", (1, 16), 8),
            0.003,
            -5,
            "effective scale > 1",
        ),
        pool("op_average_pool_2d_valid_2x2_s2", "AVERAGE_POOL_2D", (1, 8, 8, 4), (2, 2), (2, 2), "valid"),
        pool(
            "op_average_pool_2d_same_3x3_s2_relu6",
            "AVERAGE_POOL_2D",
            (1, 7, 7, 3),
            (3, 3),
            (2, 2),
            "same",
            act="relu6",
            in_range=(-2.0, 8.0),
        ),
        pool("op_average_pool_2d_global", "AVERAGE_POOL_2D", (1, 5, 5, 8), (5, 5), (1, 1), "valid"),
        pool("op_max_pool_2d_valid_2x2_s2", "MAX_POOL_2D", (1, 8, 8, 4), (2, 2), (2, 2), "valid"),
        pool("op_max_pool_2d_same_3x3_s2_relu", "MAX_POOL_2D", (1, 7, 7, 3), (3, 3), (2, 2), "same", act="relu"),
        pool(
            "op_max_pool_2d_same_3x2_s1_relu6",
            "MAX_POOL_2D",
            (1, 6, 5, 2),
            (3, 2),
            (1, 1),
            "same",
            act="relu6",
            in_range=(-2.0, 8.0),
        ),
    ]
