//! FFT band energies against closed forms and time-domain Parseval sums computed here
//! in `f64` (with an explicit time-domain Hann window, independent of the library's
//! frequency-domain one).
#![allow(clippy::unwrap_used)]

use core::f64::consts::PI;

use ioto_core::features::{
    BandPlan, FeatureError, FftBuffer, WindowFeatures, WindowFunction, WindowStats,
};

const FS: f32 = 1000.0;

mod common;
use common::Lcg;

/// Sum of `A·cos(2π·k·n/N + φ)` tones (k in bins, may be fractional), rounded to f32.
fn tones<const N: usize>(parts: &[(f64, f64, f64)]) -> [f32; N] {
    core::array::from_fn(|n| {
        parts
            .iter()
            .map(|&(a, k, ph)| a * (2.0 * PI * k * n as f64 / N as f64 + ph).cos())
            .sum::<f64>() as f32
    })
}

fn energies<const N: usize>(plan: &BandPlan<'_>, x: &[f32; N]) -> (Vec<f32>, f32)
where
    [f32; N]: FftBuffer,
{
    let mut scratch = [0.0f32; N];
    let mut out = vec![0.0f32; plan.bands()];
    let total = plan.band_energies(x, &mut scratch, &mut out).unwrap();
    (out, total)
}

fn hann(n: usize, len: usize) -> f64 {
    0.5 - 0.5 * (2.0 * PI * n as f64 / len as f64).cos()
}

/// Time-domain Parseval: Σ(w·x)² / Σw².
fn weighted_mean_square(x: &[f32], window: WindowFunction) -> f64 {
    let w = |n| match window {
        WindowFunction::Rectangular => 1.0,
        WindowFunction::Hann => hann(n, x.len()),
    };
    let num: f64 = x
        .iter()
        .enumerate()
        .map(|(n, &v)| (w(n) * f64::from(v)).powi(2))
        .sum();
    let den: f64 = (0..x.len()).map(|n| w(n) * w(n)).sum();
    num / den
}

fn assert_close(got: f32, want: f64, rel: f64, what: &str) {
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= rel * want.abs().max(1e-30),
        "{what}: got {got}, want {want}, err {err:e}"
    );
}

fn tone_at_bin_centre<const N: usize>()
where
    [f32; N]: FftBuffer,
{
    // 125 Hz is bin N/8 at fs = 1 kHz; it must land in the band 125 ± 1.5 bins with
    // energy A²/2 with either window (Hann spreads it over bins k−1..k+1).
    let bin = FS / N as f32;
    let edges = [0.0, 125.0 - 1.5 * bin, 125.0 + 1.5 * bin, 500.0];
    let a = 2.0;
    let x = tones::<N>(&[(a, N as f64 / 8.0, 0.3)]);
    for window in [WindowFunction::Rectangular, WindowFunction::Hann] {
        let plan = BandPlan::new(FS, &edges).unwrap().with_window(window);
        let (e, total) = energies(&plan, &x);
        assert_close(e[1], a * a / 2.0, 1e-5, "tone band");
        assert!(
            e[0] < 1e-9 && e[2] < 1e-9,
            "N={N} {window:?}: leakage {e:?}"
        );
        assert_close(
            total,
            weighted_mean_square(&x, window),
            1e-5,
            "Parseval total",
        );
    }
}

#[test]
fn tone_at_bin_centre_all_sizes() {
    tone_at_bin_centre::<16>();
    tone_at_bin_centre::<32>();
    tone_at_bin_centre::<64>();
    tone_at_bin_centre::<128>();
    tone_at_bin_centre::<256>();
    tone_at_bin_centre::<512>();
}

#[test]
fn two_tones_into_two_bands() {
    // Bins 16 (62.5 Hz, A = 1) and 80 (312.5 Hz, A = 0.25) of a 256-point window.
    let x = tones::<256>(&[(1.0, 16.0, 0.0), (0.25, 80.0, 1.0)]);
    let edges = [0.0, 20.0, 100.0, 250.0, 400.0, 500.0];
    for window in [WindowFunction::Rectangular, WindowFunction::Hann] {
        let plan = BandPlan::new(FS, &edges).unwrap().with_window(window);
        let (e, total) = energies(&plan, &x);
        assert_close(e[1], 0.5, 1e-5, "62.5 Hz band");
        assert_close(e[3], 0.25 * 0.25 / 2.0, 1e-5, "312.5 Hz band");
        for b in [0, 2, 4] {
            assert!(e[b] < 1e-9, "{window:?} band {b}: {}", e[b]);
        }
        // Bands cover 0..=fs/2: they add up to the whole spectrum (Parseval).
        assert_close(e.iter().sum(), f64::from(total), 1e-6, "sum of bands");
        assert_close(total, 0.5 + 0.03125, 1e-5, "total");
    }
}

