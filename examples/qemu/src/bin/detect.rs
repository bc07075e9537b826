//! ioto-core's anomaly detectors on every virtual board: each detector runs over a
//! recorded NAB series (`fixtures/detect/series.f32`) and every score must equal, bit
//! for bit, the one the host computed with the same library
//! (`fixtures/detect/scores-*.f32`, checked on the host by
//! `ioto-boards/ioto-board-host/tests/detect_golden.rs`). The detectors use only IEEE
//! `+ - * /`, `sqrt` (correctly rounded everywhere) and pure-Rust `libm`, and Rust
//! never contracts `a * b + c` into an FMA, so hard float (qemu-m4f) and soft float
//! (qemu-m0, qemu-rv32) give the host's bits exactly.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use ioto_board_qemu::{entry, harness, tests};
use ioto_core::Instant;
use ioto_core::detect::{Contextual, Detector, ModelDetector, RobustZ};
use ioto_ml::{Model, detect::Autoencoder};

#[path = "detect_common/series.rs"]
mod series;
use series::{SERIES, STEP_MICROS, WINDOW, f32_at};

static ROBUST_Z: &[u8] = include_bytes!("../../fixtures/detect/scores-robust-z.f32");
static CONTEXTUAL: &[u8] = include_bytes!("../../fixtures/detect/scores-contextual.f32");
static MODEL: &[u8] = include_bytes!("../../fixtures/detect/scores-model.f32");

fn samples() -> usize {
    assert!(SERIES.len() % 4 == 0 && SERIES.len() >= 4 * (WINDOW + 4));
    SERIES.len() / 4
}

/// Feeds the whole series to `d` and compares every score with `golden`, bit for bit.
fn check(name: &str, d: &mut dyn Detector, golden: &[u8]) {
    let n = samples();
    assert_eq!(golden.len(), SERIES.len(), "{}: golden length", name);
    for i in 0..n {
        let got = d.update(Instant(i as u64 * STEP_MICROS), f32_at(SERIES, i));
        let want = f32_at(golden, i);
        if got.to_bits() != want.to_bits() {
            panic!(
                "{}: score {} is {} ({:#010x}), the host's is {} ({:#010x})",
                name,
                i,
                got,
                got.to_bits(),
                want,
                want.to_bits()
            );
        }
    }
}

/// ad01 parsed, with an arena, as the model detector's model.
macro_rules! with_model_detector {
    (|$d:ident| $body:expr) => {{
        let model = Model::parse(ioto_board_qemu::golden_model!("ad01_int8")).expect("ad01 parses");
        let mut arena = vec![0u8; model.arena_size()];
        let auto = Autoencoder::new(&model, &mut arena).expect("autoencoder");
        assert_eq!(auto.window(), WINDOW);
        let mut $d = ModelDetector::<_, WINDOW>::new(auto);
        $body
    }};
}

fn robust_z_matches_host() {
    check("robust-z", &mut RobustZ::new(), ROBUST_Z);
}

fn contextual_matches_host() {
    check("contextual", &mut Contextual::new(), CONTEXTUAL);
}

fn model_matches_host() {
    with_model_detector!(|d| {
        check("model", &mut d, MODEL);
        assert_eq!(d.failed_inferences(), 0);
    });
}

/// NaN and infinities, before any sample and between samples, never panic and always
/// score in [0, 1] (the previous score, as documented).
fn non_finite_input_is_ignored() {
    fn feed(name: &str, d: &mut dyn Detector, n: usize) {
        let first = d.update(Instant(0), f32::NAN);
        assert!(first.to_bits() == 0, "{}: NaN first scores {}", name, first);
        let mut last = 0.0f32;
        for i in 0..n {
            let at = Instant(i as u64 * STEP_MICROS);
            let v = match i % 7 {
                3 => f32::NAN,
                5 if i % 2 == 0 => f32::INFINITY,
                5 => f32::NEG_INFINITY,
                _ => f32_at(SERIES, i),
            };
            let s = d.update(at, v);
            assert!(
                (0.0..=1.0).contains(&s),
                "{}: score {} at {} for {}",
                name,
                s,
                i,
                v
            );
            if !v.is_finite() {
                assert!(
                    s.to_bits() == last.to_bits(),
                    "{}: {} at {} changed the score",
                    name,
                    v,
                    i
                );
            }
            last = s;
        }
        let s = d.update(Instant(n as u64 * STEP_MICROS), f32::NAN);
        assert!((0.0..=1.0).contains(&s), "{}: {}", name, s);
    }
    feed("robust-z", &mut RobustZ::new(), samples());
    feed("contextual", &mut Contextual::new(), samples());
    // 5 of 7 samples are finite: enough for the window to fill and a few inferences
    // to run.
    with_model_detector!(|d| {
        feed("model", &mut d, WINDOW * 7 / 5 + 32);
        assert_eq!(d.failed_inferences(), 0);
    });
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(16 * 1024);
    let suite = tests![
        robust_z_matches_host,
        contextual_matches_host,
        model_matches_host,
        non_finite_input_is_ignored,
    ];
    harness::run("detect", suite)
}
