//! Time-domain features against closed forms and an independent `f64` two-pass
//! reference (written here, sharing no code with `ioto_core::features`).
#![allow(clippy::unwrap_used)]

use core::f64::consts::PI;

use ioto_core::features::{
    BlockedMoments, FeatureError, Moments, WindowStats, crest_factor, levels, levels_i16, peak,
    peak_to_peak, rms,
};

mod common;
use common::Lcg;

/// `f64` two-pass reference: (mean, population variance, skewness, excess kurtosis, rms).
fn reference(x: &[f32]) -> (f64, f64, f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let m = |k: i32| {
        x.iter()
            .map(|&v| (f64::from(v) - mean).powi(k))
            .sum::<f64>()
            / n
    };
    let (m2, m3, m4) = (m(2), m(3), m(4));
    let rms = (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n).sqrt();
    (mean, m2, m3 / m2.powf(1.5), m4 / (m2 * m2) - 3.0, rms)
}

fn close(got: f32, want: f64, tol: f64, what: &str) {
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= tol,
        "{what}: got {got}, want {want}, |err| {err:e} > {tol:e}"
    );
}

/// `A·cos(2π·k·n/N)` over whole periods, sampled in f64 then rounded to f32.
fn cosine(a: f64, k: f64, len: usize) -> Vec<f32> {
    (0..len)
        .map(|n| (a * (2.0 * PI * k * n as f64 / len as f64).cos()) as f32)
        .collect()
}

#[test]
fn sine_closed_forms() {
    // Whole periods: mean 0, m2 = A²/2, m4 = 3A⁴/8 → RMS A/√2, crest √2 (n = 0 hits the
    // peak), skewness 0, excess kurtosis 3/2 − 3 = −1.5.
    for (a, k, len) in [
        (1.0, 5.0, 256),
        (3.5, 17.0, 1000),
        (1e-3, 3.0, 64),
        (250.0, 40.0, 4096),
    ] {
        let x = cosine(a, k, len);
        let s = WindowStats::from_slice(&x).unwrap();
        let tol = 2e-6 * a;
        close(s.mean, 0.0, tol, "mean");
        close(s.std, a / 2f64.sqrt(), tol, "std");
        close(s.rms, a / 2f64.sqrt(), tol, "rms");
        close(s.peak, a, tol, "peak");
        close(s.peak_to_peak, 2.0 * a, 4.0 * tol, "p2p");
        close(s.crest, 2f64.sqrt(), 1e-5, "crest");
        close(s.skewness, 0.0, 1e-5, "skewness");
        close(s.kurtosis, -1.5, 1e-5, "kurtosis");

        let m = Moments::from_slice(&x).unwrap();
        close(m.rms(), a / 2f64.sqrt(), 5e-6 * a, "Moments rms");
        close(m.crest_factor(), 2f64.sqrt(), 5e-5, "Moments crest");
        close(m.kurtosis(), -1.5, 1e-4, "Moments kurtosis");
        close(m.skewness(), 0.0, 1e-4, "Moments skewness");
        close(m.variance(), a * a / 2.0, 5e-6 * a * a, "Moments variance");

        let l = levels(&x).unwrap();
        close(l.rms, a / 2f64.sqrt(), tol, "levels rms");
        close(l.crest, 2f64.sqrt(), 1e-5, "levels crest");
        assert_eq!(rms(&x).unwrap(), l.rms);
        assert_eq!(crest_factor(&x).unwrap(), l.crest);
        assert_eq!(peak(&x).unwrap(), l.peak);
        assert_eq!(peak_to_peak(&x).unwrap(), l.peak_to_peak);
    }
}

