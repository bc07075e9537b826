//! No decoder panics on any bytes; encoder output is read back by the hand parser.

extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use crate::device::Limits;
use crate::state::config::Config;
use crate::state::*;

fn every_decoder(bytes: &[u8]) {
    let limits = Limits::default();
    let mut s = DeviceState::new(Reported::new("1"));
    if let Ok(d) = parse_delta(bytes) {
        let _ = s.apply_delta(&d, &limits);
    }
    if let Ok(g) = parse_get_accepted(bytes) {
        let _ = s.apply_get(&g, &limits);
    }
    let _ = parse_update_accepted(bytes);
    let _ = parse_update_rejected(bytes);
    let _ = cbor::decode_reported(bytes);
    if let Ok(d) = cbor::decode_desired(bytes) {
        let _ = s.apply_desired(&d, &limits);
    }
    let _ = Config::from_bytes(bytes);
}

const SEED_DELTA: &str = r#"{"version":5,"timestamp":1,"state":{"sensitivity":1.5,"actuator":0.5,"report_interval_s":60,"x":[1,{"y":null}]},"metadata":{"sensitivity":{"timestamp":1}}}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        every_decoder(&bytes);
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[\{\}\[\]":,0-9a-z\.eE+\- \\]{0,200}"#) {
        every_decoder(text.as_bytes());
    }

    #[test]
    fn mutated_documents_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut doc = Vec::from(SEED_DELTA.as_bytes());
        for (at, byte) in edits {
            let i = at % doc.len();
            doc[i] = byte;
        }
        doc.truncate(cut % (doc.len() + 1));
        every_decoder(&doc);
    }

    /// serde-json-core writes a desired object; the hand parser reads the same values.
    #[test]
    fn parser_reads_what_serde_json_core_writes(
        sens in proptest::option::of(-1e6f32..1e6),
        act in proptest::option::of(-2f32..2.0),
        interval in proptest::option::of(any::<u32>()),
        version in any::<u64>(),
    ) {
        let desired = Desired { sensitivity: sens, actuator: act, report_interval_s: interval };
        #[derive(serde::Serialize)]
        struct Doc { version: u64, state: Desired }
        let mut buf = [0u8; 256];
        let n = serde_json_core::to_slice(&Doc { version, state: desired }, &mut buf).unwrap();
        let d = parse_delta(&buf[..n]).unwrap();
        prop_assert_eq!(d.version, version);
        let close = |f: Field, v: Option<f32>| match (f, v) {
            (Field::Absent, None) => true,
            // Shortest round-trip text, read as f64 then narrowed: within one f32 ulp.
            (Field::Number(x), Some(v)) => ((x as f32) - v).abs() <= v.abs() * f32::EPSILON,
            _ => false,
        };
        prop_assert!(close(d.state.sensitivity, sens), "{:?} vs {:?}", d.state.sensitivity, sens);
        prop_assert!(close(d.state.actuator, act));
        prop_assert_eq!(d.state.report_interval_s, interval.map_or(Field::Absent, |v| Field::Number(v.into())));
    }

    /// CBOR desired changes round-trip exactly.
    #[test]
    fn cbor_desired_round_trips(
        sens in proptest::option::of(any::<f32>().prop_filter("finite", |v| v.is_finite())),
        act in proptest::option::of(any::<f32>().prop_filter("finite", |v| v.is_finite())),
        interval in proptest::option::of(any::<u32>()),
    ) {
        let d = Desired { sensitivity: sens, actuator: act, report_interval_s: interval };
        let mut buf = [0u8; 32];
        let n = cbor::encode_desired(&d, &mut buf).unwrap();
        prop_assert_eq!(cbor::decode_desired(&buf[..n]), Ok(d));
    }
}
