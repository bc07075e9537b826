//! ioto-ml's aarch64 NEON kernels on an emulated Cortex-A (qemu-system-aarch64
//! `virt`): every dot-product kernel the aarch64 build dispatches to equals its
//! portable form bit for bit, over random data and the int8 extremes, every remainder
//! length of the 16-byte NEON step and misaligned slices; then golden models run
//! through the interpreter and match TFLM's output bytes. Built twice by
//! `cargo xtask test`: without `+dotprod` (`SMULL`/`SADALP`, also run on a
//! Cortex-A53) and with it (`SDOT`). Prints `neon_kernels: ok (<variant>)` and exits 0,
//! or prints the mismatch and exits 1.
#![no_std]
#![no_main]

#[macro_use]
mod rt;

use ioto_ml::{
    ALIGN, Interpreter, Model,
    kernels::dot::{self, neon},
};

/// Which `neon::dot_offset` inner step this build has.
const VARIANT: &str = if cfg!(target_feature = "dotprod") {
    "sdot"
} else {
    "smull"
};

/// Pseudo-random bytes: the top byte of a 64-bit LCG (Knuth's MMIX constants).
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> i8 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 56) as i8
    }
}

/// Fills operand `which` (0: inputs, 1: weights) of round `round`: rounds 0–3 are the
/// extremes (both all -128, both all 127, and mixed), later rounds random.
fn fill(rng: &mut Bytes, round: usize, which: usize, v: &mut [i8]) {
    const EXTREMES: [[i8; 2]; 4] = [[-128, -128], [127, 127], [-128, 127], [127, -128]];
    for a in v {
        *a = EXTREMES.get(round).map_or_else(|| rng.next(), |e| e[which]);
    }
}

/// `neon::dot_offset` / `dot2_offset` and the dispatched `dot::*` equal the portable
/// kernels for every length up to 40 and a few long ones (all remainders of the
/// 16-byte step), slices starting at every offset mod 16, zero-point offsets.
fn dot_matches_portable() -> usize {
    const N: usize = 720;
    let mut rng = Bytes(0x9e37_79b9);
    let (mut x, mut w0, mut w1) = ([0i8; N], [0i8; N], [0i8; N]);
    let mut checks = 0;
    for round in 0..24 {
        fill(&mut rng, round, 0, &mut x);
        fill(&mut rng, round, 1, &mut w0);
        fill(&mut rng, round + 1, 1, &mut w1);
        let skew = round % 16;
        for n in (0..=40).chain([63, 64, 65, 640, 700]) {
            let (xs, a, b) = (&x[skew..skew + n], &w0[..n], &w1[3..3 + n]);
            for offset in [-127, -1, 0, 57, 128] {
                let want = dot::dot_offset_portable(xs, a, offset);
                let ctx = (VARIANT, round, n, offset);
                assert_eq!(neon::dot_offset(xs, a, offset), want, "{ctx:?}");
                assert_eq!(dot::dot_offset(xs, a, offset), want, "{ctx:?}");
                let want2 = dot::dot2_offset_portable(xs, a, b, offset);
                assert_eq!(neon::dot2_offset(xs, a, b, offset), want2, "{ctx:?}");
                assert_eq!(dot::dot2_offset(xs, a, b, offset), want2, "{ctx:?}");
                let want4 = dot::dot2x2_offset_portable(xs, b, a, b, offset);
                assert_eq!(dot::dot2x2_offset(xs, b, a, b, offset), want4, "{ctx:?}");
                checks += 7;
            }
        }
    }
    checks
}

/// The interpreter's scratch and tensors.
#[repr(align(16))]
struct Arena([u8; 512 * 1024]);

static mut ARENA: Arena = Arena([0; 512 * 1024]);

/// Runs the first `cases` golden cases of `model` and compares every output byte with
/// TFLM's.
fn golden(name: &str, model: &[u8], inputs: &[u8], outputs: &[u8], cases: usize) -> usize {
    const _: () = assert!(ALIGN <= 16);
    let model = Model::parse(model).expect("model parses");
    // SAFETY: `golden` is the only user of ARENA and is not reentrant (one core, no
    // interrupts); the borrow ends with this call.
    let arena = unsafe { &mut (*(&raw mut ARENA)).0 };
    assert!(model.arena_size() <= arena.len(), "{name}: arena too small");
    let mut it = Interpreter::new(&model, arena).expect("interpreter");
    let in_len = it.input_mut(0).expect("input").len();
    let out_len = it.output(0).expect("output").len();
    assert!(inputs.len() >= cases * in_len && outputs.len() >= cases * out_len);
    for c in 0..cases {
        it.set_input(0, &inputs[c * in_len..][..in_len])
            .expect("set input");
        it.invoke().expect("invoke");
        let want = &outputs[c * out_len..][..out_len];
        assert_eq!(it.output(0).expect("output"), want, "{name} case {c}");
    }
    cases
}

/// A golden model of `ioto-ml/tests/golden/` with its inputs and TFLM's outputs.
macro_rules! golden {
    ($name:literal, $cases:expr) => {
        golden(
            $name,
            include_bytes!(concat!("../../tests/golden/", $name, "/model.tflite")),
            include_bytes!(concat!("../../tests/golden/", $name, "/input.bin")),
            include_bytes!(concat!("../../tests/golden/", $name, "/output.bin")),
            $cases,
        )
    };
}

/// The firmware's entry (called from `rt`'s `_start`).
extern "C" fn main() -> ! {
    print!("neon_kernels ({VARIANT})\n");
    let dots = dot_matches_portable();
    // Every kernel the aarch64 build dispatches to (the four-lane ones, the quad
    // kernel and the depthwise tap rows too) against the scalar reference.
    let lanes = match dot::check::run() {
        Ok(n) => n as usize,
        Err(e) => panic!("{e}"),
    };
    print!(
        "  kernels vs portable: {} comparisons equal\n",
        dots + lanes
    );
    let kws = golden!("kws_ref_model", 23);
    let person = golden!("person_detect", 23);
    print!("  golden: kws_ref_model {kws} cases, person_detect {person} cases equal TFLM\n");
    print!("neon_kernels: ok ({VARIANT})\n");
    rt::exit(0)
}
