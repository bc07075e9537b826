//! Running a model in a caller-supplied arena.

use crate::error::{Error, Result};
use crate::model::{MAX_TENSORS, Model};
use crate::ops::{self, MAX_INPUTS};
use crate::record::{Loc, Reader, Writer};

/// A model bound to an arena, ready to run.
///
/// The arena's front holds the prepared operator parameters (quantized multipliers,
/// shapes); the rest holds the planned intermediate tensors. Weights are read from the
/// model bytes in place.
pub struct Interpreter<'m, 'a> {
    model: Model<'m>,
    arena: &'a mut [u8],
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
        let mut offsets = [0u32; MAX_TENSORS];
        model.plan(&mut offsets)?;
        let (header, activations) = arena.split_at_mut(model.header_bytes);
        let offset = |t: usize| {
            offsets
                .get(t)
                .copied()
                .ok_or(Error::Malformed("tensor index"))
        };
        let mut w = Writer::into(header);
        model.write_header(&mut w, &offset)?;
        for i in 0..model.operator_count() {
            model.write_op(i, &mut w, &offset)?;
        }
        activations.fill(0);
        Ok(Interpreter {
            model: *model,
            arena,
        })
    }

    /// The model this interpreter runs.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    fn io_loc(&self, output: bool, i: usize) -> Result<Loc> {
        let (n_in, n_out) = (self.model.input_count(), self.model.output_count());
        let slot = if output { n_in + i } else { i };
        if i >= if output { n_out } else { n_in } {
            return Err(Error::NoSuchTensor(i));
        }
        let mut r = Reader::new(self.arena, 8 + 8 * slot);
        Loc::read(&mut r)
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
        let dst = self.input_mut(i)?;
        if dst.len() != data.len() {
            return Err(Error::SizeMismatch {
                expected: dst.len(),
                got: data.len(),
            });
        }
        dst.copy_from_slice(data);
        Ok(())
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
    pub fn invoke_observed(&mut self, mut after_op: impl FnMut(usize)) -> Result<()> {
        let data = self.model.data;
        let (header, activations) = self.arena.split_at_mut(self.model.header_bytes);
        let header: &[u8] = header;
        let io_words = 2 + 2 * (self.model.input_count() + self.model.output_count());
        let mut pos = 4 * io_words;
        for index in 0..self.model.operator_count() {
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
            let out_range = out.range();
            let (left, rest) = activations
                .split_at_mut_checked(out_range.start)
                .ok_or(Error::Malformed("output location"))?;
            let (out_bytes, right) = rest
                .split_at_mut_checked(out.len as usize)
                .ok_or(Error::Malformed("output location"))?;
            let (left, right): (&[u8], &[u8]) = (left, right);
            let mut ins: [&[u8]; MAX_INPUTS] = [&[]; MAX_INPUTS];
            for (slot, loc) in ins.iter_mut().zip(locs.iter()).take(n_in) {
                let rg = loc.range();
                let s = if loc.constant {
                    data.get(rg)
                } else if rg.end <= out_range.start {
                    left.get(rg)
                } else if rg.start >= out_range.end {
                    right.get(rg.start - out_range.end..rg.end - out_range.end)
                } else {
                    None
                };
                *slot = s.ok_or(Error::Malformed("input overlaps output"))?;
            }
            ops::eval(kind, &mut r, &ins[..n_in], out_bytes)?;
            after_op(index);
            pos += 4 * len;
        }
        Ok(())
    }
}
