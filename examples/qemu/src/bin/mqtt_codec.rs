//! MQTT codec on target: hand-written spec vectors, malformed input and an
//! encode/decode round trip of every packet type, MQTT 3.1.1 and 5.0. No network:
//! the bytes never leave RAM. `cargo xtask hil-test` runs it on every virtual board.
#![no_std]
#![no_main]

use ioto_board_qemu::{entry, harness, tests};
use ioto_transport::mqtt::ProtocolVersion;

// The cases shared with the host test `ioto-transport/tests/mqtt_codec.rs`.
#[allow(dead_code)]
mod codec_cases {
    include!("../../../../ioto-transport/tests/mqtt_support/codec_cases.rs");
}

fn spec_vectors() {
    let mut buf = [0u8; 64];
    assert_eq!(codec_cases::check_spec_vectors(&mut buf), 8);
}

fn malformed_input() {
    assert_eq!(codec_cases::check_malformed(), 10);
}

fn round_trip_v311() {
    let (mut a, mut b) = ([0u8; 1024], [0u8; 1024]);
    assert_eq!(codec_cases::round_trip_all(ProtocolVersion::V3_1_1, &mut a, &mut b), 19);
}

fn round_trip_v5() {
    let (mut a, mut b) = ([0u8; 1024], [0u8; 1024]);
    assert_eq!(codec_cases::round_trip_all(ProtocolVersion::V5, &mut a, &mut b), 19);
}

#[entry]
fn main() -> ! {
    let suite = tests![spec_vectors, malformed_input, round_trip_v311, round_trip_v5];
    harness::run("mqtt_codec", suite)
}
