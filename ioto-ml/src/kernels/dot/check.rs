//! Self-check of the inner kernels this build dispatches to, on the device itself.
//!
//! [`run`] feeds every kernel the engine uses on this target — the Cortex-M4 DSP
//! kernels (including the 3×3 window and the single-rounding requantization), the
//! Cortex-M0 `asm!` loops, the RISC-V kernels, the x86-64 or NEON ones on hosts — with
//! random and extreme int8 data, offsets at the zero-point extremes and saturating
//! starting accumulators, and compares each result bit for bit with a scalar 64-bit
//! reference (and the portable kernels). The virtual boards run it in the
//! `ml_kernels` on-target suite; a board bring-up or a HIL rig can call it too. It
//! needs no allocator and about 1 KB of stack, and costs no flash unless called.
//!
//! ```
//! let comparisons = ioto_ml::kernels::dot::check::run().expect("kernels bit-exact");
//! assert!(comparisons > 10_000);
//! ```

use core::fmt;

use super::portable;

/// The first kernel result that differed from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The kernel, as named in [`super`] (`"dot_offset"`, `"row4"`, …).
    pub kernel: &'static str,
    /// The comparison's number within the whole run (the sweep is deterministic,
    /// so the same build fails at the same number).
    pub comparison: u32,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel {} differs from the reference (comparison {})",
            self.kernel, self.comparison
        )
    }
}

impl core::error::Error for Mismatch {}

/// Compares every kernel of this target with the reference; returns the number of
/// comparisons made.
///
/// # Errors
/// The first [`Mismatch`].
pub fn run() -> Result<u32, Mismatch> {
    let mut c = Comparisons(0);
    dot_products(&mut c)?;
    quad(&mut c)?;
    rows(&mut c)?;
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    dsp_only(&mut c)?;
    Ok(c.0)
}

/// The comparison counter.
struct Comparisons(u32);

impl Comparisons {
    /// Counts one comparison; `Err` when `got != want`.
    fn eq<T: PartialEq>(&mut self, kernel: &'static str, got: T, want: T) -> Result<(), Mismatch> {
        self.0 += 1;
        if got == want {
            Ok(())
        } else {
            Err(Mismatch {
                kernel,
                comparison: self.0,
            })
        }
    }
}

/// xorshift32 over int8 values; round 0 of every sweep uses -128 everywhere (the
/// largest products).
struct Bytes(u32);

impl Bytes {
    fn next(&mut self) -> i8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 >> 24) as i8
    }

    fn fill(&mut self, round: u32, buf: &mut [i8]) {
        for v in buf {
            *v = if round == 0 { -128 } else { self.next() };
        }
    }
}

/// Input offsets (`-zero_point`) at and between the int8 extremes.
const OFFSETS: [i32; 6] = [-127, -1, 0, 1, 17, 128];
/// Starting accumulators that overflow when the sum is added.
const STARTS: [i32; 4] = [i32::MAX - 5, -7, 1 << 20, i32::MIN + 3];

/// `acc + sum((x + offset) * w)` over the pairs of `xw`, in 64 bits, wrapped to `i32`.
fn reference(acc: i32, xw: impl Iterator<Item = (i8, i8)>, offset: i32) -> i32 {
    let sum: i64 = xw
        .map(|(x, w)| (i64::from(x) + i64::from(offset)) * i64::from(w))
        .sum();
    (i64::from(acc) + sum) as i32
}

/// [`reference`] over two slices (the shorter decides), starting at 0.
fn dot(x: &[i8], w: &[i8], offset: i32) -> i32 {
    reference(0, x.iter().copied().zip(w.iter().copied()), offset)
}

