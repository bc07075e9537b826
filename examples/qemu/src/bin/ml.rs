//! ioto-ml on every virtual board: every shared model (hello_world int8 and float,
//! microflow_sine, micro_speech, ad01, kws, person_detect) runs
//! committed TFLM golden cases (edge inputs included) and must match byte for byte; the
//! dot-product kernels (DSP on Cortex-M4, portable elsewhere) are checked against a
//! plain reference loop written in this file.
#![no_std]
#![no_main]

extern crate alloc;

use ioto_board_qemu::{entry, harness, tests};

#[macro_use]
#[path = "ml_common/golden.rs"]
mod golden;

use golden::check;

/// Every golden case of a set: 20 random inputs, then the edge inputs all -128,
/// all 127 and all at the zero point.
const ALL_CASES: [usize; 23] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
];
/// For person_detect (whose 23 cases would not fit the boards' flash beside the other
/// models): two random cases and the three edge cases.
const SOME_CASES: [usize; 5] = [0, 1, 20, 21, 22];

fn hello_world_int8() {
    check(golden!("hello_world_int8", ALL_CASES, 1, 1));
}

fn hello_world_float() {
    check(golden!("hello_world_float", ALL_CASES, 4, 4));
}

fn microflow_sine() {
    check(golden!("microflow_sine", ALL_CASES, 1, 1));
}

fn micro_speech_quantized() {
    check(golden!("micro_speech_quantized", ALL_CASES, 1960, 4));
}

fn ad01_int8() {
    check(golden!("ad01_int8", ALL_CASES, 640, 640));
}

fn kws_ref_model() {
    check(golden!("kws_ref_model", ALL_CASES, 490, 12));
}

fn person_detect() {
    check(golden!("person_detect", SOME_CASES, 9216, 2));
}

/// `sum((x[i] + offset) * w[i])` written out here, independently of `ioto_ml`: the sum
/// is taken in `i64` (no overflow for these lengths) and then truncated, which is the
/// kernels' documented wrapping `i32` result.
fn reference_dot(x: &[i8], w: &[i8], offset: i32) -> i32 {
    let mut sum = 0i64;
    for (&a, &b) in x.iter().zip(w) {
        sum += (i64::from(a) + i64::from(offset)) * i64::from(b);
    }
    sum as i32
}

/// Both the kernels chosen for the target (DSP on Cortex-M4) and the portable ones
/// equal [`reference_dot`], a plain loop written in this test, over lengths 0..=67,
/// offsets at the int8 zero-point extremes, accumulators near `i32` overflow and
/// pseudo-random int8 data. On qemu-m0 and qemu-rv32 the chosen kernel is the portable
/// one, so there the reference is the only second implementation.
fn dot_products_match_reference() {
    use ioto_ml::kernels::dot::{
        dot_offset, dot_offset_portable, dot2_offset, dot2_offset_portable, dot2x2_offset,
        dot2x2_offset_portable, mac4_offset, mac4_offset_portable,
    };
    let mut state = 0x1234_5678u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 24) as i8
    };
    let mut x = [0i8; 67];
    let mut w = [0i8; 67];
    for round in 0..40 {
        for v in x.iter_mut().chain(w.iter_mut()) {
            *v = next();
        }
        if round == 0 {
            x.fill(-128);
            w.fill(-128);
        }
        for offset in [-127, -1, 0, 1, 17, 128] {
            for n in 0..=67 {
                let (x0, w0, w1, x1) = (&x[..n], &w[..n], &x[67 - n..], &w[67 - n..]);
                let r00 = reference_dot(x0, w0, offset);
                let r01 = reference_dot(x0, w1, offset);
                let r10 = reference_dot(x1, w0, offset);
                let r11 = reference_dot(x1, w1, offset);
                assert_eq!(dot_offset(x0, w0, offset), r00);
                assert_eq!(dot_offset_portable(x0, w0, offset), r00);
                assert_eq!(dot2_offset(x0, w0, w1, offset), (r00, r01));
                assert_eq!(dot2_offset_portable(x0, w0, w1, offset), (r00, r01));
                assert_eq!(dot2x2_offset(x0, x1, w0, w1, offset), [r00, r01, r10, r11]);
                assert_eq!(
                    dot2x2_offset_portable(x0, x1, w0, w1, offset),
                    [r00, r01, r10, r11]
                );
            }
            for k in 0..16 {
                let xs: &[i8; 4] = x[4 * k..4 * k + 4].try_into().expect("4 lanes");
                let ws: &[i8; 4] = w[4 * k..4 * k + 4].try_into().expect("4 lanes");
                let start = [i32::MAX - 5, -7, 1 << 20, i32::MIN + 3];
                let mut expected = start;
                for (lane, e) in expected.iter_mut().enumerate() {
                    let product = (i64::from(xs[lane]) + i64::from(offset)) * i64::from(ws[lane]);
                    *e = (i64::from(*e) + product) as i32;
                }
                let (mut a, mut b) = (start, start);
                mac4_offset(&mut a, xs, ws, offset);
                mac4_offset_portable(&mut b, xs, ws, offset);
                assert_eq!(a, expected);
                assert_eq!(b, expected);
            }
        }
    }
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(128 * 1024);
    let suite = tests![
        hello_world_int8,
        hello_world_float,
        microflow_sine,
        micro_speech_quantized,
        ad01_int8,
        kws_ref_model,
        person_detect,
        dot_products_match_reference,
    ];
    harness::run("ml", suite)
}
