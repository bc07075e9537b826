//! Shared helpers of the MQTT test suites: real brokers, a Python peer, and a client
//! wired to tokio.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

pub mod broker;
pub mod proxy;

pub use broker::Broker;

use ioto_board_host::platform::{HostDelay, TokioNet};
use ioto_board_host::{HostClock, HostEntropy};
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_transport::mqtt::client::{Backoff, Buffers, Client, ClientConfig, Event};
use ioto_transport::mqtt::connector::TcpConnector;
use ioto_transport::mqtt::{ProtocolVersion, QoS, SubscribeOptions, Subscription};
use std::path::PathBuf;
use std::time::Duration;

/// Both protocol versions, for suites that run against each.
pub const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];

pub type Connector = TcpConnector<'static, TokioNet, TokioNet>;
pub type TestClient<'a> = Client<'a, Connector, RamQueue<'a>, HostDelay, HostClock, HostEntropy>;

/// A connector to 127.0.0.1:`port` that lives for the whole test.
pub fn connector(port: u16) -> &'static Connector {
    static NET: TokioNet = TokioNet;
    Box::leak(Box::new(TcpConnector::new(&NET, &NET, "127.0.0.1", port)))
}

/// The memory one client works in.
pub struct Mem {
    rx: Vec<u8>,
    tx: Vec<u8>,
    inflight: Vec<u8>,
    ids: Vec<u16>,
    queue: Vec<u8>,
}

impl Mem {
    pub fn new() -> Self {
        Self::with_queue(256 * 1024)
    }

    pub fn with_queue(queue_bytes: usize) -> Self {
        Mem {
            rx: vec![0; 8192],
            tx: vec![0; 8192],
            inflight: vec![0; 64 * 1024],
            ids: vec![0; 64],
            queue: vec![0; queue_bytes],
        }
    }
}

/// A config with test-friendly timings (fast reconnects).
pub fn config(version: ProtocolVersion, client_id: &str) -> ClientConfig<'_> {
    let mut cfg = ClientConfig::new(version, client_id);
    cfg.backoff = Backoff {
        base_ms: 50,
        max_ms: 500,
    };
    cfg.connect_timeout_ms = 3_000;
    cfg
}

pub fn client<'a>(
    cfg: ClientConfig<'a>,
    port: u16,
    mem: &'a mut Mem,
    policy: QueuePolicy,
) -> TestClient<'a> {
    let buffers = Buffers {
        rx: &mut mem.rx,
        tx: &mut mem.tx,
        inflight: &mut mem.inflight,
        incoming_qos2: &mut mem.ids,
    };
    let queue = OfflineQueue::new(RamQueue::new(&mut mem.queue, 100_000), policy);
    Client::new(
        cfg,
        connector(port),
        buffers,
        queue,
        HostDelay,
        HostClock::new(),
        HostEntropy::default(),
    )
}

/// A client whose offline queue lives in `queue` and holds at most `max_records`.
pub fn client_with_queue<'a>(
    cfg: ClientConfig<'a>,
    port: u16,
    mem: &'a mut Mem,
    queue: &'a mut [u8],
    max_records: usize,
    policy: QueuePolicy,
) -> TestClient<'a> {
    let buffers = Buffers {
        rx: &mut mem.rx,
        tx: &mut mem.tx,
        inflight: &mut mem.inflight,
        incoming_qos2: &mut mem.ids,
    };
    let queue = OfflineQueue::new(RamQueue::new(queue, max_records), policy);
    Client::new(
        cfg,
        connector(port),
        buffers,
        queue,
        HostDelay,
        HostClock::new(),
        HostEntropy::default(),
    )
}

/// Polls (through reconnects) until nothing is queued or in flight.
pub async fn drain_acks_through_reconnects(c: &mut TestClient<'_>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !c.is_idle() {
        tokio::time::timeout_at(deadline, c.poll())
            .await
            .expect("queue not drained")
            .unwrap();
    }
}

