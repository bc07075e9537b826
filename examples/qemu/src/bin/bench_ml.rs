//! Instructions per inference of ioto-ml on the virtual boards (run under QEMU
//! `-icount shift=0`). Prints one line per model:
//! `BENCH model=<name> instructions=<n> macs=<m> arena=<bytes>`, then exits 0.
//! `cargo xtask bench ml` runs it on every board and divides instructions by MACs.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use ioto_board_qemu::{entry, instructions, println};
use ioto_ml::{Interpreter, Model};

macro_rules! model {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                "../../../../ioto-ml/tests/golden/",
                $name,
                "/model.tflite"
            ))
            .as_slice(),
            include_bytes!(concat!(
                "../../../../ioto-ml/tests/golden/",
                $name,
                "/input.bin"
            ))
            .as_slice(),
        )
    };
}

fn bench(name: &str, model: &[u8], inputs: &[u8]) {
    let model = match Model::parse(model) {
        Ok(m) => m,
        Err(e) => {
            println!("BENCH-ERROR model={} error={}", name, e);
            ioto_board_qemu::exit(1)
        }
    };
    let mut arena = vec![0u8; model.arena_size()];
    let Ok(mut it) = Interpreter::new(&model, &mut arena) else {
        println!("BENCH-ERROR model={} error=prepare", name);
        ioto_board_qemu::exit(1)
    };
    let ok = it
        .input_mut(0)
        .map(|dst| {
            let n = dst.len().min(inputs.len());
            dst[..n].copy_from_slice(&inputs[..n]);
        })
        .and_then(|()| it.invoke());
    let before = instructions();
    let ok = ok.and_then(|()| it.invoke());
    let after = instructions();
    if ok.is_err() {
        println!("BENCH-ERROR model={} error=invoke", name);
        ioto_board_qemu::exit(1)
    }
    println!(
        "BENCH model={} instructions={} macs={} arena={}",
        name,
        after - before,
        model.macs(),
        model.arena_size()
    );
    if cfg!(feature = "profile-ops") {
        let mut last = instructions();
        let _ = it.invoke_observed(|i| {
            let now = instructions();
            let op = model.operator(i).map(|o| o.name).unwrap_or("?");
            println!("  op {} {} instructions={}", i, op, now - last);
            last = instructions();
        });
    }
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(128 * 1024);
    ioto_board_qemu::counter::start();
    let models = [
        model!("hello_world_int8"),
        model!("microflow_sine"),
        model!("micro_speech_quantized"),
        model!("ad01_int8"),
        model!("kws_ref_model"),
        model!("person_detect"),
    ];
    for (name, model, inputs) in models {
        bench(name, model, inputs);
    }
    ioto_board_qemu::exit(0)
}
