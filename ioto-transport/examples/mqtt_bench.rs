//! MQTT publish throughput through a local mosquitto: ioto-transport vs rumqttc, in the
//! same run, same broker, same settings (MQTT 3.1.1, 64-byte payloads, 64 in flight).
//! `cargo xtask bench transport` runs it; it is a report, not a test.
//!
//! ```text
//! cargo run --release -p ioto-transport --features std --example mqtt_bench [-- --msgs N --rounds R]
//! ```
//!
//! QoS 0: time to publish N messages plus one QoS 1 sentinel and get the sentinel's
//! PUBACK (the broker handles a connection's packets in order, so all N were taken in).
//! QoS 1: time until all N PUBACKs arrived. Each case runs `--rounds` times (7 by
//! default), the two clients alternating within a round and taking turns to go first;
//! every round gives one ratio. Prints `BENCH client=<ioto|rumqttc> qos=<n> …
//! median_msgs_per_s=<x>` lines and `BENCH client=ioto/rumqttc qos=<n> median_ratio=…
//! min_ratio=… max_ratio=…`, so one noisy run cannot decide.

#![allow(clippy::panic)]

#[path = "../tests/mqtt_support/broker.rs"]
#[allow(dead_code)]
mod broker;

use std::time::{Duration, Instant};

use ioto_board_host::platform::{HostDelay, TokioNet};
use ioto_board_host::{HostClock, HostEntropy};
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_transport::mqtt::client::{
    Buffers, Client, ClientConfig, Error, Event, Publication, PublishOptions,
};
use ioto_transport::mqtt::connector::TcpConnector;
use ioto_transport::mqtt::{ProtocolVersion, QoS};

const INFLIGHT: u16 = 64;
const PAYLOAD: [u8; 64] = [b'x'; 64];
const TOPIC: &str = "bench/t";

async fn ioto_run(port: u16, qos: QoS, msgs: u64) -> Duration {
    let net = TokioNet;
    let connector = TcpConnector::new(&net, &net, "127.0.0.1", port);
    let mut cfg = ClientConfig::new(ProtocolVersion::V3_1_1, "bench-ioto");
    cfg.max_inflight = INFLIGHT;
    let (mut rx, mut tx, mut inflight, mut ids, mut q) = (
        vec![0u8; 4096],
        vec![0u8; 4096],
        vec![0u8; 64 * 1024],
        vec![0u16; 64],
        vec![0u8; 64 * 1024],
    );
    let buffers = Buffers {
        rx: &mut rx,
        tx: &mut tx,
        inflight: &mut inflight,
        incoming_qos2: &mut ids,
    };
    let queue = OfflineQueue::new(RamQueue::new(&mut q, 256), QueuePolicy::Reject);
    let mut c = Client::new(
        cfg,
        &connector,
        buffers,
        queue,
        HostDelay,
        HostClock::new(),
        HostEntropy::default(),
    );
    while !matches!(c.poll().await, Ok(Event::Connected { .. })) {}
    let opts = PublishOptions::default();
    let start = Instant::now();
    let (mut sent, mut acked) = (0u64, 0u64);
    let sentinel = u64::from(qos == QoS::AtMostOnce);
    let acks_wanted = if qos == QoS::AtMostOnce { 1 } else { msgs };
    while acked < acks_wanted {
        if sent < msgs + sentinel {
            let q = if sent < msgs { qos } else { QoS::AtLeastOnce };
            match c.publish(TOPIC, &PAYLOAD, q, &opts).await {
                Ok(Publication::Sent { .. }) => {
                    sent += 1;
                    continue;
                }
                Ok(Publication::Queued) => sent += 1,
                Err(Error::QueueFull) => {}
                other => panic!("publish: {other:?}"),
            }
        }
        if let Event::Published { .. } = c.poll().await.expect("poll") {
            acked += 1;
        }
    }
    let elapsed = start.elapsed();
    c.disconnect().await;
    elapsed
}

