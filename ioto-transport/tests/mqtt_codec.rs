//! MQTT codec: hand-written spec vectors, malformed input, round trips of every
//! packet type in both versions, and regressions from fuzzing.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "mqtt_support/codec_cases.rs"]
mod codec_cases;

use ioto_transport::mqtt::{ProtocolVersion, decode};

#[test]
fn spec_vectors_decode_and_encode() {
    let mut buf = [0u8; 64];
    assert_eq!(codec_cases::check_spec_vectors(&mut buf), 8);
}

#[test]
fn malformed_input_gives_typed_errors() {
    assert_eq!(codec_cases::check_malformed(), 10);
}

#[test]
fn every_packet_round_trips_v311() {
    let (mut a, mut b) = ([0u8; 1024], [0u8; 1024]);
    assert_eq!(
        codec_cases::round_trip_all(ProtocolVersion::V3_1_1, &mut a, &mut b),
        19
    );
}

#[test]
fn every_packet_round_trips_v5() {
    let (mut a, mut b) = ([0u8; 1024], [0u8; 1024]);
    assert_eq!(
        codec_cases::round_trip_all(ProtocolVersion::V5, &mut a, &mut b),
        19
    );
}

#[test]
fn encode_refuses_small_buffers_without_panicking() {
    let mut big = [0u8; 1024];
    for v in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        for p in codec_cases::packets(v) {
            let n = p.encode(v, &mut big).unwrap();
            for size in 0..n {
                let mut small = vec![0u8; size];
                assert!(p.encode(v, &mut small).is_err(), "{size} < {n}");
            }
        }
    }
}

/// Every single-byte corruption of every valid packet decodes or fails cleanly.
#[test]
fn corrupted_packets_never_panic() {
    let mut buf = [0u8; 1024];
    for v in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        for p in codec_cases::packets(v) {
            let n = p.encode(v, &mut buf).unwrap();
            for i in 0..n {
                for x in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                    let mut c = buf[..n].to_vec();
                    c[i] ^= x;
                    let _ = decode(&c, v);
                }
            }
        }
    }
}
