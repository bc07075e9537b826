//! The full anomaly monitor (`examples/common/anomaly_monitor.rs`) as firmware on the
//! virtual boards, end to end against the test's own services: the real LIS3DH driver
//! on the simulated chip of a machine that develops an imbalance at window 150 →
//! features → detectors → policy → outbox → MQTT over verified TLS to mosquitto; the
//! escalation over verified HTTPS to llmock, scripted to answer with a
//! `set_sensitivity` tool call → the call applied → the new state reported.
//!
//! `cargo xtask hil-test` makes a CA and server certificates for `broker.hil.test` and
//! `llm.hil.test` (openssl), starts mosquitto and llmock with them on loopback ports,
//! forwards `10.0.2.100:8883` and `10.0.2.100:443` to them (`restrict=on`), and passes
//! on the command line: `broker=broker.hil.test:8883 llm=https://llm.hil.test/v1
//! ca=<CA certificate, DER in hex> now=<unix time> device=<name> nonce=<n>`. The
//! firmware resolves only those two names, to 10.0.2.100. After the run xtask checks
//! that the broker got the telemetry and the state change to the scripted sensitivity,
//! and that llmock got one request valid against the OpenAI spec (xtask/src/qemu_tls.rs).
#![no_std]
#![no_main]

extern crate alloc;

use core::cell::Cell;
use core::fmt::Write as _;
use core::net::{IpAddr, Ipv4Addr};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use embassy_futures::select::{Either, select};
use embassy_net::{Config, Ipv4Address, Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_time::Duration;
use embedded_io::ErrorKind;
use ioto_board_qemu::net;
use ioto_board_qemu::{QemuClock, args, block_on, entry, harness, println, tests};
use ioto_core::agent::{Metrics, Topics};
use ioto_core::outbox::RamQueue;
use ioto_core::sensor::FaultKind;
use ioto_core::{Clock, Instant};

#[path = "../../../common/anomaly_monitor.rs"]
#[allow(dead_code)] // `Pacing::RealTime` is the physical boards'.
mod monitor;

#[path = "agent_common/sim.rs"]
#[allow(dead_code)]
mod sim;

/// The imbalance starts with the first sample of this window.
const FAULT_WINDOW: u64 = 150;
/// Windows at most (the answer is applied well before).
const MAX_WINDOWS: u32 = 1_200;
/// Board time between windows: lets the network tasks run (1 ms = 10^6 instructions).
const GAP: Duration = Duration::from_millis(2);

/// The sensor's clock: each read is the next sample at 400 Hz.
struct SampleClock(Cell<u64>);

impl Clock for SampleClock {
    fn now(&self) -> Instant {
        self.0.set(self.0.get() + sim::SAMPLE_US);
        Instant(self.0.get())
    }
}

/// The two names the firmware may look up; both are the services' address.
struct Hosts<'a> {
    names: [&'a str; 2],
}

impl embedded_nal_async::Dns for Hosts<'_> {
    type Error = ErrorKind;

    async fn get_host_by_name(
        &self,
        host: &str,
        _: embedded_nal_async::AddrType,
    ) -> Result<IpAddr, ErrorKind> {
        let [a, b, c, d] = net::SERVICES;
        if self.names.contains(&host) {
            Ok(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
        } else {
            Err(ErrorKind::NotFound)
        }
    }

    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::Unsupported)
    }
}

/// A string built at run time in a fixed buffer.
struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Text<N> {
    const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> core::fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        if end > N {
            return Err(core::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `name` followed by `suffix`.
fn joined(name: &str, suffix: &str) -> Text<96> {
    let mut t = Text::new();
    write!(t, "{name}{suffix}").unwrap_or_else(|_| panic!("`{name}` is too long"));
    t
}

/// The value of `key=` on the command line xtask passed.
fn arg<'l>(line: &'l str, key: &str) -> &'l str {
    args::value(line, key)
        .unwrap_or_else(|| panic!("`{key}=` missing from the command line `{line}`"))
}

/// Hex digits to bytes in `out`.
fn unhex<'o>(hex: &str, out: &'o mut [u8]) -> &'o [u8] {
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("`ca=` holds `{}`, not a lowercase hex digit", c as char),
    };
    let bytes = hex.as_bytes();
    assert!(
        bytes.len() % 2 == 0 && bytes.len() / 2 <= out.len(),
        "`ca=` has {} hex digits",
        bytes.len()
    );
    for (o, pair) in out.iter_mut().zip(bytes.chunks(2)) {
        *o = digit(pair[0]) << 4 | digit(pair[1]);
    }
    &out[..bytes.len() / 2]
}

