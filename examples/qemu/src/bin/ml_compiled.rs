//! ioto-ml's compile-time path on every virtual board: models turned into static Rust
//! by `build.rs` (`ioto_ml::codegen`) run their committed TFLM golden cases (20 random
//! inputs and the edge inputs) and must match byte for byte, like the interpreter. No
//! heap: each model's activation area is a stack buffer of `ACTIVATION_BYTES`.
#![no_std]
#![no_main]

use ioto_board_qemu::{entry, harness, tests};
use ioto_ml::compiled::CompiledModel;

mod hello_world_int8 {
    include!(concat!(env!("OUT_DIR"), "/hello_world_int8.rs"));
}
mod microflow_sine {
    include!(concat!(env!("OUT_DIR"), "/microflow_sine.rs"));
}
mod micro_speech_quantized {
    include!(concat!(env!("OUT_DIR"), "/micro_speech_quantized.rs"));
}
mod ad01_int8 {
    include!(concat!(env!("OUT_DIR"), "/ad01_int8.rs"));
}
mod kws_ref_model {
    include!(concat!(env!("OUT_DIR"), "/kws_ref_model.rs"));
}

/// Every golden case: 20 random inputs, then all -128, all 127 and the zero point.
const ALL_CASES: [usize; 23] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
];

/// Runs every case of `(inputs, outputs)` through `model` and compares the bytes.
fn check(model: &CompiledModel<'_>, activations: &mut [u8], (inputs, outputs): (&[u8], &[u8])) {
    let in_len = model.input_mut(activations, 0).expect("input").len();
    let out_len = model.output(activations, 0).expect("output").len();
    let cases = inputs.len() / in_len;
    assert!(cases > 0 && inputs.len() == cases * in_len && outputs.len() == cases * out_len);
    for c in 0..cases {
        model
            .set_input(activations, 0, &inputs[c * in_len..(c + 1) * in_len])
            .expect("set input");
        model.invoke(activations).expect("invoke");
        assert_eq!(
            model.output(activations, 0).expect("output"),
            &outputs[c * out_len..(c + 1) * out_len],
            "case {}",
            c
        );
    }
}

/// Checks compiled model `$m` against golden set `$name` with `$in`/`$out`-byte tensors.
macro_rules! compiled_golden {
    ($m:ident, $name:literal, $in:literal, $out:literal) => {{
        let mut activations = [0u8; $m::ACTIVATION_BYTES];
        let cases = ioto_board_qemu::golden_cases!($name, ALL_CASES, $in, $out);
        check(&$m::MODEL, &mut activations, cases);
    }};
}

fn hello_world_int8() {
    compiled_golden!(hello_world_int8, "hello_world_int8", 1, 1);
}

fn microflow_sine() {
    compiled_golden!(microflow_sine, "microflow_sine", 1, 1);
}

fn micro_speech_quantized() {
    compiled_golden!(micro_speech_quantized, "micro_speech_quantized", 1960, 4);
}

fn ad01_int8() {
    compiled_golden!(ad01_int8, "ad01_int8", 640, 640);
}

fn kws_ref_model() {
    compiled_golden!(kws_ref_model, "kws_ref_model", 490, 12);
}

#[entry]
fn main() -> ! {
    let suite = tests![
        hello_world_int8,
        microflow_sine,
        micro_speech_quantized,
        ad01_int8,
        kws_ref_model,
    ];
    harness::run("ml_compiled", suite)
}
