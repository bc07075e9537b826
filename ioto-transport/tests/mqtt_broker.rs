//! The MQTT client against a real mosquitto, protocol 3.1.1 and 5.0, cross-checked
//! with paho-mqtt (Python) as a second, independent client.
#![allow(clippy::unwrap_used, clippy::panic)]

mod mqtt_support;

use ioto_core::outbox::QueuePolicy;
use ioto_transport::mqtt::client::{Error, Publication, PublishOptions, SessionMode};
use ioto_transport::mqtt::{LastWill, Properties, ProtocolVersion, QoS};
use mqtt_support::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);
const NONE: PublishOptions<'static> = PublishOptions {
    retain: false,
    message_expiry_secs: None,
    content_type: None,
    utf8_payload: false,
    response_topic: None,
    correlation_data: None,
    user_properties: &[],
    topic_alias: None,
};

async fn qos_levels_and_wildcards(v: ProtocolVersion) {
    let broker = Broker::start("");
    let (mut ms, mut mp) = (Mem::new(), Mem::new());
    let mut sub = client(config(v, "sub"), broker.port, &mut ms, QueuePolicy::Reject);
    let mut publ = client(config(v, "pub"), broker.port, &mut mp, QueuePolicy::Reject);
    connected(&mut sub).await;
    connected(&mut publ).await;
    assert_eq!(
        subscribe(&mut sub, "t/+/x/#", QoS::ExactlyOnce).await,
        vec![2]
    );
    assert_eq!(
        subscribe(&mut sub, "lim/#", QoS::AtLeastOnce).await,
        vec![1]
    );
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        // Not matching: one level too few for `t/+/x/#`... then two that match.
        publ.publish("t/a", b"no", qos, &NONE).await.unwrap();
        let p = publ
            .publish("t/a/x", format!("m{i}").as_bytes(), qos, &NONE)
            .await
            .unwrap();
        assert!(
            matches!(p, Publication::Sent { packet_id } if (packet_id == 0) == (qos == QoS::AtMostOnce))
        );
        publ.publish("t/b/x/y/z", format!("deep{i}").as_bytes(), qos, &NONE)
            .await
            .unwrap();
        publ.publish("lim/q", format!("lim{i}").as_bytes(), qos, &NONE)
            .await
            .unwrap();
    }
    let reasons = drain_acks(&mut publ).await;
    assert_eq!(reasons.len(), 8, "4 QoS 1 + 4 QoS 2 publishes acknowledged");
    let mut got = Vec::new();
    for _ in 0..9 {
        let m = next_message(&mut sub, WAIT).await.expect("message");
        got.push((m.topic.clone(), m.text().to_string(), m.qos));
    }
    got.sort_by(|a, b| a.1.cmp(&b.1));
    let want = [
        ("t/b/x/y/z", "deep0", QoS::AtMostOnce),
        ("t/b/x/y/z", "deep1", QoS::AtLeastOnce),
        ("t/b/x/y/z", "deep2", QoS::ExactlyOnce),
        ("lim/q", "lim0", QoS::AtMostOnce),
        ("lim/q", "lim1", QoS::AtLeastOnce),
        ("lim/q", "lim2", QoS::AtLeastOnce), // downgraded to the subscription's QoS 1
        ("t/a/x", "m0", QoS::AtMostOnce),
        ("t/a/x", "m1", QoS::AtLeastOnce),
        ("t/a/x", "m2", QoS::ExactlyOnce),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(t, p, q)| (t.to_string(), p.to_string(), *q))
        .collect();
    assert_eq!(got, want);
    assert!(
        next_message(&mut sub, Duration::from_millis(300))
            .await
            .is_none(),
        "t/a must not match"
    );

    // Unsubscribe: nothing more arrives on t/...
    let id = sub.unsubscribe(&["t/+/x/#"]).await.unwrap();
    loop {
        if let ioto_transport::mqtt::client::Event::Unsubscribed(a) = sub.poll().await.unwrap() {
            assert_eq!(a.packet_id, id);
            break;
        }
    }
    publ.publish("t/a/x", b"after", QoS::AtLeastOnce, &NONE)
        .await
        .unwrap();
    publ.publish("lim/q", b"sentinel", QoS::AtLeastOnce, &NONE)
        .await
        .unwrap();
    drain_acks(&mut publ).await;
    assert_eq!(
        next_message(&mut sub, WAIT).await.unwrap().text(),
        "sentinel"
    );
}