/// `dot_offset`, `dot2_offset`, `dot2x2_offset` for every length 0..=67 (all
/// remainders of the 2-, 4- and 8-wide loops), and `mac4_offset`.
fn dot_products(c: &mut Comparisons) -> Result<(), Mismatch> {
    const N: usize = 67;
    let mut rng = Bytes(0x1234_5678);
    let (mut x0, mut x1, mut w0, mut w1) = ([0i8; N], [0i8; N], [0i8; N], [0i8; N]);
    for round in 0..6 {
        for buf in [&mut x0, &mut x1, &mut w0, &mut w1] {
            rng.fill(round, buf);
        }
        for offset in OFFSETS {
            for n in 0..=N {
                let (x0, x1, w0, w1) = (&x0[..n], &x1[..n], &w0[..n], &w1[..n]);
                let want = [dot(x0, w0, offset), dot(x0, w1, offset)];
                c.eq("dot_offset", super::dot_offset(x0, w0, offset), want[0])?;
                let got = super::dot2_offset(x0, w0, w1, offset);
                c.eq("dot2_offset", [got.0, got.1], want)?;
                let got = super::dot2x2_offset(x0, x1, w0, w1, offset);
                let want = [want[0], want[1], dot(x1, w0, offset), dot(x1, w1, offset)];
                c.eq("dot2x2_offset", got, want)?;
            }
            let (x, w) = (first4(&x0), first4(&w0));
            let mut got = STARTS;
            super::mac4_offset(&mut got, &x, &w, offset);
            let want =
                core::array::from_fn(|k| reference(STARTS[k], [(x[k], w[k])].into_iter(), offset));
            c.eq("mac4_offset", got, want)?;
        }
    }
    Ok(())
}

/// The first four values of `v` (at least four long).
fn first4(v: &[i8]) -> [i8; 4] {
    core::array::from_fn(|k| v.get(k).copied().unwrap_or(0))
}

/// `widen4` against the portable one, and `quad_dot` over widened blocks of four
/// pixels for 0..=24 chunks of four reduction values.
fn quad(c: &mut Comparisons) -> Result<(), Mismatch> {
    const K: usize = 96;
    let mut rng = Bytes(0x2468_ace1);
    let mut px = [[0i8; K]; 4];
    let mut w = [0i8; K];
    let mut words = [0u32; 2 * K];
    for round in 0..6 {
        for buf in px.iter_mut().chain([&mut w]) {
            rng.fill(round, buf);
        }
        for offset in OFFSETS {
            // Per chunk of four values: pixel 0..4 × the two widened words.
            for (p, x) in px.iter().enumerate() {
                for (j, q) in x.as_chunks::<4>().0.iter().enumerate() {
                    let got = super::widen4(q, offset);
                    c.eq("widen4", got, portable::widen4(q, offset))?;
                    words[j * 8 + 2 * p] = got.0;
                    words[j * 8 + 2 * p + 1] = got.1;
                }
            }
            for k in (0..=K).step_by(4) {
                let got = super::quad_dot(&words[..2 * k], &w[..k], STARTS);
                let want = core::array::from_fn(|p| {
                    let xw = px[p][..k].iter().copied().zip(w[..k].iter().copied());
                    reference(STARTS[p], xw, offset)
                });
                c.eq("quad_dot", got, want)?;
            }
        }
    }
    Ok(())
}

/// `row4` (four channels, taps `step` bytes apart) and `row4_shared` (one input
/// value per tap for four weight channels) for rows of 0..=9 taps: the depthwise
/// inner loops (the taps one by one on Cortex-M4 and elsewhere, one `asm!` loop per
/// row on Cortex-M0).
fn rows(c: &mut Comparisons) -> Result<(), Mismatch> {
    const LEN: usize = 128;
    let mut rng = Bytes(0x5eed_0001);
    let (mut x, mut w) = ([0i8; LEN], [0i8; LEN]);
    for round in 0..6 {
        rng.fill(round, &mut x);
        rng.fill(round, &mut w);
        for offset in OFFSETS {
            for (step, x_step) in [(4, 1), (12, 5), (8, 12)] {
                for cols in 0..=9 {
                    let mut got = STARTS;
                    // SAFETY: `cols <= 9` taps `step <= 12` bytes apart read at most
                    // 8 * 12 + 4 bytes of the 128-byte arrays.
                    unsafe {
                        super::row4(
                            &mut got,
                            x.as_ptr(),
                            w.as_ptr(),
                            cols,
                            step,
                            super::offset_pair(offset),
                        );
                    }
                    let want = core::array::from_fn(|k| {
                        let xw = (0..cols).map(|t| (x[t * step + k], w[t * step + k]));
                        reference(STARTS[k], xw, offset)
                    });
                    c.eq("row4", got, want)?;
                    let mut got = STARTS;
                    // SAFETY: as above; the input steps `x_step <= 12` bytes a tap.
                    unsafe {
                        super::row4_shared(
                            &mut got,
                            x.as_ptr(),
                            w.as_ptr(),
                            cols,
                            [x_step, step],
                            offset,
                        );
                    }
                    let want = core::array::from_fn(|k| {
                        let xw = (0..cols).map(|t| (x[t * x_step], w[t * step + k]));
                        reference(STARTS[k], xw, offset)
                    });
                    c.eq("row4_shared", got, want)?;
                }
            }
        }
    }
    Ok(())
}

