//! CBOR form, postcard config record, Home Assistant discovery.
//! Expected bytes are hand-encoded from RFC 8949 (CBOR) and the postcard wire spec.

extern crate std;

use std::string::String;
use std::vec::Vec;

use serde::Deserialize;

use crate::device::{Command, Limits, Rejected};
use crate::state::config::{CONFIG_MAX_LEN, CONFIG_SCHEMA, Config, ThingName, Thresholds};
use crate::state::discovery::{Discovery, Entity};
use crate::state::*;

use super::reported;

#[test]
fn cbor_desired_matches_hand_encoding() {
    let d = Desired {
        sensitivity: Some(1.5),
        actuator: None,
        report_interval_s: Some(60),
    };
    let mut buf = [0u8; 32];
    let n = cbor::encode_desired(&d, &mut buf).unwrap();
    // map(2), 0: f32 1.5 (0x3FC00000), 2: uint 60 (one-byte follow-up).
    assert_eq!(
        &buf[..n],
        [0xA2, 0x00, 0xFA, 0x3F, 0xC0, 0x00, 0x00, 0x02, 0x18, 0x3C]
    );
    assert_eq!(cbor::decode_desired(&buf[..n]), Ok(d));
    assert_eq!(cbor::decode_desired(&[0xA0]), Ok(Desired::default()));
}

#[test]
fn cbor_desired_goes_through_the_limits() {
    // map(2), 0: f32 8.0 (0x41000000), 1: f32 0.5 (0x3F000000)
    let bytes = [
        0xA2, 0x00, 0xFA, 0x41, 0x00, 0x00, 0x00, 0x01, 0xFA, 0x3F, 0x00, 0x00, 0x00,
    ];
    let d = cbor::decode_desired(&bytes).unwrap();
    let mut s = DeviceState::new(Reported::new("1"));
    let rep = s.apply_desired(&d, &Limits::default());
    let got: Vec<_> = rep.iter().map(|r| (r.key, r.outcome)).collect();
    assert_eq!(
        got,
        [
            ("sensitivity", KeyOutcome::Rejected(Rejected::OutOfRange)),
            (
                "actuator",
                KeyOutcome::Applied(Command::SetActuator {
                    actuator: 0,
                    level: 0.5
                })
            ),
        ]
    );
    assert_eq!((s.reported.sensitivity, s.reported.actuator), (1.0, 0.5));
}

#[test]
fn cbor_reported_round_trips_and_is_smaller_than_json() {
    let r = reported();
    let mut cb = [0u8; 128];
    let n = cbor::encode_reported(&r, &mut cb).unwrap();
    assert_eq!(cb[0], 0xA8, "a map of 8 entries");
    assert_eq!(cbor::decode_reported(&cb[..n]), Ok(r));
    let mut js = [0u8; 256];
    let m = serde_json_core::to_slice(&r, &mut js).unwrap();
    assert!(n < m, "CBOR {n} B vs JSON {m} B");
    assert!(n * 2 < m, "CBOR {n} B should be under half of JSON {m} B");
    for len in 0..n {
        assert_eq!(
            cbor::encode_reported(&r, &mut cb[..len]),
            Err(StateError::BufferTooSmall)
        );
    }
}

