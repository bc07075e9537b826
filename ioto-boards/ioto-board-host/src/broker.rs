//! An in-process MQTT broker for the host demo, over [`rumqttd`] 0.20.
//!
//! [`EmbeddedBroker::start`] builds a rumqttd configuration in code (no config
//! file), listens on `127.0.0.1` on ephemeral ports — one for MQTT 3.1.1 (v4), one
//! for MQTT 5 — and returns once both ports accept TCP connections.
//!
//! Settings: no authentication, no TLS, persistent sessions (`clean_session =
//! false`) honoured by rumqttd's router, QoS 0/1 with a generous in-flight window,
//! and a maximum payload of [`BrokerOptions::max_payload`] (256 KiB by default).
//! Clients may publish to any topic (rumqttd's `dynamic_filters`).
//!
//! # Lifetime
//!
//! rumqttd 0.20 has no shutdown: `Broker::start` blocks forever on its server
//! threads, and its router thread loops until the process exits. The broker is
//! therefore run on its own detached thread, and **it lives until the process
//! exits**; dropping an [`EmbeddedBroker`] does not stop it. Start one broker per
//! process (or per test) and let process exit reclaim it.
//!
//! # Logging
//!
//! rumqttd logs through `tracing` (targets `rumqttd::*`). This module installs no
//! subscriber, so nothing is printed unless the embedding program installs one —
//! such a program should filter `rumqttd=off` (or `warn`) to keep it quiet.
//!
//! # Ports
//!
//! rumqttd cannot report the address it bound, so a free port is found by binding
//! a `std` listener to port 0, reading the port and dropping the listener before
//! handing the port to rumqttd. Another process could take the port in between; the
//! readiness wait then fails with [`BrokerError::NotReady`] rather than hanging.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

/// Tunables of an [`EmbeddedBroker`]; [`Default`] suits the demo.
#[derive(Clone, Debug)]
pub struct BrokerOptions {
    /// Largest accepted MQTT payload, bytes (rumqttd `max_payload_size`).
    pub max_payload: usize,
    /// In-flight QoS 1/2 messages per connection (rumqttd `max_inflight_count`).
    pub max_inflight: usize,
    /// Concurrent client connections accepted by the router.
    pub max_connections: usize,
    /// How long a new TCP connection may take to send CONNECT, milliseconds.
    pub connect_timeout_ms: u16,
    /// Bounded wait for the listeners to accept connections in [`EmbeddedBroker::start_with`].
    pub ready_timeout: Duration,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        Self {
            max_payload: 256 * 1024,
            max_inflight: 256,
            max_connections: 64,
            connect_timeout_ms: 10_000,
            ready_timeout: Duration::from_secs(5),
        }
    }
}

/// Why an [`EmbeddedBroker`] could not be started.
#[derive(Debug)]
pub enum BrokerError {
    /// No free local port could be reserved.
    Port(io::Error),
    /// The broker thread could not be spawned.
    Spawn(io::Error),
    /// The options are out of range (message says which).
    Options(&'static str),
    /// The broker thread ended before its listeners came up (message from rumqttd,
    /// or a note that it panicked).
    Exited(String),
    /// The listeners did not accept connections within the ready timeout.
    NotReady {
        /// The address that was still refusing connections.
        addr: SocketAddr,
        /// How long was waited.
        waited: Duration,
    },
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Port(e) => write!(f, "cannot reserve a local port: {e}"),
            Self::Spawn(e) => write!(f, "cannot spawn the broker thread: {e}"),
            Self::Options(why) => write!(f, "bad broker options: {why}"),
            Self::Exited(why) => write!(f, "broker stopped during start-up: {why}"),
            Self::NotReady { addr, waited } => {
                write!(f, "broker not accepting on {addr} after {waited:?}")
            }
        }
    }
}

impl std::error::Error for BrokerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Port(e) | Self::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// A running in-process MQTT broker (see the [module docs](self) for its lifetime).
#[derive(Debug)]
pub struct EmbeddedBroker {
    v4: SocketAddr,
    v5: SocketAddr,
}

impl EmbeddedBroker {
    /// Starts a broker with [`BrokerOptions::default`] and waits until it accepts connections.
    pub fn start() -> Result<Self, BrokerError> {
        Self::start_with(&BrokerOptions::default())
    }