#[test]
fn parseval_on_noise() {
    let mut r = Lcg(17);
    let x: [f32; 512] = core::array::from_fn(|_| (3.0 * r.next() - 1.0) as f32);
    let edges = [0.0, 10.0, 63.0, 125.0, 250.0, 500.0];
    for window in [WindowFunction::Rectangular, WindowFunction::Hann] {
        let plan = BandPlan::new(FS, &edges).unwrap().with_window(window);
        let (e, total) = energies(&plan, &x);
        let want = weighted_mean_square(&x, window);
        assert_close(total, want, 1e-5, "total");
        assert_close(e.iter().sum(), want, 1e-5, "bands");
    }
    // Rectangular: the total is exactly the mean square of x; with the mean removed,
    // the population variance.
    let plan = BandPlan::new(FS, &edges)
        .unwrap()
        .with_window(WindowFunction::Rectangular);
    let (_, ms) = energies(&plan, &x);
    let (_, var) = energies(&plan.with_mean_removed(true), &x);
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    assert_close(
        ms,
        x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n,
        1e-5,
        "ms",
    );
    assert_close(
        var,
        x.iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n,
        1e-5,
        "var",
    );
}

#[test]
fn dc_and_nyquist_bins() {
    let edges = [0.0, 1.0, 400.0, 500.0];
    let c = -1.5f32;
    let dc = [c; 64];
    let nyquist: [f32; 64] = core::array::from_fn(|n| if n % 2 == 0 { 0.75 } else { -0.75 });
    for window in [WindowFunction::Rectangular, WindowFunction::Hann] {
        let plan = BandPlan::new(FS, &edges).unwrap().with_window(window);
        // DC: all its energy c² in the band containing 0 Hz (Hann's leak into bin 1 at
        // 15.6 Hz goes to the middle band: check the sum instead).
        let (e, total) = energies(&plan, &dc);
        assert_close(total, f64::from(c * c), 1e-6, "DC total");
        assert_close(e.iter().sum(), f64::from(c * c), 1e-6, "DC bands");
        if window == WindowFunction::Rectangular {
            assert_close(e[0], f64::from(c * c), 1e-6, "DC band");
        }
        let (e, total) = energies(&plan.with_mean_removed(true), &dc);
        assert_eq!((e.as_slice(), total), ([0.0; 3].as_slice(), 0.0));
        // Nyquist (packed into bin 0's imaginary part by microfft): energy 0.75², in
        // the closed last band [400, 500].
        let (e, total) = energies(&plan, &nyquist);
        assert_close(total, 0.5625, 1e-6, "Nyquist total");
        assert_close(e[2], 0.5625, 1e-6, "Nyquist band");
        assert!(e[0] == 0.0 && e[1] < 1e-9, "{e:?}");
        // A last edge below fs/2 leaves the Nyquist bin out.
        let short = BandPlan::new(FS, &[0.0, 499.0])
            .unwrap()
            .with_window(window);
        let (e, total) = energies(&short, &nyquist);
        assert_close(total, 0.5625, 1e-6, "total");
        assert!(e[0] < 0.5625 * 0.5, "{window:?}: {e:?}");
    }
}

#[test]
fn mean_removal_equals_time_domain_subtraction() {
    let mut r = Lcg(23);
    let x: [f32; 128] =
        core::array::from_fn(|n| (9.81 + 0.3 * r.next() + (n as f64 * 0.7).sin()) as f32);
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / 128.0;
    let centred: [f32; 128] = core::array::from_fn(|n| (f64::from(x[n]) - mean) as f32);
    let edges = [0.0, 30.0, 100.0, 500.0];
    let plan = BandPlan::new(FS, &edges).unwrap();
    let (e1, t1) = energies(&plan.with_mean_removed(true), &x);
    let (e2, t2) = energies(&plan, &centred);
    assert_close(t1, f64::from(t2), 1e-4, "total");
    for (a, b) in e1.iter().zip(&e2) {
        assert!((a - b).abs() <= 1e-4 * t2, "{e1:?} vs {e2:?}");
    }
    // Without removal the 9.81 offset dominates the lowest band.
    let (e3, _) = energies(&plan, &x);
    assert!(e3[0] > 90.0 && e1[0] < 1.0, "{e3:?} {e1:?}");
}

