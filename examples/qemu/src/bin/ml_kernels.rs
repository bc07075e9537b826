//! ioto-ml's blocked kernels on every virtual board: the widened-input quad kernel
//! (CONV_2D) and, on Cortex-M4, the assembly depthwise taps, 3×3 window and
//! single-rounding requantization equal a scalar reference
//! bit for bit; person_detect (every CONV_2D and DEPTHWISE_CONV_2D path, including the
//! depth-multiplier-8 first layer) matches its TFLM golden outputs byte for byte.
#![no_std]
#![no_main]

extern crate alloc;

use ioto_board_qemu::{entry, harness, tests};

#[macro_use]
#[path = "ml_common/golden.rs"]
mod golden;

use golden::check;

/// xorshift32 bytes.
struct Bytes(u32);

impl Bytes {
    fn next(&mut self) -> i8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 >> 24) as i8
    }
}

/// The first two person_detect golden cases, every output byte compared.
fn person_detect() {
    check(golden!("person_detect", [0, 1], 9216, 2));
}

/// `widen4` equals its portable form, and `quad_dot` over widened blocks of four
/// pixels equals `acc + sum((x + offset) * w)` per pixel, for reduction lengths
/// 0..=96 (multiples of 4), offsets at the zero-point extremes and saturating
/// starting accumulators.
fn quad_dot_matches_reference() {
    use ioto_ml::kernels::dot::{quad_dot, widen4, widen4_portable};
    const K: usize = 96;
    let mut rng = Bytes(0x2468_ace1);
    let mut x = [[0i8; K]; 4];
    let mut w = [0i8; K];
    let mut words = [0u32; 2 * K];
    for round in 0..12 {
        for v in x.iter_mut().flatten().chain(w.iter_mut()) {
            *v = rng.next();
        }
        if round == 0 {
            x.iter_mut().flatten().for_each(|v| *v = -128);
            w.fill(-128);
        }
        for offset in [-127, -1, 0, 1, 33, 128] {
            for (p, px) in x.iter().enumerate() {
                for (j, q) in px.as_chunks::<4>().0.iter().enumerate() {
                    let (a, b) = widen4(q, offset);
                    assert_eq!((a, b), widen4_portable(q, offset));
                    words[j * 8 + 2 * p] = a;
                    words[j * 8 + 2 * p + 1] = b;
                }
            }
            let start = [i32::MAX - 9, i32::MIN + 4, 0, -77];
            for k in (0..=K).step_by(4) {
                let got = quad_dot(&words[..2 * k], &w[..k], start);
                for (p, px) in x.iter().enumerate() {
                    let want = px[..k].iter().zip(&w[..k]).fold(start[p], |a, (&xv, &wv)| {
                        a.wrapping_add((i32::from(xv) + offset) * i32::from(wv))
                    });
                    assert_eq!(got[p], want, "k {} pixel {}", k, p);
                }
            }
        }
    }
}

/// The Cortex-M4 depthwise taps (`tap4`: four channels of one word; `tap4_shared`:
/// one input value for four channels) equal the scalar formula, and advance their
/// pointers by the given steps.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn depthwise_taps_match_reference() {
    use ioto_ml::kernels::dot::dsp::{tap4, tap4_shared};
    let mut rng = Bytes(0x1357_9bdf);
    let mut x = [0i8; 64];
    let mut w = [0i8; 64];
    for _ in 0..40 {
        for v in x.iter_mut().chain(w.iter_mut()) {
            *v = rng.next();
        }
        for offset in [-127, -1, 0, 5, 128] {
            for (taps, step) in [(1usize, 4usize), (3, 8), (7, 8), (15, 4)] {
                let mut acc = [i32::MAX - 3, 9, -40000, i32::MIN + 2];
                let mut want = acc;
                let (mut xp, mut wp) = (x.as_ptr(), w.as_ptr());
                for t in 0..taps {
                    // SAFETY: tap `t` reads x[t * step..][..4] and w[t * step..][..4],
                    // inside both 64-byte arrays for every (taps, step) above.
                    unsafe { tap4(&mut acc, &mut xp, &mut wp, step, offset_pair(offset)) };
                    for (j, a) in want.iter_mut().enumerate() {
                        let (xv, wv) = (x[t * step + j], w[t * step + j]);
                        *a = a.wrapping_add((i32::from(xv) + offset) * i32::from(wv));
                    }
                }
                assert_eq!(acc, want);
                assert_eq!(xp, x.as_ptr().wrapping_add(taps * step));
                let mut acc = [1, -2, i32::MAX, i32::MIN];
                let mut want = acc;
                let (mut xp, mut wp) = (x.as_ptr(), w.as_ptr());
                for t in 0..taps {
                    // SAFETY: tap `t` reads x[t] and w[t * step..][..4], in bounds.
                    unsafe { tap4_shared(&mut acc, &mut xp, &mut wp, 1, step, offset) };
                    let xv = i32::from(x[t]) + offset;
                    for (j, a) in want.iter_mut().enumerate() {
                        *a = a.wrapping_add(xv * i32::from(w[t * step + j]));
                    }
                }
                assert_eq!(acc, want);
                assert_eq!(wp, w.as_ptr().wrapping_add(taps * step));
            }
        }
    }
}

