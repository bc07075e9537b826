//! MicroFlow on `qemu-m4f`: instructions per inference for the models MicroFlow supports,
//! on the first TFLM golden input of each, for the side-by-side table of `cargo xtask bench ml`.
//!
//! Prints one line per model:
//! `BENCH engine=microflow model=<name> instructions=<n> stack_peak_bytes=<s> max_lsb_diff_vs_tflm=<d>`
//! - `instructions`: retired instructions of one `predict_quantized` call (after one warm-up
//!   call), exact under `-icount shift=0` to the counter's 40-instruction resolution;
//! - `stack_peak_bytes`: deepest stack use below the measuring function's frame during that
//!   call, found by painting the free stack with a pattern first (MicroFlow keeps every tensor
//!   on the stack, so this is its activation RAM; add `.data` + `.bss` from `size` for the
//!   whole firmware);
//! - `max_lsb_diff_vs_tflm`: MicroFlow's output, requantized to the model's int8 output, against
//!   TFLM's golden output for the same input - informational, not a pass/fail check.
//!
//! One cargo feature per model (`sine`, `micro-speech`, `hello-world`, `ad01`, `kws`; all on by
//! default) so that a firmware with a single model can be built for the flash comparison.
//! `person_detect` is behind the `person-detect` feature (off by default): MicroFlow's stack-allocated tensors
//! for it do not fit the 256 KB RAM of qemu-m4f (the stack runs off the bottom of RAM and QEMU
//! reports a lockup).
#![no_std]
#![no_main]

use core::hint::black_box;
use ioto_board_qemu::footprint::{StackProbe, firmware_flash_bytes, static_ram_bytes};
use ioto_board_qemu::{counter, entry, exit, instructions, println};
use microflow::buffer::Buffer2D;
#[cfg(any(feature = "kws", feature = "person-detect"))]
use microflow::buffer::Buffer4D;
use microflow::model;

#[cfg(feature = "sine")]
#[model("../../ioto-ml/tests/golden/microflow_sine/model.tflite")]
struct Sine;

#[cfg(feature = "micro-speech")]
#[model("../../ioto-ml/tests/golden/micro_speech_quantized/model.tflite")]
struct Speech;

#[cfg(feature = "hello-world")]
#[model("../../ioto-ml/tests/golden/hello_world_int8/model.tflite")]
struct HelloWorld;

#[cfg(feature = "ad01")]
#[model("../../ioto-ml/tests/golden/ad01_int8/model.tflite")]
struct Ad01;

#[cfg(feature = "kws")]
#[model("../../ioto-ml/tests/golden/kws_ref_model/model.tflite")]
struct Kws;

#[cfg(feature = "person-detect")]
#[model("../../ioto-ml/tests/golden/person_detect/model.tflite")]
struct PersonDetect;

/// How deep below `measure` the stack is painted (MicroFlow's kws needs ~90 KB).
const PAINT_DEPTH: usize = 160 * 1024;

/// First golden case of a set: (input bytes, TFLM output bytes), only those bytes in flash.
macro_rules! golden_case0 {
    ($name:literal, $in_len:expr, $out_len:expr) => {
        ioto_board_qemu::golden_cases!($name, [0], $in_len, $out_len)
    };
}

/// Row-major int8 bytes into a 1 x N MicroFlow buffer.
#[cfg(any(
    feature = "sine",
    feature = "micro-speech",
    feature = "hello-world",
    feature = "ad01"
))]
fn row<const N: usize>(bytes: &[u8]) -> Buffer2D<i8, 1, N> {
    Buffer2D::from_fn(|_, c| bytes[c] as i8)
}

/// NHWC int8 bytes (batch 1) into a MicroFlow 4-D buffer.
#[cfg(any(feature = "kws", feature = "person-detect"))]
fn image<const H: usize, const W: usize, const C: usize>(bytes: &[u8]) -> Buffer4D<i8, 1, H, W, C> {
    [Buffer2D::from_fn(|r, c| {
        core::array::from_fn(|k| bytes[(r * W + c) * C + k] as i8)
    })]
}