#[test]
fn discrete_uniform_closed_form() {
    // 0, 1, …, n−1 (any order): variance (n²−1)/12, skewness 0, excess kurtosis
    // −6(n²+1) / (5(n²−1)) → −1.2 as n grows.
    for n in [10usize, 101, 1000, 10_000] {
        let nf = n as f64;
        // A stride coprime with n visits every value once, out of order.
        let stride = (1..n)
            .rev()
            .find(|s| gcd(*s, n) == 1 && *s > n / 3)
            .unwrap_or(1);
        let x: Vec<f32> = (0..n).map(|i| ((i * stride) % n) as f32).collect();
        let want_var = (nf * nf - 1.0) / 12.0;
        let want_kurt = -6.0 * (nf * nf + 1.0) / (5.0 * (nf * nf - 1.0));
        let s = WindowStats::from_slice(&x).unwrap();
        close(s.mean, (nf - 1.0) / 2.0, 1e-6 * nf, "mean");
        close(s.std, want_var.sqrt(), 5e-6 * want_var.sqrt(), "std");
        close(s.skewness, 0.0, 1e-5, "skewness");
        close(s.kurtosis, want_kurt, 1e-5, "kurtosis");
        // Plain f32 Welford: worst-case error ~n·ε (documented); the blocked variant ~1e-6.
        let m = Moments::from_slice(&x).unwrap();
        let want_svar = want_var * nf / (nf - 1.0);
        close(
            m.sample_variance(),
            want_svar,
            nf * f64::from(f32::EPSILON) * want_var,
            "sample variance",
        );
        close(m.kurtosis(), want_kurt, nf * 2e-7, "Moments kurtosis");
        let mut b = BlockedMoments::<1024>::new();
        b.extend(&x).unwrap();
        let b = b.snapshot().unwrap();
        close(
            b.sample_variance(),
            want_svar,
            5e-6 * want_var,
            "blocked sample variance",
        );
        close(b.kurtosis(), want_kurt, 1e-5, "blocked kurtosis");
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[test]
fn uniform_noise_kurtosis_is_minus_1_2() {
    let mut r = Lcg(7);
    let x: Vec<f32> = (0..100_000)
        .map(|_| (2.0 * r.next() - 1.0) as f32)
        .collect();
    let (mean, var, skew, kurt, rms) = reference(&x);
    // Population values of U(−1, 1): variance 1/3, excess kurtosis −6/5. The sampling
    // error of the kurtosis at n = 1e5 is ~0.003, so 0.02 is loose but meaningful.
    assert!((kurt + 1.2).abs() < 0.02 && (var - 1.0 / 3.0).abs() < 0.01);
    let s = WindowStats::from_slice(&x).unwrap();
    close(s.kurtosis, -1.2, 0.02, "kurtosis vs −1.2");
    close(s.kurtosis, kurt, 1e-5, "kurtosis vs reference");
    close(s.skewness, skew, 1e-5, "skewness vs reference");
    close(s.mean, mean, 1e-6, "mean vs reference");
    close(s.std, var.sqrt(), 1e-6, "std vs reference");
    close(s.rms, rms, 1e-6, "rms vs reference");
    let m = Moments::from_slice(&x).unwrap();
    close(m.kurtosis(), kurt, 2e-4, "Moments kurtosis vs reference");
    close(
        m.variance(),
        var,
        1e-4 * var,
        "Moments variance vs reference",
    );
}

#[test]
fn constant_signal_is_defined() {
    for c in [0.0f32, 1.0, -42.5, 1e6, 3e-20] {
        let x = [c; 100];
        let s = WindowStats::from_slice(&x).unwrap();
        assert_eq!(
            (s.std, s.skewness, s.kurtosis, s.peak_to_peak),
            (0.0, 0.0, 0.0, 0.0),
            "{c}"
        );
        assert_eq!(
            (s.mean, s.rms, s.peak, s.crest),
            (c, c.abs(), c.abs(), 1.0),
            "{c}"
        );
        let m = Moments::from_slice(&x).unwrap();
        assert_eq!(
            (m.variance(), m.sample_variance(), m.std()),
            (0.0, 0.0, 0.0),
            "{c}"
        );
        assert_eq!(
            (m.skewness(), m.kurtosis(), m.crest_factor(), m.mean()),
            (0.0, 0.0, 1.0, c)
        );
        let l = levels(&x).unwrap();
        assert_eq!((l.crest, l.peak_to_peak), (1.0, 0.0));
        close(
            l.rms,
            f64::from(c.abs()),
            1e-6 * f64::from(c.abs()),
            "levels rms",
        );
    }
}

#[test]
fn merge_equals_sequential() {
    let mut r = Lcg(99);
    let x: Vec<f32> = (0..5000)
        .map(|_| (3.0 * r.next() * r.next() - 0.5) as f32)
        .collect();
    let all = Moments::from_slice(&x).unwrap();
    for chunk in [1usize, 7, 100, 999, 2500, 4999] {
        let mut merged = Moments::new();
        for c in x.chunks(chunk) {
            merged.merge(&Moments::from_slice(c).unwrap()).unwrap();
        }
        assert_eq!(merged.count(), all.count());
        assert_eq!((merged.min(), merged.max()), (all.min(), all.max()));
        let rel = |a: f32, b: f32| f64::from((a - b).abs() / b.abs().max(1e-3));
        assert!(rel(merged.mean(), all.mean()) < 1e-5, "mean, chunk {chunk}");
        assert!(
            rel(merged.variance(), all.variance()) < 1e-5,
            "variance, chunk {chunk}"
        );
        close(
            merged.skewness(),
            f64::from(all.skewness()),
            1e-4,
            "skewness",
        );
        close(
            merged.kurtosis(),
            f64::from(all.kurtosis()),
            1e-4,
            "kurtosis",
        );
    }
    // Merging is order-independent up to rounding (b ⊕ a vs a ⊕ b).
    let (a, b) = x.split_at(1234);
    let (ma, mb) = (
        Moments::from_slice(a).unwrap(),
        Moments::from_slice(b).unwrap(),
    );
    let (mut ab, mut ba) = (ma, mb);
    ab.merge(&mb).unwrap();
    ba.merge(&ma).unwrap();
    assert!((ab.variance() - ba.variance()).abs() < 1e-5 * all.variance());
    assert!((ab.kurtosis() - ba.kurtosis()).abs() < 1e-4);
}

#[test]
fn large_offset_keeps_f32_precision() {
    // 1e6 + U(−1, 1) in f32 (quantized to 1/16): the noise statistics must survive.
    for (offset, amp, n) in [
        (1e6, 1.0, 10_000),
        (1e4, 0.01, 100_000),
        (101_325.0, 0.5, 256),
    ] {
        let mut r = Lcg(3);
        let x: Vec<f32> = (0..n)
            .map(|_| (offset + amp * (2.0 * r.next() - 1.0)) as f32)
            .collect();
        let (mean, var, skew, kurt, rms) = reference(&x);
        let m = Moments::from_slice(&x).unwrap();
        close(m.variance(), var, 2e-5 * var, "Moments variance");
        close(m.std(), var.sqrt(), 1e-5 * var.sqrt(), "Moments std");
        close(m.kurtosis(), kurt, 1e-3, "Moments kurtosis");
        close(m.skewness(), skew, 1e-4, "Moments skewness");
        // The mean itself is an f32 near `offset`: within one ulp of it.
        close(
            m.mean(),
            mean,
            f64::from(f32::EPSILON) * offset,
            "Moments mean",
        );
        let s = WindowStats::from_slice(&x).unwrap();
        close(s.std, var.sqrt(), 1e-6 * var.sqrt(), "WindowStats std");
        close(s.kurtosis, kurt, 1e-4, "WindowStats kurtosis");
        close(s.skewness, skew, 1e-5, "WindowStats skewness");
        close(
            s.mean,
            mean,
            f64::from(f32::EPSILON) * offset,
            "WindowStats mean",
        );
        close(
            s.rms,
            rms,
            f64::from(f32::EPSILON) * offset,
            "WindowStats rms",
        );
    }
}

#[test]
fn long_streams_stay_accurate_in_blocks() {
    let mut r = Lcg(11);
    let x: Vec<f32> = (0..1_000_000)
        .map(|_| (1e6 + 2.0 * r.next() - 1.0) as f32)
        .collect();
    let (_, var, skew, kurt, _) = reference(&x);
    let mut b = BlockedMoments::<1024>::new();
    b.extend(&x).unwrap();
    let s = b.snapshot().unwrap();
    assert_eq!((b.count(), s.count()), (1_000_000, 1_000_000));
    close(s.variance(), var, 1e-5 * var, "blocked variance");
    close(s.kurtosis(), kurt, 1e-4, "blocked kurtosis");
    close(s.skewness(), skew, 1e-4, "blocked skewness");
    // The same pattern by hand with Moments::merge; other block sizes.
    let (mut total, mut block) = (Moments::new(), Moments::new());
    for &v in &x {
        block.push(v).unwrap();
        if block.count() == 500 {
            total.merge(&block).unwrap();
            block.reset();
        }
    }
    total.merge(&block).unwrap();
    close(total.variance(), var, 1e-5 * var, "hand-blocked variance");
    let mut tiny = BlockedMoments::<1>::new(); // a merge per sample: still correct
    tiny.extend(&x[..5000]).unwrap();
    let (_, var5, _, _, _) = reference(&x[..5000]);
    close(
        tiny.snapshot().unwrap().variance(),
        var5,
        1e-4 * var5,
        "BLOCK = 1",
    );
    let s = WindowStats::from_slice(&x).unwrap();
    close(
        s.std,
        var.sqrt(),
        1e-5 * var.sqrt(),
        "WindowStats std over 1e6 samples",
    );
}

#[test]
fn skewed_data_matches_reference() {
    // Exponential-like data (strong positive skew, heavy tail) in every API.
    let mut r = Lcg(5);
    let x: Vec<f32> = (0..4096)
        .map(|_| (-(1.0 - r.next()).ln() * 2.0 + 10.0) as f32)
        .collect();
    let (mean, var, skew, kurt, rms) = reference(&x);
    assert!(
        skew > 1.5 && kurt > 4.0,
        "the data is skewed: {skew} {kurt}"
    );
    let s = WindowStats::from_slice(&x).unwrap();
    close(s.mean, mean, 1e-5, "mean");
    close(s.std, var.sqrt(), 1e-5, "std");
    close(s.skewness, skew, 1e-4, "skewness");
    close(s.kurtosis, kurt, 1e-3, "kurtosis");
    close(s.rms, rms, 1e-5, "rms");
    let m = Moments::from_slice(&x).unwrap();
    close(m.skewness(), skew, 1e-4, "Moments skewness");
    close(m.kurtosis(), kurt, 1e-3, "Moments kurtosis");
    let max = x.iter().fold(f32::MIN, |a, &b| a.max(b));
    let min = x.iter().fold(f32::MAX, |a, &b| a.min(b));
    assert_eq!((s.peak, s.peak_to_peak), (max, max - min));
    close(s.crest, f64::from(max) / rms, 1e-5, "crest");
}

#[test]
fn bad_input_is_a_typed_error() {
    assert_eq!(WindowStats::from_slice(&[]), Err(FeatureError::Empty));
    assert_eq!(
        levels(&[1.0, 2.0, f32::NAN]),
        Err(FeatureError::NonFinite { index: 2 })
    );
    assert_eq!(
        Moments::from_slice(&[0.0, f32::INFINITY]),
        Err(FeatureError::NonFinite { index: 1 })
    );
    assert_eq!(levels_i16(&[]), Err(FeatureError::Empty));
}

#[test]
fn fixed_point_matches_f64_reference() {
    let mut r = Lcg(21);
    for (len, amp, offset) in [
        (256usize, 32_767.0, 0.0),
        (1000, 300.0, 2000.0),
        (64, 5.0, -3.0),
    ] {
        let x: Vec<i16> = (0..len)
            .map(|_| {
                (offset + amp * (2.0 * r.next() - 1.0))
                    .round()
                    .clamp(-32_768.0, 32_767.0) as i16
            })
            .collect();
        let l = levels_i16(&x).unwrap();
        let n = len as f64;
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let ms = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n;
        let var = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        let peak = x.iter().map(|&v| i32::from(v).abs()).max().unwrap();
        let p2p = i32::from(*x.iter().max().unwrap()) - i32::from(*x.iter().min().unwrap());
        // Q8 floor values: within 1 unit of 256·exact (f64 rounding may straddle a step).
        let q8 = |v: f64, got: f64, what: &str| {
            assert!(
                (256.0 * v - got).abs() <= 1.0,
                "{what}: got {got}, want ~{}",
                256.0 * v
            );
        };
        q8(mean, f64::from(l.mean_q8), "mean");
        q8(ms.sqrt(), f64::from(l.rms_q8), "rms");
        q8(var.sqrt(), f64::from(l.std_q8), "std");
        q8(f64::from(peak) / ms.sqrt(), f64::from(l.crest_q8), "crest");
        assert_eq!((i32::from(l.peak), i32::from(l.peak_to_peak)), (peak, p2p));
    }
}
