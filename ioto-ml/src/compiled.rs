//! Models compiled ahead of time into static Rust (the smallest devices' path).
//!
//! `ioto_ml::codegen` (host, feature `codegen`) does at build time what
//! [`Model::parse`](crate::Model::parse) and [`Interpreter::new`](crate::Interpreter::new)
//! do at run time: it validates the model, plans the arena, prepares every operator's
//! integer parameters and writes them out as a static header, with the list of kernels
//! the operators need. The firmware then holds no flatbuffer reader, planner or
//! prepare code, and links only the kernels its model names — the same kernels as the
//! interpreter, so the outputs are the same bytes.
//!
//! ```ignore
//! // build.rs
//! let model = std::fs::read("models/sine.tflite")?;
//! let code = ioto_ml::codegen::generate(&model, "../models/sine.tflite")?;
//! std::fs::write(out_dir.join("sine.rs"), code)?;
//!
//! // firmware
//! mod sine { include!(concat!(env!("OUT_DIR"), "/sine.rs")); }
//! let mut activations = [0u8; sine::ACTIVATION_BYTES];
//! sine::MODEL.input_mut(&mut activations, 0)?.copy_from_slice(&x);
//! sine::MODEL.invoke(&mut activations)?;
//! let y = sine::MODEL.output(&activations, 0)?;
//! ```

use crate::error::{Error, Result};
use crate::interpreter::{copy_input, io_loc, run_ops};
pub use crate::ops::{Kernel, kernels};

/// A model compiled ahead of time: its prepared header, the model bytes its constant
/// tensors live in, and one kernel per operator. Stateless; the caller owns the
/// activation area ([`Self::activation_bytes`] long).
#[derive(Clone, Copy, Debug)]
pub struct CompiledModel<'a> {
    header: &'a [u8],
    data: &'a [u8],
    kernels: &'a [Kernel],
    activation_bytes: usize,
}

impl<'a> CompiledModel<'a> {
    /// Assembles a compiled model (generated code calls this).
    ///
    /// # Safety
    /// `header` and `kernels` must be what `ioto_ml::codegen` produced for exactly the
    /// model bytes `data` (the generated code guarantees it). The kernels trust the
    /// prepared parameters in the header as they trust [`Interpreter::new`]'s: their
    /// bounds checks (before the DSP assembly loops, for instance) are derived from
    /// those parameters. Each record's operator kind is still checked against its
    /// kernel, and tensor locations against `data` and the activation area.
    ///
    /// [`Interpreter::new`]: crate::Interpreter::new
    pub const unsafe fn new(
        header: &'a [u8],
        data: &'a [u8],
        kernels: &'a [Kernel],
        activation_bytes: usize,
    ) -> Self {
        CompiledModel {
            header,
            data,
            kernels,
            activation_bytes,
        }
    }

    /// Bytes of the activation area [`Self::invoke`] needs.
    pub const fn activation_bytes(&self) -> usize {
        self.activation_bytes
    }

    /// Bytes of the prepared header (in flash).
    pub const fn header_bytes(&self) -> usize {
        self.header.len()
    }

    /// The part of `activations` that holds input `i`, to fill before
    /// [`Self::invoke`].
    pub fn input_mut<'b>(&self, activations: &'b mut [u8], i: usize) -> Result<&'b mut [u8]> {
        let loc = io_loc(self.header, false, i)?;
        activations
            .get_mut(loc.range())
            .ok_or(Error::Malformed("input location"))
    }

    /// Copies `data` into input `i` of `activations`; its length must equal the
    /// tensor's bytes (as [`Interpreter::set_input`](crate::Interpreter::set_input)).
    pub fn set_input(&self, activations: &mut [u8], i: usize, data: &[u8]) -> Result<()> {
        copy_input(self.input_mut(activations, i)?, data)
    }

    /// The part of `activations` that holds output `i` (valid after
    /// [`Self::invoke`]).
    pub fn output<'b>(&self, activations: &'b [u8], i: usize) -> Result<&'b [u8]> {
        let loc = io_loc(self.header, true, i)?;
        activations
            .get(loc.range())
            .ok_or(Error::Malformed("output location"))
    }

    /// Runs every operator once over `activations` (at least
    /// [`Self::activation_bytes`] long, inputs filled in).
    pub fn invoke(&self, activations: &mut [u8]) -> Result<()> {
        let (needed, got) = (self.activation_bytes, activations.len());
        let activations = activations
            .get_mut(..needed)
            .ok_or(Error::ArenaTooSmall { needed, got })?;
        let kernels = self.kernels;
        run_ops(
            self.header,
            self.data,
            activations,
            kernels.len(),
            |index, kind| match kernels.get(index) {
                Some(k) if k.kind as i32 == kind => Ok(k.run),
                _ => Err(Error::Malformed(
                    "compiled kernel does not match its record",
                )),
            },
            |_| {},
        )
    }
}
