//! Issue 11, items 10 and 12, against a real mosquitto:
//! - a publish queued before the broker's Maximum Packet Size was known, and found too
//!   large once it is, is refused by an event for its packet id (never dropped
//!   silently); with the limit known, a queued publish is refused at once;
//! - `disconnect()` with QoS 2 handshakes in flight (both directions) finishes them
//!   first, so mosquitto sees a clean DISCONNECT and does not publish the will.
#![allow(clippy::unwrap_used, clippy::panic)]

mod mqtt_support;

use ioto_core::outbox::QueuePolicy;
use ioto_transport::mqtt::client::{Error, Event, Publication, PublishOptions};
use ioto_transport::mqtt::{LastWill, Properties, ProtocolVersion, QoS, ReasonCode};
use mqtt_support::*;
use std::time::Duration;

const V5: ProtocolVersion = ProtocolVersion::V5;
/// mosquitto's limit; every "big" publish below is ~1 KiB, every small one < 100 B.
const LIMIT: &str = "max_packet_size 300";

fn opts() -> PublishOptions<'static> {
    PublishOptions::default()
}

/// Polls until idle, collecting `(packet_id, reason)` of every `Published` event.
async fn outcomes(c: &mut TestClient<'_>) -> Vec<(u16, u8)> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !c.is_idle() {
        let ev = tokio::time::timeout_at(deadline, c.poll())
            .await
            .expect("publishes never completed")
            .unwrap();
        match ev {
            Event::Published { packet_id, reason } => seen.push((packet_id, reason.0)),
            Event::Disconnected(r) => panic!("unexpected disconnect: {r:?}"),
            _ => {}
        }
    }
    seen
}

#[tokio::test]
async fn oversized_publish_queued_before_connack_is_refused_by_event() {
    let broker = Broker::start(LIMIT);
    let (mut ms, mut mp) = (Mem::new(), Mem::new());
    let mut sub = client(
        config(V5, "big-sub"),
        broker.port,
        &mut ms,
        QueuePolicy::Reject,
    );
    connected(&mut sub).await;
    subscribe(&mut sub, "big/#", QoS::ExactlyOnce).await;

    let mut publ = client(
        config(V5, "big-pub"),
        broker.port,
        &mut mp,
        QueuePolicy::Reject,
    );
    let big = vec![b'x'; 1000];
    // Not connected yet: the limit is unknown, so all four are queued.
    for (topic, payload, qos) in [
        ("big/0", &big[..], QoS::AtMostOnce),
        ("big/1", &big[..], QoS::AtLeastOnce),
        ("big/2", &big[..], QoS::ExactlyOnce),
        ("big/ok", &b"small"[..], QoS::AtLeastOnce),
    ] {
        assert_eq!(
            publ.publish(topic, payload, qos, &opts()).await,
            Ok(Publication::Queued)
        );
    }
    let seen = outcomes(&mut publ).await;
    let refused: Vec<_> = seen.iter().filter(|(_, r)| *r == 0x95).collect();
    let ok: Vec<_> = seen.iter().filter(|(_, r)| *r == 0).collect();
    assert_eq!(seen.len(), 4, "one outcome per publish: {seen:?}");
    assert_eq!(refused.len(), 3, "{seen:?}");
    assert_eq!(ok.len(), 1, "{seen:?}");
    // In queue order: the QoS 0 one has no packet id, the QoS 1/2 ones their own.
    assert_eq!(seen[0], (0, 0x95), "{seen:?}");
    assert!(seen[1].0 != 0 && seen[2].0 != 0 && seen[1].0 != seen[2].0);
    assert!(!seen[..3].iter().any(|(id, _)| *id == ok[0].0), "{seen:?}");

    // Only the small one reached the broker (and the subscriber).
    let m = next_message(&mut sub, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!((m.topic.as_str(), m.text()), ("big/ok", "small"));
    assert!(
        next_message(&mut sub, Duration::from_millis(300))
            .await
            .is_none()
    );
    assert!(publ.is_connected(), "the refusals cost no connection");
    assert!(
        !broker.log().contains("big-pub disconnected"),
        "{}",
        broker.log()
    );
}

#[tokio::test]
async fn oversized_publish_with_window_full_is_refused_at_once() {
    let broker = Broker::start(LIMIT);
    let mut mp = Mem::new();
    let mut cfg = config(V5, "win-pub");
    cfg.max_inflight = 1;
    let mut publ = client(cfg, broker.port, &mut mp, QueuePolicy::Reject);
    connected(&mut publ).await;
    let first = publ
        .publish("w/1", b"small", QoS::AtLeastOnce, &opts())
        .await
        .unwrap();
    assert!(matches!(first, Publication::Sent { .. }), "{first:?}");
    // The window (1) is full and the limit known: refused like a direct publish.
    let big = vec![b'x'; 1000];
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce, QoS::AtMostOnce] {
        assert_eq!(
            publ.publish("w/big", &big, qos, &opts()).await,
            Err(Error::TooLarge),
            "{qos:?}"
        );
    }
    // The small one still completes, and nothing else is pending.
    let seen = outcomes(&mut publ).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    // 0x10: no matching subscribers (a success code).
    assert!(seen[0].1 < 0x80, "{seen:?}");
}