#[test]
fn hann_contains_off_bin_leakage() {
    // A tone half-way between bins in the middle of a 25-bin-wide band: the rectangular
    // window leaks >1 % of the energy out of the band (sidelobes fall as 1/k²), Hann
    // (1/k⁶) keeps > 99.99 % in.
    let x = tones::<256>(&[(1.0, 38.5, 0.0)]); // 150.4 Hz, band [100, 200)
    let edges = [0.0, 100.0, 200.0, 500.0];
    let frac = |w| {
        let (e, total) = energies(&BandPlan::new(FS, &edges).unwrap().with_window(w), &x);
        e[1] / total
    };
    assert!(
        frac(WindowFunction::Hann) > 0.9999,
        "{}",
        frac(WindowFunction::Hann)
    );
    assert!(
        frac(WindowFunction::Rectangular) < 0.99,
        "{}",
        frac(WindowFunction::Rectangular)
    );
}

#[test]
fn extreme_amplitudes_scale_exactly() {
    let edges = [0.0, 100.0, 200.0, 500.0];
    let plan = BandPlan::new(FS, &edges).unwrap();
    for a in [1e-18, 1e-6, 1e6, 1e15] {
        let x = tones::<64>(&[(a, 8.0, 0.0)]);
        let (e, total) = energies(&plan, &x);
        assert_close(e[1], a * a / 2.0, 1e-5, "band");
        assert_close(total, a * a / 2.0, 1e-5, "total");
    }
    let x = tones::<64>(&[(1e20, 8.0, 0.0)]); // energy 5e39 > f32::MAX
    let mut s = [0.0f32; 64];
    assert_eq!(
        plan.band_energies(&x, &mut s, &mut [0.0; 3]),
        Err(FeatureError::Overflow)
    );
}

#[test]
fn bands_above_nyquist_and_below_first_edge_are_empty() {
    let x = tones::<128>(&[(1.0, 32.0, 0.0)]); // 250 Hz
    let plan = BandPlan::new(FS, &[300.0, 600.0, 2000.0])
        .unwrap()
        .with_window(WindowFunction::Rectangular);
    let (e, total) = energies(&plan, &x);
    assert!(e[0] < 1e-12 && e[1] == 0.0, "{e:?}");
    assert_close(total, 0.5, 1e-5, "total still counts every bin");
}

#[test]
fn window_features_combine_stats_and_bands() {
    let x = tones::<256>(&[(1.0, 16.0, 0.0), (0.5, 64.0, 0.2)]);
    let edges = [0.0, 100.0, 500.0];
    let plan = BandPlan::new(FS, &edges).unwrap();
    let mut scratch = [0.0f32; 256];
    let f = WindowFeatures::<2>::compute(&x, &mut scratch, &plan).unwrap();
    assert_eq!(f.stats, WindowStats::from_slice(&x).unwrap());
    let (e, _) = energies(&plan, &x);
    assert_eq!(f.bands.as_slice(), e.as_slice());
    assert_close(f.bands[0], 0.5, 1e-5, "62.5 Hz");
    assert_close(f.bands[1], 0.125, 1e-5, "250 Hz");
    // rms² = Σ tone energies (no DC).
    assert_close(f.stats.rms * f.stats.rms, 0.625, 1e-5, "rms²");
    let mut v = [0.0f32; WindowFeatures::<2>::LEN];
    f.write_to(&mut v).unwrap();
    assert_eq!(&v[..8], &f.stats.to_array());
    assert_eq!(&v[8..], &f.bands);
    // The plan must have B bands; the window must be N samples.
    let mismatch = WindowFeatures::<3>::compute(&x, &mut scratch, &plan);
    assert_eq!(
        mismatch,
        Err(FeatureError::LengthMismatch {
            expected: 2,
            got: 3
        })
    );
    let short = WindowFeatures::<2>::compute(&x[..200], &mut scratch, &plan);
    assert_eq!(
        short,
        Err(FeatureError::LengthMismatch {
            expected: 256,
            got: 200
        })
    );
}
