//! The device model against the real driver, and against raw register traffic.
#![allow(clippy::unwrap_used)]

use embassy_futures::block_on;

use super::*;
use crate::sensor::fault::Fault;
use crate::sensor::lis3dh::{Config, DataRate, FullScale, Lis3dh, Lis3dhError, Mode};
use crate::sensor::test_stats::{amplitude_at, central_moment, kurtosis};
use crate::sensor::vibration::MachineProfile;
use crate::sensor::{
    ErrorKind as SensorErrorKind, FaultKind, FaultPlan, Sensor, Window, fill_window_back_to_back,
};
use crate::time::{Clock, Instant};

const G: f32 = 9.806_65;

struct Zero;
impl Clock for Zero {
    fn now(&self) -> Instant {
        Instant(0)
    }
}

fn machine(plan: FaultPlan, seed: u64) -> MachineVibration {
    MachineVibration::new(MachineProfile::default(), plan, seed).unwrap()
}

fn accel(machine: MachineVibration, config: Config) -> Lis3dh<SimAccel, Zero> {
    let mut lis = Lis3dh::new(
        SimAccel::new(Address::Primary, machine),
        Zero,
        Address::Primary,
        config,
    );
    block_on(lis.init()).unwrap();
    lis
}

#[test]
fn the_real_driver_decodes_the_signal_within_one_quantisation_step() {
    let cases = [
        (DataRate::Hz400, FullScale::G2, Mode::HighResolution, 400.0),
        (DataRate::Hz1344, FullScale::G8, Mode::Normal, 1344.0),
        (
            DataRate::Hz5376LowPower,
            FullScale::G16,
            Mode::LowPower,
            5376.0,
        ),
    ];
    for (data_rate, full_scale, mode, rate) in cases {
        let config = Config {
            data_rate,
            full_scale,
            mode,
        };
        let m = machine(FaultPlan::random(21, 2_000), 21);
        let mut reference = m.clone().with_sample_rate_hz(rate).unwrap();
        let mut lis = accel(m, config);
        let step_g = config.sensitivity_mg() * 1e-3;
        // Faults may drive the signal past full scale, where the chip saturates.
        let top = (1 << (mode.bits() - 1)) as f32 * step_g;
        for _ in 0..2_000 {
            let got = block_on(lis.read()).unwrap().values;
            let want = reference.next_g().map(|w| w.clamp(-top, top - step_g));
            for (g, w) in got.iter().zip(want) {
                let error = (g / G - w).abs();
                assert!(
                    error <= 0.5 * step_g * 1.001,
                    "{config:?}: {got:?} vs {want:?}"
                );
            }
        }
        let (sim, _) = lis.release();
        assert_eq!(sim.samples_latched(), 2_000);
        assert_eq!(sim.machine().sample_rate_hz(), rate);
    }
}

#[test]
fn out_of_range_values_saturate_like_the_chip() {
    let profile = MachineProfile {
        gravity_g: [0.0, -5.0, 3.0],
        noise_g: 0.0,
        ..MachineProfile::default()
    };
    let m = MachineVibration::new(profile, FaultPlan::healthy(), 0).unwrap();
    let mut lis = accel(
        m,
        Config {
            full_scale: FullScale::G2,
            ..Config::default()
        },
    );
    assert_eq!(block_on(lis.read_raw()).unwrap()[1..], [-2048, 2047]);
}

#[test]
fn who_am_i_power_down_and_status() {
    let mut bus = SimAccel::new(Address::Secondary, machine(FaultPlan::healthy(), 0));
    block_on(async {
        let mut b = [0u8; 1];
        bus.write_read(0x19, &[0x0F], &mut b).await.unwrap();
        assert_eq!(b, [0x33]);
        // Power-on state: powered down, no data, outputs zero, nothing latched.
        bus.write_read(0x19, &[0x27], &mut b).await.unwrap();
        assert_eq!(b, [0x00]);
        let mut out = [0xAAu8; 6];
        bus.write_read(0x19, &[0xA8], &mut out).await.unwrap();
        assert_eq!((out, bus.samples_latched()), ([0; 6], 0));
        bus.write(0x19, &[0x20, 0x57]).await.unwrap();
        bus.write_read(0x19, &[0x27], &mut b).await.unwrap();
        assert_eq!(b, [0x0F]);
        // WHO_AM_I is read-only.
        bus.write(0x19, &[0x0F, 0x00]).await.unwrap();
        bus.write_read(0x19, &[0x0F], &mut b).await.unwrap();
        assert_eq!(b, [0x33]);
    });
    assert_eq!(bus.register(0x20), 0x57);
    assert_eq!(bus.register(0x7F), 0);
}

#[test]
fn another_address_is_not_acknowledged() {
    let sim = SimAccel::new(Address::Primary, machine(FaultPlan::healthy(), 0));
    let mut lis = Lis3dh::new(sim, Zero, Address::Secondary, Config::default());
    let err = block_on(lis.init()).unwrap_err();
    assert_eq!(
        err,
        Lis3dhError::Bus(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address))
    );
    assert_eq!(crate::sensor::Error::kind(&err), SensorErrorKind::Bus);
}