/// The host part of `host:port` or `scheme://host[:port]/path`.
fn host_of(address: &str) -> &str {
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let rest = rest.split('/').next().unwrap_or(rest);
    rest.split(':').next().unwrap_or(rest)
}

/// Stops once the model's command was applied.
fn answered(m: &Metrics) -> bool {
    m.commands_applied >= 1
}

// What the run left for the suite's tests.
static RAN: AtomicBool = AtomicBool::new(false);
static ESCALATED: AtomicU32 = AtomicU32::new(0);
static ANSWERED: AtomicU32 = AtomicU32::new(0);
static FAILED_ESCALATIONS: AtomicU32 = AtomicU32::new(u32::MAX);
static APPLIED: AtomicU32 = AtomicU32::new(0);
static REJECTED: AtomicU32 = AtomicU32::new(u32::MAX);
static SENSITIVITY_MILLI: AtomicU32 = AtomicU32::new(1_000);
static DELIVERED: AtomicU32 = AtomicU32::new(0);
static STATES_DELIVERED: AtomicU32 = AtomicU32::new(0);
static TELEMETRY_DELIVERED: AtomicU32 = AtomicU32::new(0);
static LEFT: AtomicU32 = AtomicU32::new(u32::MAX);
static DROPS: AtomicU32 = AtomicU32::new(u32::MAX);
static TLS_FAILURES: AtomicU32 = AtomicU32::new(u32::MAX);

fn run() {
    let mut line = [0u8; 2048];
    let line = args::cmdline(&mut line).unwrap_or_else(|e| panic!("no command line: {e}"));
    let broker = arg(line, "broker");
    let (broker_host, broker_port) = broker
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse().ok()?)))
        .unwrap_or_else(|| panic!("`broker={broker}` is not host:port"));
    let llm = arg(line, "llm");
    let mut ca = [0u8; 1024];
    let ca = unhex(arg(line, "ca"), &mut ca);
    let now: u64 = arg(line, "now").parse().expect("`now=` is not a number");
    let nonce: u32 = arg(line, "nonce").parse().expect("`nonce=` is not a u32");
    let device = arg(line, "device");

    let prefix = joined("ioto/", device);
    let shadow = joined("$aws/things/", device);
    let (telemetry, events, metrics, advice) = (
        joined(prefix.as_str(), "/telemetry"),
        joined(prefix.as_str(), "/events"),
        joined(prefix.as_str(), "/metrics"),
        joined(prefix.as_str(), "/advice"),
    );
    let (state, delta) = (
        joined(shadow.as_str(), "/shadow/update"),
        joined(shadow.as_str(), "/shadow/update/delta"),
    );
    let topics = Topics {
        telemetry: telemetry.as_str(),
        events: events.as_str(),
        state: state.as_str(),
        metrics: metrics.as_str(),
        advice: advice.as_str(),
        delta: delta.as_str(),
    };
    let config = ioto_core::agent::AgentConfig {
        telemetry_every_s: 10,
        ..monitor::config(device, topics)
    };

    let accel = sim::faulty_machine(
        FaultKind::Imbalance,
        FAULT_WINDOW,
        u64::from(nonce),
        SampleClock(Cell::new(0)),
    )
    .expect("the simulated machine");
    let mut records = [0u8; 8 * 1024];
    // Certificate validity: the host's time at the start plus the board time since.
    let unix_time = move || now + ioto_board_qemu::instructions() / 1_000_000_000;
    // Client ids, jitter and the TLS randomness from the run's nonce (a test: none of
    // it need be secret).
    let mut entropy = monitor::Jitter(nonce | 1);
    let parts = monitor::Parts {
        config,
        accel,
        pacing: monitor::Pacing::Compressed {
            gap: GAP,
            max_windows: MAX_WINDOWS,
            done: answered,
        },
        outbox: RamQueue::new(&mut records, 64),
        broker: monitor::Broker {
            host: broker_host,
            port: broker_port,
            ca,
            username: None,
            password: None,
        },
        cloud: Some(monitor::Cloud {
            endpoint: llm,
            model: "gpt-4.1-mini",
            api_key: "sk-hil-not-a-secret",
            ca,
        }),
        mqtt_rng: monitor::tls_rng(&mut entropy),
        https_rng: monitor::tls_rng(&mut entropy),
        entropy,
        unix_time,
        clock: QemuClock,
    };
    let hosts = Hosts {
        names: [broker_host, host_of(llm)],
    };

    let nic = net::nic().unwrap_or_else(|e| panic!("{e}"));
    let [a, b, c, d] = net::ADDRESS;
    let [ga, gb, gc, gd] = net::GATEWAY;
    let net_config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(a, b, c, d), net::PREFIX_LEN),
        gateway: Some(Ipv4Address::new(ga, gb, gc, gd)),
        dns_servers: Default::default(),
    });
    let mut resources = StackResources::<4>::new();
    let (stack, mut runner) = embassy_net::new(nic, net_config, &mut resources, u64::from(nonce));
    let report = block_on(async {
        match select(runner.run(), monitor::run(parts, stack, &hosts)).await {
            Either::First(never) => never,
            Either::Second(report) => report,
        }
    })
    .unwrap_or_else(|e| panic!("the monitor stopped: {e:?}"));

    let m = report.metrics;
    println!(
        "anomaly_monitor: {} windows, escalated {}, answered {}, applied {}, sensitivity {}, \
         delivered {} (telemetry {}, state {}), left {}, escalations waiting {}, TLS {:?} / {:?}",
        report.windows,
        m.decisions[3],
        m.escalations,
        m.commands_applied,
        report.edge.sensitivity,
        m.delivered,
        m.delivered_by_kind[0],
        m.delivered_by_kind[2],
        report.queue_left,
        report.escalations_waiting,
        report.mqtt_tls,
        report.https_tls,
    );
    let to32 = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    ESCALATED.store(to32(m.decisions[3]), Ordering::Relaxed);
    ANSWERED.store(to32(m.escalations), Ordering::Relaxed);
    FAILED_ESCALATIONS.store(to32(m.escalation_failures), Ordering::Relaxed);
    APPLIED.store(to32(m.commands_applied), Ordering::Relaxed);
    REJECTED.store(to32(m.commands_rejected), Ordering::Relaxed);
    SENSITIVITY_MILLI.store((report.edge.sensitivity * 1000.0) as u32, Ordering::Relaxed);
    DELIVERED.store(to32(m.delivered), Ordering::Relaxed);
    TELEMETRY_DELIVERED.store(to32(m.delivered_by_kind[0]), Ordering::Relaxed);
    STATES_DELIVERED.store(to32(m.delivered_by_kind[2]), Ordering::Relaxed);
    LEFT.store(to32(report.queue_left as u64), Ordering::Relaxed);
    DROPS.store(to32(m.drops), Ordering::Relaxed);
    let tls_failures = u32::from(report.mqtt_tls.is_some()) + u32::from(report.https_tls.is_some());
    TLS_FAILURES.store(tls_failures, Ordering::Relaxed);
    RAN.store(true, Ordering::Relaxed);
}