#[test]
fn bad_cbor_is_a_typed_error() {
    let r = reported();
    let mut cb = [0u8; 128];
    let n = cbor::encode_reported(&r, &mut cb).unwrap();
    for len in 0..n {
        assert_eq!(
            cbor::decode_reported(&cb[..len]),
            Err(StateError::Cbor),
            "prefix {len}"
        );
    }
    let mut long = Vec::from(&cb[..n]);
    long.push(0x00);
    assert_eq!(cbor::decode_reported(&long), Err(StateError::TrailingBytes));
    // An array, a text, a map missing required keys, a float where a u32 belongs.
    assert_eq!(cbor::decode_reported(&[0x80]), Err(StateError::Cbor));
    assert_eq!(cbor::decode_desired(&[0x61, b'a']), Err(StateError::Cbor));
    assert_eq!(
        cbor::decode_reported(&[0xA1, 0x00, 0xFA, 0x3F, 0xC0, 0, 0]),
        Err(StateError::Cbor)
    );
    assert_eq!(
        cbor::decode_desired(&[0xA1, 0x02, 0xFA, 0x3F, 0xC0, 0, 0]),
        Err(StateError::Cbor)
    );
    // Unknown keys (9: [1, 2]) are skipped.
    assert_eq!(
        cbor::decode_desired(&[0xA1, 0x09, 0x82, 0x01, 0x02]),
        Ok(Desired::default())
    );
    // A map claiming 2^64-1 entries ends with an error, not a hang.
    assert_eq!(
        cbor::decode_desired(&[0xBB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        Err(StateError::Cbor)
    );
}

fn config() -> Config {
    Config::new(ThingName::new("ab").unwrap())
}

#[test]
fn config_record_matches_postcard_wire_format() {
    let mut buf = [0u8; CONFIG_MAX_LEN];
    let n = config().to_slice(&mut buf).unwrap();
    #[rustfmt::skip]
    let expected = [
        CONFIG_SCHEMA,
        0x02, b'a', b'b',           // thing name: varint length + bytes
        0x00, 0x00, 0x80, 0x3F,     // sensitivity 1.0 (f32 LE)
        0x3C,                       // report interval 60 (varint)
        0x00, 0x00, 0x00, 0x00,     // actuator 0.0
        0x01,                       // detector
        0x00, 0x00, 0x00, 0x3F,     // report threshold 0.5
        0x66, 0x66, 0x66, 0x3F,     // escalate threshold 0.9 (0x3F666666)
        0x00,                       // no discovery
    ];
    assert_eq!(&buf[..n], expected);
    assert_eq!(Config::from_bytes(&buf[..n]), Ok(config()));
    assert_eq!(config().thing_name.as_str(), "ab");
}

#[test]
fn config_max_len_holds_the_largest_record() {
    let mut c = Config::new(ThingName::new(&"x".repeat(128)).unwrap());
    c.report_interval_s = u32::MAX;
    c.ha_discovery = true;
    c.thresholds = Thresholds {
        report: 1.0,
        escalate: 2.0,
    };
    let mut buf = [0u8; CONFIG_MAX_LEN];
    let n = c.to_slice(&mut buf).unwrap();
    assert_eq!(n, CONFIG_MAX_LEN);
    assert_eq!(Config::from_bytes(&buf), Ok(c));
    assert_eq!(
        c.to_slice(&mut buf[..n - 1]),
        Err(StateError::BufferTooSmall)
    );
    assert_eq!(c.to_slice(&mut []), Err(StateError::BufferTooSmall));
}

#[test]
fn config_garbage_is_a_typed_error() {
    let mut buf = [0u8; CONFIG_MAX_LEN];
    let n = config().to_slice(&mut buf).unwrap();
    assert_eq!(Config::from_bytes(&[]), Err(StateError::Truncated));
    for len in 1..n {
        assert_eq!(
            Config::from_bytes(&buf[..len]),
            Err(StateError::Postcard),
            "prefix {len}"
        );
    }
    let mut other = buf;
    other[0] = 2;
    assert_eq!(
        Config::from_bytes(&other[..n]),
        Err(StateError::SchemaVersion { found: 2 })
    );
    assert_eq!(
        Config::from_bytes(&buf[..n + 1]),
        Err(StateError::TrailingBytes)
    );
    // A thing name with a '/' is not a valid record.
    let mut bad = buf;
    bad[2] = b'/';
    assert_eq!(Config::from_bytes(&bad[..n]), Err(StateError::Postcard));
    // Erased flash.
    assert!(Config::from_bytes(&[0xFF; 64]).is_err());
    assert_eq!(ThingName::new("a b"), Err(StateError::InvalidName));
}

#[test]
fn config_commands_pass_the_limits() {
    let limits = Limits::default();
    for c in config().commands() {
        assert_eq!(limits.check(&c), Ok(()), "{c:?}");
    }
    let mut c = config();
    c.sensitivity = 10.0;
    assert_eq!(limits.check(&c.commands()[0]), Err(Rejected::OutOfRange));
}

#[derive(Deserialize, Debug)]
struct HaDevice<'a> {
    #[serde(borrow)]
    identifiers: [&'a str; 1],
    name: &'a str,
    manufacturer: &'a str,
    model: &'a str,
}

#[derive(Deserialize, Debug)]
struct HaConfig<'a> {
    name: &'a str,
    unique_id: &'a str,
    state_topic: &'a str,
    value_template: &'a str,
    unit_of_measurement: Option<&'a str>,
    availability_topic: Option<&'a str>,
    command_topic: Option<&'a str>,
    min: Option<f32>,
    max: Option<f32>,
    #[serde(borrow)]
    device: HaDevice<'a>,
}

fn discovery() -> Discovery<'static> {
    let mut d = Discovery::new(
        "pump-7",
        "Pump 7",
        "ioto-board-host",
        "ioto/pump-7/telemetry",
    );
    d.availability_topic = Some("ioto/pump-7/status");
    d
}