#[test]
fn the_auto_increment_bit_is_honoured() {
    let mut bus = SimAccel::new(Address::Primary, machine(FaultPlan::healthy(), 4));
    block_on(async {
        // Multi-byte write with auto-increment: CTRL_REG1 then CTRL_REG2.
        bus.write(0x18, &[0xA0, 0x77, 0x00]).await.unwrap();
        let mut out = [0u8; 6];
        bus.write_read(0x18, &[0x28], &mut out).await.unwrap();
        assert!(out.iter().all(|&b| b == out[0]), "no MSB: OUT_X_L repeated");
        assert_eq!(bus.samples_latched(), 1);
        bus.write_read(0x18, &[0xA8], &mut out).await.unwrap();
        assert_eq!(bus.samples_latched(), 2);
        let mut again = [0u8; 6];
        bus.write_read(0x18, &[0xA8 + 2], &mut again[2..])
            .await
            .unwrap();
        assert_eq!(again[2..], out[2..], "reading from OUT_Y_L does not latch");
        assert_eq!(bus.samples_latched(), 2);
        // Split writes are one segment: the sub-address, then the data.
        let mut ops = [
            Operation::Write(&[]),
            Operation::Write(&[0x20]),
            Operation::Write(&[0x47]),
        ];
        bus.transaction(0x18, &mut ops).await.unwrap();
        assert_eq!(bus.register(0x20), 0x47);
        assert_eq!(
            bus.write(0x18, &[0x40, 0x00]).await,
            Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data))
        );
    });
}

#[test]
fn endianness_and_axis_enables_are_honoured() {
    let profile = MachineProfile {
        noise_g: 0.0,
        one_x_g: 0.0,
        two_x_g: 0.0,
        three_x_g: 0.0,
        axial_ratio: 0.0,
        gravity_g: [0.5, 0.25, 1.0],
        ..MachineProfile::default()
    };
    let m = MachineVibration::new(profile, FaultPlan::healthy(), 0).unwrap();
    let mut bus = SimAccel::new(Address::Primary, m);
    block_on(async {
        // 100 Hz, X and Z only; BLE, ±2 g, high resolution.
        bus.write(0x18, &[0x20, 0x55]).await.unwrap();
        bus.write(0x18, &[0x23, 0x48]).await.unwrap();
        let mut out = [0u8; 6];
        bus.write_read(0x18, &[0xA8], &mut out).await.unwrap();
        let word = |i: usize| i16::from_be_bytes([out[i], out[i + 1]]) >> 4;
        assert_eq!([word(0), word(2), word(4)], [500, 0, 1000]);
    });
    assert_eq!(bus.latched_g(), [0.5, 0.25, 1.0]);
}

/// `N` samples of one axis through driver and window, in g.
fn window_axis(lis: &mut Lis3dh<SimAccel, Zero>, axis: usize) -> [f32; 4_000] {
    let mut rows = [[0.0f32; 3]; 4_000];
    let mut window = Window::new(&mut rows, lis.sample_rate_hz()).unwrap();
    let view = block_on(fill_window_back_to_back(lis, &mut window)).unwrap();
    let mut out = [0.0; 4_000];
    view.copy_channel(axis, &mut out).unwrap();
    out.map(|v| v / G)
}

#[test]
fn each_fault_moves_its_statistic_through_the_whole_stack() {
    let onset = 4_000;
    for kind in FaultKind::ALL {
        let plan = FaultPlan::healthy()
            .with(Fault::new(kind, onset, 0, 1.0))
            .unwrap();
        let mut lis = accel(machine(plan, 17), Config::default());
        let axis = if kind == FaultKind::Imbalance { 0 } else { 2 };
        let before = window_axis(&mut lis, axis);
        let after = window_axis(&mut lis, axis);
        match kind {
            FaultKind::Imbalance => {
                let (a, b) = (
                    amplitude_at(&before, 400.0, 29.6),
                    amplitude_at(&after, 400.0, 29.6),
                );
                assert!(b > 5.0 * a, "1x {a} -> {b}");
            }
            FaultKind::BearingWear => {
                let (a, b) = (kurtosis(&before), kurtosis(&after));
                assert!(b > 2.0 * a, "kurtosis {a} -> {b}");
            }
            FaultKind::LooseMount => {
                let (a, b) = (
                    amplitude_at(&before, 400.0, 14.8),
                    amplitude_at(&after, 400.0, 14.8),
                );
                assert!(b > 10.0 * a, "0.5x {a} -> {b}");
            }
            FaultKind::StuckSensor => {
                assert!(central_moment(&before, 2) > 1e-4);
                assert_eq!(central_moment(&after, 2), 0.0);
            }
        }
    }
}

#[test]
fn seeded_plans_show_up_after_their_onset() {
    for seed in 100..108u64 {
        let horizon = 16_000;
        let plan = FaultPlan::random(seed, horizon);
        let mut lis = accel(machine(plan, seed), Config::default());
        let first = plan.faults()[0];
        let healthy = window_axis(&mut lis, 2);
        // The window took 4 000 reads, one sample each; skip to the full severity.
        for _ in 4_000..first.start + first.ramp {
            block_on(lis.read()).unwrap();
        }
        let faulty = window_axis(&mut lis, 2);
        let changed = match first.kind {
            FaultKind::Imbalance => {
                amplitude_at(&faulty, 400.0, 29.6) > 3.0 * amplitude_at(&healthy, 400.0, 29.6)
            }
            FaultKind::BearingWear => kurtosis(&faulty) > 1.5 * kurtosis(&healthy),
            FaultKind::LooseMount => {
                amplitude_at(&faulty, 400.0, 14.8) > 5.0 * amplitude_at(&healthy, 400.0, 14.8)
            }
            FaultKind::StuckSensor => central_moment(&faulty, 2) == 0.0,
        };
        assert!(changed, "seed {seed}: {plan:?}");
    }
}
