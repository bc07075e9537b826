//! Read-only descriptions of a model's tensors and operators (for tools like the CLI).

use crate::error::Result;
use crate::model::Model;
use crate::schema::{OperatorT, op_name};
use crate::tensor::MAX_DIMS;

/// Shape, type and quantization of one tensor.
#[derive(Clone, Copy, Debug)]
pub struct TensorDesc<'m> {
    /// Tensor name from the model.
    pub name: &'m [u8],
    /// TFLite tensor type code (see [`tensor_type`](crate::tensor_type)).
    pub tensor_type: i8,
    /// Dimensions (the first `rank` entries are valid).
    pub dims: [i32; MAX_DIMS],
    /// Number of dimensions.
    pub rank: usize,
    /// Bytes of data.
    pub bytes: usize,
    /// First quantization scale (0 when unquantized).
    pub scale: f32,
    /// First zero point.
    pub zero_point: i32,
    /// Number of quantization scales (>1 for per-channel).
    pub scales: usize,
    /// Whether the tensor is a constant stored in the model.
    pub constant: bool,
}

/// One operator: builtin name, version and tensor indices.
#[derive(Clone, Copy, Debug)]
pub struct OperatorDesc {
    /// Builtin operator name.
    pub name: &'static str,
    /// Operator version.
    pub version: i32,
    /// Number of inputs.
    pub inputs: usize,
    /// First input tensor index (`-1` when absent).
    pub first_input: i32,
    /// Output tensor index.
    pub output: i32,
}

impl<'m> Model<'m> {
    /// Describes tensor `index`.
    pub fn tensor(&self, index: usize) -> Result<TensorDesc<'m>> {
        let t = self.tensors.info(index)?;
        Ok(TensorDesc {
            name: self.tensors.name(index),
            tensor_type: t.ty,
            dims: t.dims,
            rank: t.rank,
            bytes: t.bytes,
            scale: t.scale,
            zero_point: t.zero_point,
            scales: t.scale_count(),
            constant: t.data.is_some(),
        })
    }

    /// Describes operator `index`.
    pub fn operator(&self, index: usize) -> Result<OperatorDesc> {
        let (code, version) = self.op_code(index)?;
        let op = OperatorT(self.operators.get(index)?);
        let (ins, outs) = (op.inputs()?, op.outputs()?);
        Ok(OperatorDesc {
            name: op_name(code),
            version,
            inputs: ins.len(),
            first_input: if ins.len() > 0 { ins.get(0)? } else { -1 },
            output: if outs.len() > 0 { outs.get(0)? } else { -1 },
        })
    }
}
