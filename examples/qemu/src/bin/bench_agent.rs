//! The agent as the size aim counts it — sensor + detector + policy + outbox +
//! MQTT, no TLS — for `cargo xtask bench agent`, which reads this image's flash and
//! RAM beside the console-only `agent` firmware.
//!
//! The real LIS3DH driver on the simulated chip (`SimAccel`, a bearing-wear fault from
//! window 100), one `RobustZ` per watched feature, the edge/cloud policy, a `RamQueue`
//! outbox, and `MqttUplink` over ioto-transport's MQTT client (3.1.1, QoS 1). The
//! client's connector is a loopback broker in RAM: it reads the client's packets and
//! answers CONNACK, PUBACK, SUBACK and PINGRESP, so every path of the client that a
//! real broker exercises is linked and runs. Prints
//! `BENCH windows=… instr_per_window=… messages=… mqtt_bytes=… sent_bytes=… raw_bytes=…
//! reports=… first_report_ms=… false_alarms=… anomalies=… drops=… queue_left=…` and exits 0.
#![no_std]
#![no_main]

use core::cell::{Cell, RefCell};

use embassy_futures::join::join3;
use embassy_futures::yield_now;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embedded_io::ErrorKind;
use ioto_board_qemu::{entry, instructions, println};
use ioto_core::agent::{Agent, AgentConfig, EdgeState, Topics, VIBRATION_WATCH};
use ioto_core::detect::RobustZ;
use ioto_core::device::Command;
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_core::policy::Action;
use ioto_core::sensor::FaultKind;
use ioto_core::{Clock, Instant, agent_topics};
use ioto_transport::mqtt::ProtocolVersion;
use ioto_transport::mqtt::client::{Buffers, Client, ClientConfig};
use ioto_transport::mqtt::connector::Connector;
use ioto_transport::uplink::MqttUplink;

#[path = "agent_common/sim.rs"]
mod sim;
#[path = "mqtt_common/xorshift.rs"]
mod xorshift;

use sim::SAMPLE_US;
use xorshift::XorShift;

/// Windows in the run (128 s of sensor time).
const WINDOWS: u32 = 200;
/// The fault starts with the first sample of this window.
const FAULT_WINDOW: u64 = 100;

const TOPICS: Topics<'static> = agent_topics!("ioto/bench", "bench");

/// Sensor time in µs (every sensor read is one sample later) and the time MQTT delays
/// added on top; the client's clock is their sum.
static SENSOR_US: TimeCell = TimeCell(Cell::new(0));
static WAITED_US: TimeCell = TimeCell(Cell::new(0));

/// A `Cell` the single-threaded firmware shares as a static.
struct TimeCell(Cell<u64>);
// SAFETY: the firmware runs on one core and no interrupt handler touches these.
unsafe impl Sync for TimeCell {}

/// The sensor's clock: each look is the next sample.
struct SensorClock;

impl Clock for SensorClock {
    fn now(&self) -> Instant {
        SENSOR_US.0.set(SENSOR_US.0.get() + SAMPLE_US);
        Instant(SENSOR_US.0.get())
    }
}

/// The MQTT client's and the uplink task's clock.
#[derive(Clone, Copy)]
struct DeviceClock;

impl Clock for DeviceClock {
    fn now(&self) -> Instant {
        Instant(SENSOR_US.0.get() + WAITED_US.0.get())
    }
}

/// A delay that moves device time on and lets the other tasks run once.
struct YieldDelay;

impl embedded_hal_async::delay::DelayNs for YieldDelay {
    async fn delay_ns(&mut self, ns: u32) {
        WAITED_US
            .0
            .set(WAITED_US.0.get() + u64::from(ns).div_ceil(1_000));
        yield_now().await;
    }
}

/// What the loopback broker saw and owes the client.
struct Wire {
    /// The packet being received: its first bytes (enough for header, topic and id).
    head: [u8; 96],
    /// Bytes of that packet received so far.
    got: usize,
    /// Its total length, once the fixed header is complete.
    total: Option<usize>,
    /// Answers not yet read by the client.
    out: [u8; 64],
    out_len: usize,
    publishes: u32,
    mqtt_bytes: u64,
}

impl Wire {
    const fn new() -> Self {
        Self {
            head: [0; 96],
            got: 0,
            total: None,
            out: [0; 64],
            out_len: 0,
            publishes: 0,
            mqtt_bytes: 0,
        }
    }

    fn take(&mut self, byte: u8) {
        if let Some(slot) = self.head.get_mut(self.got) {
            *slot = byte;
        }
        self.got += 1;
        self.mqtt_bytes += 1;
        if self.total.is_none() && self.got >= 2 && self.head[self.got - 1] & 0x80 == 0 {
            // The remaining length (MQTT 3.1.1 §2.2.3): 7 bits per byte, low first.
            let len = self.head[1..self.got]
                .iter()
                .rev()
                .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
            self.total = Some(self.got + len);
        }
        if self.total == Some(self.got) {
            self.answer();
            self.got = 0;
            self.total = None;
        }
    }

    /// Where the variable header starts (after the remaining-length bytes).
    fn body(&self) -> usize {
        1 + self.head[1..5]
            .iter()
            .take_while(|b| *b & 0x80 != 0)
            .count()
            + 1
    }

