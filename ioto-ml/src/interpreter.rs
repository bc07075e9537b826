//! Running a model in a caller-supplied arena.

use crate::error::{Error, Result};
use crate::kernels::data::Op;
use crate::model::Model;
use crate::ops::{self, KernelFn};
use crate::record::{Loc, MAX_INPUTS, Reader};
use core::ops::Range;

/// A model bound to an arena, ready to run.
///
/// The arena's front holds the prepared operator parameters (quantized multipliers,
/// shapes); the rest holds the planned intermediate tensors. Weights are read from the
/// model bytes in place.
pub struct Interpreter<'m, 'a> {
    model: Model<'m>,
    arena: &'a mut [u8],
    /// The host kernels' per-layer data, made on the first invoke.
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    host_cache: crate::kernels::host::cache::Cache,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Prepares `model` in `arena`, which must hold at least
    /// [`Model::arena_size`] bytes.
    pub fn new(model: &Model<'m>, arena: &'a mut [u8]) -> Result<Self> {
        let needed = model.arena_size();
        if arena.len() < needed {
            return Err(Error::ArenaTooSmall {
                needed,
                got: arena.len(),
            });
        }
        let arena = &mut arena[..needed];
        let (header, activations) = arena.split_at_mut(model.header_bytes);
        model.compile_header(header).map_err(|f| model.resolve(f))?;
        activations.fill(0);
        Ok(Interpreter {
            model: *model,
            arena,
            #[cfg(all(target_arch = "x86_64", feature = "std"))]
            host_cache: Default::default(),
        })
    }

    /// The model this interpreter runs.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    fn io_loc(&self, output: bool, i: usize) -> Result<Loc> {
        io_loc(&self.arena[..self.model.header_bytes], output, i)
    }

    fn activation_range(&self, loc: Loc) -> Result<core::ops::Range<usize>> {
        let base = self.model.header_bytes;
        let r = loc.range();
        Ok(base + r.start..base + r.end)
    }

    /// Raw bytes of input `i`, to fill before [`invoke`](Self::invoke).
    pub fn input_mut(&mut self, i: usize) -> Result<&mut [u8]> {
        let range = self.activation_range(self.io_loc(false, i)?)?;
        self.arena
            .get_mut(range)
            .ok_or(Error::Malformed("input location"))
    }

    /// Copies `data` into input `i`; its length must equal the tensor's bytes.
    pub fn set_input(&mut self, i: usize, data: &[u8]) -> Result<()> {
        copy_input(self.input_mut(i)?, data)
    }

    /// Raw bytes of output `i` (valid after [`invoke`](Self::invoke)).
    pub fn output(&self, i: usize) -> Result<&[u8]> {
        let range = self.activation_range(self.io_loc(true, i)?)?;
        self.arena
            .get(range)
            .ok_or(Error::Malformed("output location"))
    }

    /// Runs every operator once.
    pub fn invoke(&mut self) -> Result<()> {
        self.invoke_observed(|_| {})
    }

    /// Runs every operator once, calling `after_op(index)` after each operator
    /// (for per-operator profiling, e.g. reading an instruction counter).
    pub fn invoke_observed(&mut self, after_op: impl FnMut(usize)) -> Result<()> {
        let (header, activations) = self.arena.split_at_mut(self.model.header_bytes);
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        let _lent = crate::kernels::host::cache::Scope::enter(&mut self.host_cache);
        run_ops(
            header,
            self.model.data(),
            activations,
            self.model.operator_count(),
            |_index, kind| {
                #[cfg(all(target_arch = "x86_64", feature = "std"))]
                crate::kernels::host::cache::set_op(_index);
                ops::kernel(kind)
            },
            after_op,
        )
    }
}

/// Copies `data` into the input tensor `dst`, whose length it must equal.
pub(crate) fn copy_input(dst: &mut [u8], data: &[u8]) -> Result<()> {
    if dst.len() != data.len() {
        return Err(Error::SizeMismatch {
            expected: dst.len(),
            got: data.len(),
        });
    }
    dst.copy_from_slice(data);
    Ok(())
}

/// The location of input or output `i` in the activation area, from the I/O table at
/// the front of a compiled header.
pub(crate) fn io_loc(header: &[u8], output: bool, i: usize) -> Result<Loc> {
    let (n_in, n_out) = io_counts(header)?;
    if i >= if output { n_out } else { n_in } {
        return Err(Error::NoSuchTensor(i));
    }
    let slot = if output { n_in + i } else { i };
    let mut r = Reader::new(header, 8 + 8 * slot);
    Loc::read(&mut r)
}

