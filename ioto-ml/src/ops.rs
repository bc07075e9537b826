//! Operator kinds, the prepare-time context and dispatch to the kernels.

use crate::error::{Error, Result};
use crate::flatbuffer::{Table, Vector};
use crate::kernels::{
    activation, conv, depthwise, elementwise, fully_connected, mean, pool, quantize, shape,
};
use crate::model::Model;
use crate::record::{Reader, Writer};
use crate::schema::tensor_type;
use crate::tensor::TensorInfo;

/// The most inputs one operator may have.
pub(crate) const MAX_INPUTS: usize = 8;

/// The operators the engine implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Conv2d = 0,
    DepthwiseConv2d,
    FullyConnected,
    AveragePool2d,
    MaxPool2d,
    Add,
    Mul,
    Reshape,
    Softmax,
    Logistic,
    Tanh,
    Relu,
    Relu6,
    Quantize,
    Dequantize,
    Pad,
    Concatenation,
    Mean,
}

const KINDS: [Kind; 18] = [
    Kind::Conv2d,
    Kind::DepthwiseConv2d,
    Kind::FullyConnected,
    Kind::AveragePool2d,
    Kind::MaxPool2d,
    Kind::Add,
    Kind::Mul,
    Kind::Reshape,
    Kind::Softmax,
    Kind::Logistic,
    Kind::Tanh,
    Kind::Relu,
    Kind::Relu6,
    Kind::Quantize,
    Kind::Dequantize,
    Kind::Pad,
    Kind::Concatenation,
    Kind::Mean,
];

impl Kind {
    /// Maps a builtin operator code and version to a kind the engine runs.
    pub(crate) fn from_code(code: i32, version: i32) -> Option<Kind> {
        let (kind, max_version) = match code {
            3 => (Kind::Conv2d, 8),
            4 => (Kind::DepthwiseConv2d, 7),
            9 => (Kind::FullyConnected, 12),
            1 => (Kind::AveragePool2d, 3),
            17 => (Kind::MaxPool2d, 3),
            0 => (Kind::Add, 5),
            18 => (Kind::Mul, 7),
            22 => (Kind::Reshape, 1),
            25 => (Kind::Softmax, 3),
            14 => (Kind::Logistic, 3),
            28 => (Kind::Tanh, 3),
            19 => (Kind::Relu, 3),
            21 => (Kind::Relu6, 2),
            114 => (Kind::Quantize, 3),
            6 => (Kind::Dequantize, 5),
            34 | 60 => (Kind::Pad, 4),
            2 => (Kind::Concatenation, 4),
            40 => (Kind::Mean, 3),
            _ => return None,
        };
        let max_version = if kind == Kind::Reshape {
            i32::MAX
        } else {
            max_version
        };
        ((1..=max_version).contains(&version) && kind.built_in()).then_some(kind)
    }

    /// Whether this build includes the operator's kernel (`op-*` cargo features).
    pub(crate) const fn built_in(self) -> bool {
        match self {
            Kind::Conv2d => cfg!(feature = "op-conv-2d"),
            Kind::DepthwiseConv2d => cfg!(feature = "op-depthwise-conv-2d"),
            Kind::FullyConnected => cfg!(feature = "op-fully-connected"),
            Kind::AveragePool2d => cfg!(feature = "op-average-pool-2d"),
            Kind::MaxPool2d => cfg!(feature = "op-max-pool-2d"),
            Kind::Add => cfg!(feature = "op-add"),
            Kind::Mul => cfg!(feature = "op-mul"),
            Kind::Reshape => cfg!(feature = "op-reshape"),
            Kind::Softmax => cfg!(feature = "op-softmax"),
            Kind::Logistic => cfg!(feature = "op-logistic"),
            Kind::Tanh => cfg!(feature = "op-tanh"),
            Kind::Relu => cfg!(feature = "op-relu"),
            Kind::Relu6 => cfg!(feature = "op-relu6"),
            Kind::Quantize => cfg!(feature = "op-quantize"),
            Kind::Dequantize => cfg!(feature = "op-dequantize"),
            Kind::Pad => cfg!(feature = "op-pad"),
            Kind::Concatenation => cfg!(feature = "op-concatenation"),
            Kind::Mean => cfg!(feature = "op-mean"),
        }
    }

