//! The prepare side of the kernels' toolbox: what an operator's prepare function
//! sees ([`OpCtx`]: its tensors, through the tensor table, and its options — never
//! the model) and the checks and parameter writers the kernels share.

use crate::error::{Fault, Load as Result, fault};
use crate::flatbuffer::Table;
use crate::quant::quantize_multiplier;
use crate::record::{MAX_INPUTS, Writer};
use crate::schema::tensor_type;
use crate::tensor::TensorInfo;

/// What an operator's prepare function can see: its input and output tensors (read
/// once from the tensor table, and lent to the prepare function by reference) and its
/// builtin options table.
pub(crate) struct OpCtx<'m> {
    /// The operator's index in the subgraph (for errors).
    pub(crate) index: usize,
    /// The operator's inputs (`None` for an absent optional input, `-1`).
    pub(crate) inputs: [Option<TensorInfo<'m>>; MAX_INPUTS],
    /// The number of inputs (absent optional ones included).
    pub(crate) n_inputs: usize,
    /// The single output.
    pub(crate) output: TensorInfo<'m>,
    /// The builtin options table, if any.
    pub(crate) options: Option<Table<'m>>,
}

impl<'m> OpCtx<'m> {
    /// The error for shapes/quantization that do not fit this operator.
    pub(crate) fn bad(&self) -> Fault {
        Fault::bad_shape(self.index)
    }

    /// The number of inputs (absent optional ones included).
    pub(crate) fn input_len(&self) -> usize {
        self.n_inputs
    }

    /// Input `i` (must be present).
    pub(crate) fn input(&self, i: usize) -> Result<&TensorInfo<'m>> {
        self.opt_input(i).ok_or(self.bad())
    }

    /// Optional input `i` (absent or `-1` gives `None`).
    pub(crate) fn opt_input(&self, i: usize) -> Option<&TensorInfo<'m>> {
        self.inputs.get(i).and_then(Option::as_ref)
    }

    /// The single output.
    pub(crate) fn output(&self) -> &TensorInfo<'m> {
        &self.output
    }

    /// Requires tensor `t` to have type `ty`.
    pub(crate) fn require(&self, t: &TensorInfo<'_>, ty: i8) -> Result<()> {
        if t.ty == ty {
            Ok(())
        } else {
            Err(self.unsupported(t.ty))
        }
    }

    /// The error for a tensor type this operator does not support.
    pub(crate) fn unsupported(&self, tensor_type: i8) -> Fault {
        Fault::bad_type(self.index, tensor_type)
    }

    /// Requires the number of inputs to be in `n`.
    pub(crate) fn input_count(&self, n: core::ops::RangeInclusive<usize>) -> Result<()> {
        if n.contains(&self.n_inputs) {
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
    pub(crate) fn unary(&self) -> Result<(&TensorInfo<'m>, &TensorInfo<'m>)> {
        let input = self.input(0)?;
        let output = self.output();
        if input.elems != output.elems {
            return Err(self.bad());
        }
        Ok((input, output))
    }

    /// A weighted operator's tensors (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED):
    /// input, filter, optional bias and output.
    pub(crate) fn weighted(&self) -> Result<Weighted<'_, 'm>> {
        self.input_count(2..=3)?;
        Ok(Weighted {
            input: self.input(0)?,
            filter: self.input(1)?,
            bias: self.opt_input(2),
            output: self.output(),
        })
    }

    /// Element size of types the copy-style kernels move (int8 or float32/int32).
    pub(crate) fn elem_size(&self, t: &TensorInfo<'_>) -> Result<usize> {
        match t.ty {
            tensor_type::INT8 => Ok(1),
            tensor_type::FLOAT32 | tensor_type::INT32 => Ok(4),
            other => Err(self.unsupported(other)),
        }
    }

    /// Checks that an optional bias is of type `ty` with `channels` elements.
    pub(crate) fn check_bias(
        &self,
        bias: Option<&TensorInfo<'_>>,
        channels: usize,
        ty: i8,
    ) -> Result<()> {
        if let Some(b) = bias {
            self.require(b, ty)?;
            if b.elems != channels || b.data.is_none() {
                return Err(self.bad());
            }
        }
        Ok(())
    }

    /// Writes per-channel multipliers then shifts for `channels` output channels, the
    /// way TFLM's `PopulateConvolutionQuantizationParams` computes them:
    /// `double(input_scale) * double(filter_scale[c]) / double(output_scale)` (in
    /// integers, to the same bits: [`quantize_multiplier`]).
    pub(crate) fn write_channel_multipliers(
        &self,
        w: &mut Writer<'_>,
        t: &Weighted<'_, '_>,
        channels: usize,
    ) -> Result<()> {
        let n = t.filter.scale_count();
        if n != 1 && n != channels {
            return Err(self.bad());
        }
        // Per-channel filters must be symmetric.
        if let Some(q) = t.filter.quant.as_ref().filter(|_| n > 1) {
            for i in 0..q.zero_points.len() {
                if q.zero_points.get(i)? != 0 {
                    return Err(self.bad());
                }
            }
        }
        let count = if n > 1 { channels } else { 1 };
        w.push(count as i32)?;
        // The multipliers, then the shifts.
        for shifts in [false, true] {
            for c in 0..count {
                let fs = t.filter.channel_scale(c)?;
                let (m, s) = quantize_multiplier(t.input.scale, fs, 0, t.output.scale);
                w.push(if shifts { s } else { m })?;
            }
        }
        Ok(())
    }
}

/// The tensors of a weighted operator ([`OpCtx::weighted`]).
pub(crate) struct Weighted<'c, 'm> {
    /// The activations.
    pub(crate) input: &'c TensorInfo<'m>,
    /// The weights (a constant).
    pub(crate) filter: &'c TensorInfo<'m>,
    /// The optional bias.
    pub(crate) bias: Option<&'c TensorInfo<'m>>,
    /// The result.
    pub(crate) output: &'c TensorInfo<'m>,
}

/// Writes one multiplier/shift pair shared by every channel: `numerator / denominator`.
pub(crate) fn write_shared_multiplier(
    w: &mut Writer<'_>,
    numerator: f32,
    denominator: f32,
) -> Result<()> {
    let (m, s) = quantize_multiplier(numerator, 1.0, 0, denominator);
    w.push_all(&[1, m, s])
}

/// Converts a shape value to `usize`, treating negatives as malformed.
pub(crate) fn dim(v: i32) -> Result<usize> {
    usize::try_from(v).map_err(|_| fault!(Malformed("negative dimension")))
}

/// Output size and padding for one spatial axis (TFLite `ComputeOutSize` and
/// `ComputePaddingWithOffset`); `same` selects SAME padding.
pub(crate) fn out_size_and_pad(
    same: bool,
    input: i32,
    filter: i32,
    stride: i32,
    dilation: i32,
) -> Option<(i32, i32)> {
    const LIMIT: i32 = 1 << 20;
    if !(1..LIMIT).contains(&stride)
        || !(1..LIMIT).contains(&dilation)
        || !(1..LIMIT).contains(&filter)
    {
        return None;
    }
    if !(0..LIMIT).contains(&input) {
        return None;
    }
    let effective = (filter - 1).checked_mul(dilation)?.checked_add(1)?;
    if effective >= LIMIT {
        return None;
    }
    let out = if same {
        input.checked_add(stride - 1)? / stride
    } else {
        let v = input.checked_add(stride)?.checked_sub(effective)?;
        if v < 0 { 0 } else { v / stride }
    };
    let total = ((out - 1).max(0) * stride + effective - input).max(0);
    Some((out, total / 2))
}