/// The Cortex-M4 3×3 window (`taps3x3` over a `Window3x3` of pre-widened weights)
/// equals the scalar formula over nine taps, for tap steps of one word and more and
/// rows closer and further apart than a row of taps.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn window3x3_matches_reference() {
    use ioto_ml::kernels::dot::dsp::{Window3x3, taps3x3};
    let mut rng = Bytes(0x0bad_cafe);
    let mut x = [0i8; 160];
    let mut w = [[0i8; 4]; 9];
    for round in 0..30 {
        for v in x.iter_mut().chain(w.iter_mut().flatten()) {
            *v = rng.next();
        }
        if round == 0 {
            x.fill(-128);
            w.iter_mut().for_each(|t| t.fill(-128));
        }
        for offset in [-127, -1, 0, 5, 128] {
            for (step, row) in [(4usize, 12usize), (4, 40), (8, 24), (12, 50)] {
                let window = Window3x3::new(&w, row - 3 * step);
                let mut acc = [i32::MAX - 3, 9, -40000, i32::MIN + 2];
                let mut want = acc;
                for (k, tap) in w.iter().enumerate() {
                    let at = k / 3 * row + k % 3 * step;
                    for (j, a) in want.iter_mut().enumerate() {
                        let xv = i32::from(x[at + j]) + offset;
                        *a = a.wrapping_add(xv * i32::from(tap[j]));
                    }
                }
                // SAFETY: the last tap reads x[2 * row + 2 * step..][..4], inside
                // the 160-byte array for every (step, row) above.
                unsafe { taps3x3(&mut acc, x.as_ptr(), &window, step, offset_pair(offset)) };
                assert_eq!(acc, want, "step {} row {} offset {}", step, row, offset);
            }
        }
    }
}

/// The Cortex-M4 single-rounding requantization (`requant_single`) equals TFLite's
/// two roundings (`SaturatingRoundingDoublingHighMul`, then `RoundingDivideByPOT`,
/// written out here) for multipliers above 2^30 and right shifts 1 to 31, over
/// random, small and extreme accumulators.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn requant_single_matches_reference() {
    use ioto_ml::kernels::dot::dsp::requant_single;
    fn reference(acc: i32, mult: i32, right: u32) -> i32 {
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
        let got = requant_single(acc, mult, 1 << (right - 1), right - 1);
        assert_eq!(
            got,
            reference(acc, mult, right),
            "{} {} {}",
            acc,
            mult,
            right
        );
    }
}

/// The offset in both halfwords, as `tap4` takes it.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn offset_pair(offset: i32) -> u32 {
    ((offset as u32) & 0xffff) | ((offset as u32) << 16)
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(128 * 1024);
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    let suite = tests![
        quad_dot_matches_reference,
        depthwise_taps_match_reference,
        window3x3_matches_reference,
        requant_single_matches_reference,
        person_detect,
    ];
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    let suite = tests![quad_dot_matches_reference, person_detect];
    harness::run("ml_kernels", suite)
}