/// The Cortex-M4-only kernels: the 3×3 window over pre-widened weights and the
/// single-rounding requantization.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn dsp_only(c: &mut Comparisons) -> Result<(), Mismatch> {
    window3x3(c)?;
    requant_single(c)
}

/// `taps3x3` over a `Window3x3` equals nine taps of the reference, for tap steps of
/// one word and more and rows closer and further apart than a row of taps.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn window3x3(c: &mut Comparisons) -> Result<(), Mismatch> {
    use super::dsp::{Window3x3, taps3x3};
    let mut rng = Bytes(0x0bad_cafe);
    let mut x = [0i8; 160];
    let mut w = [[0i8; 4]; 9];
    for round in 0..10 {
        rng.fill(round, &mut x);
        for tap in &mut w {
            rng.fill(round, tap);
        }
        for offset in OFFSETS {
            for (step, row) in [(4usize, 12usize), (4, 40), (8, 24), (12, 50)] {
                let window = Window3x3::new(&w, row - 3 * step);
                let mut got = STARTS;
                // SAFETY: the last tap reads x[2 * row + 2 * step..][..4], inside the
                // 160-byte array for every (step, row) above.
                unsafe {
                    taps3x3(
                        &mut got,
                        x.as_ptr(),
                        &window,
                        step,
                        super::offset_pair(offset),
                    );
                }
                let want = core::array::from_fn(|j| {
                    let xw = w.iter().enumerate().map(|(k, tap)| {
                        let at = k / 3 * row + k % 3 * step;
                        (x[at + j], tap[j])
                    });
                    reference(STARTS[j], xw, offset)
                });
                c.eq("taps3x3", got, want)?;
            }
        }
    }
    Ok(())
}

/// `requant_single` equals TFLite's two roundings (`SaturatingRoundingDoublingHighMul`,
/// then `RoundingDivideByPOT`, written out here) for multipliers above 2^30 and right
/// shifts 1 to 31, over random, small and extreme accumulators.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn requant_single(c: &mut Comparisons) -> Result<(), Mismatch> {
    fn two_roundings(acc: i32, mult: i32, right: u32) -> i32 {
        let x = ((i64::from(acc) * i64::from(mult) + (1 << 30)) >> 31) as i32;
        let mask = ((1i64 << right) - 1) as i32;
        let threshold = (mask >> 1) + i32::from(x < 0);
        (x >> right) + i32::from(x & mask > threshold)
    }
    let mut state = 0x9e37_79b9u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let edges = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX - 1, i32::MAX];
    for i in 0..20_000u32 {
        let r = next();
        let acc = match i % 4 {
            0 => r as i32,
            1 => (r as i32) >> (next() % 32),
            2 => edges[(r % 7) as usize],
            _ => (r as i32) >> 20,
        };
        let mult = match i % 3 {
            0 => i32::MAX,
            _ => ((next() >> 1) | 0x4000_0000) as i32,
        }
        .max((1 << 30) + 1);
        let right = 1 + next() % 31;
        let got = super::dsp::requant_single(acc, mult, 1 << (right - 1), right - 1);
        c.eq("requant_single", got, two_roundings(acc, mult, right))?;
    }
    Ok(())
}
