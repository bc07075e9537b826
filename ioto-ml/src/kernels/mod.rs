//! Operator kernels: prepare (validation + integer parameters) and eval for each op.
//!
//! The kernels sit below the operator registry (`ops`) and the model: they see an
//! operator only through `prepare::OpCtx` (its tensors, read from the tensor
//! table — `tensor::TensorInfo` is the narrow view — and its options) when
//! preparing, and through `data::Op` (its record words and operand bytes) when
//! running. The toolbox they share is here too:
//! - `prepare`: the prepare context and the shared checks and parameter writers;
//! - `requant`: per-channel requantization (`ChannelQuant`, `Requant`);
//! - `data`: operand bytes as typed views;
//! - [`dot`]: the inner loops (portable, Cortex-M4 DSP, x86-64).
//! - `host` (x86-64): whole-layer kernels chosen at run time (AVX2, AVX-VNNI, AVX-512 VNNI).
//!
//! Every prepare function has the shape `fn(&OpCtx, &mut Writer) -> Result<u64>`
//! (writes the operator's record, returns its MACs) and every eval function
//! `fn(Op) -> Result<()>` (the record's parameters, the operand bytes, the output
//! and the scratch); the registry names them once per operator.

pub(crate) mod activation;
pub(crate) mod conv;
pub(crate) mod data;
pub(crate) mod depthwise;
pub mod dot;
pub(crate) mod elementwise;
pub(crate) mod fully_connected;
#[cfg(target_arch = "x86_64")]
pub mod host;
pub(crate) mod im2col;
pub(crate) mod mean;
pub(crate) mod pool;
pub(crate) mod prepare;
pub(crate) mod quantize;
pub(crate) mod requant;
pub(crate) mod shape;

// The evals the registry names for the weighted operators and pooling: on x86-64 the host
// kernels' run-time dispatch (which falls back to the generic kernels).
#[cfg(target_arch = "x86_64")]
pub(crate) use host::{conv_eval, depthwise_eval, fc_eval, pool_eval};
#[cfg(not(target_arch = "x86_64"))]
pub(crate) use {
    depthwise::eval as depthwise_eval, fully_connected::eval as fc_eval, im2col::eval as conv_eval,
    pool::eval as pool_eval,
};
