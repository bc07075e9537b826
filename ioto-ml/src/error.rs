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
        // By value: the numbers format with `core`'s own impls (no `&i32` copies).
        match *self {
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

/// The error of the model-loading code (flatbuffer reading, validation, prepare,
/// planning), one word so that results come back in registers: an [`Error`] is 20
/// bytes on 32-bit targets, and every `?` of the loading code copied it. The public
/// functions turn it into an [`Error`] ([`Fault::resolve`]).
///
/// The word is a pointer to a constant [`Error`] (low bits `00`, from [`fault!`]),
/// or the index of the operator whose shapes do not fit (`01`), whose tensor type is
/// not supported (`10`, with the type in bits 2..10) or that is not supported at
/// all (`11`); the operator's name, code and version are read back from the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault(core::num::NonZeroUsize);

/// Result of the model-loading code.
pub(crate) type Load<T> = core::result::Result<T, Fault>;

/// A [`Fault`] for a constant [`Error`]: `fault!(Malformed("what"))`.
macro_rules! fault {
    ($($e:tt)*) => {
        $crate::error::Fault::of(&$crate::error::Error::$($e)*)
    };
}
pub(crate) use fault;

/// For faults that cannot name an operator (reading the flatbuffer, the tables of
/// the public accessors): an operator's name is not known here.
impl From<Fault> for Error {
    fn from(f: Fault) -> Error {
        f.resolve(&|_| None)
    }
}

const BAD_SHAPE: usize = 1;
const BAD_TYPE: usize = 2;
const BAD_OP: usize = 3;

impl Fault {
    /// The fault for a constant error (see [`fault!`]).
    #[inline(always)]
    pub(crate) fn of(e: &'static Error) -> Fault {
        // `Error` is 4-aligned (at least), so the low two bits are free.
        let p = core::ptr::from_ref(e).expose_provenance();
        // SAFETY: the address of a reference is not zero.
        Fault(unsafe { core::num::NonZeroUsize::new_unchecked(p) })
    }

    fn tagged(tag: usize, op: usize, extra: usize) -> Fault {
        let w = op << 10 | extra << 2 | tag;
        Fault(core::num::NonZeroUsize::new(w).unwrap_or(core::num::NonZeroUsize::MIN))
    }

    /// [`Error::BadShape`] of operator `op`.
    pub(crate) fn bad_shape(op: usize) -> Fault {
        Self::tagged(BAD_SHAPE, op, 0)
    }

    /// [`Error::UnsupportedType`] of operator `op` for `tensor_type`.
    pub(crate) fn bad_type(op: usize, tensor_type: i8) -> Fault {
        Self::tagged(BAD_TYPE, op, usize::from(tensor_type as u8))
    }

    /// [`Error::UnsupportedOp`] for operator `op`.
    pub(crate) fn unsupported_op(op: usize) -> Fault {
        Self::tagged(BAD_OP, op, 0)
    }

    /// The [`Error`]; `op(index)` gives an operator's builtin name, code and version
    /// (from the model the fault came from).
    #[inline(never)]
    pub(crate) fn resolve(self, op: &dyn Fn(usize) -> Option<(&'static str, i32, i32)>) -> Error {
        let w = self.0.get();
        let (index, extra) = (w >> 10, ((w >> 2) & 0xff) as u8 as i8);
        let (name, code, version) = op(index).unwrap_or(("UNKNOWN", -1, 0));
        match w & 3 {
            BAD_SHAPE => Error::BadShape { op: name, index },
            BAD_TYPE => Error::UnsupportedType {
                op: name,
                tensor_type: extra,
            },
            BAD_OP => Error::UnsupportedOp {
                name,
                code,
                version,
            },
            // SAFETY: with the low bits 00 the word is the address of a `&'static
            // Error` (`Fault::of`, the only constructor of such words).
            _ => unsafe { *core::ptr::with_exposed_provenance::<Error>(w) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Error, Fault};

    #[test]
    fn faults_resolve_to_the_errors_they_stand_for() {
        let op = |i: usize| (i == 7).then_some(("CONV_2D", 3, 2));
        assert_eq!(
            Fault::bad_shape(7).resolve(&op),
            Error::BadShape {
                op: "CONV_2D",
                index: 7
            }
        );
        for ty in [9, 0, -3, i8::MIN, i8::MAX] {
            assert_eq!(
                Fault::bad_type(7, ty).resolve(&op),
                Error::UnsupportedType {
                    op: "CONV_2D",
                    tensor_type: ty
                }
            );
        }
        assert_eq!(
            Fault::unsupported_op(7).resolve(&op),
            Error::UnsupportedOp {
                name: "CONV_2D",
                code: 3,
                version: 2
            }
        );
        let last = |i: usize| Some(("ADD", i as i32, 1));
        assert_eq!(
            Fault::bad_shape(65_534).resolve(&last),
            Error::BadShape {
                op: "ADD",
                index: 65_534
            }
        );
        assert_eq!(
            fault!(Malformed("what")).resolve(&op),
            Error::Malformed("what")
        );
        assert_eq!(Error::from(fault!(OutOfBounds)), Error::OutOfBounds);
        assert_eq!(Error::from(fault!(Limit("x"))), Error::Limit("x"));
    }
}
