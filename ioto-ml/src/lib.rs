//! # ioto-ml
//!
//! A `no_std`, allocation-free int8 inference engine for TensorFlow Lite models,
//! bit-exact with TensorFlow Lite for Microcontrollers (TFLM). Models are read at run
//! time from a byte slice (so they can be replaced over the air); the caller supplies
//! one arena for all intermediate tensors.
//!
//! ```no_run
//! # fn demo(model_bytes: &[u8], input: &[u8]) -> Result<(), ioto_ml::Error> {
//! let model = ioto_ml::Model::parse(model_bytes)?;      // validates everything
//! let mut arena = [0u8; 4096];
//! assert!(model.arena_size() <= arena.len());            // exact, known up front
//! let mut interpreter = ioto_ml::Interpreter::new(&model, &mut arena)?;
//! interpreter.set_input(0, input)?;
//! interpreter.invoke()?;
//! let scores: &[u8] = interpreter.output(0)?;
//! # let _ = scores; Ok(()) }
//! ```
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "codegen")]
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

pub use error::{Error, Result};
pub use info::{OperatorDesc, TensorDesc};
pub use interpreter::Interpreter;
pub use model::{MAX_TENSORS, Model};
pub use planner::ALIGN;
pub use schema::{op_name, tensor_type};
pub use tensor::MAX_DIMS;