/// Drives `dev` (subscribed to q2/in with QoS 2, publishing QoS 2 to q2/out) until
/// QoS 2 handshakes are under way in both directions, then disconnects it.
async fn disconnect_mid_qos2(v: ProtocolVersion) {
    let broker = Broker::start("log_type all");
    let (mut mw, mut mf, mut md) = (Mem::new(), Mem::new(), Mem::new());
    let mut watcher = client(
        config(v, "q2-watch"),
        broker.port,
        &mut mw,
        QueuePolicy::Reject,
    );
    connected(&mut watcher).await;
    subscribe(&mut watcher, "will/#", QoS::AtLeastOnce).await;

    let mut dcfg = config(v, "q2-dev");
    dcfg.will = Some(LastWill {
        topic: "will/q2-dev",
        payload: b"gone",
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Properties::default(),
    });
    let mut dev = client(dcfg, broker.port, &mut md, QueuePolicy::Reject);
    connected(&mut dev).await;
    subscribe(&mut dev, "q2/in", QoS::ExactlyOnce).await;

    let mut feeder = client(
        config(v, "q2-feed"),
        broker.port,
        &mut mf,
        QueuePolicy::Reject,
    );
    connected(&mut feeder).await;
    for i in 0..20 {
        feeder
            .publish(
                "q2/in",
                format!("{i}").as_bytes(),
                QoS::ExactlyOnce,
                &opts(),
            )
            .await
            .unwrap();
    }
    drain_acks(&mut feeder).await;

    for i in 0..10 {
        dev.publish(
            "q2/out",
            format!("{i}").as_bytes(),
            QoS::ExactlyOnce,
            &opts(),
        )
        .await
        .unwrap();
    }
    // Take a few incoming messages (PUBREC sent, PUBREL on its way), then leave.
    let (mut got, mut outcomes) = (0, Vec::new());
    while got < 3 {
        match tokio::time::timeout(Duration::from_secs(5), dev.poll())
            .await
            .expect("no messages")
            .unwrap()
        {
            Event::Message(_) => got += 1,
            Event::Published { packet_id, reason } => outcomes.push((packet_id, reason)),
            Event::Disconnected(r) => panic!("unexpected disconnect: {r:?}"),
            _ => {}
        }
    }
    dev.disconnect().await;

    assert!(
        next_message(&mut watcher, Duration::from_millis(1500))
            .await
            .is_none(),
        "the broker published the will: {}",
        broker.log()
    );
    // mosquitto writes its log line when it handles the disconnect; give it a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = broker.log();
    assert!(
        log.contains("Received DISCONNECT from q2-dev"),
        "no DISCONNECT: {log}"
    );
    assert!(log.contains("Client q2-dev disconnected."), "{log}");
    for bad in [
        "q2-dev closed its connection",
        "protocol error",
        "Socket error on client q2-dev",
    ] {
        assert!(!log.contains(bad), "log shows {bad:?}: {log}");
    }
    assert!(
        !log.lines()
            .any(|l| l.contains("Sending PUBLISH to q2-watch") && l.contains("will/q2-dev")),
        "will sent: {log}"
    );
    // Handshakes finished during `disconnect` are still reported, before any
    // reconnect: every publish has exactly one successful outcome.
    while outcomes.len() < 10 {
        match tokio::time::timeout(Duration::from_secs(5), dev.poll())
            .await
            .expect("outcomes missing")
            .unwrap()
        {
            Event::Published { packet_id, reason } => outcomes.push((packet_id, reason)),
            other => {
                panic!("expected the remaining outcomes first, got {other:?} after {outcomes:?}")
            }
        }
    }
    assert!(
        outcomes.iter().all(|(_, r)| *r == ReasonCode::SUCCESS),
        "{outcomes:?}"
    );
    let mut ids: Vec<_> = outcomes.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 10, "{outcomes:?}");
}

#[tokio::test]
async fn disconnect_with_qos2_in_flight_is_clean_v5() {
    disconnect_mid_qos2(V5).await;
}

#[tokio::test]
async fn disconnect_with_qos2_in_flight_is_clean_v311() {
    disconnect_mid_qos2(ProtocolVersion::V3_1_1).await;
}
