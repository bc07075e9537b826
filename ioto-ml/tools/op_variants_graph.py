"""Small multi-op graphs: a residual block (a tensor that must outlive its neighbours in
the memory plan) and a two-input / two-output graph (I/O ordering in the golden files)."""

from __future__ import annotations

import numpy as np
from op_models import OpSpec
from op_variants_conv import ACT, PAD, channel_weights, weight_rng
from tflite_builder import Graph
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema


def _conv_options(stride, act, padding="same"):
    opt = schema.Conv2DOptionsT()
    opt.padding, opt.strideH, opt.strideW = PAD[padding], stride, stride
    opt.fusedActivationFunction = ACT[act]
    return opt


def residual_block() -> OpSpec:
    """x -> CONV 3x3 s2 (RELU6) = a -> DEPTHWISE 3x3 (RELU6) -> CONV 1x1 = c -> ADD(a, c) (RELU)
    -> MEAN over H, W -> FULLY_CONNECTED -> SOFTMAX."""
    name = "graph_residual_block"
    rng = weight_rng(name)
    w1 = channel_weights(rng, (8, 3, 3, 3), axis=0)
    b1 = rng.normal(0.0, 0.3, size=8).astype(np.float32)
    w2 = channel_weights(rng, (1, 3, 3, 8), axis=3)
    b2 = rng.normal(0.0, 0.3, size=8).astype(np.float32)
    w3 = channel_weights(rng, (8, 1, 1, 8), axis=0)
    b3 = rng.normal(0.0, 0.3, size=8).astype(np.float32)
    w4 = channel_weights(rng, (5, 8), axis=0)
    b4 = rng.normal(0.0, 0.3, size=5).astype(np.float32)

    def build(g: Graph):
        x = g.input("x", (1, 10, 10, 3))
        a = g.activation("a", (1, 5, 5, 8))
        wi = g.weights("w1", w1, 0)
        g.op("CONV_2D", [x, wi, g.bias("b1", b1, "x", wi)], [a], _conv_options(2, "relu6"), version=3)
        b = g.activation("b", (1, 5, 5, 8))
        wi = g.weights("w2", w2, 3)
        opt = schema.DepthwiseConv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW, opt.depthMultiplier = PAD["same"], 1, 1, 1
        opt.dilationHFactor = opt.dilationWFactor = 1
        opt.fusedActivationFunction = ACT["relu6"]
        g.op("DEPTHWISE_CONV_2D", [a, wi, g.bias("b2", b2, "a", wi)], [b], opt, version=3)
        c = g.activation("c", (1, 5, 5, 8))
        wi = g.weights("w3", w3, 0)
        g.op("CONV_2D", [b, wi, g.bias("b3", b3, "b", wi)], [c], _conv_options(1, "none"), version=3)
        d = g.activation("d", (1, 5, 5, 8))
        add = schema.AddOptionsT()
        add.fusedActivationFunction = ACT["relu"]
        g.op("ADD", [a, c], [d], add, version=2)
        e = g.activation("e", (1, 1, 1, 8))
        mean = schema.ReducerOptionsT()
        mean.keepDims = True
        g.op("MEAN", [d, g.const_int32("axes", (1, 2))], [e], mean, version=2)
        f = g.activation("f", (1, 8), qkey="e")
        g.op("RESHAPE", [e, g.const_int32("shape", (1, 8))], [f], None, version=1)
        h = g.activation("h", (1, 5))
        wi = g.weights("w4", w4, None)
        fc = schema.FullyConnectedOptionsT()
        fc.fusedActivationFunction = ACT["none"]
        g.op("FULLY_CONNECTED", [f, wi, g.bias("b4", b4, "e", wi)], [h], fc, version=4)
        y = g.output("y", (1, 5))
        sm = schema.SoftmaxOptionsT()
        sm.beta = 1.0
        g.op("SOFTMAX", [h], [y], sm, version=2)

    desc = (
        "graph: CONV_2D 3x3 s2 RELU6 -> DEPTHWISE_CONV_2D 3x3 RELU6 -> CONV_2D 1x1 -> ADD with the first conv's "
        "output (residual, RELU) -> MEAN(H, W) -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX"
    )
    spec = OpSpec(name, desc, build, ranges={"x": (-1.0, 1.0)}, calibrate=["a", "b", "c", "d", "e", "h"])
    spec.fixed = {"y": (1.0 / 256.0, -128)}
    return spec


def two_outputs() -> OpSpec:
    """Inputs p [1, 16] and q [1, 16]; outputs ADD(p, q) and MUL(p, q), in that order."""

    def build(g: Graph):
        p = g.input("p", (1, 16))
        q = g.input("q", (1, 16))
        s = g.output("sum", (1, 16))
        m = g.output("product", (1, 16))
        add = schema.AddOptionsT()
        add.fusedActivationFunction = ACT["none"]
        g.op("ADD", [p, q], [s], add, version=2)
        mul = schema.MulOptionsT()
        mul.fusedActivationFunction = ACT["none"]
        g.op("MUL", [p, q], [m], mul, version=2)

    desc = "graph: inputs p, q [1, 16] with different quantization; outputs ADD(p, q) then MUL(p, q)"
    return OpSpec(
        "graph_two_inputs_two_outputs",
        desc,
        build,
        ranges={"p": (-2.0, 3.0), "q": (-1.0, 0.5)},
        calibrate=["sum", "product"],
    )


def specs() -> list[OpSpec]:
    """All graphs of this module."""
    return [residual_block(), two_outputs()]