fn load(v: &AtomicU32) -> u32 {
    assert!(RAN.load(Ordering::Relaxed), "the monitor did not run");
    v.load(Ordering::Relaxed)
}

/// Both connections were verified TLS and neither failed.
fn both_links_were_verified_tls() {
    assert_eq!(load(&TLS_FAILURES), 0);
}

/// The imbalance was escalated once and the model answered on the first attempt.
fn the_fault_was_escalated_and_answered() {
    assert_eq!(load(&ESCALATED), 1, "escalations decided");
    assert_eq!(load(&ANSWERED), 1, "escalations answered");
    assert_eq!(load(&FAILED_ESCALATIONS), 0, "failed escalation attempts");
}

/// The model's tool call changed the device: a new sensitivity, nothing refused.
fn the_tool_call_was_applied() {
    assert!(load(&APPLIED) >= 1, "no command applied");
    assert_eq!(load(&REJECTED), 0, "commands refused");
    assert_ne!(
        load(&SENSITIVITY_MILLI),
        1_000,
        "sensitivity still the default"
    );
}

/// Every record reached the broker (telemetry, at least two states: before and after
/// the command) and was acknowledged.
fn every_record_was_acknowledged() {
    assert_eq!(load(&LEFT), 0, "records left in the outbox");
    assert_eq!(load(&DROPS), 0, "records dropped");
    assert!(load(&TELEMETRY_DELIVERED) >= 3, "telemetry delivered");
    assert!(load(&STATES_DELIVERED) >= 2, "states delivered");
    assert!(load(&DELIVERED) >= 8, "records delivered");
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(48 * 1024);
    run();
    let suite = tests![
        both_links_were_verified_tls,
        the_fault_was_escalated_and_answered,
        the_tool_call_was_applied,
        every_record_was_acknowledged,
    ];
    harness::run("anomaly_monitor", suite)
}
