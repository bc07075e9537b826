//! AWS IoT Device Shadow: topics, reported update, delta / get / accepted / rejected.
//! Expected documents are written by hand from the AWS IoT shadow documentation.

extern crate std;

use std::string::String;
use std::vec::Vec;

use serde::Deserialize;

use crate::device::{Command, Limits, Rejected};
use crate::state::json::MAX_DEPTH;
use crate::state::shadow_json::{ShadowRejection, UpdateAccepted};
use crate::state::*;

use super::reported;

fn outcomes<'j>(r: &ApplyReport<'j>) -> Vec<(&'j str, KeyOutcome)> {
    r.iter().map(|k| (k.key, k.outcome)).collect()
}

/// The outcomes of a document asking for `sensitivity` and actuator 0 at `level`,
/// both within the limits.
fn sensitivity_and_actuator(sensitivity: f32, level: f32) -> [(&'static str, KeyOutcome); 2] {
    let set = KeyOutcome::Applied;
    [
        (
            "sensitivity",
            set(Command::SetSensitivity { level: sensitivity }),
        ),
        ("actuator", set(Command::SetActuator { actuator: 0, level })),
    ]
}

#[test]
fn topics_follow_the_classic_shadow_layout() {
    let t = ShadowTopics::new("pump-7_a:b").unwrap();
    let mut buf = [0u8; 128];
    let expected = [
        (ShadowTopic::Update, "$aws/things/pump-7_a:b/shadow/update"),
        (
            ShadowTopic::UpdateAccepted,
            "$aws/things/pump-7_a:b/shadow/update/accepted",
        ),
        (
            ShadowTopic::UpdateRejected,
            "$aws/things/pump-7_a:b/shadow/update/rejected",
        ),
        (
            ShadowTopic::UpdateDelta,
            "$aws/things/pump-7_a:b/shadow/update/delta",
        ),
        (ShadowTopic::Get, "$aws/things/pump-7_a:b/shadow/get"),
        (
            ShadowTopic::GetAccepted,
            "$aws/things/pump-7_a:b/shadow/get/accepted",
        ),
        (
            ShadowTopic::GetRejected,
            "$aws/things/pump-7_a:b/shadow/get/rejected",
        ),
    ];
    for (topic, text) in expected {
        assert_eq!(t.write(topic, &mut buf).unwrap(), text);
        assert_eq!(t.classify(text), Some(topic));
        // One byte short of the topic: refused, not truncated.
        assert_eq!(
            t.write(topic, &mut buf[..text.len() - 1]),
            Err(StateError::BufferTooSmall)
        );
    }
    assert_eq!(t.classify("$aws/things/pump-7/shadow/update/delta"), None);
    assert_eq!(
        t.classify("$aws/things/pump-7_a:b/shadow/update/deltas"),
        None
    );
    assert_eq!(
        t.classify("$aws/things/pump-7_a:b/shadow/name/x/update"),
        None
    );
}

#[test]
fn thing_names_are_validated() {
    let long: String = "a".repeat(128);
    assert!(ShadowTopics::new(&long).is_ok());
    let too_long: String = "a".repeat(129);
    for bad in ["", too_long.as_str(), "a/b", "a b", "a#", "a+", "é", "a$"] {
        assert_eq!(
            ShadowTopics::new(bad).map(|_| ()),
            Err(StateError::InvalidName),
            "{bad:?}"
        );
    }
}

#[test]
fn reported_update_document_matches_hand_written_json() {
    let mut buf = [0u8; 512];
    let n = encode_reported(&reported(), Some(12), "tok-1", &mut buf).unwrap();
    assert_eq!(
        core::str::from_utf8(&buf[..n]).unwrap(),
        r#"{"state":{"reported":{"sensitivity":1.5,"actuator":0.25,"report_interval_s":30,"anomaly_score":0.125,"rms":2.5,"firmware":"1.2.0","uptime_s":3600,"queue_depth":4}},"version":12,"clientToken":"tok-1"}"#
    );
    let n = encode_reported(&reported(), None, "", &mut buf).unwrap();
    let text = core::str::from_utf8(&buf[..n]).unwrap();
    assert!(text.ends_with("\"queue_depth\":4}}}"), "{text}");

    // A JSON peer reads it back.
    #[derive(Deserialize)]
    struct Doc<'a> {
        #[serde(borrow)]
        state: State<'a>,
    }
    #[derive(Deserialize)]
    struct State<'a> {
        #[serde(borrow)]
        reported: R<'a>,
    }
    #[derive(Deserialize)]
    struct R<'a> {
        sensitivity: f32,
        firmware: &'a str,
        queue_depth: u32,
    }
    let (doc, _) = serde_json_core::from_slice::<Doc<'_>>(&buf[..n]).unwrap();
    assert_eq!(doc.state.reported.sensitivity, 1.5);
    assert_eq!(doc.state.reported.firmware, "1.2.0");
    assert_eq!(doc.state.reported.queue_depth, 4);

    // Every shorter buffer is refused.
    for len in 0..n {
        assert_eq!(
            encode_reported(&reported(), None, "", &mut buf[..len]),
            Err(StateError::BufferTooSmall)
        );
    }
    let token: String = "t".repeat(65);
    assert_eq!(
        encode_reported(&reported(), None, &token, &mut buf),
        Err(StateError::InvalidName)
    );
    // Non-finite values become null (JSON has no NaN).
    let mut r = reported();
    r.anomaly_score = f32::NAN;
    let n = encode_reported(&r, None, "", &mut buf).unwrap();
    assert!(
        core::str::from_utf8(&buf[..n])
            .unwrap()
            .contains("\"anomaly_score\":null")
    );
}

