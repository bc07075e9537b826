//! ioto-ml on every virtual board: every shared model (hello_world int8 and float,
//! microflow_sine, micro_speech, ad01, kws, person_detect) runs
//! committed TFLM golden cases (edge inputs included) and must match byte for byte (the
//! inner kernels one by one: `ml_kernels`).
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
    ];
    harness::run("ml", suite)
}
