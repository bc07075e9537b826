//! Per-channel requantization of accumulators (the eval side of the toolbox).

use crate::error::{Error, Result};
use crate::record::{Reader, Words};

/// Output multipliers and shifts: one pair per channel, or one shared pair.
#[derive(Clone, Copy)]
pub(crate) struct ChannelQuant<'b> {
    mult: Words<'b>,
    shift: Words<'b>,
    per_channel: bool,
}

impl<'b> ChannelQuant<'b> {
    /// Reads the `count, multipliers.., shifts..` block written by
    /// [`OpCtx::write_channel_multipliers`](super::prepare::OpCtx::write_channel_multipliers)
    /// or [`write_shared_multiplier`](super::prepare::write_shared_multiplier).
    pub(crate) fn read(r: &mut Reader<'b>) -> Result<Self> {
        let n = usize::try_from(r.word()?).map_err(|_| Error::Malformed("record"))?;
        Ok(ChannelQuant {
            mult: r.words(n)?,
            shift: r.words(n)?,
            per_channel: n > 1,
        })
    }

    /// Whether each channel has its own multiplier.
    #[inline(always)]
    pub(crate) fn per_channel(&self) -> bool {
        self.per_channel
    }

    /// Channel `c`'s `(multiplier, shift)`, for [`Requant::new`].
    #[inline(always)]
    pub(crate) fn channel(&self, c: usize) -> (i32, i32) {
        let c = if self.per_channel { c } else { 0 };
        (self.mult.get(c), self.shift.get(c))
    }
}

/// One output channel's requantization with everything that depends only on the
/// channel worked out once: TFLite's `MultiplyByQuantizedMultiplier` (as
/// [`mbqm`](crate::fixedpoint::mbqm)), then the output offset and the activation clamp, bit for bit.
#[derive(Clone, Copy)]
pub(crate) struct Requant {
    mult: i32,
    left: i32,
    right: u32,
    mask: i32,
    half: i32,
    out_offset: i32,
    lo: i32,
    hi: i32,
}

impl Requant {
    /// The requantization of a `(multiplier, shift)` pair from [`ChannelQuant::channel`].
    #[inline(always)]
    pub(crate) fn new((mult, shift): (i32, i32), out_offset: i32, lo: i32, hi: i32) -> Self {
        let right = if shift > 0 { 0 } else { shift.wrapping_neg() } as u32;
        // As in `fixedpoint::rdbpot`, including its wrapping for hostile shifts.
        let mask = 1i64.wrapping_shl(right).wrapping_sub(1) as i32;
        Requant {
            mult,
            left: 1i32.wrapping_shl(if shift > 0 { shift as u32 } else { 0 }),
            right,
            mask,
            half: mask >> 1,
            out_offset,
            lo,
            hi,
        }
    }

    /// Requantizes an accumulator and clamps it to int8.
    #[inline(always)]
    pub(crate) fn apply(&self, acc: i32) -> i8 {
        let x = crate::fixedpoint::srdhm(acc.wrapping_mul(self.left), self.mult);
        let remainder = x & self.mask;
        let threshold = self.half.wrapping_add(i32::from(x < 0));
        let v = x
            .wrapping_shr(self.right)
            .wrapping_add(i32::from(remainder > threshold));
        v.wrapping_add(self.out_offset).max(self.lo).min(self.hi) as i8
    }
}

#[cfg(test)]
mod tests {
    use super::Requant;
    use crate::fixedpoint::mbqm;
    use crate::test_rng::XorShift;

    /// The reference: TFLite's requantization written with the shared helpers.
    fn reference(acc: i32, m: i32, s: i32, off: i32, lo: i32, hi: i32) -> i8 {
        mbqm(acc, m, s).wrapping_add(off).max(lo).min(hi) as i8
    }

    #[test]
    fn requant_matches_mbqm() {
        let mut rng = XorShift::new(0x2545_f491);
        let mut next = || rng.next_i32();
        let shifts = [-40, -33, -32, -31, -20, -8, -1, 0, 1, 2, 7, 30, 31, 33];
        let mults = [i32::MIN, -(1 << 30), 0, 1, 1 << 30, 0x5a5a_5a5a, i32::MAX];
        for _ in 0..20_000 {
            let acc = match next() & 3 {
                0 => next(),
                1 => next() >> 12,
                2 => [i32::MIN, i32::MAX, 0, -1, 1][(next() & 3) as usize],
                _ => next() >> 20,
            };
            let m = if next() & 1 == 0 {
                mults[(next() as u32 % mults.len() as u32) as usize]
            } else {
                (next() & 0x3fff_ffff) | 0x4000_0000
            };
            let s = shifts[(next() as u32 % shifts.len() as u32) as usize];
            let off = next() % 129;
            let (lo, hi) = if next() & 1 == 0 {
                (-128, 127)
            } else {
                (-100, 90)
            };
            let got = Requant::new((m, s), off, lo, hi).apply(acc);
            assert_eq!(
                got,
                reference(acc, m, s, off, lo, hi),
                "{acc} {m} {s} {off}"
            );
        }
    }
}