// The delta layout of the AWS documentation, with this device's keys.
const DELTA_V5: &[u8] = br#"{
  "version": 5,
  "timestamp": 1469564492,
  "state": {
    "sensitivity": 2,
    "actuator": 0.5,
    "report_interval_s": 120,
    "color": { "r": 255, "g": [0, 1] }
  },
  "metadata": {
    "sensitivity": { "timestamp": 1469564492 },
    "actuator": { "timestamp": 1469564492 },
    "report_interval_s": { "timestamp": 1469564492 },
    "color": { "r": { "timestamp": 1469564492 }, "g": [{ "timestamp": 1469564492 }] }
  },
  "clientToken": "cloud-42"
}"#;

#[test]
fn delta_applies_each_key_through_the_limits() {
    let d = parse_delta(DELTA_V5).unwrap();
    assert_eq!(d.version, 5);
    assert_eq!(d.timestamp, Some(1469564492));
    assert_eq!(d.client_token, Some("cloud-42"));
    assert_eq!(d.state.unknown(), ["color"]);

    let mut s = DeviceState::new(Reported::new("1.0"));
    let DeltaOutcome::Applied(rep) = s.apply_delta(&d, &Limits::default()) else {
        panic!("stale");
    };
    let mut expected = sensitivity_and_actuator(2.0, 0.5).to_vec();
    expected.extend([
        (
            "report_interval_s",
            KeyOutcome::Applied(Command::ScheduleReport { after_s: 120 }),
        ),
        ("color", KeyOutcome::Unknown),
    ]);
    assert_eq!(outcomes(&rep), expected);
    assert_eq!(rep.commands().count(), 3);
    assert!(!rep.any_rejected());
    assert_eq!(
        (
            s.reported.sensitivity,
            s.reported.actuator,
            s.reported.report_interval_s
        ),
        (2.0, 0.5, 120)
    );
    assert_eq!(s.version, 5);
}

