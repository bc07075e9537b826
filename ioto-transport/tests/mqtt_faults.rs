//! Fault tests against a real mosquitto: broker restarts in the middle of a stream
//! (persistent sessions, persistence on), publishing while the broker is down, and a
//! connection that goes silent without FIN.
#![allow(clippy::unwrap_used, clippy::panic)]

mod mqtt_support;

use ioto_core::outbox::QueuePolicy;
use ioto_transport::mqtt::client::{
    DisconnectReason, Event, Publication, PublishOptions, SessionMode,
};
use ioto_transport::mqtt::{ProtocolVersion, QoS};
use mqtt_support::proxy::Proxy;
use mqtt_support::*;
use std::time::{Duration, Instant};

const N: usize = 1000;
const STOP_AT: usize = 300;

/// Publishes N numbered messages; stops the broker after STOP_AT of them and starts it
/// again 800 ms later while publishing continues (into the offline queue). A persistent
/// subscriber must see every number (exactly once for QoS 2).
async fn restart_mid_stream(v: ProtocolVersion, qos: QoS) {
    let mut broker = Broker::start("");
    let (mut ms, mut mp) = (Mem::new(), Mem::new());
    let persistent = SessionMode::Persistent { expiry_secs: 3600 };
    let mut scfg = config(v, "fault-sub");
    scfg.session = persistent;
    let mut pcfg = config(v, "fault-pub");
    pcfg.session = persistent;
    let mut sub = client(scfg, broker.port, &mut ms, QueuePolicy::Reject);
    let mut publ = client(pcfg, broker.port, &mut mp, QueuePolicy::Reject);
    connected(&mut sub).await;
    subscribe(&mut sub, "f/#", qos).await;
    connected(&mut publ).await;

    let publisher = async {
        let mut sent = 0;
        let mut acked = 0;
        let mut queued_while_down = 0;
        let mut down_since: Option<Instant> = None;
        let mut reconnects = 0;
        let opts = PublishOptions::default();
        while acked < N {
            if let Some(t) = down_since
                && t.elapsed() > Duration::from_millis(800)
            {
                broker.restart();
                down_since = None;
            }
            let window_free = publ.inflight_len() < 16 || !publ.is_connected();
            if sent < N && window_free {
                let p = publ
                    .publish("f/n", sent.to_string().as_bytes(), qos, &opts)
                    .await;
                match p {
                    Ok(Publication::Queued) if down_since.is_some() => queued_while_down += 1,
                    Ok(_) | Err(ioto_transport::mqtt::client::Error::ConnectionLost) => {}
                    Err(e) => panic!("publish {sent}: {e:?}"),
                }
                sent += 1;
                if sent == STOP_AT {
                    broker.stop();
                    down_since = Some(Instant::now());
                }
                if down_since.is_none() || sent % 8 != 0 {
                    continue;
                }
            }
            match tokio::time::timeout(Duration::from_secs(20), publ.poll())
                .await
                .expect("publisher stalled")
                .unwrap()
            {
                Event::Published { reason, .. } => {
                    assert!(reason.is_success());
                    acked += 1;
                }
                Event::Disconnected(r) => {
                    eprintln!("pub: disconnected {r:?} at sent={sent} acked={acked}")
                }
                Event::Connected { session_present } => {
                    eprintln!(
                        "pub: connected at sent={sent} acked={acked} inflight={}",
                        publ.inflight_len()
                    );
                    reconnects += 1;
                    assert!(
                        session_present,
                        "broker persistence lost the publisher session"
                    );
                }
                _ => {}
            }
        }
        assert_eq!(publ.queue().dropped(), 0);
        (queued_while_down, reconnects, publ.stats().resent)
    };

    let subscriber = async {
        let mut seen = vec![0u32; N];
        let mut distinct = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while distinct < N {
            assert!(Instant::now() < deadline, "only {distinct} of {N} arrived");
            let ev = tokio::time::timeout(Duration::from_secs(20), sub.poll())
                .await
                .unwrap_or_else(|_| {
                    let missing: Vec<usize> = (0..N).filter(|&i| seen[i] == 0).collect();
                    panic!("subscriber stalled at {distinct} of {N}; missing {missing:?}")
                });
            match ev.unwrap() {
                Event::Message(m) => {
                    let n: usize = std::str::from_utf8(m.payload).unwrap().parse().unwrap();
                    if seen[n] == 0 {
                        distinct += 1;
                    }
                    seen[n] += 1;
                }
                Event::Connected { session_present } => {
                    assert!(session_present, "subscriber session lost")
                }
                _ => {}
            }
        }
        seen
    };

    let ((queued, reconnects, resent), seen) = tokio::join!(publisher, subscriber);
    assert!(
        queued > 0,
        "some publishes must have been made while the broker was down"
    );
    assert!(reconnects >= 1);
    assert!(seen.iter().all(|&c| c >= 1), "a message was lost");
    if qos == QoS::ExactlyOnce {
        // Let any late duplicates arrive, then check exactly-once.
        let extra = next_message(&mut sub, Duration::from_millis(500)).await;
        assert!(
            extra.is_none(),
            "QoS 2 duplicate after the stream: {extra:?}"
        );
        let dups: Vec<usize> = (0..N).filter(|&i| seen[i] != 1).collect();
        assert!(dups.is_empty(), "QoS 2 delivered more than once: {dups:?}");
    }
    eprintln!(
        "{v:?} {qos:?}: queued while down {queued}, resent {resent}, duplicates {}",
        seen.iter().map(|&c| c.saturating_sub(1)).sum::<u32>()
    );
}

