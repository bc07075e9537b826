//! LIS3DH driver against a scripted bus: the exact datasheet register transactions.
#![allow(clippy::unwrap_used)]

extern crate std;

use std::vec;

use embassy_futures::block_on;
use embedded_hal_async::i2c::ErrorKind as BusErrorKind;
use embedded_hal_mock::eh1::i2c::{Mock, Transaction};

use super::*;
use crate::time::Instant;

/// A clock that says 1.234 s.
struct Fixed;
impl Clock for Fixed {
    fn now(&self) -> crate::time::Instant {
        Instant(1_234_000)
    }
}

const A: u8 = 0x18;

fn init_sequence(addr: u8, ctrl1: u8, ctrl4: u8) -> [Transaction; 3] {
    [
        Transaction::write_read(addr, vec![0x0F], vec![0x33]),
        Transaction::write(addr, vec![0x20, ctrl1]),
        Transaction::write(addr, vec![0x23, ctrl4]),
    ]
}

fn driver(expect: &[Transaction], config: Config) -> Lis3dh<Mock, Fixed> {
    Lis3dh::new(Mock::new(expect), Fixed, Address::Primary, config)
}

fn cfg(data_rate: DataRate, full_scale: FullScale, mode: Mode) -> Config {
    Config {
        data_rate,
        full_scale,
        mode,
    }
}

#[test]
fn init_checks_who_am_i_then_writes_ctrl_reg1_and_ctrl_reg4() {
    // (config, CTRL_REG1, CTRL_REG4) from §8.8 / §8.11 bit fields.
    use {DataRate as Odr, FullScale as Fs, Mode as M};
    let cases = [
        (Config::default(), 0x77, 0x98), // 400 Hz XYZ | BDU ±4 g HR
        (cfg(Odr::Hz100, Fs::G8, M::Normal), 0x57, 0xA0),
        (cfg(Odr::Hz1344, Fs::G2, M::HighResolution), 0x97, 0x88),
        (cfg(Odr::Hz5376LowPower, Fs::G16, M::LowPower), 0x9F, 0xB0),
        (cfg(Odr::Hz1600LowPower, Fs::G4, M::LowPower), 0x8F, 0x90),
        (cfg(Odr::Hz1, Fs::G2, M::Normal), 0x17, 0x80),
    ];
    for (config, ctrl1, ctrl4) in cases {
        let mut lis = driver(&init_sequence(A, ctrl1, ctrl4), config);
        block_on(lis.init()).unwrap();
        lis.release().0.done();
    }
}

#[test]
fn secondary_address_is_0x19() {
    let mut lis = Lis3dh::new(
        Mock::new(&init_sequence(0x19, 0x77, 0x98)),
        Fixed,
        Address::Secondary,
        Config::default(),
    );
    block_on(lis.init()).unwrap();
    lis.release().0.done();
}

#[test]
fn another_chip_is_a_typed_wrong_chip_error() {
    // An LIS2DH12 answers 0x33 too; an LIS331 answers 0x32.
    let mut lis = driver(
        &[Transaction::write_read(A, vec![0x0F], vec![0x32])],
        Config::default(),
    );
    let err = block_on(lis.init()).unwrap_err();
    assert_eq!(err, Lis3dhError::WrongChip { found: 0x32 });
    assert_eq!(err.kind(), ErrorKind::WrongChip);
    let err = block_on(lis.read()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotReady);
    lis.release().0.done();
}

#[test]
fn a_bus_failure_is_kind_bus() {
    let mut lis = driver(
        &[
            Transaction::write_read(A, vec![0x0F], vec![0x33]).with_error(
                BusErrorKind::NoAcknowledge(embedded_hal_async::i2c::NoAcknowledgeSource::Address),
            ),
        ],
        Config::default(),
    );
    let err = block_on(lis.init()).unwrap_err();
    assert!(matches!(
        err,
        Lis3dhError::Bus(BusErrorKind::NoAcknowledge(_))
    ));
    assert_eq!(err.kind(), ErrorKind::Bus);
    lis.release().0.done();

    let mut expect = init_sequence(A, 0x77, 0x98).to_vec();
    expect.push(Transaction::write_read(A, vec![0xA8], vec![0; 6]).with_error(BusErrorKind::Bus));
    let mut lis = driver(&expect, Config::default());
    block_on(lis.init()).unwrap();
    assert_eq!(block_on(lis.read()).unwrap_err().kind(), ErrorKind::Bus);
    lis.release().0.done();
}