#[test]
fn delta_versions_not_newer_are_stale() {
    let limits = Limits::default();
    let mut s = DeviceState::new(Reported::new("1.0"));
    let v5 = parse_delta(DELTA_V5).unwrap();
    assert!(matches!(
        s.apply_delta(&v5, &limits),
        DeltaOutcome::Applied(_)
    ));
    assert_eq!(
        s.apply_delta(&v5, &limits),
        DeltaOutcome::Stale {
            version: 5,
            current: 5
        }
    );
    let v4 = parse_delta(br#"{"version":4,"state":{"sensitivity":3}}"#).unwrap();
    assert_eq!(
        s.apply_delta(&v4, &limits),
        DeltaOutcome::Stale {
            version: 4,
            current: 5
        }
    );
    assert_eq!(s.reported.sensitivity, 2.0, "a stale delta changes nothing");
    let v6 = parse_delta(br#"{"version":6,"state":{"sensitivity":3}}"#).unwrap();
    assert!(matches!(
        s.apply_delta(&v6, &limits),
        DeltaOutcome::Applied(_)
    ));
    assert_eq!((s.reported.sensitivity, s.version), (3.0, 6));
}

#[test]
fn bad_values_are_rejected_per_key_and_change_nothing() {
    let limits = Limits::default();
    let (range, bad) = (Rejected::OutOfRange, Rejected::BadArguments);
    // Per key: values out of its range, then values of the wrong kind.
    let by_key: [(&str, &[&str], &[&str]); 3] = [
        ("sensitivity", &["0.1", "1e300"], &[r#""high""#]),
        ("actuator", &["1.5"], &["[0.5]"]),
        ("report_interval_s", &["86401"], &["1.5", "-1", "1e10"]),
    ];
    let mut cases: Vec<(String, KeyOutcome)> = Vec::new();
    for (key, out_of_range, wrong_kind) in by_key {
        for (values, why) in [(out_of_range, range), (wrong_kind, bad)] {
            for v in values {
                let state = std::format!(r#"{{"{key}":{v}}}"#);
                cases.push((state, KeyOutcome::Rejected(why)));
            }
        }
    }
    cases.push((r#"{"sensitivity":null}"#.into(), KeyOutcome::Unset));
    assert_eq!(cases.len(), 10);
    for (state, expected) in cases {
        let mut doc = Vec::from(&br#"{"version":9,"state":"#[..]);
        doc.extend_from_slice(state.as_bytes());
        doc.push(b'}');
        let d = parse_delta(&doc).unwrap();
        let mut s = DeviceState::new(Reported::new("1.0"));
        let before = s.reported;
        let DeltaOutcome::Applied(rep) = s.apply_delta(&d, &limits) else {
            panic!("stale");
        };
        assert_eq!(rep.len(), 1);
        assert_eq!(rep.iter().next().unwrap().outcome, expected, "{state:?}");
        assert_eq!(s.reported, before, "{state:?}");
        assert_eq!(rep.commands().count(), 0);
    }
    // 60.0 is an integral number of seconds.
    let d = parse_delta(br#"{"version":1,"state":{"report_interval_s":60.0}}"#).unwrap();
    let rep = DeviceState::new(Reported::new("1")).apply(&d.state, &limits);
    assert_eq!(
        rep.commands().collect::<Vec<_>>(),
        [Command::ScheduleReport { after_s: 60 }]
    );
}

#[test]
fn many_unknown_keys_are_counted_not_fatal() {
    let d = parse_delta(
        br#"{"version":1,"state":{"a":1,"b":2,"c":3,"sensitivity":2,"d":4,"e":5,"f":{}}}"#,
    )
    .unwrap();
    assert_eq!(d.state.unknown(), ["a", "b", "c", "d"]);
    assert_eq!(d.state.unknown_dropped(), 2);
    let rep = DeviceState::new(Reported::new("1")).apply(&d.state, &Limits::default());
    assert_eq!(rep.len(), 5);
    assert_eq!(rep.unknown_dropped(), 2);
    assert_eq!(
        rep.commands().collect::<Vec<_>>(),
        [Command::SetSensitivity { level: 2.0 }]
    );
}

// The /get/accepted layout of the AWS documentation.
const GET_V10: &[u8] = br#"{
  "state": {
    "desired": { "sensitivity": 0.5, "actuator": 1, "lights": "on" },
    "reported": { "sensitivity": 1, "actuator": 1, "firmware": "1.0" },
    "delta": { "sensitivity": 0.5, "lights": "on" }
  },
  "metadata": {
    "desired": { "sensitivity": { "timestamp": 1469564492 } },
    "reported": { "sensitivity": { "timestamp": 1469564400 } }
  },
  "version": 10,
  "timestamp": 1469564500,
  "clientToken": "get-1"
}"#;

#[test]
fn get_accepted_applies_the_desired_section() {
    let g = parse_get_accepted(GET_V10).unwrap();
    assert_eq!(
        (g.version, g.timestamp, g.client_token),
        (10, Some(1469564500), Some("get-1"))
    );
    assert_eq!(g.delta.sensitivity, Field::Number(0.5));
    assert_eq!(g.delta.actuator, Field::Absent);
    assert_eq!(g.delta.unknown(), ["lights"]);
    let limits = Limits::default();
    let mut s = DeviceState::new(Reported::new("1.0"));
    s.version = 10;
    let DeltaOutcome::Applied(rep) = s.apply_get(&g, &limits) else {
        panic!("a snapshot of the same version still applies");
    };
    let mut expected = sensitivity_and_actuator(0.5, 1.0).to_vec();
    expected.push(("lights", KeyOutcome::Unknown));
    assert_eq!(outcomes(&rep), expected);
    assert_eq!((s.reported.sensitivity, s.reported.actuator), (0.5, 1.0));
    s.version = 11;
    assert_eq!(
        s.apply_get(&g, &limits),
        DeltaOutcome::Stale {
            version: 10,
            current: 11
        }
    );
    // A shadow without desired state (or with it null) asks for nothing.
    let g = parse_get_accepted(br#"{"state":{"reported":{"sensitivity":1}},"version":3}"#).unwrap();
    assert_eq!(g.desired, StateFields::default());
    let g = parse_get_accepted(br#"{"state":{"desired":null},"version":3}"#).unwrap();
    assert_eq!(g.desired, StateFields::default());
}

#[test]
fn update_accepted_and_rejected_documents() {
    let a = parse_update_accepted(
        br#"{"state":{"reported":{"sensitivity":1.5}},"metadata":{"reported":{"sensitivity":{"timestamp":1469564492}}},"version":13,"timestamp":1469564492,"clientToken":"tok-1"}"#,
    )
    .unwrap();
    assert_eq!(
        a,
        UpdateAccepted {
            version: 13,
            timestamp: Some(1469564492),
            client_token: Some("tok-1")
        }
    );
    let mut s = DeviceState::new(Reported::new("1"));
    s.observe_version(a.version);
    s.observe_version(7);
    assert_eq!(s.version, 13);

    let r = parse_update_rejected(
        br#"{"code":409,"message":"Version conflict","timestamp":1469564492,"clientToken":"tok-1"}"#,
    )
    .unwrap();
    assert_eq!(r.code, 409);
    assert_eq!(r.rejection, ShadowRejection::VersionConflict);
    assert!(r.rejection.should_resync());
    assert_eq!(r.message, "Version conflict");
    assert_eq!(r.client_token, Some("tok-1"));
    let r =
        parse_update_rejected(br#"{"code":400,"message":"Missing required node: state"}"#).unwrap();
    assert_eq!(r.rejection, ShadowRejection::BadRequest);
    assert!(!r.rejection.should_resync());
    assert_eq!(
        parse_update_rejected(br#"{"code":418}"#).unwrap().rejection,
        ShadowRejection::Other(418)
    );
    assert_eq!(
        parse_update_rejected(br#"{"message":"x"}"#),
        Err(StateError::Missing("code"))
    );
    assert_eq!(
        parse_update_rejected(br#"{"code":70000}"#),
        Err(StateError::WrongType)
    );
}

#[test]
fn malformed_documents_give_typed_errors() {
    let cases: [(&[u8], StateErrorKind); 16] = [
        (b"", StateErrorKind::Truncated),
        (
            br#"{"version":5,"state":{"sensitivity":1"#,
            StateErrorKind::Truncated,
        ),
        (br#"{"version":5,"state":{}} x"#, StateErrorKind::Syntax),
        (br#"[{"version":5,"state":{}}]"#, StateErrorKind::Syntax),
        (br#"{"version":5,"state":{},}"#, StateErrorKind::Syntax),
        (br#"{"version":05,"state":{}}"#, StateErrorKind::Syntax),
        (
            br#"{"version":5,"state":{"a":tru}}"#,
            StateErrorKind::Syntax,
        ),
        (
            br#"{"version":5,"state":{"a":"\q"}}"#,
            StateErrorKind::Syntax,
        ),
        (
            b"{\"version\":5,\"state\":{\"a\":\"\x01\"}}",
            StateErrorKind::Syntax,
        ),
        (
            b"{\"version\":5,\"state\":{\"\xff\":1}}",
            StateErrorKind::Syntax,
        ),
        (br#"{"version":"5","state":{}}"#, StateErrorKind::WrongType),
        (br#"{"version":5.5,"state":{}}"#, StateErrorKind::WrongType),
        (br#"{"version":-5,"state":{}}"#, StateErrorKind::WrongType),
        (br#"{"version":5,"state":[]}"#, StateErrorKind::WrongType),
        (br#"{"state":{}}"#, StateErrorKind::Missing),
        (br#"{"version":5}"#, StateErrorKind::Missing),
    ];
    for (doc, kind) in cases {
        assert_eq!(
            parse_delta(doc).map(|_| ()).map_err(|e| e.kind()),
            Err(kind),
            "{:?}",
            core::str::from_utf8(doc)
        );
    }
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| {
        let mut d = Vec::from(&br#"{"version":1,"state":{},"metadata":"#[..]);
        d.extend(core::iter::repeat_n(b'[', depth));
        d.extend(core::iter::repeat_n(b']', depth));
        d.push(b'}');
        d
    };
    assert!(parse_delta(&nested(MAX_DEPTH)).is_ok());
    assert_eq!(
        parse_delta(&nested(MAX_DEPTH + 1)).map(|_| ()),
        Err(StateError::TooDeep)
    );
    // A hostile depth far beyond any stack is refused just the same.
    assert_eq!(
        parse_delta(&nested(100_000)).map(|_| ()),
        Err(StateError::TooDeep)
    );
    // Mixed objects and arrays.
    let doc = br#"{"version":1,"state":{"x":{"a":[{"b":[1,{"c":null}]},true,"s"]}},"m":[[],{}]}"#;
    assert_eq!(parse_delta(doc).unwrap().state.unknown(), ["x"]);
}