/// Polls until connected; panics on timeout.
pub async fn connected(c: &mut TestClient<'_>) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, c.poll())
            .await
            .expect("connect timed out")
            .unwrap();
        if let Event::Connected { session_present } = ev {
            return session_present;
        }
    }
}

/// Subscribes to one filter and polls until the SUBACK; returns the granted codes.
pub async fn subscribe(c: &mut TestClient<'_>, filter: &str, qos: QoS) -> Vec<u8> {
    let subs = [Subscription {
        filter,
        options: SubscribeOptions::qos(qos),
    }];
    let id = c.subscribe(&subs, Default::default()).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), c.poll())
            .await
            .expect("suback timed out")
            .unwrap()
        {
            Event::Subscribed(ack) if ack.packet_id == id => return ack.reason_codes.to_vec(),
            Event::Subscribed(_) | Event::Published { .. } => {}
            other => panic!("unexpected event while subscribing: {other:?}"),
        }
    }
}

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Python with the pinned peers: `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`.
/// Fails loudly when missing.
pub fn python() -> PathBuf {
    let p = std::env::var_os("IOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python3"));
    assert!(
        p.exists(),
        "Python for the test peers not found at {} (set IOTO_PYTHON or run `cargo xtask doctor --install`)",
        p.display()
    );
    let ok = std::process::Command::new(&p)
        .args(["-c", "import paho.mqtt"])
        .status()
        .map(|s| s.success());
    assert!(
        ok.unwrap_or(false),
        "paho-mqtt missing in {} — run `cargo xtask doctor --install`",
        p.display()
    );
    p
}

/// The Python paho-mqtt peer script.
pub fn paho_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/mqtt_peer.py")
}

pub fn protocol_arg(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::V3_1_1 => "3.1.1",
        ProtocolVersion::V5 => "5",
    }
}

/// An owned copy of a received message.
#[derive(Debug, Clone, PartialEq)]
pub struct Msg {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
    pub user: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub response_topic: Option<String>,
    pub correlation: Option<Vec<u8>>,
    pub expiry: Option<u32>,
    pub utf8: Option<u8>,
}

impl Msg {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.payload).unwrap()
    }
}

/// Polls until a message arrives (other events are skipped, disconnections fail the
/// test); `None` on timeout.
pub async fn next_message(c: &mut TestClient<'_>, timeout: Duration) -> Option<Msg> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let ev = match tokio::time::timeout_at(deadline, c.poll()).await {
            Ok(ev) => ev.unwrap(),
            Err(_) => return None,
        };
        match ev {
            Event::Message(p) => {
                let pr = p.properties;
                return Some(Msg {
                    topic: p.topic.to_string(),
                    payload: p.payload.to_vec(),
                    qos: p.qos,
                    retain: p.retain,
                    user: pr
                        .user
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    content_type: pr.content_type.map(str::to_string),
                    response_topic: pr.response_topic.map(str::to_string),
                    correlation: pr.correlation_data.map(<[u8]>::to_vec),
                    expiry: pr.message_expiry_interval,
                    utf8: pr.payload_format_indicator,
                });
            }
            Event::Disconnected(r) => panic!("unexpected disconnect: {r:?}"),
            _ => {}
        }
    }
}

/// Polls until every QoS 1/2 publish is acknowledged; returns the reason codes seen.
pub async fn drain_acks(c: &mut TestClient<'_>) -> Vec<u8> {
    let mut reasons = Vec::new();
    while !c.is_idle() {
        match tokio::time::timeout(Duration::from_secs(10), c.poll())
            .await
            .expect("acks timed out")
            .unwrap()
        {
            Event::Published { reason, .. } => reasons.push(reason.0),
            Event::Disconnected(r) => panic!("unexpected disconnect: {r:?}"),
            _ => {}
        }
    }
    reasons
}