#[test]
fn discovery_topics_and_payloads_carry_what_home_assistant_requires() {
    let d = discovery();
    let mut topic = [0u8; 96];
    let mut payload = [0u8; 512];
    let expect = [
        (
            Entity::AnomalyScore,
            "homeassistant/sensor/pump-7/anomaly_score/config",
            "{{ value_json.score }}",
            None,
        ),
        (
            Entity::RmsVibration,
            "homeassistant/sensor/pump-7/rms_vibration/config",
            "{{ value_json.rms }}",
            Some("g"),
        ),
        (
            Entity::QueueDepth,
            "homeassistant/sensor/pump-7/queue_depth/config",
            "{{ value_json.queue }}",
            None,
        ),
    ];
    assert_eq!(d.entities().count(), 3);
    for (entity, t, template, unit) in expect {
        assert_eq!(d.topic(entity, &mut topic).unwrap(), t);
        let n = d.payload(entity, &mut payload).unwrap();
        let (c, _) = serde_json_core::from_slice::<HaConfig<'_>>(&payload[..n]).unwrap();
        let unique: String = ["pump-7_", entity.object_id()].concat();
        assert_eq!(c.unique_id, unique);
        assert_eq!(c.name, entity.name());
        assert_eq!(c.state_topic, "ioto/pump-7/telemetry");
        assert_eq!(c.value_template, template);
        assert_eq!(c.unit_of_measurement, unit);
        assert_eq!(c.availability_topic, Some("ioto/pump-7/status"));
        assert_eq!(c.command_topic, None);
        assert_eq!(c.device.identifiers, ["pump-7"]);
        assert_eq!(c.device.name, "Pump 7");
        assert_eq!(c.device.manufacturer, "Ioto-rs");
        assert_eq!(c.device.model, "ioto-board-host");
        for len in 0..n {
            assert_eq!(
                d.payload(entity, &mut payload[..len]),
                Err(StateError::BufferTooSmall)
            );
        }
    }
}

#[test]
fn discovery_number_needs_a_command_topic() {
    let mut d = discovery();
    let mut buf = [0u8; 512];
    assert_eq!(
        d.payload(Entity::Sensitivity, &mut buf),
        Err(StateError::Missing("command_topic"))
    );
    d.command_topic = Some("ioto/pump-7/set/sensitivity");
    assert_eq!(d.entities().count(), 4);
    assert_eq!(
        d.topic(Entity::Sensitivity, &mut buf).unwrap(),
        "homeassistant/number/pump-7/sensitivity/config"
    );
    let n = d.payload(Entity::Sensitivity, &mut buf).unwrap();
    let (c, _) = serde_json_core::from_slice::<HaConfig<'_>>(&buf[..n]).unwrap();
    assert_eq!(c.command_topic, Some("ioto/pump-7/set/sensitivity"));
    assert_eq!((c.min, c.max), (Some(0.25), Some(4.0)));
}

#[test]
fn discovery_validates_ids_and_escapes_text() {
    let mut d = discovery();
    let mut buf = [0u8; 512];
    d.node_id = "pump/7";
    assert_eq!(
        d.topic(Entity::AnomalyScore, &mut buf),
        Err(StateError::InvalidName)
    );
    assert_eq!(
        d.payload(Entity::AnomalyScore, &mut buf),
        Err(StateError::InvalidName)
    );
    let mut d = discovery();
    d.device_name = "Pump \"7\"\n";
    let n = d.payload(Entity::QueueDepth, &mut buf).unwrap();
    // A JSON peer that unescapes strings reads the name back unchanged.
    struct Owned(String);
    impl<'de> Deserialize<'de> for Owned {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Owned;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E>(self, v: &str) -> Result<Owned, E> {
                    Ok(Owned(v.into()))
                }
            }
            d.deserialize_str(V)
        }
    }
    #[derive(Deserialize)]
    struct Dev {
        name: Owned,
    }
    #[derive(Deserialize)]
    struct Doc {
        device: Dev,
    }
    let mut scratch = [0u8; 64];
    let (c, _) = serde_json_core::from_slice_escaped::<Doc>(&buf[..n], &mut scratch).unwrap();
    assert_eq!(c.device.name.0, "Pump \"7\"\n");
}