    /// Starts a broker with `opts` and waits (at most `opts.ready_timeout`) until
    /// both its MQTT 3.1.1 and MQTT 5 listeners accept TCP connections.
    pub fn start_with(opts: &BrokerOptions) -> Result<Self, BrokerError> {
        if opts.max_payload < 1024 {
            return Err(BrokerError::Options("max_payload must be at least 1024"));
        }
        if opts.max_inflight == 0 || opts.max_connections == 0 {
            return Err(BrokerError::Options(
                "max_inflight and max_connections must be non-zero",
            ));
        }
        let v4 = free_local_addr().map_err(BrokerError::Port)?;
        let v5 = free_local_addr().map_err(BrokerError::Port)?;
        let config = broker_config(opts, v4, v5);

        let (done_tx, done_rx) = mpsc::channel::<String>();
        thread::Builder::new()
            .name("ioto-mqtt-broker".into())
            .spawn(move || {
                let mut broker = Broker::new(config);
                let why = match broker.start() {
                    Ok(()) => "all listeners ended (port taken?)".to_string(),
                    Err(e) => e.to_string(),
                };
                let _ = done_tx.send(why);
            })
            .map_err(BrokerError::Spawn)?;

        let start = Instant::now();
        for addr in [v4, v5] {
            wait_accepting(addr, start, opts.ready_timeout, &done_rx)?;
        }
        Ok(Self { v4, v5 })
    }

    /// The MQTT 3.1.1 (v4) port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.v4.port()
    }

    /// The MQTT 3.1.1 (v4) URL, `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://{}", self.v4)
    }

    /// The MQTT 3.1.1 (v4) listen address.
    pub fn addr(&self) -> SocketAddr {
        self.v4
    }

    /// The MQTT 5 port on 127.0.0.1.
    pub fn v5_port(&self) -> u16 {
        self.v5.port()
    }

    /// The MQTT 5 URL, `mqtt://127.0.0.1:PORT`.
    pub fn v5_url(&self) -> String {
        format!("mqtt://{}", self.v5)
    }
}

/// Reserves a free loopback port by binding port 0, then releases it.
fn free_local_addr() -> io::Result<SocketAddr> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    l.local_addr()
}

fn broker_config(opts: &BrokerOptions, v4: SocketAddr, v5: SocketAddr) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: opts.connect_timeout_ms,
        max_payload_size: opts.max_payload,
        max_inflight_count: opts.max_inflight,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = |name: &str, listen: SocketAddr| ServerSettings {
        name: name.to_string(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: connections.clone(),
    };
    // A commit-log segment must hold several maximal payloads; rumqttd keeps
    // `max_segment_count` segments per topic filter in memory.
    let segment = (opts.max_payload * 4).max(1024 * 1024);
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: opts.max_connections,
            max_outgoing_packet_count: 200,
            max_segment_size: segment,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_string(), server("ioto-v4", v4))])),
        v5: Some(HashMap::from([("1".to_string(), server("ioto-v5", v5))])),
        ..Config::default()
    }
}

