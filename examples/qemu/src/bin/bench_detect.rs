//! Instructions per sample and state of ioto-core's anomaly detectors on the virtual
//! boards (run under QEMU `-icount shift=0`), over the recorded NAB series of the
//! `detect` suite (`fixtures/detect/series.f32`). Prints one line per detector:
//! `BENCH detector=<name> samples=<n> instructions=<total> instr_per_sample=<x.y>
//! state_bytes=<bytes>`, then exits 0. `cargo xtask bench detect` runs it on qemu-m0
//! and qemu-m4f and puts the numbers beside the detectors' NAB scores.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::hint::black_box;
use ioto_board_qemu::{entry, instructions, println};
use ioto_core::Instant;
use ioto_core::detect::{Contextual, Detector, ModelDetector, RobustZ};
use ioto_ml::{Model, detect::Autoencoder};

#[path = "detect_common/series.rs"]
mod series;
use series::{SERIES, STEP_MICROS, WINDOW, f32_at};

/// Runs `d` over the whole series and prints its `BENCH` line.
fn bench<D: Detector>(name: &str, d: &mut D, state_bytes: usize) {
    let n = SERIES.len() / 4;
    let before = instructions();
    for i in 0..n {
        let v = black_box(f32_at(SERIES, i));
        black_box(d.update(Instant(i as u64 * STEP_MICROS), v));
    }
    let after = instructions();
    let Some(total) = after.checked_sub(before) else {
        println!(
            "BENCH-ERROR detector={} error=counter-went-backwards before={} after={}",
            name, before, after
        );
        ioto_board_qemu::exit(1)
    };
    // Instructions per sample with one decimal, rounded, in integer arithmetic.
    let n64 = n as u64;
    let tenths = (total * 10 + n64 / 2) / n64;
    println!(
        "BENCH detector={} samples={} instructions={} instr_per_sample={}.{} state_bytes={}",
        name,
        n,
        total,
        tenths / 10,
        tenths % 10,
        state_bytes
    );
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(16 * 1024);
    ioto_board_qemu::counter::start();
    let Ok(model) = Model::parse(ioto_board_qemu::golden_model!("ad01_int8")) else {
        println!("BENCH-ERROR detector=model error=parse");
        ioto_board_qemu::exit(1)
    };
    let mut arena = vec![0u8; model.arena_size()];
    let arena_bytes = arena.len();
    let Ok(auto) = Autoencoder::new(&model, &mut arena) else {
        println!("BENCH-ERROR detector=model error=prepare");
        ioto_board_qemu::exit(1)
    };
    let mut model_detector = ModelDetector::<_, WINDOW>::new(auto);
    let mut robust_z = RobustZ::new();
    let mut contextual = Contextual::new();

    let size = core::mem::size_of_val(&robust_z);
    bench("robust-z", &mut robust_z, size);

    let size = core::mem::size_of_val(&contextual);
    bench("contextual", &mut contextual, size);

    // State of the model detector: the `ModelDetector` value (its two 640-value
    // windows, the likelihood and the `Autoencoder`, which holds the interpreter and
    // its copy of the parsed model's handles) plus the interpreter's arena. The
    // `.tflite` bytes themselves stay in flash and are not counted.
    let size = core::mem::size_of_val(&model_detector) + arena_bytes;
    bench("model", &mut model_detector, size);
    if model_detector.failed_inferences() != 0 {
        println!(
            "BENCH-ERROR detector=model error=inference failed_inferences={}",
            model_detector.failed_inferences()
        );
        ioto_board_qemu::exit(1)
    }
    ioto_board_qemu::exit(0)
}
