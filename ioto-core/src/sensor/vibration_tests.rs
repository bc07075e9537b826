//! The simulated machine: determinism, and each fault moving the statistic it should.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::sensor::fault::Fault;
use crate::sensor::test_stats::{amplitude_at, central_moment, high_band_power, kurtosis, mean};

const RATE: f32 = 400.0;
/// 10 s at 400 Hz: a whole number of shaft (296) and half-shaft (148) cycles.
const N: usize = 4_000;

fn machine(plan: FaultPlan, seed: u64) -> MachineVibration {
    MachineVibration::new(MachineProfile::default(), plan, seed)
        .unwrap()
        .with_sample_rate_hz(RATE)
        .unwrap()
}

fn plan(kind: FaultKind, start: u64, ramp: u64) -> FaultPlan {
    FaultPlan::healthy()
        .with(Fault::new(kind, start, ramp, 1.0))
        .unwrap()
}

/// `N` samples of each axis.
fn axes(m: &mut MachineVibration) -> [[f32; N]; 3] {
    let samples: [[f32; 3]; N] = core::array::from_fn(|_| m.next_g());
    core::array::from_fn(|a| samples.map(|v| v[a]))
}

/// `N` samples of one axis.
fn axis(m: &mut MachineVibration, a: usize) -> [f32; N] {
    core::array::from_fn(|_| m.next_g()[a])
}

#[test]
fn same_seed_same_signal_other_seed_other_noise() {
    let mut a = machine(FaultPlan::random(5, 10_000), 5);
    let mut b = machine(FaultPlan::random(5, 10_000), 5);
    let mut c = machine(FaultPlan::random(5, 10_000), 6);
    let mut differs = false;
    for _ in 0..10_000 {
        let (va, vb, vc) = (a.next_g(), b.next_g(), c.next_g());
        assert_eq!(va.map(f32::to_bits), vb.map(f32::to_bits));
        differs |= va != vc;
    }
    assert!(differs);
    assert_eq!(a.sample_index(), 10_000);
}

#[test]
fn a_healthy_machine_shows_its_profile() {
    let mut m = machine(FaultPlan::healthy(), 1);
    let x = axis(&mut m, 0);
    let z = axis(&mut m, 2);
    assert!((amplitude_at(&x, RATE, 29.6) - 0.05).abs() < 0.005);
    assert!((amplitude_at(&x, RATE, 59.2) - 0.02).abs() < 0.005);
    assert!((mean(&z) - 1.0).abs() < 0.002, "gravity on z");
    assert!((2.0..3.5).contains(&kurtosis(&z)), "{}", kurtosis(&z));
}

#[test]
fn imbalance_raises_the_one_times_shaft_amplitude() {
    let mut m = machine(plan(FaultKind::Imbalance, N as u64, 0), 3);
    let before = amplitude_at(&axis(&mut m, 0), RATE, 29.6);
    let after = amplitude_at(&axis(&mut m, 0), RATE, 29.6);
    assert!(before < 0.06 && after > 0.5, "{before} -> {after}");
    // Axial y is untouched, noise included: bit-identical to the healthy run.
    let mut faulty = machine(plan(FaultKind::Imbalance, 0, 0), 3);
    let mut healthy = machine(FaultPlan::healthy(), 3);
    for _ in 0..1_000 {
        assert_eq!(faulty.next_g()[1], healthy.next_g()[1]);
    }
}

#[test]
fn a_ramp_grows_the_fault_gradually() {
    let mut m = machine(plan(FaultKind::Imbalance, 0, 4 * N as u64), 4);
    let amps: [f64; 4] = core::array::from_fn(|_| amplitude_at(&axis(&mut m, 2), RATE, 29.6));
    assert!(amps.windows(2).all(|w| w[1] > w[0] + 0.08), "{amps:?}");
}

#[test]
fn bearing_wear_adds_high_frequency_impulses() {
    let mut m = machine(plan(FaultKind::BearingWear, N as u64, 0), 7);
    let before = axis(&mut m, 2);
    let after = axis(&mut m, 2);
    let (k0, k1) = (kurtosis(&before), kurtosis(&after));
    assert!(k1 > 2.0 * k0 && k1 > 8.0, "kurtosis {k0} -> {k1}");
    let (h0, h1) = (high_band_power(&before), high_band_power(&after));
    assert!(h1 > 10.0 * h0, "high band {h0} -> {h1}");
    // The shaft line barely moves.
    let (a0, a1) = (
        amplitude_at(&before, RATE, 29.6),
        amplitude_at(&after, RATE, 29.6),
    );
    assert!((a1 - a0).abs() < 0.03, "{a0} {a1}");
}

#[test]
fn a_loose_mount_adds_sub_harmonics_and_rattle() {
    let mut m = machine(plan(FaultKind::LooseMount, N as u64, 0), 9);
    let [bx, _, bz] = axes(&mut m);
    let [ax, _, az] = axes(&mut m);
    let (h0, h1) = (amplitude_at(&bx, RATE, 14.8), amplitude_at(&ax, RATE, 14.8));
    assert!(h0 < 0.01 && h1 > 0.2, "0.5x {h0} -> {h1}");
    assert!(amplitude_at(&ax, RATE, 44.4) > 0.1, "1.5x");
    // Downward thumps once a revolution pull the vertical mean down and skew it.
    assert!(mean(&az) < mean(&bz) - 0.02, "{} {}", mean(&bz), mean(&az));
    assert!(central_moment(&az, 3) < 0.0);
}

#[test]
fn a_stuck_sensor_has_zero_variance() {
    let mut m = machine(plan(FaultKind::StuckSensor, 1_000, 50), 11);
    let before = axis(&mut m, 0);
    assert!(central_moment(&before[..1_000], 2) > 1e-4);
    assert!(before[1_000..].windows(2).all(|w| w[0] == w[1]));
    let mut frozen = [[0.0; 3]; 100];
    for v in &mut frozen {
        *v = m.next_g();
    }
    assert!(frozen.iter().all(|v| *v == frozen[0]));
}

#[test]
fn other_rates_put_the_shaft_line_in_the_same_place() {
    for rate in [100.0, 1344.0] {
        let mut m = MachineVibration::new(MachineProfile::default(), FaultPlan::healthy(), 2)
            .unwrap()
            .with_sample_rate_hz(rate)
            .unwrap();
        let x = axis(&mut m, 0);
        let n = (rate * 10.0) as usize;
        assert!((amplitude_at(&x[..n.min(N)], rate, 29.6) - 0.05).abs() < 0.01);
        assert_eq!(m.sample_rate_hz(), rate);
    }
}

#[test]
fn bad_profiles_and_rates_are_typed_errors() {
    let bad = [
        MachineProfile {
            shaft_hz: 0.0,
            ..MachineProfile::default()
        },
        MachineProfile {
            noise_g: -0.1,
            ..MachineProfile::default()
        },
        MachineProfile {
            gravity_g: [0.0, f32::NAN, 1.0],
            ..MachineProfile::default()
        },
    ];
    for profile in bad {
        let err = MachineVibration::new(profile, FaultPlan::healthy(), 0).unwrap_err();
        assert_eq!(err, SignalError::BadProfile);
    }
    let mut m = machine(FaultPlan::healthy(), 0);
    for rate in [0.0, -5.0, f32::INFINITY, f32::NAN] {
        assert_eq!(m.set_sample_rate_hz(rate), Err(SignalError::BadSampleRate));
    }
    assert_eq!(m.sample_rate_hz(), RATE);
    assert_eq!(m.plan(), &FaultPlan::healthy());
    assert_eq!(m.profile().shaft_hz, 29.6);
}
