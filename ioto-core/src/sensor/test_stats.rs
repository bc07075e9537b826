//! Signal statistics for the simulation tests (test builds only).

/// Amplitude of the `hz` component (single-bin DFT).
pub(crate) fn amplitude_at(x: &[f32], rate: f32, hz: f32) -> f64 {
    let w = core::f64::consts::TAU * f64::from(hz) / f64::from(rate);
    let (mut re, mut im) = (0.0, 0.0);
    for (k, &v) in x.iter().enumerate() {
        re += f64::from(v) * libm::cos(w * k as f64);
        im -= f64::from(v) * libm::sin(w * k as f64);
    }
    2.0 * libm::sqrt(re * re + im * im) / x.len() as f64
}

/// Arithmetic mean.
pub(crate) fn mean(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64
}

/// The `k`-th central moment.
pub(crate) fn central_moment(x: &[f32], k: i32) -> f64 {
    let m = mean(x);
    x.iter()
        .map(|&v| libm::pow(f64::from(v) - m, f64::from(k)))
        .sum::<f64>()
        / x.len() as f64
}

/// Kurtosis (3 for Gaussian noise, 1.5 for a sine, large for impulses).
pub(crate) fn kurtosis(x: &[f32]) -> f64 {
    central_moment(x, 4) / libm::pow(central_moment(x, 2), 2.0)
}

/// Mean power after a second-difference filter, a high-pass whose gain rises as
/// sin⁴ towards the top of the band: a crude measure of high-frequency energy.
pub(crate) fn high_band_power(x: &[f32]) -> f64 {
    let d: f64 = x
        .windows(3)
        .map(|w| f64::from(w[0] - 2.0 * w[1] + w[2]))
        .map(|v| v * v)
        .sum();
    d / x.len() as f64
}