/// The input and output counts at the front of a compiled header.
fn io_counts(header: &[u8]) -> Result<(usize, usize)> {
    let mut r = Reader::new(header, 0);
    let n_in = usize::try_from(r.word()?).map_err(|_| Error::Malformed("record"))?;
    let n_out = usize::try_from(r.word()?).map_err(|_| Error::Malformed("record"))?;
    Ok((n_in, n_out))
}

/// Runs the `n_ops` operator records of a compiled `header` over `activations`, with
/// constant tensors read from `data`. `kernel(index, kind word)` picks each record's
/// kernel; `after_op(index)` runs after each operator.
pub(crate) fn run_ops(
    header: &[u8],
    data: &[u8],
    activations: &mut [u8],
    n_ops: usize,
    mut kernel: impl FnMut(usize, i32) -> Result<KernelFn>,
    mut after_op: impl FnMut(usize),
) -> Result<()> {
    let (n_in, n_out) = io_counts(header)?;
    let mut pos = n_in
        .checked_add(n_out)
        .and_then(|n| n.checked_mul(8))
        .and_then(|n| n.checked_add(8))
        .ok_or(Error::Malformed("record"))?;
    for index in 0..n_ops {
        let mut r = Reader::new(header, pos);
        let kind = r.word()?;
        let len = usize::try_from(r.word()?).map_err(|_| Error::Malformed("record"))?;
        let n_in = usize::try_from(r.word()?).map_err(|_| Error::Malformed("record"))?;
        if n_in > MAX_INPUTS || len == 0 {
            return Err(Error::Malformed("record"));
        }
        let mut locs = [Loc::default(); MAX_INPUTS];
        for l in locs.iter_mut().take(n_in) {
            *l = Loc::read(&mut r)?;
        }
        let out = Loc::read(&mut r)?;
        let scratch = Loc::read(&mut r)?;
        let (out_bytes, scratch_bytes, shared) =
            carve(&mut *activations, out.range(), scratch.range())
                .ok_or(Error::Malformed("output location"))?;
        let mut ins: [&[u8]; MAX_INPUTS] = [&[]; MAX_INPUTS];
        for (slot, loc) in ins.iter_mut().zip(locs.iter()).take(n_in) {
            let rg = loc.range();
            let s = if loc.constant {
                data.get(rg)
            } else {
                shared.iter().find_map(|&(base, piece)| {
                    let end = base + piece.len();
                    (rg.start >= base && rg.end <= end)
                        .then(|| piece.get(rg.start - base..rg.end - base))
                        .flatten()
                })
            };
            *slot = s.ok_or(Error::Malformed("input overlaps output"))?;
        }
        let inputs = ins.get(..n_in).ok_or(Error::Malformed("record"))?;
        kernel(index, kind)?(Op {
            record: r,
            inputs,
            output: out_bytes,
            scratch: scratch_bytes,
        })?;
        after_op(index);
        pos = len
            .checked_mul(4)
            .and_then(|b| b.checked_add(pos))
            .ok_or(Error::Malformed("record"))?;
    }
    Ok(())
}

/// Pieces of the activation area around two disjoint exclusive ranges.
type Carved<'a> = (&'a mut [u8], &'a mut [u8], [(usize, &'a [u8]); 3]);

/// Splits `area` into the exclusive `a` (output) and `b` (scratch; may be empty)
/// ranges and the three shared pieces around them, each with its base offset.
fn carve(area: &mut [u8], a: Range<usize>, b: Range<usize>) -> Option<Carved<'_>> {
    let b = if b.is_empty() { a.end..a.end } else { b };
    let swapped = b.start < a.start;
    let (lo, hi) = if swapped { (&b, &a) } else { (&a, &b) };
    let (p0, rest) = area.split_at_mut_checked(lo.start)?;
    let (m_lo, rest) = rest.split_at_mut_checked(lo.len())?;
    let (p1, rest) = rest.split_at_mut_checked(hi.start.checked_sub(lo.end)?)?;
    let (m_hi, p2) = rest.split_at_mut_checked(hi.len())?;
    let shared = [(0, &*p0), (lo.end, &*p1), (hi.end, &*p2)];
    Some(if swapped {
        (m_hi, m_lo, shared)
    } else {
        (m_lo, m_hi, shared)
    })
}
