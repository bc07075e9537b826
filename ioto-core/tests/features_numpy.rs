//! `ioto_core::features` against a numpy oracle (`tests/python/features_oracle.py`):
//! float64 textbook formulas, an explicit time-domain Hann window and `numpy.fft.rfft`.
//!
//! Python comes from `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3` (created with
//! numpy by `cargo xtask doctor --install`). A missing interpreter or numpy fails the
//! test loudly; it is never skipped.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use ioto_core::features::{BandPlan, FftBuffer, WindowFunction, WindowStats};

mod common;
use common::Lcg;

struct Case {
    name: &'static str,
    fs: f32,
    window: WindowFunction,
    remove_mean: bool,
    edges: Vec<f32>,
    x: Vec<f32>,
}

fn python() -> PathBuf {
    let p = std::env::var_os("IOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python3"));
    assert!(
        p.exists(),
        "Python for the numpy oracle not found at {} (set IOTO_PYTHON or run \
         `cargo xtask doctor --install`, which creates <workspace>/.venv with numpy)",
        p.display()
    );
    p
}

/// Runs the oracle on every case; returns its numbers per case, in order.
fn oracle(cases: &[Case]) -> Vec<Vec<f64>> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/features_oracle.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for c in cases {
        let window = match c.window {
            WindowFunction::Hann => "hann",
            WindowFunction::Rectangular => "rect",
        };
        input += &format!(
            "{} {:?} {} {} {}",
            c.name,
            c.fs,
            window,
            u8::from(c.remove_mean),
            c.edges.len()
        );
        for e in &c.edges {
            input += &format!(" {e:?}");
        }
        input += &format!(" {}", c.x.len());
        for v in &c.x {
            input += &format!(" {v:?}"); // shortest round-trip repr of the f32
        }
        input.push('\n');
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "numpy oracle failed (is numpy installed in that Python?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .zip(cases)
        .map(|(line, c)| {
            let mut f = line.split_whitespace();
            assert_eq!(f.next(), Some(c.name));
            f.map(|v| v.parse().unwrap()).collect()
        })
        .collect();
    assert_eq!(rows.len(), cases.len(), "oracle output: {text}");
    rows
}

fn bands<const N: usize>(c: &Case) -> (Vec<f32>, f32)
where
    [f32; N]: FftBuffer,
{
    let plan = BandPlan::new(c.fs, &c.edges)
        .unwrap()
        .with_window(c.window)
        .with_mean_removed(c.remove_mean);
    let mut scratch = [0.0f32; N];
    let mut out = vec![0.0f32; plan.bands()];
    let total = plan.band_energies(&c.x, &mut scratch, &mut out).unwrap();
    (out, total)
}

fn cases() -> Vec<Case> {
    let mut r = Lcg(2024);
    let mut noise = |n: usize, offset: f64, amp: f64| -> Vec<f32> {
        (0..n)
            .map(|_| (offset + amp * (2.0 * r.next() - 1.0)) as f32)
            .collect()
    };
    let sine = |n: usize, fs: f64, parts: &[(f64, f64)]| -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                parts
                    .iter()
                    .map(|&(a, f)| a * (2.0 * std::f64::consts::PI * f * t).sin())
                    .sum::<f64>() as f32
            })
            .collect()
    };
    let mut impulses = noise(256, 0.0, 0.05);
    for i in (7..256).step_by(50) {
        impulses[i] += 3.0;
    }
    let tones = sine(512, 800.0, &[(1.0, 37.0), (0.3, 151.3), (0.05, 390.0)]);
    let mut offset_tone = sine(256, 1000.0, &[(0.5, 60.0)]);
    for (v, n) in offset_tone.iter_mut().zip(noise(256, 0.0, 0.1)) {
        *v = (f64::from(*v) + 1e6 + f64::from(n)) as f32;
    }
    let edges = |e: &[f32]| e.to_vec();
    let hann = WindowFunction::Hann;
    let rect = WindowFunction::Rectangular;
    vec![
        Case {
            name: "noise_hann",
            fs: 1000.0,
            window: hann,
            remove_mean: false,
            edges: edges(&[0.0, 50.0, 125.0, 250.0, 500.0]),
            x: noise(256, 0.3, 1.0),
        },
        Case {
            name: "noise_rect_centred",
            fs: 1000.0,
            window: rect,
            remove_mean: true,
            edges: edges(&[10.0, 100.0, 333.0]),
            x: noise(64, -2.0, 0.5),
        },
        Case {
            name: "impulses",
            fs: 2000.0,
            window: hann,
            remove_mean: true,
            edges: edges(&[0.0, 100.0, 400.0, 1000.0]),
            x: impulses,
        },
        Case {
            name: "tones_512",
            fs: 800.0,
            window: hann,
            remove_mean: false,
            edges: edges(&[0.0, 20.0, 60.0, 140.0, 200.0, 380.0, 400.0]),
            x: tones.clone(),
        },
        Case {
            name: "tones_512_rect",
            fs: 800.0,
            window: rect,
            remove_mean: false,
            edges: edges(&[0.0, 20.0, 60.0, 140.0, 200.0, 380.0, 400.0]),
            x: tones,
        },
        Case {
            name: "offset_1e6",
            fs: 1000.0,
            window: hann,
            remove_mean: true,
            edges: edges(&[0.0, 40.0, 80.0, 500.0]),
            x: offset_tone,
        },
    ]
}