#[test]
fn a_read_is_one_auto_increment_burst_converted_to_m_per_s2() {
    let config = cfg(DataRate::Hz400, FullScale::G2, Mode::HighResolution);
    let mut expect = init_sequence(A, 0x77, 0x88).to_vec();
    // x = -1000 digits (-1 g), y = +2047 (full scale), z = 1 digit with noise in the
    // four unused low bits, which the >> 4 drops.
    let x = (-1000i16 << 4).to_le_bytes();
    let y = (2047i16 << 4).to_le_bytes();
    expect.push(Transaction::write_read(
        A,
        vec![0x28 | 0x80],
        vec![x[0], x[1], y[0], y[1], 0x1F, 0x00],
    ));
    let mut lis = driver(&expect, config);
    block_on(lis.init()).unwrap();
    let s = block_on(lis.read()).unwrap();
    assert_eq!(s.at, Instant(1_234_000));
    let g = 9.806_65;
    assert!((s.values[0] + g).abs() < 1e-4, "{:?}", s.values);
    assert!((s.values[1] - 2.047 * g).abs() < 1e-4);
    assert!((s.values[2] - 0.001 * g).abs() < 1e-6);
    lis.release().0.done();
}

#[test]
fn sensitivity_follows_mode_and_full_scale() {
    // 10-bit normal mode at ±16 g: 48 mg/digit; 100 digits = 4.8 g.
    let config = cfg(DataRate::Hz50, FullScale::G16, Mode::Normal);
    let mut expect = init_sequence(A, 0x47, 0xB0).to_vec();
    let v = (100i16 << 6).to_le_bytes();
    let n = (-3i16 << 6).to_le_bytes();
    expect.push(Transaction::write_read(
        A,
        vec![0xA8],
        vec![v[0], v[1], n[0], n[1], 0, 0],
    ));
    let mut lis = driver(&expect, config);
    block_on(lis.init()).unwrap();
    assert_eq!(block_on(lis.read_raw()).unwrap(), [100, -3, 0]);
    lis.release().0.done();

    let table = [
        (FullScale::G2, [1.0, 4.0, 16.0]),
        (FullScale::G4, [2.0, 8.0, 32.0]),
        (FullScale::G8, [4.0, 16.0, 64.0]),
        (FullScale::G16, [12.0, 48.0, 192.0]),
    ];
    for (fs, mg) in table {
        for (mode, want) in [Mode::HighResolution, Mode::Normal, Mode::LowPower]
            .into_iter()
            .zip(mg)
        {
            assert_eq!(cfg(DataRate::Hz10, fs, mode).sensitivity_mg(), want);
        }
    }
}

#[test]
fn rates_that_do_not_exist_in_the_mode_fail_before_any_io() {
    for config in [
        cfg(DataRate::Hz1344, FullScale::G2, Mode::LowPower),
        cfg(
            DataRate::Hz1600LowPower,
            FullScale::G2,
            Mode::HighResolution,
        ),
        cfg(DataRate::Hz5376LowPower, FullScale::G2, Mode::Normal),
    ] {
        let mut lis = driver(&[], config);
        let err = block_on(lis.init()).unwrap_err();
        assert_eq!(err, Lis3dhError::InvalidConfig);
        assert_eq!(err.kind(), ErrorKind::OutOfRange);
        lis.release().0.done();
    }
}

#[test]
fn reading_before_init_touches_no_bus() {
    let mut lis = driver(&[], Config::default());
    assert_eq!(
        block_on(lis.read()).unwrap_err(),
        Lis3dhError::NotInitialised
    );
    assert_eq!(
        block_on(lis.data_ready()).unwrap_err().kind(),
        ErrorKind::NotReady
    );
    lis.release().0.done();
}

#[test]
fn data_ready_reads_status_reg_zyxda() {
    let mut expect = init_sequence(A, 0x77, 0x98).to_vec();
    expect.push(Transaction::write_read(A, vec![0x27], vec![0x08]));
    expect.push(Transaction::write_read(A, vec![0x27], vec![0x07]));
    let mut lis = driver(&expect, Config::default());
    block_on(lis.init()).unwrap();
    assert!(block_on(lis.data_ready()).unwrap());
    assert!(!block_on(lis.data_ready()).unwrap());
    lis.release().0.done();
}

#[test]
fn reconfigure_rewrites_the_control_registers() {
    let mut expect = init_sequence(A, 0x77, 0x98).to_vec();
    expect.extend(init_sequence(A, 0x27, 0x80));
    let mut lis = driver(&expect, Config::default());
    block_on(lis.init()).unwrap();
    let slow = cfg(DataRate::Hz10, FullScale::G2, Mode::Normal);
    block_on(lis.reconfigure(slow)).unwrap();
    assert_eq!(lis.config(), slow);
    assert_eq!(lis.sample_rate_hz(), 10.0);
    assert_eq!(
        lis.channels()[2],
        Channel::new("z", Unit::MetersPerSecondSquared)
    );
    lis.release().0.done();
}
