//! Static tensor information read from the model at prepare time.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::schema::{QuantT, TensorT, buffer_data, tensor_type};

/// The most dimensions a tensor may have.
pub const MAX_DIMS: usize = 6;

/// Shape, type, quantization and (for constants) data of one tensor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TensorInfo<'m> {
    pub(crate) index: usize,
    pub(crate) ty: i8,
    pub(crate) dims: [i32; MAX_DIMS],
    pub(crate) rank: usize,
    pub(crate) elems: usize,
    pub(crate) bytes: usize,
    /// Constant data (weights, biases, shapes) borrowed from the model.
    pub(crate) data: Option<&'m [u8]>,
    /// Offset of `data` in the model bytes.
    pub(crate) data_offset: usize,
    pub(crate) scale: f32,
    pub(crate) zero_point: i32,
    pub(crate) quant: Option<QuantT<'m>>,
}

impl<'m> TensorInfo<'m> {
    pub(crate) fn read(model: &Model<'m>, index: usize) -> Result<Self> {
        let t = TensorT(model.tensors.get(index)?);
        let ty = t.tensor_type()?;
        let elem = tensor_type::size(ty).ok_or(Error::Malformed("tensor type"))?;
        let shape = t.shape()?;
        if shape.len() > MAX_DIMS {
            return Err(Error::Limit("tensor rank over 6"));
        }
        let mut dims = [1i32; MAX_DIMS];
        let mut elems: usize = 1;
        for (i, d) in dims.iter_mut().enumerate().take(shape.len()) {
            let v = shape.get(i)?;
            if v < 0 {
                return Err(Error::Malformed("negative dimension"));
            }
            *d = v;
            elems = elems
                .checked_mul(v as usize)
                .ok_or(Error::Limit("tensor size"))?;
        }
        let bytes = elems.checked_mul(elem).ok_or(Error::Limit("tensor size"))?;
        if bytes > i32::MAX as usize {
            return Err(Error::Limit("tensor size"));
        }
        if t.is_variable()? {
            return Err(Error::Malformed("variable tensors are not supported"));
        }
        if t.has_sparsity()? {
            return Err(Error::Malformed("sparse tensors are not supported"));
        }
        let buffer = model.buffers.get(t.buffer()? as usize)?;
        let (off, len) = buffer_data(model.data, &buffer)?;
        let data = if len > 0 {
            if len != bytes {
                return Err(Error::Malformed(
                    "constant buffer size differs from tensor size",
                ));
            }
            Some(model.data.get(off..off + len).ok_or(Error::OutOfBounds)?)
        } else {
            None
        };
        let (mut scale, mut zero_point, mut quant) = (0.0, 0, None);
        if let Some(q) = t.quantization()? {
            let q = QuantT::read(&q)?;
            if q.scales.len() > 0 {
                scale = q.scales.get(0)?;
            }
            if q.zero_points.len() > 0 {
                let zp = q.zero_points.get(0)?;
                zero_point = i32::try_from(zp).map_err(|_| Error::Malformed("zero point"))?;
            }
            if ty == tensor_type::INT8 && !(-128..=127).contains(&zero_point) {
                return Err(Error::Malformed("int8 zero point out of range"));
            }
            quant = Some(q);
        }
        Ok(TensorInfo {
            index,
            ty,
            dims,
            rank: shape.len(),
            elems,
            bytes,
            data,
            data_offset: off,
            scale,
            zero_point,
            quant,
        })
    }

    /// Dimension `i` counted from the end (`dim_back(0)` is the innermost).
    pub(crate) fn dim_back(&self, i: usize) -> i32 {
        if i < self.rank {
            self.dims[self.rank - 1 - i]
        } else {
            1
        }
    }

    /// Dims right-aligned into 4 (NHWC), padding with leading 1s; `None` above rank 4.
    pub(crate) fn dims4(&self) -> Option<[i32; 4]> {
        if self.rank > 4 {
            return None;
        }
        Some([
            self.dim_back(3),
            self.dim_back(2),
            self.dim_back(1),
            self.dim_back(0),
        ])
    }

    /// Per-channel scale `c` (or the single per-tensor scale).
    pub(crate) fn channel_scale(&self, c: usize) -> Result<f32> {
        match &self.quant {
            Some(q) if q.scales.len() > 1 => q.scales.get(c),
            Some(q) if q.scales.len() == 1 => q.scales.get(0),
            _ => Err(Error::Malformed("missing quantization scale")),
        }
    }

    /// Number of quantization scales.
    pub(crate) fn scale_count(&self) -> usize {
        self.quant.as_ref().map_or(0, |q| q.scales.len())
    }

    /// Name bytes (for inspection).
    pub(crate) fn name(&self, model: &Model<'m>) -> &'m [u8] {
        model
            .tensors
            .get(self.index)
            .ok()
            .and_then(|t| TensorT(t).name().ok())
            .unwrap_or(&[])
    }

    /// Reads constant `int32` element `i` (shapes, axes, paddings); also accepts int64.
    pub(crate) fn const_int(&self, i: usize) -> Result<i64> {
        let d = self
            .data
            .ok_or(Error::Malformed("expected a constant tensor"))?;
        match self.ty {
            tensor_type::INT32 => {
                let b = d.get(4 * i..4 * i + 4).ok_or(Error::OutOfBounds)?;
                Ok(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            tensor_type::INT64 => {
                let b = d.get(8 * i..8 * i + 8).ok_or(Error::OutOfBounds)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Ok(i64::from_le_bytes(a))
            }
            _ => Err(Error::Malformed("expected an int32 tensor")),
        }
    }
}
