//! The engine's error type.

use core::fmt;

/// Everything that can go wrong while loading, planning or running a model.
///
/// Every malformed, truncated or hostile model maps to one of these variants; the
/// engine never panics on model bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A flatbuffer offset, length or field points outside the model bytes.
    OutOfBounds,
    /// The model is structurally invalid (`what` names the broken rule).
    Malformed(&'static str),
    /// The model has no subgraph, or more than one (only single-subgraph models run).
    Subgraphs(usize),
    /// An operator the engine does not implement (reported before any inference).
    UnsupportedOp {
        /// TFLite builtin operator name (`CUSTOM` for custom operators).
        name: &'static str,
        /// The builtin operator code.
        code: i32,
        /// The operator version from the model.
        version: i32,
    },
    /// A supported operator used with tensor types it does not support here.
    UnsupportedType {
        /// TFLite builtin operator name.
        op: &'static str,
        /// The TFLite tensor type code that is not supported.
        tensor_type: i8,
    },
    /// Tensor shapes or quantization parameters do not fit the operator.
    BadShape {
        /// TFLite builtin operator name.
        op: &'static str,
        /// Index of the operator in the subgraph.
        index: usize,
    },
    /// The model exceeds a hard engine limit (tensor count, dimensions, sizes).
    Limit(&'static str),
    /// The caller's arena is smaller than [`Model::arena_size`](crate::Model::arena_size).
    ArenaTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes supplied.
        got: usize,
    },
    /// An input or output index that the model does not have.
    NoSuchTensor(usize),
    /// Caller data has the wrong length for a tensor.
    SizeMismatch {
        /// Bytes the tensor holds.
        expected: usize,
        /// Bytes supplied.
        got: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::OutOfBounds => f.write_str("model offset or length out of bounds"),
            Error::Malformed(what) => write!(f, "malformed model: {what}"),
            Error::Subgraphs(n) => write!(f, "model has {n} subgraphs; exactly 1 is supported"),
            Error::UnsupportedOp {
                name,
                code,
                version,
            } => {
                write!(
                    f,
                    "unsupported operator {name} (code {code}, version {version})"
                )
            }
            Error::UnsupportedType { op, tensor_type } => {
                write!(f, "{op}: unsupported tensor type {tensor_type}")
            }
            Error::BadShape { op, index } => {
                write!(
                    f,
                    "{op} (operator {index}): tensor shapes or quantization do not fit"
                )
            }
            Error::Limit(what) => write!(f, "engine limit exceeded: {what}"),
            Error::ArenaTooSmall { needed, got } => {
                write!(f, "arena too small: need {needed} bytes, got {got}")
            }
            Error::NoSuchTensor(i) => write!(f, "no input/output tensor {i}"),
            Error::SizeMismatch { expected, got } => {
                write!(f, "size mismatch: tensor has {expected} bytes, got {got}")
            }
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;
