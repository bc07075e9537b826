//! Typed accessors for the parts of the TFLite flatbuffer schema the engine uses.
//!
//! Field numbers follow `tensorflow/lite/schema/schema.fbs`.

use crate::error::{Load as Result, fault};
use crate::flatbuffer::{Table, Vector};

/// TFLite tensor type codes (`TensorType`).
pub mod tensor_type {
    /// `FLOAT32`.
    pub const FLOAT32: i8 = 0;
    /// `INT32`.
    pub const INT32: i8 = 2;
    /// `INT64`.
    pub const INT64: i8 = 4;
    /// `INT8`.
    pub const INT8: i8 = 9;

    /// Bytes per element of a tensor type, `None` for types the engine does not know.
    pub fn size(t: i8) -> Option<usize> {
        match t {
            FLOAT32 | INT32 => Some(4),
            INT64 => Some(8),
            INT8 => Some(1),
            3 | 6 => Some(1), // UINT8, BOOL
            7 | 1 => Some(2), // INT16, FLOAT16
            _ => None,
        }
    }

    /// Human-readable name of a tensor type.
    pub fn name(t: i8) -> &'static str {
        match t {
            FLOAT32 => "float32",
            INT32 => "int32",
            INT64 => "int64",
            INT8 => "int8",
            3 => "uint8",
            6 => "bool",
            7 => "int16",
            1 => "float16",
            _ => "unknown",
        }
    }
}

/// Names of TFLite builtin operators, indexed by `BuiltinOperator` code.
const OP_NAMES: [&str; 61] = [
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
];

/// The name of builtin operator `code` (`"UNKNOWN"` for codes without a name here).
pub fn op_name(code: i32) -> &'static str {
    match code {
        114 => "QUANTIZE",
        117 => "HARD_SWISH",
        0..=60 => OP_NAMES.get(code as usize).copied().unwrap_or("UNKNOWN"),
        _ => "UNKNOWN",
    }
}

/// The root `Model` table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ModelT<'a>(pub(crate) Table<'a>);

impl<'a> ModelT<'a> {
    pub(crate) fn operator_codes(&self) -> Result<Vector<'a, Table<'a>>> {
        self.0.vector_or_empty(1)
    }
    pub(crate) fn subgraphs(&self) -> Result<Vector<'a, Table<'a>>> {
        self.0.vector_or_empty(2)
    }
    pub(crate) fn buffers(&self) -> Result<Vector<'a, Table<'a>>> {
        self.0.vector_or_empty(4)
    }
}

/// Resolves an `OperatorCode` to `(builtin code, version)`, taking the larger of
/// `deprecated_builtin_code` and `builtin_code` as the schema prescribes.
pub(crate) fn operator_code(t: &Table<'_>) -> Result<(i32, i32)> {
    let deprecated = i32::from(t.i8(0, 0)?);
    let builtin = t.i32(3, 0)?;
    Ok((deprecated.max(builtin), t.i32(2, 1)?))
}

/// A `SubGraph` table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SubGraphT<'a>(pub(crate) Table<'a>);

impl<'a> SubGraphT<'a> {
    pub(crate) fn tensors(&self) -> Result<Vector<'a, Table<'a>>> {
        self.0.vector_or_empty(0)
    }
    pub(crate) fn inputs(&self) -> Result<Vector<'a, i32>> {
        self.0.vector_or_empty(1)
    }
    pub(crate) fn outputs(&self) -> Result<Vector<'a, i32>> {
        self.0.vector_or_empty(2)
    }
    pub(crate) fn operators(&self) -> Result<Vector<'a, Table<'a>>> {
        self.0.vector_or_empty(3)
    }
}

/// A `Tensor` table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TensorT<'a>(pub(crate) Table<'a>);

impl<'a> TensorT<'a> {
    pub(crate) fn shape(&self) -> Result<Vector<'a, i32>> {
        self.0.vector_or_empty(0)
    }
    pub(crate) fn tensor_type(&self) -> Result<i8> {
        self.0.i8(1, tensor_type::FLOAT32)
    }
    pub(crate) fn buffer(&self) -> Result<u32> {
        self.0.u32(2, 0)
    }
    pub(crate) fn name(&self) -> Result<&'a [u8]> {
        Ok(self.0.vector::<u8>(3)?.map_or(&[][..], |v| v.bytes()))
    }
    pub(crate) fn quantization(&self) -> Result<Option<Table<'a>>> {
        self.0.table(4)
    }
    pub(crate) fn is_variable(&self) -> Result<bool> {
        Ok(self.0.u8(5, 0)? != 0)
    }
    pub(crate) fn has_sparsity(&self) -> Result<bool> {
        Ok(self.0.table(6)?.is_some())
    }
}

/// Quantization of a tensor: scales, zero points and the quantized dimension.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuantT<'a> {
    pub(crate) scales: Vector<'a, f32>,
    pub(crate) zero_points: Vector<'a, i64>,
}

impl<'a> QuantT<'a> {
    pub(crate) fn read(t: &Table<'a>) -> Result<Self> {
        Ok(QuantT {
            scales: t.vector_or_empty(2)?,
            zero_points: t.vector_or_empty(3)?,
        })
    }
}

/// An `Operator` table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OperatorT<'a>(pub(crate) Table<'a>);

impl<'a> OperatorT<'a> {
    pub(crate) fn opcode_index(&self) -> Result<u32> {
        self.0.u32(0, 0)
    }
    pub(crate) fn inputs(&self) -> Result<Vector<'a, i32>> {
        self.0.vector_or_empty(1)
    }
    pub(crate) fn outputs(&self) -> Result<Vector<'a, i32>> {
        self.0.vector_or_empty(2)
    }
    /// The builtin options table, if any.
    pub(crate) fn options(&self) -> Result<Option<Table<'a>>> {
        self.0.table(4)
    }
}

/// Returns the data of a `Buffer` table: inline `data`, or the `offset`/`size` pair
/// that large models use to store data after the flatbuffer.
pub(crate) fn buffer_data<'a>(model: &'a [u8], t: &Table<'a>) -> Result<(usize, usize)> {
    if let Some(v) = t.vector::<u8>(0)? {
        return Ok((v.offset(), v.len()));
    }
    let offset = t.u64(1, 0)?;
    let size = t.u64(2, 0)?;
    if offset > 1 {
        let start = usize::try_from(offset).map_err(|_| fault!(OutOfBounds))?;
        let len = usize::try_from(size).map_err(|_| fault!(OutOfBounds))?;
        if start.checked_add(len).is_none_or(|e| e > model.len()) {
            return Err(fault!(OutOfBounds));
        }
        return Ok((start, len));
    }
    Ok((0, 0))
}