#[tokio::test]
async fn restart_mid_stream_qos1_v5() {
    restart_mid_stream(ProtocolVersion::V5, QoS::AtLeastOnce).await;
}

#[tokio::test]
async fn restart_mid_stream_qos1_v311() {
    restart_mid_stream(ProtocolVersion::V3_1_1, QoS::AtLeastOnce).await;
}

#[tokio::test]
async fn restart_mid_stream_qos2_v5() {
    restart_mid_stream(ProtocolVersion::V5, QoS::ExactlyOnce).await;
}

#[tokio::test]
async fn restart_mid_stream_qos2_v311() {
    restart_mid_stream(ProtocolVersion::V3_1_1, QoS::ExactlyOnce).await;
}

/// While the broker is down, a queue of 10 with drop-oldest keeps the newest 10 of 25
/// publishes and counts 15 dropped; after the restart exactly those 10 arrive.
#[tokio::test]
async fn offline_queue_drop_oldest_delivers_after_restart() {
    let mut broker = Broker::start("");
    let v = ProtocolVersion::V5;
    let (mut ms, mut mp) = (Mem::new(), Mem::new());
    let mut scfg = config(v, "q-sub");
    scfg.session = SessionMode::Persistent { expiry_secs: 3600 };
    let mut sub = client(scfg, broker.port, &mut ms, QueuePolicy::Reject);
    connected(&mut sub).await;
    subscribe(&mut sub, "q/#", QoS::AtLeastOnce).await;
    sub.disconnect().await;

    let mut queue_mem = vec![0u8; 64 * 1024];
    let mut publ = client_with_queue(
        config(v, "q-pub"),
        broker.port,
        &mut mp,
        &mut queue_mem,
        10,
        QueuePolicy::DropOldest,
    );
    connected(&mut publ).await;
    broker.stop();
    loop {
        if let Event::Disconnected(_) = publ.poll().await.unwrap() {
            break;
        }
    }
    for i in 0..25 {
        let p = publ
            .publish(
                "q/x",
                format!("{i}").as_bytes(),
                QoS::AtLeastOnce,
                &PublishOptions::default(),
            )
            .await;
        assert_eq!(p, Ok(Publication::Queued));
    }
    assert_eq!(publ.queue().len(), 10);
    assert_eq!(publ.queue().dropped(), 15);
    broker.restart();
    drain_acks_through_reconnects(&mut publ).await;

    let mut sub = client(scfg, broker.port, &mut ms, QueuePolicy::Reject);
    assert!(connected(&mut sub).await);
    for i in 15..25 {
        assert_eq!(
            next_message(&mut sub, Duration::from_secs(5))
                .await
                .unwrap()
                .text(),
            format!("{i}")
        );
    }
    assert!(
        next_message(&mut sub, Duration::from_millis(300))
            .await
            .is_none()
    );
}

/// A proxy stops forwarding without closing: the keep-alive (1 s) + ping timeout
/// (1 s) notice the dead connection, and the client reconnects once it heals.
async fn silent_drop_detected(v: ProtocolVersion) {
    let broker = Broker::start("");
    let proxy = Proxy::start(broker.port).await;
    let mut m = Mem::new();
    let mut cfg = config(v, "ka");
    cfg.keep_alive_secs = 1;
    cfg.ping_timeout_ms = 1000;
    let mut c = client(cfg, proxy.port, &mut m, QueuePolicy::Reject);
    connected(&mut c).await;
    subscribe(&mut c, "ka/#", QoS::AtLeastOnce).await;
    // Idle for a few keep-alive periods: pings keep it up.
    assert!(
        next_message(&mut c, Duration::from_millis(2500))
            .await
            .is_none()
    );
    assert!(c.is_connected());
    proxy.blackhole();
    let start = Instant::now();
    let reason = loop {
        let ev = tokio::time::timeout(Duration::from_secs(6), c.poll())
            .await
            .expect("dead link not detected");
        if let Event::Disconnected(r) = ev.unwrap() {
            break r;
        }
    };
    assert_eq!(reason, DisconnectReason::KeepAliveTimeout);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "took {:?}",
        start.elapsed()
    );
    proxy.heal();
    connected(&mut c).await;
}

#[tokio::test]
async fn silent_drop_detected_v311() {
    silent_drop_detected(ProtocolVersion::V3_1_1).await;
}

#[tokio::test]
async fn silent_drop_detected_v5() {
    silent_drop_detected(ProtocolVersion::V5).await;
}

/// A frozen broker (SIGSTOP) keeps the socket open but answers nothing.
#[tokio::test]
async fn frozen_broker_detected() {
    let broker = Broker::start("");
    let mut m = Mem::new();
    let mut cfg = config(ProtocolVersion::V5, "frozen");
    cfg.keep_alive_secs = 1;
    cfg.ping_timeout_ms = 1000;
    let mut c = client(cfg, broker.port, &mut m, QueuePolicy::Reject);
    connected(&mut c).await;
    broker.freeze();
    let reason = loop {
        let ev = tokio::time::timeout(Duration::from_secs(6), c.poll())
            .await
            .expect("frozen broker not detected");
        if let Event::Disconnected(r) = ev.unwrap() {
            break r;
        }
    };
    assert_eq!(reason, DisconnectReason::KeepAliveTimeout);
    broker.thaw();
    connected(&mut c).await;
}
