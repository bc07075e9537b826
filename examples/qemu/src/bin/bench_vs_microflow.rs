//! ioto-ml's half of the side-by-side with MicroFlow (`examples/microflow-cmp`): the two
//! models MicroFlow's own examples use, `microflow_sine` and `micro_speech_quantized`, in
//! one firmware without a heap, on the first TFLM golden input of each. Prints
//!
//! `BENCH engine=ioto-ml model=<name> instructions=<n> stack_peak_bytes=<s> arena_bytes=<a> max_lsb_diff_vs_tflm=<d>`
//!
//! per model, then `BENCH engine=ioto-ml ops=<all|allow-list> firmware_flash_bytes=<f> static_ram_bytes=<r>`.
//! xtask builds it three times: with every operator, with only the four these models use
//! (`--no-default-features --features ioto-ml/op-fully-connected,…`), and with the
//! models compiled ahead of time (`--no-default-features --features ml-compiled`:
//! `build.rs` turns them into static Rust with `ioto_ml::codegen`; prints `ops=compiled`).
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

/// Arena for the larger of the two models (micro_speech needs 6,368 bytes).
const ARENA_BYTES: usize = 6_400;
static mut ARENA: [u8; ARENA_BYTES] = [0; ARENA_BYTES];
/// How deep below `bench` the stack is painted.
const PAINT_DEPTH: usize = 32 * 1024;

/// The model (bytes, or the compiled model with `ml-compiled`) and the first golden
/// case (input, TFLM output) of a set.
macro_rules! golden_case0 {
    ($module:ident, $name:literal, $in_len:literal, $out_len:literal) => {{
        let (input, output) = ioto_board_qemu::golden_cases!($name, [0], $in_len, $out_len);
        #[cfg(not(feature = "ml-compiled"))]
        let model = ioto_board_qemu::golden_model!($name);
        #[cfg(feature = "ml-compiled")]
        let model = &$module::MODEL;
        ($name, model, input, output)
    }};
}

fn fail(name: &str, what: &str) -> ! {
    println!("BENCH-ERROR engine=ioto-ml model={} error={}", name, what);
    exit(1)
}

/// The two ways to run a model: the interpreter, or a model compiled ahead of time.
trait Engine {
    fn set_input(&mut self, input: &[u8]) -> Result<(), ioto_ml::Error>;
    fn invoke(&mut self) -> Result<(), ioto_ml::Error>;
    fn output(&self) -> Result<&[u8], ioto_ml::Error>;
}

#[cfg(not(feature = "ml-compiled"))]
impl Engine for ioto_ml::Interpreter<'_, '_> {
    fn set_input(&mut self, input: &[u8]) -> Result<(), ioto_ml::Error> {
        ioto_ml::Interpreter::set_input(self, 0, input)
    }
    fn invoke(&mut self) -> Result<(), ioto_ml::Error> {
        ioto_ml::Interpreter::invoke(self)
    }
    fn output(&self) -> Result<&[u8], ioto_ml::Error> {
        ioto_ml::Interpreter::output(self, 0)
    }
}

/// A compiled model with its activation area.
#[cfg(feature = "ml-compiled")]
struct Compiled<'a> {
    model: &'a ioto_ml::compiled::CompiledModel<'static>,
    activations: &'a mut [u8],
}

#[cfg(feature = "ml-compiled")]
impl Engine for Compiled<'_> {
    fn set_input(&mut self, input: &[u8]) -> Result<(), ioto_ml::Error> {
        self.model.set_input(self.activations, 0, input)
    }
    fn invoke(&mut self) -> Result<(), ioto_ml::Error> {
        self.model.invoke(self.activations)
    }
    fn output(&self) -> Result<&[u8], ioto_ml::Error> {
        self.model.output(self.activations, 0)
    }
}

/// Runs `engine` once as a warm-up and once measured (setting the input each time: the
/// planner may reuse the input tensor's memory once it is consumed), then prints the
/// model's `BENCH` line.
fn measure(name: &str, arena_bytes: usize, input: &[u8], tflm: &[u8], engine: &mut impl Engine) {
    if engine
        .set_input(input)
        .and_then(|()| engine.invoke())
        .is_err()
    {
        fail(name, "invoke")
    }
    if engine.set_input(input).is_err() {
        fail(name, "input")
    }
    let probe = StackProbe::paint(PAINT_DEPTH);
    let before = instructions();
    let ok = engine.invoke();
    let after = instructions();
    let stack = probe.used();
    let Ok(()) = ok else { fail(name, "invoke") };
    let Ok(out) = engine.output() else {
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
        arena_bytes,
        diff
    );
}

/// The interpreter: the model is parsed from flash at run time.
#[cfg(not(feature = "ml-compiled"))]
fn bench(arena: &mut [u8], (name, model, input, tflm): (&str, &[u8], &[u8], &[u8])) {
    use ioto_ml::{Interpreter, Model};
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
    measure(name, need, input, tflm, &mut it);
}

/// The model compiled ahead of time by `build.rs` (no parser, planner or prepare code,
/// only the kernels it names).
#[cfg(feature = "ml-compiled")]
fn bench(
    arena: &mut [u8],
    (name, model, input, tflm): (
        &str,
        &'static ioto_ml::compiled::CompiledModel<'static>,
        &[u8],
        &[u8],
    ),
) {
    let need = model.activation_bytes();
    let Some(activations) = arena.get_mut(..need) else {
        fail(name, "arena too small")
    };
    let mut engine = Compiled {
        model: black_box(model),
        activations,
    };
    measure(name, need, input, tflm, &mut engine);
}

#[cfg(feature = "ml-compiled")]
mod microflow_sine {
    include!(concat!(env!("OUT_DIR"), "/microflow_sine.rs"));
}
#[cfg(feature = "ml-compiled")]
mod micro_speech_quantized {
    include!(concat!(env!("OUT_DIR"), "/micro_speech_quantized.rs"));
}

#[entry]
fn main() -> ! {
    counter::start();
    // SAFETY: the only reference to the arena, taken once.
    let arena = unsafe { &mut *core::ptr::addr_of_mut!(ARENA) };
    bench(arena, golden_case0!(microflow_sine, "microflow_sine", 1, 1));
    bench(
        arena,
        golden_case0!(micro_speech_quantized, "micro_speech_quantized", 1960, 4),
    );
    // Built with an operator allow-list, a model using another operator is refused at
    // load, by name, before anything runs.
    #[cfg(not(feature = "ml-compiled"))]
    if !cfg!(feature = "ml-all-ops") {
        match ioto_ml::Model::parse(ioto_board_qemu::golden_model!("op_mean_channel_axis")) {
            Err(ioto_ml::Error::UnsupportedOp { name: "MEAN", .. }) => {}
            _ => fail("op_mean_channel_axis", "MEAN not refused"),
        }
    }
    println!(
        "BENCH engine=ioto-ml ops={} firmware_flash_bytes={} static_ram_bytes={}",
        if cfg!(feature = "ml-compiled") {
            "compiled"
        } else if cfg!(feature = "ml-all-ops") {
            "all"
        } else {
            "allow-list"
        },
        firmware_flash_bytes(),
        static_ram_bytes()
    );
    exit(0)
}