    fn answer(&mut self) {
        let h = &self.head;
        let b = self.body();
        let be16 = |at: usize| [h[at], h[at + 1]];
        match h[0] >> 4 {
            1 => self.send(&[0x20, 2, 0, 0]), // CONNECT → CONNACK, accepted
            3 => {
                self.publishes += 1;
                if (h[0] >> 1) & 3 == 1 {
                    let topic = usize::from(u16::from_be_bytes(be16(b)));
                    let [hi, lo] = be16(b + 2 + topic);
                    self.send(&[0x40, 2, hi, lo]); // PUBACK
                }
            }
            8 => {
                let [hi, lo] = be16(b);
                self.send(&[0x90, 3, hi, lo, 1]); // SUBACK, one filter at QoS 1
            }
            12 => self.send(&[0xd0, 0]), // PINGREQ → PINGRESP
            _ => {}
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let end = self.out_len + bytes.len();
        if let Some(dst) = self.out.get_mut(self.out_len..end) {
            dst.copy_from_slice(bytes);
            self.out_len = end;
        }
    }
}

/// The connector: every connection talks to the same loopback broker.
struct Loopback(RefCell<Wire>);

/// One connection to the loopback broker.
struct LoopStream<'c>(&'c Loopback);

impl embedded_io::ErrorType for LoopStream<'_> {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for LoopStream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        loop {
            {
                let mut w = self.0.0.borrow_mut();
                if w.out_len > 0 {
                    let n = w.out_len.min(buf.len());
                    buf[..n].copy_from_slice(&w.out[..n]);
                    let len = w.out_len;
                    w.out.copy_within(n..len, 0);
                    w.out_len = len - n;
                    return Ok(n);
                }
            }
            yield_now().await;
        }
    }
}

impl embedded_io_async::Write for LoopStream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let mut w = self.0.0.borrow_mut();
        for &b in buf {
            w.take(b);
        }
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl Connector for Loopback {
    type Error = ErrorKind;
    type Connection<'c> = LoopStream<'c>;

    async fn connect(&self) -> Result<LoopStream<'_>, ErrorKind> {
        Ok(LoopStream(self))
    }
}

fn fail(what: &str) -> ! {
    println!("BENCH-ERROR agent error={}", what);
    ioto_board_qemu::exit(1)
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::counter::start();
    let onset = sim::onset(FAULT_WINDOW);
    let mut accel = sim::faulty_machine(FaultKind::BearingWear, FAULT_WINDOW, 7, SensorClock)
        .unwrap_or_else(|what| fail(what));
    let config = AgentConfig::vibration("bench", env!("CARGO_PKG_VERSION"), TOPICS);
    let (mut records, mut escalations) = ([0u8; 6 * 1024], [0u8; 3 * 1024]);
    let Ok(agent) = Agent::<'_, NoopRawMutex, _, _>::new(
        config,
        RamQueue::new(&mut records, 48),
        RamQueue::new(&mut escalations, 4),
    ) else {
        fail("agent-config")
    };

    let broker = Loopback(RefCell::new(Wire::new()));
    let mut cfg = ClientConfig::new(ProtocolVersion::V3_1_1, "ioto-bench");
    cfg.keep_alive_secs = 30;
    let (mut rx, mut tx, mut inflight, mut ids, mut offline) =
        ([0u8; 1024], [0u8; 1024], [0u8; 1024], [0u16; 4], [0u8; 256]);
    let client = Client::new(
        cfg,
        &broker,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        },
        OfflineQueue::new(RamQueue::new(&mut offline, 4), QueuePolicy::Reject),
        YieldDelay,
        DeviceClock,
        XorShift(0x2545_f491),
    );
    let filters = [TOPICS.delta];
    let mut uplink = MqttUplink::new(client, &filters);

    let mut detectors = [RobustZ::new(); VIBRATION_WATCH.len()];
    let edge = RefCell::new(EdgeState::default());
    // Sensor time of the first non-ignore decision at or after the onset, and the
    // episodes started before it (false alarms).
    let onset_us = (onset + 1) * SAMPLE_US;
    let mut first_event: Option<u64> = None;
    let (mut false_alarms, mut alarm_on) = (0u32, false);
    let observe = |s: &EdgeState| {
        let on = s.decision.is_some_and(|d| d.action != Action::Ignore);
        if s.at.0 < onset_us {
            false_alarms += u32::from(on && !alarm_on);
        } else if on && first_event.is_none() {
            first_event = Some(s.at.0);
        }
        alarm_on = on;
    };
    let no_commands = |_: &str, _: &[u8], _: &mut [Option<Command>; 4]| {};

    let before = instructions();
    let sensing = async {
        if let Err(what) = sim::sense(&agent, &mut accel, WINDOWS).await {
            fail(what)
        }
    };
    ioto_board_qemu::block_on(join3(
        sensing,
        agent.run_edge_observed(&mut detectors, &edge, observe),
        agent.run_uplink(&mut uplink, &DeviceClock, 30_000, no_commands),
    ));
    ioto_board_qemu::block_on(uplink.client().disconnect());
    let spent = instructions().saturating_sub(before);

    let m = agent.metrics();
    let queue_left = ioto_board_qemu::block_on(agent.queue_depth());
    let wire = broker.0.borrow();
    // Detection delay in ms of sensor time; -1 when the fault went unreported.
    let first_ms = first_event.map_or(-1, |t| (t.saturating_sub(onset_us) / 1_000) as i64);
    println!(
        "BENCH windows={} instr_per_window={} messages={} mqtt_bytes={} sent_bytes={} raw_bytes={} \
         reports={} first_report_ms={} false_alarms={} anomalies={} drops={} queue_left={}",
        WINDOWS,
        spent / u64::from(WINDOWS),
        wire.publishes,
        wire.mqtt_bytes,
        m.sent_bytes,
        m.raw_bytes,
        m.decisions[2] + m.decisions[3],
        first_ms,
        false_alarms,
        m.anomalies,
        m.drops,
        queue_left,
    );
    ioto_board_qemu::exit(0)
}
