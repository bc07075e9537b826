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

    /// Channel `c`'s [`Requant`], out of line (for kernels that make one per channel
    /// group, or per output of a per-channel layer).
    #[inline(never)]
    pub(crate) fn requant(&self, c: usize, out_offset: i32, lo: i32, hi: i32) -> Requant {
        Requant::new(self.channel(c), out_offset, lo, hi)
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
    half: i32,
    out_offset: i32,
    lo: i32,
    hi: i32,
    /// Whether [`Self::apply`] may take the single-rounding path: `1 <= right <= 31`
    /// (so no left shift) and `2^30 < mult` (so the sign of `acc * mult + 2^30` is the
    /// sign of `acc`, and no `srdhm` saturation).
    single: bool,
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
            half: mask >> 1,
            out_offset,
            lo,
            hi,
            single: (1..=31).contains(&right) && mult > 1 << 30,
        }
    }

    /// Requantizes an accumulator and clamps it to int8.
    ///
    /// With a right shift `r` of 1 to 31 the two roundings of TFLite (`srdhm`, then
    /// `rdbpot` half away from zero) are one 64-bit expression. Let
    /// `A = acc * mult + 2^30`, so that `srdhm = floor(A / 2^31)` (negative exactly
    /// when `A` is); the result is `floor((A + (2^(r-1) - [A < 0]) * 2^31) / 2^(31+r))`,
    /// nested floors of exact divisions composing into one (`requant_matches_mbqm`).
    /// With `mult > 2^30` (TFLite's multipliers are in `[2^30, 2^31)`), `A < 0`
    /// exactly when `acc < 0`, so the whole constant is known before the multiply:
    /// on Cortex-M4 a few instructions build it, one `SMLAL` adds the product and
    /// one shift of the high word finishes, under half the instructions of the
    /// two-step form, which stays for the other multipliers and shifts.
    #[inline(always)]
    pub(crate) fn apply(&self, acc: i32) -> i8 {
        let v = if self.single {
            single_rounding(acc, self.mult, self.half.wrapping_add(1), self.right - 1)
        } else {
            two_step(acc, self.mult, self.left, self.right)
        };
        v.wrapping_add(self.out_offset).max(self.lo).min(self.hi) as i8
    }
}

/// [`Requant::apply`] before the offset and the clamp, as TFLite writes it: `srdhm`
/// of `acc * left`, then `rdbpot` by `right` (any shift, hostile ones included).
/// Out of line on the boards, with its operands in registers: TFLite's multipliers
/// with a right shift (every layer of the benchmark models) take the single
/// rounding, and every kernel saves a copy of this.
#[cfg_attr(not(target_arch = "x86_64"), inline(never))]
#[cfg_attr(target_arch = "x86_64", inline(always))]
fn two_step(acc: i32, mult: i32, left: i32, right: u32) -> i32 {
    let x = crate::fixedpoint::srdhm(acc.wrapping_mul(left), mult);
    // As in `fixedpoint::rdbpot`, including its wrapping for hostile shifts.
    let mask = 1i64.wrapping_shl(right).wrapping_sub(1) as i32;
    let threshold = (mask >> 1).wrapping_add(i32::from(x < 0));
    x.wrapping_shr(right)
        .wrapping_add(i32::from(x & mask > threshold))
}

/// `floor((acc * mult + 2^30 + (half1 - [acc < 0]) * 2^31) / 2^(32 + shift))` for
/// `mult > 2^30`, `half1 = 2^shift`, `shift < 31`: the single-rounding
/// [`Requant::apply`].
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
fn single_rounding(acc: i32, mult: i32, half1: i32, shift: u32) -> i32 {
    // `half1 - [acc < 0]` is `2^(r-1) - [A < 0]`.
    let c = half1 - (acc as u32 >> 31) as i32;
    let k = (1i64 << 30) + (i64::from(c) << 31);
    (((i64::from(acc) * i64::from(mult) + k) >> 32) as i32) >> shift
}

#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
use super::dot::dsp::requant_single as single_rounding;

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
