#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "codegen")]
pub mod codegen;
pub mod compiled;
#[cfg(feature = "ioto-core")]
pub mod detect;
mod error;
mod fixedpoint;
mod flatbuffer;
mod info;
mod interpreter;
pub mod kernels;
mod model;
mod ops;
mod planner;
mod quant;
mod record;
mod schema;
mod tensor;
#[cfg(test)]
mod test_rng;

pub use error::{Error, Result};
pub use info::{OperatorDesc, TensorDesc};
pub use interpreter::Interpreter;
pub use model::{MAX_TENSORS, Model};
pub use planner::ALIGN;
pub use schema::{op_name, tensor_type};
pub use tensor::MAX_DIMS;
