//! The eval side of the kernels' toolbox: what a kernel sees when it runs ([`Op`])
//! and its operand bytes as typed views.

use crate::error::{Error, Result};
use crate::record::{Params, Reader};

/// What a kernel's eval sees: the rest of its record (its parameters), its input
/// bytes, its output and its scratch (empty unless the planner reserved some).
pub(crate) struct Op<'a> {
    /// The operator's record, after the tensor locations.
    pub(crate) record: Reader<'a>,
    /// The input tensors' bytes (empty for an absent optional input).
    pub(crate) inputs: &'a [&'a [u8]],
    /// The output tensor's bytes.
    pub(crate) output: &'a mut [u8],
    /// The operator's scratch.
    pub(crate) scratch: &'a mut [u8],
}

impl<'a> Op<'a> {
    /// The first input's bytes (every kernel has one).
    pub(crate) fn first(&self) -> Result<&'a [u8]> {
        self.inputs
            .first()
            .copied()
            .ok_or(Error::Malformed("record inputs"))
    }

    /// Input `i`'s bytes (empty when absent).
    pub(crate) fn input(&self, i: usize) -> &'a [u8] {
        self.inputs.get(i).copied().unwrap_or(&[])
    }

    /// The first input and the output as int8.
    pub(crate) fn int8(self) -> Result<(&'a [i8], &'a mut [i8])> {
        Ok((as_i8(self.first()?), as_i8_mut(self.output)))
    }

    /// The record's parameters `P`, then [`Self::int8`].
    #[inline(always)]
    pub(crate) fn int8_with<P: Params>(mut self) -> Result<(P, &'a [i8], &'a mut [i8])> {
        let p = P::read(&mut self.record)?;
        let (input, out) = self.int8()?;
        Ok((p, input, out))
    }

    /// Runs an element-wise int8 kernel whose record holds `P`:
    /// `output[i] = f(&params, input[i])`.
    #[inline(always)]
    pub(crate) fn map_int8<P: Params>(self, f: impl Fn(&P, i8) -> i8) -> Result<()> {
        let (p, input, out) = self.int8_with::<P>()?;
        for (o, &v) in out.iter_mut().zip(input) {
            *o = f(&p, v);
        }
        Ok(())
    }
}

/// Reinterprets bytes as `i8`.
pub(crate) fn as_i8(s: &[u8]) -> &[i8] {
    // SAFETY: `u8` and `i8` have the same size, alignment and validity; the length
    // and lifetime are carried over unchanged.
    unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<i8>(), s.len()) }
}

/// Reinterprets mutable bytes as `i8`.
pub(crate) fn as_i8_mut(s: &mut [u8]) -> &mut [i8] {
    // SAFETY: as in `as_i8`; the exclusive borrow is carried over.
    unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<i8>(), s.len()) }
}

/// Reads little-endian `i32` element `i` of a constant (bias) tensor; 0 when absent.
#[inline(always)]
pub(crate) fn read_i32(bytes: &[u8], i: usize) -> i32 {
    match bytes.get(4 * i..4 * i + 4) {
        Some(b) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Reads little-endian `f32` element `i`; 0.0 when absent.
#[inline(always)]
pub(crate) fn read_f32(bytes: &[u8], i: usize) -> f32 {
    f32::from_bits(read_i32(bytes, i) as u32)
}
