//! Static tensor information read from the model at prepare time: the narrow view
//! of a tensor that kernels validate and prepare against (they never see the model).

use crate::error::{Load as Result, fault};
use crate::flatbuffer::{Table, Vector};
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

/// The subgraph's tensor table and the model's buffers, from which a [`TensorInfo`]
/// is read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tensors<'m> {
    /// The model bytes (constant data lives here).
    pub(crate) data: &'m [u8],
    tensors: Vector<'m, Table<'m>>,
    buffers: Vector<'m, Table<'m>>,
}

impl<'m> Tensors<'m> {
    /// The tensor table of a subgraph, with the model's buffers and bytes.
    pub(crate) fn new(
        data: &'m [u8],
        tensors: Vector<'m, Table<'m>>,
        buffers: Vector<'m, Table<'m>>,
    ) -> Self {
        Tensors {
            data,
            tensors,
            buffers,
        }
    }

    /// Number of tensors.
    pub(crate) fn len(&self) -> usize {
        self.tensors.len()
    }

    /// The index of tensor `t` (as operators and subgraphs list them), checked.
    pub(crate) fn index(&self, t: i32) -> Result<usize> {
        usize::try_from(t)
            .ok()
            .filter(|&t| t < self.tensors.len())
            .ok_or(fault!(Malformed("tensor index out of range")))
    }

    /// Name bytes of tensor `index` (empty when it has none).
    pub(crate) fn name(&self, index: usize) -> &'m [u8] {
        self.tensors
            .get(index)
            .ok()
            .and_then(|t| TensorT(t).name().ok())
            .unwrap_or(&[])
    }

    /// Reads and validates tensor `index`.
    pub(crate) fn info(&self, index: usize) -> Result<TensorInfo<'m>> {
        let t = TensorT(self.tensors.get(index)?);
        let ty = t.tensor_type()?;
        let elem = tensor_type::size(ty).ok_or(fault!(Malformed("tensor type")))?;
        let shape = t.shape()?;
        if shape.len() > MAX_DIMS {
            return Err(fault!(Limit("tensor rank over 6")));
        }
        let mut dims = [1i32; MAX_DIMS];
        let mut elems: usize = 1;
        for (i, d) in dims.iter_mut().enumerate().take(shape.len()) {
            let v = shape.get(i)?;
            if v < 0 {
                return Err(fault!(Malformed("negative dimension")));
            }
            *d = v;
            elems = elems
                .checked_mul(v as usize)
                .ok_or(fault!(Limit("tensor size")))?;
        }
        let bytes = elems
            .checked_mul(elem)
            .ok_or(fault!(Limit("tensor size")))?;
        if bytes > i32::MAX as usize {
            return Err(fault!(Limit("tensor size")));
        }
        if t.is_variable()? {
            return Err(fault!(Malformed("variable tensors are not supported")));
        }
        if t.has_sparsity()? {
            return Err(fault!(Malformed("sparse tensors are not supported")));
        }
        let buffer = self.buffers.get(t.buffer()? as usize)?;
        let (off, len) = buffer_data(self.data, &buffer)?;
        let data = if len > 0 {
            if len != bytes {
                return Err(fault!(Malformed(
                    "constant buffer size differs from tensor size"
                )));
            }
            Some(self.data.get(off..off + len).ok_or(fault!(OutOfBounds))?)
        } else {
            None
        };
        let (mut scale, mut zero_point, mut quant) = (0.0, 0, None);
        if let Some(q) = t.quantization()? {
            let q = QuantT::read(&q)?;
            // The first scale and zero point, if any (the vectors' bounds were
            // checked when they were read, so only an empty one has no element 0).
            if let Ok(s) = q.scales.get(0) {
                scale = s;
            }
            if let Ok(zp) = q.zero_points.get(0) {
                zero_point = i32::try_from(zp).map_err(|_| fault!(Malformed("zero point")))?;
            }
            if ty == tensor_type::INT8 && !(-128..=127).contains(&zero_point) {
                return Err(fault!(Malformed("int8 zero point out of range")));
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
}

impl TensorInfo<'_> {
    /// Dimension `i` counted from the end (`dim_back(0)` is the innermost).
    pub(crate) fn dim_back(&self, i: usize) -> i32 {
        if i < self.rank {
            self.dims[self.rank - 1 - i]
        } else {
            1
        }
    }

    /// Dims right-aligned into 4 (NHWC), padding with leading 1s; `None` above rank 4.
    #[inline(never)]
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
            _ => Err(fault!(Malformed("missing quantization scale"))),
        }
    }

    /// Number of quantization scales.
    pub(crate) fn scale_count(&self) -> usize {
        self.quant.as_ref().map_or(0, |q| q.scales.len())
    }

    /// Reads constant `int32` element `i` (shapes, axes, paddings); also accepts int64.
    pub(crate) fn const_int(&self, i: usize) -> Result<i64> {
        let d = self
            .data
            .ok_or(fault!(Malformed("expected a constant tensor")))?;
        match self.ty {
            tensor_type::INT32 => {
                let b = d.get(4 * i..4 * i + 4).ok_or(fault!(OutOfBounds))?;
                Ok(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            tensor_type::INT64 => {
                let b = d.get(8 * i..8 * i + 8).ok_or(fault!(OutOfBounds))?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Ok(i64::from_le_bytes(a))
            }
            _ => Err(fault!(Malformed("expected an int32 tensor"))),
        }
    }
}
