// MQTT codec cases shared by the host test (tests/mqtt_codec.rs) and the on-target
// suite (examples/qemu/src/bin/mqtt_codec.rs), which `include!`s this file. `core`
// only: no allocation, no std.
//
// The byte vectors are written out by hand from the OASIS MQTT 3.1.1 and 5.0
// specifications (fixed header, remaining length, field layouts), not produced by the
// encoder under test.

use ioto_transport::mqtt::packet::ReasonOnly;
use ioto_transport::mqtt::{
    Ack, ConnAck, Connect, DecodeError, LastWill, Packet, Properties, ProtocolVersion, Publish,
    QoS, ReasonCode, RetainHandling, SubAck, Subscribe, SubscribeOptions, Subscription,
    SubscriptionList, TopicList, Unsubscribe, UserProperties, decode,
};

const USERS: [(&str, &str); 2] = [("device", "m4f"), ("fw", "1.2.3")];
const SUBS: [Subscription<'static>; 2] = [
    Subscription {
        filter: "sensors/+/temp",
        options: SubscribeOptions::qos(QoS::AtLeastOnce),
    },
    Subscription {
        filter: "cmd/#",
        options: SubscribeOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
        },
    },
];
const FILTERS: [&str; 2] = ["a/b", "c/+"];

fn rich_props(v: ProtocolVersion) -> Properties<'static> {
    if !v.is_v5() {
        return Properties::default();
    }
    Properties {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(3600),
        content_type: Some("application/json"),
        response_topic: Some("reply/here"),
        correlation_data: Some(&[0, 1, 2, 0xFF]),
        user: UserProperties::List(&USERS),
        ..Properties::default()
    }
}

/// Every packet type of `v` with non-trivial contents.
pub fn packets(v: ProtocolVersion) -> [Packet<'static>; 19] {
    let v5 = v.is_v5();
    let props = rich_props(v);
    let session = if v5 {
        Properties {
            session_expiry_interval: Some(600),
            receive_maximum: Some(16),
            maximum_packet_size: Some(4096),
            ..Properties::default()
        }
    } else {
        Properties::default()
    };
    let ack_reason = if v5 {
        ReasonCode(0x10)
    } else {
        ReasonCode::SUCCESS
    };
    let ack_props = if v5 {
        Properties {
            reason_string: Some("why"),
            ..Properties::default()
        }
    } else {
        Properties::default()
    };
    [
        Packet::Connect(Connect {
            version: v,
            client_id: "dev-42",
            keep_alive: 30,
            clean_start: false,
            username: Some("user"),
            password: Some(b"secret\x00bytes"),
            will: Some(LastWill {
                topic: "dev/42/status",
                payload: b"offline",
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: props,
            }),
            properties: session,
        }),
        Packet::Connect(Connect {
            version: v,
            client_id: "",
            keep_alive: 0,
            clean_start: true,
            username: None,
            password: None,
            will: None,
            properties: Properties::default(),
        }),
        Packet::ConnAck(ConnAck {
            session_present: true,
            reason: ReasonCode::SUCCESS,
            properties: if v5 {
                Properties {
                    receive_maximum: Some(20),
                    topic_alias_maximum: Some(10),
                    retain_available: Some(true),
                    maximum_qos: Some(1),
                    ..Properties::default()
                }
            } else {
                Properties::default()
            },
        }),
        Packet::ConnAck(ConnAck {
            session_present: false,
            reason: ReasonCode(if v5 { 0x87 } else { 5 }),
            properties: Properties::default(),
        }),
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: "t",
            packet_id: 0,
            properties: Properties::default(),
            payload: b"",
        }),
        Packet::Publish(Publish {
            dup: true,
            qos: QoS::AtLeastOnce,
            retain: true,
            topic: "sensors/7/temp",
            packet_id: 7,
            properties: props,
            payload: b"21.5",
        }),
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::ExactlyOnce,
            retain: false,
            topic: "x/\u{e9}t\u{e9}",
            packet_id: 65535,
            properties: props,
            payload: &[0xFF; 300],
        }),
        Packet::PubAck(Ack {
            packet_id: 1,
            reason: ack_reason,
            properties: ack_props,
        }),
        Packet::PubRec(Ack::new(2)),
        Packet::PubRel(Ack {
            packet_id: 3,
            reason: if v5 {
                ReasonCode::PACKET_ID_NOT_FOUND
            } else {
                ReasonCode::SUCCESS
            },
            properties: Properties::default(),
        }),
        Packet::PubComp(Ack::new(4)),
        Packet::Subscribe(Subscribe {
            packet_id: 10,
            properties: if v5 {
                Properties {
                    subscription_identifier: Some(268_435_455),
                    ..Properties::default()
                }
            } else {
                Properties::default()
            },
            subscriptions: SubscriptionList::List(if v5 { &SUBS } else { &SUBS[..1] }),
        }),
        Packet::SubAck(SubAck {
            packet_id: 10,
            properties: ack_props,
            reason_codes: &[1, 2, 0x80],
        }),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 11,
            properties: Properties::default(),
            filters: TopicList::List(&FILTERS),
        }),
        Packet::UnsubAck(SubAck {
            packet_id: 11,
            properties: ack_props,
            reason_codes: if v5 { &[0, 0x11] } else { &[] },
        }),
        Packet::PingReq,
        Packet::PingResp,
        Packet::Disconnect(ReasonOnly {
            reason: if v5 {
                ReasonCode::KEEP_ALIVE_TIMEOUT
            } else {
                ReasonCode::SUCCESS
            },
            properties: if v5 {
                Properties {
                    reason_string: Some("idle"),
                    ..Properties::default()
                }
            } else {
                Properties::default()
            },
        }),
        Packet::Disconnect(ReasonOnly {
            reason: ReasonCode::SUCCESS,
            properties: Properties::default(),
        }),
    ]
}

