//! ioto-ml's half of the side-by-side with MicroFlow (`examples/microflow-cmp`): the two
//! models MicroFlow's own examples use, `microflow_sine` and `micro_speech_quantized`, in
//! one firmware without a heap, on the first TFLM golden input of each. Prints
//!
//! `BENCH engine=ioto-ml model=<name> instructions=<n> stack_peak_bytes=<s> arena_bytes=<a> max_lsb_diff_vs_tflm=<d>`
//!
//! per model, then `BENCH engine=ioto-ml ops=<all|allow-list> firmware_flash_bytes=<f> static_ram_bytes=<r>`.
//! xtask builds it twice: with every operator, and with only the four these models use
//! (`--no-default-features --features ioto-ml/op-fully-connected,…`).
//! `instructions` counts one `invoke` after a warm-up one (QEMU `-icount shift=0`);
//! `stack_peak_bytes` is the stack that invoke used (painted stack); the arena is a static
//! buffer, part of `static_ram_bytes`. The models are parsed at run time from flash, as
//! a device that takes model updates over the air does. `cargo xtask bench ml` runs this
//! and MicroFlow's firmware in the same run on `qemu-m4f`.
#![no_std]
#![no_main]

use core::hint::black_box;
use ioto_board_qemu::footprint::{StackProbe, firmware_flash_bytes, static_ram_bytes};
use ioto_board_qemu::{counter, entry, exit, instructions, println};
use ioto_ml::{Interpreter, Model};

/// Arena for the larger of the two models (micro_speech needs 6,368 bytes).
const ARENA_BYTES: usize = 6_400;
static mut ARENA: [u8; ARENA_BYTES] = [0; ARENA_BYTES];
/// How deep below `bench` the stack is painted.
const PAINT_DEPTH: usize = 32 * 1024;

/// Model bytes and the first golden case (input, TFLM output) of a set.
macro_rules! golden_case0 {
    ($name:literal, $in_len:literal, $out_len:literal) => {{
        let (input, output) = ioto_board_qemu::golden_cases!($name, [0], $in_len, $out_len);
        ($name, ioto_board_qemu::golden_model!($name), input, output)
    }};
}

fn fail(name: &str, what: &str) -> ! {
    println!("BENCH-ERROR engine=ioto-ml model={} error={}", name, what);
    exit(1)
}

fn bench(arena: &mut [u8], (name, model, input, tflm): (&str, &[u8], &[u8], &[u8])) {
    let Ok(model) = Model::parse(black_box(model)) else {
        fail(name, "parse")
    };
    let need = model.arena_size();
    let Some(arena) = arena.get_mut(..need) else {
        fail(name, "arena too small")
    };
    let Ok(mut it) = Interpreter::new(&model, arena) else {
        fail(name, "prepare")
    };
    if it.set_input(0, input).and_then(|()| it.invoke()).is_err() {
        fail(name, "invoke")
    }
    // The planner may reuse the input tensor's memory once it is consumed: set it again.
    if it.set_input(0, input).is_err() {
        fail(name, "input")
    }
    let probe = StackProbe::paint(PAINT_DEPTH);
    let before = instructions();
    let ok = it.invoke();
    let after = instructions();
    let stack = probe.used();
    let Ok(()) = ok else { fail(name, "invoke") };
    let Ok(out) = it.output(0) else {
        fail(name, "output")
    };
    let diff = out
        .iter()
        .zip(tflm)
        .map(|(&a, &b)| (i32::from(a as i8) - i32::from(b as i8)).abs())
        .max()
        .unwrap_or(i32::MAX);
    println!(
        "BENCH engine=ioto-ml model={} instructions={} stack_peak_bytes={} arena_bytes={} max_lsb_diff_vs_tflm={}",
        name,
        after - before,
        stack,
        need,
        diff
    );
}

#[entry]
fn main() -> ! {
    counter::start();
    // SAFETY: the only reference to the arena, taken once.
    let arena = unsafe { &mut *core::ptr::addr_of_mut!(ARENA) };
    bench(arena, golden_case0!("microflow_sine", 1, 1));
    bench(arena, golden_case0!("micro_speech_quantized", 1960, 4));
    // Built with an operator allow-list, a model using another operator is refused at
    // load, by name, before anything runs.
    if !cfg!(feature = "ml-all-ops") {
        match Model::parse(ioto_board_qemu::golden_model!("op_mean_channel_axis")) {
            Err(ioto_ml::Error::UnsupportedOp { name: "MEAN", .. }) => {}
            _ => fail("op_mean_channel_axis", "MEAN not refused"),
        }
    }
    println!(
        "BENCH engine=ioto-ml ops={} firmware_flash_bytes={} static_ram_bytes={}",
        if cfg!(feature = "ml-all-ops") {
            "all"
        } else {
            "allow-list"
        },
        firmware_flash_bytes(),
        static_ram_bytes()
    );
    exit(0)
}