fn check(what: &str, case: &str, got: f32, want: f64, tol: f64) {
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= tol,
        "{case} {what}: got {got}, numpy {want}, |err| {err:e} > {tol:e}"
    );
}

#[test]
fn window_features_match_numpy() {
    let cases = cases();
    let rows = oracle(&cases);
    for (c, row) in cases.iter().zip(&rows) {
        let n = c.name;
        let s = WindowStats::from_slice(&c.x).unwrap();
        let &[
            mean,
            std,
            rms,
            peak,
            p2p,
            crest,
            skew,
            kurt,
            total,
            ref bands_ref @ ..,
        ] = row.as_slice()
        else {
            panic!("{n}: short oracle row {row:?}");
        };
        let eps = f64::from(f32::EPSILON);
        check("mean", n, s.mean, mean, 4.0 * eps * (mean.abs() + std));
        check("std", n, s.std, std, 1e-5 * std);
        check("rms", n, s.rms, rms, 2.0 * eps * rms);
        check("peak", n, s.peak, peak, 0.0);
        check("peak_to_peak", n, s.peak_to_peak, p2p, eps * p2p);
        check("crest", n, s.crest, crest, 1e-5 * crest);
        check("skewness", n, s.skewness, skew, 1e-4 * (1.0 + skew.abs()));
        check("kurtosis", n, s.kurtosis, kurt, 1e-4 * (1.0 + kurt.abs()));

        let (got, got_total) = match c.x.len() {
            64 => bands::<64>(c),
            256 => bands::<256>(c),
            512 => bands::<512>(c),
            other => panic!("no FFT size {other} in this test"),
        };
        assert_eq!(got.len(), bands_ref.len(), "{n}");
        check("total", n, got_total, total, 2e-5 * total);
        for (b, (&g, &want)) in got.iter().zip(bands_ref).enumerate() {
            check(&format!("band {b}"), n, g, want, 2e-5 * total);
        }
    }
}

#[test]
fn oracle_self_check() {
    // The oracle itself on a closed form: a bin-centred tone of amplitude 2 has energy 2
    // (up to the f32 rounding of the samples).
    let x: Vec<f32> = (0..64)
        .map(|i| (2.0 * (2.0 * std::f64::consts::PI * 8.0 * i as f64 / 64.0).cos()) as f32)
        .collect();
    let c = Case {
        name: "closed_form",
        fs: 64.0,
        window: WindowFunction::Hann,
        remove_mean: false,
        edges: vec![0.0, 4.0, 12.0, 32.0],
        x,
    };
    let row = &oracle(std::slice::from_ref(&c))[0];
    assert!(
        (row[8] - 2.0).abs() < 1e-6 && (row[10] - 2.0).abs() < 1e-6,
        "{row:?}"
    );
    assert!(
        (row[7] + 1.5).abs() < 1e-6,
        "kurtosis of a sampled cosine: {}",
        row[7]
    );
}