/// Polls `addr` with TCP connects until one succeeds, the broker thread ends, or
/// `timeout` (measured from `start`) passes.
fn wait_accepting(
    addr: SocketAddr,
    start: Instant,
    timeout: Duration,
    done: &mpsc::Receiver<String>,
) -> Result<(), BrokerError> {
    loop {
        match done.try_recv() {
            Ok(why) => return Err(BrokerError::Exited(why)),
            Err(mpsc::TryRecvError::Disconnected) => {
                return Err(BrokerError::Exited("broker thread panicked".into()));
            }
            Err(mpsc::TryRecvError::Empty) => {}
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(BrokerError::NotReady { addr, waited });
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Real-peer tests: the rumqttc client talks to the embedded rumqttd over TCP.
    use super::*;
    use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};

    const WAIT: Duration = Duration::from_secs(10);

    fn options(broker: &EmbeddedBroker, id: &str, clean: bool) -> MqttOptions {
        let mut o = MqttOptions::new(id, "127.0.0.1", broker.port());
        o.set_keep_alive(Duration::from_secs(30))
            .set_clean_session(clean)
            .set_max_packet_size(512 * 1024, 512 * 1024);
        o
    }

    /// Polls until an incoming packet satisfies `want`; panics on error or after `WAIT`.
    async fn until<T>(el: &mut EventLoop, mut want: impl FnMut(&Packet) -> Option<T>) -> T {
        let fut = async {
            loop {
                if let Event::Incoming(p) = el.poll().await.unwrap()
                    && let Some(t) = want(&p)
                {
                    return t;
                }
            }
        };
        tokio::time::timeout(WAIT, fut).await.unwrap()
    }

    /// Drives the event loop until the connection closes after a DISCONNECT.
    async fn drain_until_closed(el: &mut EventLoop) {
        let fut = async { while el.poll().await.is_ok() {} };
        tokio::time::timeout(WAIT, fut).await.unwrap();
    }

    #[test]
    fn url_and_port_agree() {
        let b = EmbeddedBroker::start().unwrap();
        assert_ne!(b.port(), 0);
        assert_ne!(b.port(), b.v5_port());
        assert_eq!(b.url(), format!("mqtt://127.0.0.1:{}", b.port()));
        assert_eq!(b.v5_url(), format!("mqtt://127.0.0.1:{}", b.v5_port()));
        // Both listeners accept TCP (start() waited for it).
        TcpStream::connect(b.addr()).unwrap();
        TcpStream::connect((Ipv4Addr::LOCALHOST, b.v5_port())).unwrap();
    }

    #[test]
    fn rejects_out_of_range_options() {
        let opts = BrokerOptions {
            max_payload: 10,
            ..BrokerOptions::default()
        };
        assert!(matches!(
            EmbeddedBroker::start_with(&opts),
            Err(BrokerError::Options(_))
        ));
    }

    #[tokio::test]
    async fn qos1_round_trip_with_64k_payload() {
        let b = EmbeddedBroker::start().unwrap();
        let (client, mut el) = AsyncClient::new(options(&b, "rt-1", true), 16);
        client
            .subscribe("ioto/rt/#", QoS::AtLeastOnce)
            .await
            .unwrap();
        let granted = until(&mut el, |p| match p {
            Packet::SubAck(s) => Some(s.return_codes.clone()),
            _ => None,
        })
        .await;
        assert_eq!(
            granted,
            vec![rumqttc::SubscribeReasonCode::Success(QoS::AtLeastOnce)]
        );

        let payload: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
        client
            .publish("ioto/rt/a", QoS::AtLeastOnce, false, payload.clone())
            .await
            .unwrap();
        let (mut acked, mut got) = (false, None);
        until(&mut el, |p| {
            match p {
                Packet::PubAck(_) => acked = true,
                Packet::Publish(p) => got = Some(p.clone()),
                _ => {}
            }
            (acked && got.is_some()).then_some(())
        })
        .await;
        let got = got.unwrap();
        assert_eq!(got.topic, "ioto/rt/a");
        assert_eq!(got.qos, QoS::AtLeastOnce);
        assert_eq!(got.payload.as_ref(), payload.as_slice());
    }

    #[tokio::test]
    async fn persistent_session_gets_message_sent_while_offline() {
        let b = EmbeddedBroker::start().unwrap();
        // 1. Persistent subscriber subscribes at QoS 1, then disconnects.
        let (sub, mut sub_el) = AsyncClient::new(options(&b, "persist-sub", false), 16);
        sub.subscribe("ioto/p/+", QoS::AtLeastOnce).await.unwrap();
        until(&mut sub_el, |p| {
            matches!(p, Packet::SubAck(_)).then_some(())
        })
        .await;
        sub.disconnect().await.unwrap();
        drain_until_closed(&mut sub_el).await;
        tokio::time::sleep(Duration::from_millis(300)).await;

        // 2. Another client publishes at QoS 1 while the subscriber is away.
        let (publ, mut pub_el) = AsyncClient::new(options(&b, "persist-pub", true), 16);
        publ.publish("ioto/p/x", QoS::AtLeastOnce, false, "held")
            .await
            .unwrap();
        until(&mut pub_el, |p| {
            matches!(p, Packet::PubAck(_)).then_some(())
        })
        .await;

        // 3. The subscriber comes back: session present, message delivered.
        let (_sub2, mut sub2_el) = AsyncClient::new(options(&b, "persist-sub", false), 16);
        let present = until(&mut sub2_el, |p| match p {
            Packet::ConnAck(c) => Some(c.session_present),
            _ => None,
        })
        .await;
        assert!(
            present,
            "broker must keep the session (clean_session = false)"
        );
        let got = until(&mut sub2_el, |p| match p {
            Packet::Publish(p) => Some(p.clone()),
            _ => None,
        })
        .await;
        assert_eq!(got.topic, "ioto/p/x");
        assert_eq!(got.payload.as_ref(), b"held");
    }

    #[tokio::test]
    async fn v5_listener_round_trip() {
        use rumqttc::v5::mqttbytes::QoS as Q5;
        use rumqttc::v5::mqttbytes::v5::Packet as P5;
        use rumqttc::v5::{AsyncClient as C5, Event as E5, MqttOptions as O5};

        let b = EmbeddedBroker::start().unwrap();
        let mut o = O5::new("v5-1", "127.0.0.1", b.v5_port());
        o.set_keep_alive(Duration::from_secs(30));
        let (client, mut el) = C5::new(o, 16);
        client.subscribe("ioto/v5", Q5::AtLeastOnce).await.unwrap();
        let fut = async {
            let mut published = false;
            loop {
                match el.poll().await.unwrap() {
                    E5::Incoming(P5::SubAck(_)) if !published => {
                        client
                            .publish("ioto/v5", Q5::AtLeastOnce, false, "five")
                            .await
                            .unwrap();
                        published = true;
                    }
                    E5::Incoming(P5::Publish(p)) => return p,
                    _ => {}
                }
            }
        };
        let p = tokio::time::timeout(WAIT, fut).await.unwrap();
        assert_eq!(p.topic.as_ref(), b"ioto/v5");
        assert_eq!(p.payload.as_ref(), b"five");
    }
}