    /// The TFLite builtin operator name, as in `ioto_ml::compiled::kernels`.
    pub(crate) const fn tflite_name(self) -> &'static str {
        match self {
            Kind::Conv2d => "CONV_2D",
            Kind::DepthwiseConv2d => "DEPTHWISE_CONV_2D",
            Kind::FullyConnected => "FULLY_CONNECTED",
            Kind::AveragePool2d => "AVERAGE_POOL_2D",
            Kind::MaxPool2d => "MAX_POOL_2D",
            Kind::Add => "ADD",
            Kind::Mul => "MUL",
            Kind::Reshape => "RESHAPE",
            Kind::Softmax => "SOFTMAX",
            Kind::Logistic => "LOGISTIC",
            Kind::Tanh => "TANH",
            Kind::Relu => "RELU",
            Kind::Relu6 => "RELU6",
            Kind::Quantize => "QUANTIZE",
            Kind::Dequantize => "DEQUANTIZE",
            Kind::Pad => "PAD",
            Kind::Concatenation => "CONCATENATION",
            Kind::Mean => "MEAN",
        }
    }

    pub(crate) fn from_word(w: i32) -> Option<Kind> {
        KINDS.get(usize::try_from(w).ok()?).copied()
    }
}

/// What an operator's prepare function can see.
pub(crate) struct OpCtx<'m, 'x> {
    pub(crate) model: &'x Model<'m>,
    pub(crate) index: usize,
    pub(crate) name: &'static str,
    pub(crate) inputs: Vector<'m, i32>,
    pub(crate) outputs: Vector<'m, i32>,
    pub(crate) options: Option<Table<'m>>,
}

impl<'m> OpCtx<'m, '_> {
    /// The error for shapes/quantization that do not fit this operator.
    pub(crate) fn bad(&self) -> Error {
        Error::BadShape {
            op: self.name,
            index: self.index,
        }
    }

    /// Input `i` (must be present).
    pub(crate) fn input(&self, i: usize) -> Result<TensorInfo<'m>> {
        self.opt_input(i)?.ok_or(self.bad())
    }

    /// Optional input `i` (absent or `-1` gives `None`).
    pub(crate) fn opt_input(&self, i: usize) -> Result<Option<TensorInfo<'m>>> {
        if i >= self.inputs.len() {
            return Ok(None);
        }
        let t = self.inputs.get(i)?;
        if t < 0 {
            return Ok(None);
        }
        TensorInfo::read(self.model, self.model.tensor_index(t)?).map(Some)
    }

    /// The single output.
    pub(crate) fn output(&self) -> Result<TensorInfo<'m>> {
        let t = self.outputs.get(0).map_err(|_| self.bad())?;
        TensorInfo::read(self.model, self.model.tensor_index(t)?)
    }

    /// Requires tensor `t` to have type `ty`.
    pub(crate) fn require(&self, t: &TensorInfo<'_>, ty: i8) -> Result<()> {
        if t.ty == ty {
            Ok(())
        } else {
            Err(Error::UnsupportedType {
                op: self.name,
                tensor_type: t.ty,
            })
        }
    }

    /// Requires exactly `n` inputs.
    pub(crate) fn input_count(&self, n: core::ops::RangeInclusive<usize>) -> Result<()> {
        if n.contains(&self.inputs.len()) {
            Ok(())
        } else {
            Err(self.bad())
        }
    }

    /// An `int8`/enum option field (default when the options table is absent).
    pub(crate) fn opt_i8(&self, id: usize, default: i8) -> Result<i8> {
        self.options.map_or(Ok(default), |t| t.i8(id, default))
    }

    /// An `int32` option field.
    pub(crate) fn opt_i32(&self, id: usize, default: i32) -> Result<i32> {
        self.options.map_or(Ok(default), |t| t.i32(id, default))
    }

    /// A `float` option field.
    pub(crate) fn opt_f32(&self, id: usize, default: f32) -> Result<f32> {
        self.options.map_or(Ok(default), |t| t.f32(id, default))
    }

    /// The first input and the output, requiring the same type and element count.
    pub(crate) fn unary(&self) -> Result<(TensorInfo<'m>, TensorInfo<'m>)> {
        let input = self.input(0)?;
        let output = self.output()?;
        if input.elems != output.elems {
            return Err(self.bad());
        }
        Ok((input, output))
    }
}