/// Encodes every packet, decodes it back, checks equality and that re-encoding gives
/// the same bytes; also that every strict prefix decodes as "incomplete". Returns the
/// number of packets checked.
pub fn round_trip_all(v: ProtocolVersion, buf: &mut [u8], again: &mut [u8]) -> usize {
    let list = packets(v);
    for p in &list {
        let n = p.encode(v, buf).expect("encode");
        let (q, used) = decode(&buf[..n], v).expect("decode").expect("complete");
        assert_eq!(used, n);
        assert_eq!(&q, p);
        let m = q.encode(v, again).expect("re-encode");
        assert_eq!(&again[..m], &buf[..n]);
        for cut in 0..n {
            assert_eq!(
                decode(&buf[..cut], v).map(|r| r.is_some()),
                Ok(false),
                "prefix {cut} of {n}"
            );
        }
    }
    list.len()
}

/// Hand-written wire vectors: (version, bytes, expected packet).
pub fn spec_vectors() -> [(ProtocolVersion, &'static [u8], Packet<'static>); 8] {
    use ProtocolVersion::{V3_1_1 as V3, V5};
    let connect = |version| Connect {
        version,
        client_id: "a",
        keep_alive: 60,
        clean_start: true,
        username: None,
        password: None,
        will: None,
        properties: Properties::default(),
    };
    let publish = Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: "a/b",
        packet_id: 10,
        properties: Properties::default(),
        payload: b"hi",
    };
    [
        (V3, &[0xC0, 0x00], Packet::PingReq),
        (
            V3,
            &[
                0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 1, b'a',
            ],
            Packet::Connect(connect(V3)),
        ),
        (
            V5,
            &[
                0x10, 0x0E, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 60, 0, 0, 1, b'a',
            ],
            Packet::Connect(connect(V5)),
        ),
        (
            V3,
            &[0x32, 0x09, 0, 3, b'a', b'/', b'b', 0, 10, b'h', b'i'],
            Packet::Publish(publish),
        ),
        (
            V5,
            &[0x32, 0x0A, 0, 3, b'a', b'/', b'b', 0, 10, 0, b'h', b'i'],
            Packet::Publish(publish),
        ),
        (
            V5,
            &[0x40, 0x03, 0, 10, 0x10],
            Packet::PubAck(Ack {
                packet_id: 10,
                reason: ReasonCode(0x10),
                properties: Properties::default(),
            }),
        ),
        (
            V3,
            &[0x90, 0x04, 0, 1, 0x00, 0x80],
            Packet::SubAck(SubAck {
                packet_id: 1,
                properties: Properties::default(),
                reason_codes: &[0, 0x80],
            }),
        ),
        (
            V5,
            &[0x82, 0x09, 0, 2, 0, 0, 3, b'x', b'/', b'#', 0x05],
            Packet::Subscribe(Subscribe {
                packet_id: 2,
                properties: Properties::default(),
                subscriptions: SubscriptionList::List(&[Subscription {
                    filter: "x/#",
                    options: SubscribeOptions {
                        qos: QoS::AtLeastOnce,
                        no_local: true,
                        retain_as_published: false,
                        retain_handling: RetainHandling::SendAtSubscribe,
                    },
                }]),
            }),
        ),
    ]
}

/// Checks the spec vectors both ways (decode, and encode to the same bytes).
pub fn check_spec_vectors(buf: &mut [u8]) -> usize {
    let vectors = spec_vectors();
    for (v, bytes, want) in &vectors {
        let (got, n) = decode(bytes, *v).expect("decode").expect("complete");
        assert_eq!(n, bytes.len());
        assert_eq!(&got, want);
        let m = want.encode(*v, buf).expect("encode");
        assert_eq!(&buf[..m], *bytes);
    }
    vectors.len()
}

/// Malformed input must give these typed errors (never a panic).
pub fn malformed_vectors() -> [(ProtocolVersion, &'static [u8], DecodeError); 10] {
    use ProtocolVersion::{V3_1_1 as V3, V5};
    [
        (V3, &[0x36, 0x05, 0, 1, b'a', 0, 1], DecodeError::BadQos(3)),
        (
            V3,
            &[0x80, 0x06, 0, 1, 0, 1, b'a', 0],
            DecodeError::BadFlags(0),
        ),
        (
            V3,
            &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            DecodeError::BadVarInt,
        ),
        (
            V3,
            &[0x20, 0x02, 0x02, 0x00],
            DecodeError::Invalid("reserved CONNACK flags set"),
        ),
        (
            V5,
            &[0x40, 0x06, 0, 1, 0, 3, 0x24, 1],
            DecodeError::Truncated,
        ),
        (
            V5,
            &[0x30, 0x08, 0, 1, b'a', 4, 0x24, 1, 0x24, 1],
            DecodeError::DuplicateProperty(0x24),
        ),
        (
            V3,
            &[0x30, 0x04, 0, 2, b'a', b'+'],
            DecodeError::Invalid("wildcard in topic name"),
        ),
        (V3, &[0x30, 0x03, 0, 1, 0xC0], DecodeError::BadUtf8),
        (V3, &[0xF0, 0x00], DecodeError::BadPacketType(15)),
        (V3, &[0x40, 0x03, 0, 1, 0], DecodeError::TrailingBytes),
    ]
}

/// Checks the malformed vectors.
pub fn check_malformed() -> usize {
    let vectors = malformed_vectors();
    for (v, bytes, want) in &vectors {
        assert_eq!(decode(bytes, *v).map(|_| ()), Err(*want), "{bytes:02X?}");
    }
    vectors.len()
}
