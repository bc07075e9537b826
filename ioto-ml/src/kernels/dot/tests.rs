//! The portable and the rv32 kernels against plain scalar references, and
//! [`super::check::run`] over the host's own kernels and the generic tap rows (the
//! boards run it in their `ml_kernels` suite: the Cortex-M0 `asm!` loops on qemu-m0,
//! the DSP ones on qemu-m4f).
#![allow(clippy::unwrap_used)]

use super::{portable, rv32};
use crate::test_rng::XorShift;
use std::vec::Vec;

/// `acc + sum((x[i] + offset) * w[i])` in 64 bits, wrapped to `i32` at the end.
fn reference(acc: i32, x: &[i8], w: &[i8], offset: i32) -> i32 {
    let sum: i64 = x
        .iter()
        .zip(w)
        .map(|(&a, &b)| (i64::from(a) + i64::from(offset)) * i64::from(b))
        .sum();
    (i64::from(acc) + sum) as i32
}

fn bytes(rng: &mut XorShift, n: usize, round: usize) -> Vec<i8> {
    (0..n)
        .map(|_| if round == 0 { -128 } else { rng.next_i8() })
        .collect()
}

const OFFSETS: [i32; 6] = [-127, -1, 0, 1, 17, 128];

#[test]
fn dot2_matches_reference() {
    let mut rng = XorShift::new(0x1234_5678);
    for round in 0..20 {
        let (x, w0, w1) = (
            bytes(&mut rng, 67, round),
            bytes(&mut rng, 67, round),
            bytes(&mut rng, 67, round),
        );
        for offset in OFFSETS {
            for n in 0..=67 {
                let expected = (
                    reference(0, &x[..n], &w0[..n], offset),
                    reference(0, &x[..n], &w1[..n], offset),
                );
                let got = portable::dot2_offset(&x[..n], &w0[..n], &w1[..n], offset);
                assert_eq!(got, expected, "n={n} offset={offset}");
                // Slices of different lengths: the shortest decides.
                let got = portable::dot2_offset(&x[..n], &w0, &w1[..n], offset);
                assert_eq!(got, expected, "n={n} offset={offset}");
            }
        }
    }
}

#[test]
fn quad_dot_matches_reference() {
    let mut rng = XorShift::new(0x0bad_cafe);
    for round in 0..20 {
        let px: Vec<Vec<i8>> = (0..4).map(|_| bytes(&mut rng, 64, round)).collect();
        let w = bytes(&mut rng, 64, round);
        for offset in OFFSETS {
            // The block layout: per chunk of 4 values, pixel 0..4 × two words.
            let mut words = Vec::new();
            for c in 0..16 {
                for p in &px {
                    let (a, b) = portable::widen4(p[4 * c..4 * c + 4].try_into().unwrap(), offset);
                    words.extend([a, b]);
                }
            }
            for chunks in 0..=16 {
                let start = [i32::MAX - 5, -7, 1 << 20, i32::MIN + 3];
                let expected: [i32; 4] = core::array::from_fn(|p| {
                    reference(start[p], &px[p][..4 * chunks], &w[..4 * chunks], offset)
                });
                let (xs, ws) = (&words[..8 * chunks], &w[..4 * chunks]);
                assert_eq!(portable::quad_dot(xs, ws, start), expected);
                assert_eq!(rv32::quad_dot(xs, ws, start), expected);
            }
        }
    }
}

/// The self-check the boards run passes on the host's kernels (x86-64 SSE2 or the
/// portable ones; the generic tap rows of `rows.rs`).
#[test]
fn self_check_passes_on_the_host() {
    let comparisons = super::check::run().unwrap();
    assert!(comparisons > 10_000, "{comparisons}");
}