/// Validates operator `ctx` and appends its parameters; returns its MAC count.
pub(crate) fn prepare(kind: Kind, ctx: &OpCtx<'_, '_>, w: &mut Writer<'_>) -> Result<u64> {
    match kind {
        Kind::Conv2d if cfg!(feature = "op-conv-2d") => conv::prepare_conv(ctx, w),
        Kind::DepthwiseConv2d if cfg!(feature = "op-depthwise-conv-2d") => {
            conv::prepare_depthwise(ctx, w)
        }
        Kind::FullyConnected if cfg!(feature = "op-fully-connected") => {
            fully_connected::prepare(ctx, w)
        }
        Kind::AveragePool2d if cfg!(feature = "op-average-pool-2d") => {
            pool::prepare(ctx, w, true).map(|_| 0)
        }
        Kind::MaxPool2d if cfg!(feature = "op-max-pool-2d") => {
            pool::prepare(ctx, w, false).map(|_| 0)
        }
        Kind::Add if cfg!(feature = "op-add") => elementwise::prepare(ctx, w, false).map(|_| 0),
        Kind::Mul if cfg!(feature = "op-mul") => elementwise::prepare(ctx, w, true).map(|_| 0),
        Kind::Reshape if cfg!(feature = "op-reshape") => shape::prepare_reshape(ctx, w).map(|_| 0),
        Kind::Softmax if cfg!(feature = "op-softmax") => {
            activation::prepare_softmax(ctx, w).map(|_| 0)
        }
        Kind::Logistic if cfg!(feature = "op-logistic") => {
            activation::prepare_sigmoid(ctx, w, false).map(|_| 0)
        }
        Kind::Tanh if cfg!(feature = "op-tanh") => {
            activation::prepare_sigmoid(ctx, w, true).map(|_| 0)
        }
        Kind::Relu if cfg!(feature = "op-relu") => activation::prepare_relu(ctx, w).map(|_| 0),
        Kind::Relu6 if cfg!(feature = "op-relu6") => activation::prepare_relu6(ctx, w).map(|_| 0),
        Kind::Quantize if cfg!(feature = "op-quantize") => {
            quantize::prepare_quantize(ctx, w).map(|_| 0)
        }
        Kind::Dequantize if cfg!(feature = "op-dequantize") => {
            quantize::prepare_dequantize(ctx, w).map(|_| 0)
        }
        Kind::Pad if cfg!(feature = "op-pad") => shape::prepare_pad(ctx, w).map(|_| 0),
        Kind::Concatenation if cfg!(feature = "op-concatenation") => {
            shape::prepare_concat(ctx, w).map(|_| 0)
        }
        Kind::Mean if cfg!(feature = "op-mean") => mean::prepare(ctx, w).map(|_| 0),
        // Unreachable through `Model::parse`, which refuses operators not built in;
        // the guards above let the linker drop the kernels of the others.
        _ => Err(Error::Malformed("operator not built in")),
    }
}

