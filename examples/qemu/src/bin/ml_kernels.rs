//! ioto-ml's blocked kernels on every virtual board: the widened-input quad kernel
//! (CONV_2D) and, on Cortex-M4, the assembly depthwise taps equal a scalar reference
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
        person_detect,
    ];
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    let suite = tests![quad_dot_matches_reference, person_detect];
    harness::run("ml_kernels", suite)
}