#[tokio::test]
async fn qos_levels_and_wildcards_v311() {
    qos_levels_and_wildcards(ProtocolVersion::V3_1_1).await;
}

#[tokio::test]
async fn qos_levels_and_wildcards_v5() {
    qos_levels_and_wildcards(ProtocolVersion::V5).await;
}

async fn retained_and_will(v: ProtocolVersion) {
    let broker = Broker::start("");
    let (mut ma, mut mb, mut mw) = (Mem::new(), Mem::new(), Mem::new());
    let mut a = client(config(v, "a"), broker.port, &mut ma, QueuePolicy::Reject);
    connected(&mut a).await;
    let opts = PublishOptions {
        retain: true,
        ..NONE
    };
    a.publish("r/state", b"on", QoS::AtLeastOnce, &opts)
        .await
        .unwrap();
    drain_acks(&mut a).await;

    let mut wcfg = config(v, "willer");
    wcfg.will = Some(LastWill {
        topic: "r/will",
        payload: b"gone",
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Properties::default(),
    });
    let mut w = client(wcfg, broker.port, &mut mw, QueuePolicy::Reject);
    connected(&mut w).await;

    let mut b = client(config(v, "b"), broker.port, &mut mb, QueuePolicy::Reject);
    connected(&mut b).await;
    subscribe(&mut b, "r/#", QoS::AtLeastOnce).await;
    let m = next_message(&mut b, WAIT).await.unwrap();
    assert_eq!(
        (m.topic.as_str(), m.text(), m.retain),
        ("r/state", "on", true)
    );
    // Vanish without DISCONNECT: the broker publishes the will.
    drop(w);
    let m = next_message(&mut b, WAIT).await.unwrap();
    assert_eq!(
        (m.topic.as_str(), m.text(), m.retain),
        ("r/will", "gone", false)
    );
    // A clean DISCONNECT discards the will.
    a.disconnect().await;
    assert!(
        next_message(&mut b, Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn retained_and_will_v311() {
    retained_and_will(ProtocolVersion::V3_1_1).await;
}

#[tokio::test]
async fn retained_and_will_v5() {
    retained_and_will(ProtocolVersion::V5).await;
}

#[tokio::test]
async fn v5_properties_alias_and_limits() {
    let broker = Broker::start("max_packet_size 2000\nmax_inflight_messages 5\nmax_topic_alias 4");
    let (mut ms, mut mp) = (Mem::new(), Mem::new());
    let v = ProtocolVersion::V5;
    let mut sub = client(config(v, "sub5"), broker.port, &mut ms, QueuePolicy::Reject);
    let mut publ = client(config(v, "pub5"), broker.port, &mut mp, QueuePolicy::Reject);
    connected(&mut sub).await;
    connected(&mut publ).await;

    // No subscriber yet: an MQTT 5 broker says so in the PUBACK reason code.
    publ.publish("p/x", b"nobody", QoS::AtLeastOnce, &NONE)
        .await
        .unwrap();
    assert_eq!(drain_acks(&mut publ).await, vec![0x10]);

    subscribe(&mut sub, "p/#", QoS::ExactlyOnce).await;
    let users = [("k1", "v1"), ("k2", "v2")];
    let opts = PublishOptions {
        message_expiry_secs: Some(300),
        content_type: Some("application/json"),
        utf8_payload: true,
        response_topic: Some("p/reply"),
        correlation_data: Some(b"\x01\x02corr"),
        user_properties: &users,
        ..NONE
    };
    publ.publish("p/req", b"{\"a\":1}", QoS::ExactlyOnce, &opts)
        .await
        .unwrap();
    // mosquitto forwards a QoS 2 message once the PUBREL arrives.
    assert_eq!(drain_acks(&mut publ).await, vec![0]);
    let m = next_message(&mut sub, WAIT).await.unwrap();
    assert_eq!(m.text(), "{\"a\":1}");
    assert_eq!(m.content_type.as_deref(), Some("application/json"));
    assert_eq!(m.response_topic.as_deref(), Some("p/reply"));
    assert_eq!(m.correlation.as_deref(), Some(&b"\x01\x02corr"[..]));
    assert_eq!(
        m.user,
        vec![("k1".into(), "v1".into()), ("k2".into(), "v2".into())]
    );
    assert_eq!(m.utf8, Some(1));
    let expiry = m.expiry.expect("expiry forwarded");
    assert!((295..=300).contains(&expiry), "remaining expiry {expiry}");

    // Topic alias: the second and third publish leave the topic out; the broker
    // resolves it, so the subscriber sees the full topic every time.
    let alias = PublishOptions {
        topic_alias: Some(3),
        ..NONE
    };
    for i in 0..3 {
        publ.publish(
            "p/aliased/topic",
            format!("al{i}").as_bytes(),
            QoS::AtLeastOnce,
            &alias,
        )
        .await
        .unwrap();
    }
    let over = PublishOptions {
        topic_alias: Some(5),
        ..NONE
    };
    assert_eq!(
        publ.publish("p/x", b"", QoS::AtMostOnce, &over).await,
        Err(Error::BadTopicAlias)
    );
    drain_acks(&mut publ).await;
    for i in 0..3 {
        let m = next_message(&mut sub, WAIT)
            .await
            .unwrap_or_else(|| panic!("alias {i}: {}", broker.log()));
        assert_eq!(
            (m.topic.as_str(), m.text().to_string()),
            ("p/aliased/topic", format!("al{i}"))
        );
    }
    // The broker really holds our binding: a publish naming only the alias (empty
    // topic) reaches the subscriber under the full topic.
    publ.publish("", b"bare", QoS::AtLeastOnce, &alias)
        .await
        .unwrap();
    drain_acks(&mut publ).await;
    let m = next_message(&mut sub, WAIT).await.unwrap();
    assert_eq!((m.topic.as_str(), m.text()), ("p/aliased/topic", "bare"));

    // The broker's maximum packet size (2000) is enforced before sending.
    let big = vec![b'x'; 2500];
    assert_eq!(
        publ.publish("p/big", &big, QoS::AtLeastOnce, &NONE).await,
        Err(Error::TooLarge)
    );
    // Receive maximum 5: the sixth QoS 1 publish waits in the queue, not on the wire.
    for i in 0..8 {
        let p = publ
            .publish("p/rm", format!("{i}").as_bytes(), QoS::AtLeastOnce, &NONE)
            .await
            .unwrap();
        assert_eq!(
            matches!(p, Publication::Queued),
            i >= 5,
            "publish {i}: {p:?}"
        );
        assert!(publ.inflight_len() <= 5);
    }
    drain_acks(&mut publ).await;
    for i in 0..8 {
        assert_eq!(
            next_message(&mut sub, WAIT).await.unwrap().text(),
            format!("{i}")
        );
    }
}

async fn persistent_session_resumes(v: ProtocolVersion) {
    let broker = Broker::start("");
    let (mut ms, mut mp) = (Mem::new(), Mem::new());
    let mut cfg = config(v, "persist-sub");
    cfg.session = SessionMode::Persistent { expiry_secs: 600 };
    {
        let mut sub = client(cfg, broker.port, &mut ms, QueuePolicy::Reject);
        connected(&mut sub).await;
        subscribe(&mut sub, "ps/#", QoS::AtLeastOnce).await;
        sub.disconnect().await;
    }
    let mut publ = client(
        config(v, "persist-pub"),
        broker.port,
        &mut mp,
        QueuePolicy::Reject,
    );
    connected(&mut publ).await;
    for i in 0..20 {
        publ.publish("ps/x", format!("{i}").as_bytes(), QoS::AtLeastOnce, &NONE)
            .await
            .unwrap();
    }
    drain_acks(&mut publ).await;
    let mut ms2 = Mem::new();
    let mut sub = client(cfg, broker.port, &mut ms2, QueuePolicy::Reject);
    assert!(connected(&mut sub).await, "session present");
    for i in 0..20 {
        assert_eq!(
            next_message(&mut sub, WAIT).await.unwrap().text(),
            format!("{i}")
        );
    }
}

#[tokio::test]
async fn persistent_session_resumes_v311() {
    persistent_session_resumes(ProtocolVersion::V3_1_1).await;
}

#[tokio::test]
async fn persistent_session_resumes_v5() {
    persistent_session_resumes(ProtocolVersion::V5).await;
}

/// paho-mqtt subscribes, we publish; we subscribe, paho publishes.
async fn cross_check_with_paho(v: ProtocolVersion) {
    let broker = Broker::start("");
    let py = python();
    let mut paho_sub = Command::new(&py)
        .arg(paho_script())
        .args([
            "sub",
            &broker.port.to_string(),
            protocol_arg(v),
            "x/ours",
            "1",
            "3",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(paho_sub.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "READY");

    let (mut mp, mut ms) = (Mem::new(), Mem::new());
    let mut ours = client(config(v, "ours"), broker.port, &mut mp, QueuePolicy::Reject);
    connected(&mut ours).await;
    let users = [("origin", "ioto")];
    let opts = PublishOptions {
        user_properties: &users,
        content_type: Some("text/plain"),
        ..NONE
    };
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        ours.publish("x/ours", format!("hello{i}").as_bytes(), qos, &opts)
            .await
            .unwrap();
    }
    drain_acks(&mut ours).await;
    let got: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    let extra = if v.is_v5() {
        "\torigin=ioto\ttext/plain"
    } else {
        ""
    };
    let want: Vec<String> = (0..3)
        .map(|i| format!("x/ours\thello{i}\t{}{extra}", i.min(1)))
        .collect();
    assert_eq!(got, want);
    assert!(paho_sub.wait().unwrap().success());

    let mut sub = client(
        config(v, "ours-sub"),
        broker.port,
        &mut ms,
        QueuePolicy::Reject,
    );
    connected(&mut sub).await;
    subscribe(&mut sub, "x/paho/#", QoS::ExactlyOnce).await;
    let status = Command::new(&py)
        .arg(paho_script())
        .args([
            "pub",
            &broker.port.to_string(),
            protocol_arg(v),
            "x/paho/t",
            "2",
            "p0",
            "p1",
            "p2",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    for i in 0..3 {
        let m = next_message(&mut sub, WAIT).await.unwrap();
        assert_eq!(
            (m.topic.as_str(), m.text().to_string(), m.qos),
            ("x/paho/t", format!("p{i}"), QoS::ExactlyOnce)
        );
    }
}

#[tokio::test]
async fn cross_check_with_paho_v311() {
    cross_check_with_paho(ProtocolVersion::V3_1_1).await;
}

#[tokio::test]
async fn cross_check_with_paho_v5() {
    cross_check_with_paho(ProtocolVersion::V5).await;
}

/// Credentials against a broker that requires them: the right ones connect, wrong
/// ones are refused with the broker's return / reason code.
async fn credentials(v: ProtocolVersion) {
    let pw = std::env::temp_dir().join(format!(
        "ioto-mqtt-pw-{}-{}",
        std::process::id(),
        protocol_arg(v)
    ));
    let made = Command::new("mosquitto_passwd")
        .arg("-b")
        .arg("-c")
        .arg(&pw)
        .args(["device", "s3cret"])
        .status()
        .expect("mosquitto_passwd (package mosquitto) is needed");
    assert!(made.success());
    let broker = Broker::start(&format!(
        "allow_anonymous false\npassword_file {}",
        pw.display()
    ));
    let (mut good, mut bad) = (Mem::new(), Mem::new());
    let mut cfg = config(v, "cred-ok");
    cfg.username = Some("device");
    cfg.password = Some(b"s3cret");
    let mut ok = client(cfg, broker.port, &mut good, QueuePolicy::Reject);
    connected(&mut ok).await;
    let mut cfg = config(v, "cred-bad");
    cfg.username = Some("device");
    cfg.password = Some(b"wrong");
    let mut refused = client(cfg, broker.port, &mut bad, QueuePolicy::Reject);
    // mosquitto answers a wrong password with "not authorized" (5.0: 0x87, 3.1.1: 5).
    let want = if v.is_v5() { 0x87 } else { 5 };
    let ev = tokio::time::timeout(WAIT, refused.poll())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ev,
        ioto_transport::mqtt::client::Event::ConnectFailed(
            ioto_transport::mqtt::client::ConnectFailure::Refused(
                ioto_transport::mqtt::ReasonCode(want)
            )
        )
    );
    let _ = std::fs::remove_file(pw);
}

#[tokio::test]
async fn credentials_v311() {
    credentials(ProtocolVersion::V3_1_1).await;
}

#[tokio::test]
async fn credentials_v5() {
    credentials(ProtocolVersion::V5).await;
}