/// A kernel's entry point: record parameters, inputs, output, scratch.
pub(crate) type KernelFn = fn(&mut Reader<'_>, &[&[u8]], &mut [u8], &mut [u8]) -> Result<()>;

/// The entry point of every kernel, by TFLite operator name. The interpreter picks one
/// per record at run time ([`eval`]); a compiled model
/// ([`crate::compiled::CompiledModel`]) names them in its code, so only those link.
pub(crate) mod entry {
    use super::*;

    pub(crate) const CONV_2D: KernelFn = |r, i, o, s| conv::eval_conv(r, i, o, s);
    pub(crate) const DEPTHWISE_CONV_2D: KernelFn = |r, i, o, _| depthwise::eval_depthwise(r, i, o);
    pub(crate) const FULLY_CONNECTED: KernelFn = |r, i, o, _| fully_connected::eval(r, i, o);
    pub(crate) const POOL_2D: KernelFn = |r, i, o, _| pool::eval(r, i, o);
    pub(crate) const ELEMENTWISE: KernelFn = |r, i, o, _| elementwise::eval(r, i, o);
    pub(crate) const RESHAPE: KernelFn = |_, i, o, _| shape::eval_reshape(i, o);
    pub(crate) const SOFTMAX: KernelFn = |r, i, o, _| activation::eval_softmax(r, i, o);
    pub(crate) const SIGMOID: KernelFn = |r, i, o, _| activation::eval_sigmoid(r, i, o);
    pub(crate) const RELU: KernelFn = |r, i, o, _| activation::eval_relu(r, i, o);
    pub(crate) const RELU6: KernelFn = |r, i, o, _| activation::eval_relu6(r, i, o);
    pub(crate) const QUANTIZE: KernelFn = |r, i, o, _| quantize::eval_quantize(r, i, o);
    pub(crate) const DEQUANTIZE: KernelFn = |r, i, o, _| quantize::eval_dequantize(r, i, o);
    pub(crate) const PAD: KernelFn = |r, i, o, _| shape::eval_pad(r, i, o);
    pub(crate) const CONCATENATION: KernelFn = |r, i, o, _| shape::eval_concat(r, i, o);
    pub(crate) const MEAN: KernelFn = |r, i, o, _| mean::eval(r, i, o);
}

/// The kernel for a record's kind word, if this build has it.
pub(crate) fn kernel(kind_word: i32) -> Result<KernelFn> {
    kind_kernel(Kind::from_word(kind_word).ok_or(Error::Malformed("record kind"))?)
}

/// The kernel of `kind`, if this build has it (`op-*` features; the guards are
/// constants, so kernels left out are not linked).
pub(crate) fn kind_kernel(kind: Kind) -> Result<KernelFn> {
    Ok(match kind {
        Kind::Conv2d if cfg!(feature = "op-conv-2d") => entry::CONV_2D,
        Kind::DepthwiseConv2d if cfg!(feature = "op-depthwise-conv-2d") => entry::DEPTHWISE_CONV_2D,
        Kind::FullyConnected if cfg!(feature = "op-fully-connected") => entry::FULLY_CONNECTED,
        Kind::AveragePool2d | Kind::MaxPool2d
            if cfg!(feature = "op-average-pool-2d") || cfg!(feature = "op-max-pool-2d") =>
        {
            entry::POOL_2D
        }
        Kind::Add | Kind::Mul if cfg!(feature = "op-add") || cfg!(feature = "op-mul") => {
            entry::ELEMENTWISE
        }
        Kind::Reshape if cfg!(feature = "op-reshape") => entry::RESHAPE,
        Kind::Softmax if cfg!(feature = "op-softmax") => entry::SOFTMAX,
        Kind::Logistic | Kind::Tanh
            if cfg!(feature = "op-logistic") || cfg!(feature = "op-tanh") =>
        {
            entry::SIGMOID
        }
        Kind::Relu if cfg!(feature = "op-relu") => entry::RELU,
        Kind::Relu6 if cfg!(feature = "op-relu6") => entry::RELU6,
        Kind::Quantize if cfg!(feature = "op-quantize") => entry::QUANTIZE,
        Kind::Dequantize if cfg!(feature = "op-dequantize") => entry::DEQUANTIZE,
        Kind::Pad if cfg!(feature = "op-pad") => entry::PAD,
        Kind::Concatenation if cfg!(feature = "op-concatenation") => entry::CONCATENATION,
        Kind::Mean if cfg!(feature = "op-mean") => entry::MEAN,
        _ => return Err(Error::Malformed("operator not built in")),
    })
}

/// First input bytes (every kernel has one).
pub(crate) fn first<'a>(inputs: &[&'a [u8]]) -> Result<&'a [u8]> {
    inputs
        .first()
        .copied()
        .ok_or(Error::Malformed("record inputs"))
}

/// Reinterprets bytes as `i8`.
pub(crate) fn as_i8(s: &[u8]) -> &[i8] {
    // SAFETY: `u8` and `i8` have the same size, alignment and validity; the length
    // and lifetime are carried over unchanged.
    unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<i8>(), s.len()) }
}

/// Reinterprets mutable bytes as `i8`.
pub(crate) fn as_i8_mut(s: &mut [u8]) -> &mut [i8] {
    // SAFETY: as in `as_i8`; the exclusive borrow is carried over.
    unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<i8>(), s.len()) }
}

/// Element size of types the copy-style kernels move (int8 or float32/int32).
pub(crate) fn elem_size(ctx: &OpCtx<'_, '_>, t: &TensorInfo<'_>) -> Result<usize> {
    match t.ty {
        tensor_type::INT8 => Ok(1),
        tensor_type::FLOAT32 | tensor_type::INT32 => Ok(4),
        other => Err(Error::UnsupportedType {
            op: ctx.name,
            tensor_type: other,
        }),
    }
}