/// Largest |MicroFlow - TFLM| in output LSBs, MicroFlow's float output requantized.
fn max_lsb_diff<const N: usize>(
    out: &Buffer2D<f32, 1, N>,
    tflm: &[u8],
    scale: f32,
    zero_point: i32,
) -> i32 {
    let mut worst = 0;
    for (i, &expected) in tflm.iter().enumerate() {
        let q = round_half_away(out[(0, i)] / scale) as i32 + zero_point;
        let q = q.clamp(-128, 127);
        worst = worst.max((q - i32::from(expected as i8)).abs());
    }
    worst
}

fn round_half_away(x: f32) -> f32 {
    if x >= 0.0 {
        (x + 0.5) as i32 as f32
    } else {
        (x - 0.5) as i32 as f32
    }
}

/// Runs `f` once to warm up, then once measured; returns (instructions, peak stack, result).
fn measure<T>(mut f: impl FnMut() -> T) -> (u64, usize, T) {
    black_box(f());
    let probe = StackProbe::paint(PAINT_DEPTH);
    let before = instructions();
    let out = f();
    let after = instructions();
    (after - before, probe.used(), out)
}

fn report(model: &str, (instructions, stack, diff): (u64, usize, i32)) {
    println!(
        "BENCH engine=microflow model={model} instructions={instructions} stack_peak_bytes={stack} max_lsb_diff_vs_tflm={diff}"
    );
}

#[entry]
fn main() -> ! {
    counter::start();

    #[cfg(feature = "sine")]
    {
        let (input, tflm) = golden_case0!("microflow_sine", 1, 1);
        let x = row::<1>(input);
        let (n, stack, out) = measure(|| Sine::predict_quantized(black_box(x)));
        report(
            "microflow_sine",
            (n, stack, max_lsb_diff(&out, tflm, 0.008_269_669, 7)),
        );
    }

    #[cfg(feature = "micro-speech")]
    {
        let (input, tflm) = golden_case0!("micro_speech_quantized", 1960, 4);
        let x = row::<1960>(input);
        let (n, stack, out) = measure(|| Speech::predict_quantized(black_box(x)));
        report(
            "micro_speech_quantized",
            (n, stack, max_lsb_diff(&out, tflm, 0.003_906_25, -128)),
        );
    }

    #[cfg(feature = "hello-world")]
    {
        let (input, tflm) = golden_case0!("hello_world_int8", 1, 1);
        let x = row::<1>(input);
        let (n, stack, out) = measure(|| HelloWorld::predict_quantized(black_box(x)));
        report(
            "hello_world_int8",
            (n, stack, max_lsb_diff(&out, tflm, 0.008_290_957, 5)),
        );
    }

    #[cfg(feature = "ad01")]
    {
        let (input, tflm) = golden_case0!("ad01_int8", 640, 640);
        let x = row::<640>(input);
        let (n, stack, out) = measure(|| Ad01::predict_quantized(black_box(x)));
        report(
            "ad01_int8",
            (n, stack, max_lsb_diff(&out, tflm, 0.364_498_47, 96)),
        );
    }

    #[cfg(feature = "kws")]
    {
        let (input, tflm) = golden_case0!("kws_ref_model", 49 * 10, 12);
        let x = image::<49, 10, 1>(input);
        let (n, stack, out) = measure(|| Kws::predict_quantized(black_box(x)));
        report(
            "kws_ref_model",
            (n, stack, max_lsb_diff(&out, tflm, 0.003_906_25, -128)),
        );
    }

    #[cfg(feature = "person-detect")]
    {
        let (input, tflm) = golden_case0!("person_detect", 96 * 96, 2);
        let x = image::<96, 96, 1>(input);
        let (n, stack, out) = measure(|| PersonDetect::predict_quantized(black_box(x)));
        report(
            "person_detect",
            (n, stack, max_lsb_diff(&out, tflm, 0.003_906_25, -128)),
        );
    }

    println!(
        "BENCH engine=microflow firmware_flash_bytes={} static_ram_bytes={}",
        firmware_flash_bytes(),
        static_ram_bytes()
    );
    exit(0)
}