async fn rumqttc_run(port: u16, qos: QoS, msgs: u64) -> Duration {
    use rumqttc::{AsyncClient, Event as REvent, MqttOptions, Packet, QoS as RQoS};
    let mut opts = MqttOptions::new("bench-rumqttc", "127.0.0.1", port);
    opts.set_inflight(INFLIGHT)
        .set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(opts, 1024);
    loop {
        if let REvent::Incoming(Packet::ConnAck(_)) = eventloop.poll().await.expect("connect") {
            break;
        }
    }
    let rq = if qos == QoS::AtMostOnce {
        RQoS::AtMostOnce
    } else {
        RQoS::AtLeastOnce
    };
    let start = Instant::now();
    let producer = tokio::spawn(async move {
        for _ in 0..msgs {
            client
                .publish(TOPIC, rq, false, PAYLOAD.to_vec())
                .await
                .expect("publish");
        }
        if rq == RQoS::AtMostOnce {
            client
                .publish(TOPIC, RQoS::AtLeastOnce, false, PAYLOAD.to_vec())
                .await
                .expect("publish");
        }
        client
    });
    let acks_wanted = if qos == QoS::AtMostOnce { 1 } else { msgs };
    let mut acked = 0;
    while acked < acks_wanted {
        if let REvent::Incoming(Packet::PubAck(_)) = eventloop.poll().await.expect("eventloop") {
            acked += 1;
        }
    }
    let elapsed = start.elapsed();
    let client = producer.await.expect("producer");
    let _ = client.disconnect().await;
    elapsed
}

/// Sorts `values` and returns their median (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let msgs: u64 = args
        .iter()
        .position(|a| a == "--msgs")
        .and_then(|i| args.get(i + 1))
        .map_or(20_000, |n| n.parse().expect("--msgs N"));
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .map_or(7, |n| n.parse().expect("--rounds N"));
    let broker = broker::Broker::start("");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Several rounds, the two clients alternating (and alternating which goes first),
    // so that a noisy moment of the machine hits both sides alike; each round gives one
    // ratio, and the median ratio with its spread is the result.
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let mut ratios = Vec::new();
        let (mut ioto_rates, mut rumqttc_rates) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let run = |name: &str| {
                let took = rt.block_on(async {
                    match name {
                        "ioto" => ioto_run(broker.port, qos, msgs).await,
                        _ => rumqttc_run(broker.port, qos, msgs).await,
                    }
                });
                msgs as f64 / took.as_secs_f64()
            };
            let (ioto, rumqttc) = if round % 2 == 0 {
                let a = run("ioto");
                (a, run("rumqttc"))
            } else {
                let b = run("rumqttc");
                (run("ioto"), b)
            };
            ioto_rates.push(ioto);
            rumqttc_rates.push(rumqttc);
            ratios.push(ioto / rumqttc);
        }
        for (name, rates) in [("ioto", &mut ioto_rates), ("rumqttc", &mut rumqttc_rates)] {
            println!(
                "BENCH client={name} qos={} msgs={msgs} rounds={rounds} median_msgs_per_s={:.0}",
                qos as u8,
                median(rates)
            );
        }
        let med = median(&mut ratios);
        let (lo, hi) = (ratios[0], ratios[ratios.len() - 1]);
        println!(
            "BENCH client=ioto/rumqttc qos={} rounds={rounds} median_ratio={med:.2} min_ratio={lo:.2} max_ratio={hi:.2}",
            qos as u8
        );
    }
    // RAM per connection = this state + the buffers the application lends (here
    // rx 4 KiB + tx 4 KiB + in-flight 64 KiB + 64 QoS 2 ids + queue 64 KiB);
    // `cargo xtask bench transport` also reports the state on thumbv7em.
    type Ioto<'a> = Client<
        'a,
        TcpConnector<'a, TokioNet, TokioNet>,
        RamQueue<'a>,
        HostDelay,
        HostClock,
        HostEntropy,
    >;
    println!(
        "BENCH client=ioto host_state_bytes={}",
        std::mem::size_of::<Ioto<'_>>()
    );
}
