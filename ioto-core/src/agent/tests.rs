//! The whole agent on one thread: the real LIS3DH driver on the simulated chip with a
//! fault starting mid-run, one detector per watched feature, the policy, a RAM outbox,
//! and test doubles for the uplink (acknowledges on the next poll, can go offline,
//! injects a shadow delta) and the advisor (answers `set_sensitivity(2.0)`), all driven
//! by `embassy_futures::join` over a `NoopRawMutex`.
//!
//! Expected values come from the doubles (what they saw), the fault plan (the ground
//! truth of the simulated machine) and the device limits, never from the agent's own
//! counters; where both exist, the two are compared.
#![allow(clippy::unwrap_used)]

extern crate std;

use core::cell::{Cell, RefCell};
use std::string::String;
use std::sync::OnceLock;
use std::vec::Vec;

use embassy_futures::join::join4;
use embassy_futures::yield_now;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embedded_hal_async::delay::DelayNs;

use super::*;
use crate::Entropy;
use crate::advisor::{Advice, Advisor, Severity};
use crate::backoff::Backoff;
use crate::detect::RobustZ;
use crate::device::ToolSpec;
use crate::outbox::RamQueue;
use crate::policy::Thresholds;
use crate::sensor::{
    Fault, FaultKind, FaultPlan, Lis3dh, MachineProfile, MachineVibration, SimAccel, Window,
    fill_window_back_to_back, lis3dh,
};
use crate::time::Clock;
use crate::uplink::{Delivery, Message, Uplink, UplinkEvent};

/// Samples per window (0.64 s at 400 Hz).
const WINDOW: usize = 256;
/// Windows in the run (6.4 minutes of sensor time, 153 600 samples).
const WINDOWS: usize = 600;
/// The fault (imbalance) starts with the first sample of this window.
const FAULT_WINDOW: usize = 300;
/// The link is down from the start of this window...
const OFFLINE_AT: usize = 100;
/// ...to the start of this one.
const ONLINE_AT: usize = 160;
/// A shadow delta asking for an out-of-range sensitivity arrives before this window.
const DELTA_AT: usize = 40;
/// Sensor sample period at 400 Hz, µs.
const PERIOD_US: u64 = 2_500;
/// Raw bytes per LIS3DH sample (3 axes × 16 bits), by the data sheet's output registers.
const RAW_PER_SAMPLE: u64 = 6;

const TOPICS: Topics<'static> = Topics {
    telemetry: "dev/rig/telemetry",
    events: "dev/rig/events",
    state: "$aws/things/rig/shadow/update",
    metrics: "dev/rig/metrics",
    advice: "dev/rig/advice",
};
const DELTA_TOPIC: &str = "$aws/things/rig/shadow/update/delta";

/// The sensor's clock: every read is the next sample at 400 Hz.
struct SampleClock(Cell<u64>);

impl Clock for SampleClock {
    fn now(&self) -> Instant {
        self.0.set(self.0.get() + PERIOD_US);
        Instant(self.0.get())
    }
}

/// The uplink task's clock: each look at it is one poll period (50 ms) later.
struct PollClock(Cell<u64>);

impl Clock for PollClock {
    fn now(&self) -> Instant {
        self.0.set(self.0.get() + 50_000);
        Instant(self.0.get())
    }
}

/// A message as the broker saw it.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    topic: String,
    payload: Vec<u8>,
    retain: bool,
}

impl Seen {
    fn text(&self) -> &str {
        core::str::from_utf8(&self.payload).unwrap()
    }
}

/// What the test and the uplink double share.
#[derive(Default)]
struct LinkCtl {
    online: Cell<bool>,
    inject: RefCell<Option<(String, Vec<u8>)>>,
    published: RefCell<Vec<Seen>>,
    delivered: RefCell<Vec<Seen>>,
    publishes_refused: Cell<u32>,
}

/// A broker link: refuses publishes while offline, acknowledges a QoS-1 publish on the
/// next poll, forgets unacknowledged publishes when the link drops (a lost session).
struct DoubleUplink<'c> {
    ctl: &'c LinkCtl,
    was_online: bool,
    next_ticket: u32,
    pending: Vec<(u32, Seen)>,
    held: (String, Vec<u8>),
}

impl Uplink for DoubleUplink<'_> {
    type Error = &'static str;

    async fn publish(&mut self, m: &Message<'_>) -> Result<Option<u32>, Self::Error> {
        if !self.ctl.online.get() {
            self.ctl
                .publishes_refused
                .set(self.ctl.publishes_refused.get() + 1);
            return Err("offline");
        }
        let seen = Seen {
            topic: m.topic.into(),
            payload: m.payload.to_vec(),
            retain: m.retain,
        };
        self.ctl.published.borrow_mut().push(seen.clone());
        match m.delivery {
            Delivery::AtMostOnce => {
                self.ctl.delivered.borrow_mut().push(seen);
                Ok(None)
            }
            Delivery::AtLeastOnce => {
                self.next_ticket += 1;
                self.pending.push((self.next_ticket, seen));
                Ok(Some(self.next_ticket))
            }
        }
    }

    async fn poll(&mut self, _max_wait_ms: u32) -> Result<Option<UplinkEvent<'_>>, Self::Error> {
        yield_now().await;
        let online = self.ctl.online.get();
        if online != self.was_online {
            self.was_online = online;
            if !online {
                self.pending.clear();
                return Ok(Some(UplinkEvent::Disconnected));
            }
            return Ok(Some(UplinkEvent::Connected));
        }
        if !online {
            return Ok(None);
        }
        if let Some(msg) = self.ctl.inject.borrow_mut().take() {
            self.held = msg;
            return Ok(Some(UplinkEvent::Command {
                topic: &self.held.0,
                payload: &self.held.1,
            }));
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let (ticket, seen) = self.pending.remove(0);
        self.ctl.delivered.borrow_mut().push(seen);
        Ok(Some(UplinkEvent::Delivered(ticket)))
    }

    fn is_connected(&self) -> bool {
        self.ctl.online.get()
    }
}

/// A cloud model that always advises halving the sensitivity (`level: 2.0`).
struct DoubleAdvisor {
    contexts: Vec<String>,
}

impl Advisor for DoubleAdvisor {
    type Error = ();

    async fn advise(&mut self, context: &str, tools: &[ToolSpec]) -> Result<Advice, ()> {
        assert!(tools.iter().any(|t| t.name == "set_sensitivity"));
        self.contexts.push(context.into());
        yield_now().await;
        let mut a = Advice::default();
        a.severity = Severity::Warning;
        a.tokens = 321;
        assert!(a.push_command(Command::SetSensitivity { level: 2.0 }));
        a.set_summary("imbalance suspected; fewer alarms until inspection");
        Ok(a)
    }
}

/// Waits by yielding once (time is the sensor's).
struct YieldDelay;

impl DelayNs for YieldDelay {
    async fn delay_ns(&mut self, _ns: u32) {
        yield_now().await;
    }
}

struct Counter(u32);

impl Entropy for Counter {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (self.0 >> 16) as u8;
        }
    }
}

/// An outbox that logs every record it accepted, in order.
struct SpyOutbox<'a> {
    inner: RamQueue<'a>,
    pushed: &'a RefCell<Vec<Vec<u8>>>,
}

impl Outbox for SpyOutbox<'_> {
    type Error = core::convert::Infallible;

    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error> {
        let stored = self.inner.push_back(record).await?;
        if stored {
            self.pushed.borrow_mut().push(record.to_vec());
        }
        Ok(stored)
    }
    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        self.inner.read_front(out).await
    }
    async fn pop_front(&mut self) -> Result<bool, Self::Error> {
        self.inner.pop_front().await
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn can_ever_hold(&self, len: usize) -> bool {
        self.inner.can_ever_hold(len)
    }
}

fn config() -> AgentConfig<'static> {
    AgentConfig {
        device: "rig",
        topics: TOPICS,
        watch: &VIBRATION_WATCH,
        raw_bytes_per_sample: RAW_PER_SAMPLE as u32,
        telemetry_every_s: 10,
        metrics_every_s: 60,
        policy: PolicyConfig {
            thresholds: Thresholds {
                report_on: 0.5,
                clear_below: 0.4,
                act_locally_on: 0.7,
                escalate_on: 0.8,
            },
            report_cooldown_s: 10,
            escalate_cooldown_s: 60,
            ..PolicyConfig::DEFAULT
        },
        limits: Limits::default(),
        escalation_ttl_s: 600,
        escalation_attempts: 3,
        ack_timeout_ms: 2_000,
    }
}

/// Everything one run left behind.
struct Run {
    /// Records the outbox accepted, in push order (kind byte + payload).
    pushed: Vec<Vec<u8>>,
    /// Messages the double acknowledged, in order.
    delivered: Vec<Seen>,
    /// Messages published (including re-sends of unacknowledged ones).
    published: Vec<Seen>,
    publishes_refused: u32,
    /// Records pushed and not yet delivered when the link came back.
    backlog_at_reconnect: usize,
    /// Publishes while offline: must be none reaching the broker.
    delivered_while_offline: usize,
    contexts: Vec<String>,
    metrics: Metrics,
    edge: EdgeState,
    queue_left: usize,
    samples_latched: u64,
    onset_us: u64,
}

/// The fault: an imbalance from window [`FAULT_WINDOW`] on, ramping over 20 windows.
fn plan() -> FaultPlan {
    let start = (FAULT_WINDOW * WINDOW) as u64;
    FaultPlan::healthy()
        .with(Fault::new(
            FaultKind::Imbalance,
            start,
            20 * WINDOW as u64,
            1.0,
        ))
        .unwrap()
}

fn run() -> Run {
    let plan = plan();
    let onset_sample = plan.first_onset().unwrap();
    let machine = MachineVibration::new(MachineProfile::default(), plan, 11).unwrap();
    let bus = SimAccel::new(lis3dh::Address::Primary, machine);
    let mut accel = Lis3dh::new(
        bus,
        SampleClock(Cell::new(0)),
        lis3dh::Address::Primary,
        lis3dh::Config::default(),
    );
    embassy_futures::block_on(accel.init()).unwrap();

    let pushed = RefCell::new(Vec::new());
    let mut mem = std::vec![0u8; 64 * 1024];
    let mut esc_mem = std::vec![0u8; 8 * 1024];
    let outbox = SpyOutbox {
        inner: RamQueue::new(&mut mem, 512),
        pushed: &pushed,
    };
    let agent: Agent<'_, NoopRawMutex, _, _> =
        Agent::new(config(), outbox, RamQueue::new(&mut esc_mem, 8)).unwrap();

    let ctl = LinkCtl::default();
    ctl.online.set(true);
    let mut uplink = DoubleUplink {
        ctl: &ctl,
        was_online: false,
        next_ticket: 0,
        pending: Vec::new(),
        held: (String::new(), Vec::new()),
    };
    let mut advisor = DoubleAdvisor {
        contexts: Vec::new(),
    };
    let mut detectors = [RobustZ::new(); VIBRATION_WATCH.len()];
    let edge = RefCell::new(EdgeState::default());
    let backlog = Cell::new(0usize);
    let delivered_before_offline = Cell::new(0usize);
    let delivered_while_offline = Cell::new(0usize);
    let clock = PollClock(Cell::new(0));

    let sensing = async {
        let mut rows = [[0.0f32; 3]; WINDOW];
        let mut window = Window::new(&mut rows, 400.0).unwrap();
        let mut scratch = [0.0f32; WINDOW];
        for w in 0..WINDOWS {
            match w {
                DELTA_AT => {
                    let delta = br#"{"version":3,"state":{"sensitivity":9.0}}"#;
                    *ctl.inject.borrow_mut() = Some((DELTA_TOPIC.into(), delta.to_vec()));
                }
                OFFLINE_AT => {
                    ctl.online.set(false);
                    delivered_before_offline.set(ctl.delivered.borrow().len());
                }
                ONLINE_AT => {
                    let delivered = ctl.delivered.borrow().len();
                    delivered_while_offline.set(delivered - delivered_before_offline.get());
                    backlog.set(pushed.borrow().len() - delivered);
                    ctl.online.set(true);
                }
                _ => {}
            }
            let view = fill_window_back_to_back(&mut accel, &mut window)
                .await
                .unwrap();
            agent.observe(&view, &mut scratch).await.unwrap();
        }
        agent.stop();
    };
    let on_message = |topic: &str, payload: &[u8], out: &mut [Option<Command>; 4]| {
        if topic != DELTA_TOPIC {
            return;
        }
        // The limits are the agent's to check: pass the value on unchecked.
        if let Ok(d) = crate::state::parse_delta(payload)
            && let crate::state::Field::Number(v) = d.state.sensitivity
        {
            out[0] = Some(Command::SetSensitivity { level: v as f32 });
        }
    };
    let backoff = Backoff {
        base_ms: 100,
        max_ms: 1_000,
    };
    embassy_futures::block_on(join4(
        sensing,
        agent.run_edge(&mut detectors, &edge),
        agent.run_uplink(&mut uplink, &clock, 600_000, on_message),
        agent.run_advisor(&mut advisor, &mut YieldDelay, &mut Counter(7), backoff),
    ));
    let queue_left = embassy_futures::block_on(agent.queue_depth());
    let metrics = agent.metrics();
    drop(agent);
    let (sim, _) = accel.release();
    Run {
        pushed: pushed.into_inner(),
        delivered: ctl.delivered.take(),
        published: ctl.published.take(),
        publishes_refused: ctl.publishes_refused.get(),
        backlog_at_reconnect: backlog.get(),
        delivered_while_offline: delivered_while_offline.get(),
        contexts: advisor.contexts,
        metrics,
        edge: *edge.borrow(),
        queue_left,
        samples_latched: sim.samples_latched(),
        onset_us: (onset_sample + 1) * PERIOD_US,
    }
}

/// One run shared by the tests below (it takes a few seconds unoptimised).
fn the_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(run)
}

/// The integer after `"key":` in a flat JSON document.
fn json_u64(doc: &str, key: &str) -> Option<u64> {
    let pat = std::format!("\"{key}\":");
    let at = doc.find(&pat)? + pat.len();
    let digits: String = doc[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The string after `"key":` in a flat JSON document.
fn json_str<'d>(doc: &'d str, key: &str) -> Option<&'d str> {
    let pat = std::format!("\"{key}\":\"");
    let at = doc.find(&pat)? + pat.len();
    doc[at..].split('"').next()
}

fn on_topic<'r>(r: &'r Run, topic: &'r str) -> impl Iterator<Item = &'r Seen> + 'r {
    r.delivered.iter().filter(move |m| m.topic == topic)
}

#[test]
fn every_pushed_record_is_delivered_once_in_push_order_on_its_kinds_topic() {
    let r = the_run();
    assert_eq!(r.queue_left, 0, "outbox drained by the end");
    assert_eq!(r.metrics.drops, 0);
    assert_eq!(r.delivered.len(), r.pushed.len());
    for (i, (rec, msg)) in r.pushed.iter().zip(&r.delivered).enumerate() {
        let kind = RecordKind::from_byte(rec[0]).unwrap();
        assert_eq!(msg.topic, TOPICS.of(kind), "record {i}");
        assert_eq!(msg.payload, rec[1..], "record {i}");
        assert_eq!(msg.retain, kind == RecordKind::State, "record {i}");
    }
    assert_eq!(r.metrics.delivered, r.delivered.len() as u64);
    // Every kind showed up (advice only because the fault was escalated).
    for t in [
        TOPICS.telemetry,
        TOPICS.events,
        TOPICS.state,
        TOPICS.metrics,
        TOPICS.advice,
    ] {
        assert!(on_topic(r, t).count() > 0, "nothing on {t}");
    }
}

#[test]
fn records_arrive_in_sensor_time_order_per_topic() {
    let r = the_run();
    for (topic, key) in [
        (TOPICS.telemetry, "t_ms"),
        (TOPICS.events, "t_ms"),
        (TOPICS.metrics, "samples"),
    ] {
        let times: Vec<u64> = on_topic(r, topic)
            .map(|m| json_u64(m.text(), key).unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{topic}: {times:?}");
    }
    // Telemetry is due every 10 s of sensor time: 384 s of sensor time give 39 or 40.
    let telemetry = on_topic(r, TOPICS.telemetry).count();
    assert!(
        (38..=41).contains(&telemetry),
        "{telemetry} telemetry records"
    );
}

#[test]
fn going_offline_mid_run_loses_nothing_and_keeps_order() {
    let r = the_run();
    assert_eq!(r.delivered_while_offline, 0);
    assert!(r.publishes_refused == 0 || r.backlog_at_reconnect > 0);
    // 60 windows (38 s) offline: telemetry every 10 s queued up meanwhile.
    assert!(
        r.backlog_at_reconnect >= 3,
        "backlog at reconnect {}",
        r.backlog_at_reconnect
    );
    // The backlog went out after reconnection, in order: the delivered telemetry times
    // cover the offline period without a gap larger than the telemetry period.
    let offline_ms = (OFFLINE_AT * WINDOW) as u64 * PERIOD_US / 1_000;
    let online_ms = (ONLINE_AT * WINDOW) as u64 * PERIOD_US / 1_000;
    let t: Vec<u64> = on_topic(r, TOPICS.telemetry)
        .map(|m| json_u64(m.text(), "t_ms").unwrap())
        .collect();
    let inside = t
        .iter()
        .filter(|&&t| t > offline_ms && t <= online_ms)
        .count();
    assert!(inside >= 3, "telemetry written while offline: {inside}");
    assert!(t.windows(2).all(|w| w[1] - w[0] <= 10_000 + 640), "{t:?}");
    // Re-sends after a lost session are at-least-once: only duplicates of delivered ones.
    assert!(r.published.len() >= r.delivered.len());
}

#[test]
fn the_fault_is_reported_and_escalated_and_nothing_is_reported_before_it() {
    let r = the_run();
    let onset_ms = r.onset_us / 1_000;
    let events: Vec<(u64, &str)> = on_topic(r, TOPICS.events)
        .map(|m| {
            let d = m.text();
            (json_u64(d, "t_ms").unwrap(), json_str(d, "action").unwrap())
        })
        .collect();
    let early: Vec<_> = events.iter().filter(|(t, _)| *t < onset_ms).collect();
    assert!(
        early.is_empty(),
        "events before the onset at {onset_ms} ms: {early:?}"
    );
    assert!(
        events
            .iter()
            .any(|(_, a)| *a == "report" || *a == "escalate"),
        "{events:?}"
    );
    assert!(events.iter().any(|(_, a)| *a == "escalate"), "{events:?}");
    // Found within 30 s of the onset (the ramp takes 12.8 s).
    let first = events.iter().map(|(t, _)| *t).min().unwrap();
    assert!(
        first - onset_ms <= 30_000,
        "first event {first} ms, onset {onset_ms} ms"
    );
    assert!(r.metrics.anomalies >= 1);
    assert_eq!(
        r.metrics.decisions[1] + r.metrics.decisions[2] + r.metrics.decisions[3],
        events.len() as u64
    );
}

#[test]
fn the_advisors_command_reaches_the_edge_and_the_reported_state() {
    let r = the_run();
    assert!(!r.contexts.is_empty(), "the advisor was never asked");
    assert_eq!(r.metrics.escalations, r.contexts.len() as u64);
    for c in &r.contexts {
        assert!(c.starts_with('{') && c.ends_with('}'), "{c}");
        assert_eq!(json_str(c, "device"), Some("rig"));
        assert!(json_u64(c, "t_ms").unwrap() >= r.onset_us / 1_000, "{c}");
    }
    assert_eq!(r.edge.sensitivity, 2.0);
    let states: Vec<&str> = on_topic(r, TOPICS.state).map(Seen::text).collect();
    assert!(
        states.iter().any(|s| s.contains("\"sensitivity\":2.0000")),
        "{states:?}"
    );
    assert!(
        states[0].contains("\"sensitivity\":1.0000"),
        "{}",
        states[0]
    );
    let advice: Vec<&str> = on_topic(r, TOPICS.advice).map(Seen::text).collect();
    assert_eq!(advice.len(), r.contexts.len());
    assert!(advice[0].contains("set_sensitivity"), "{}", advice[0]);
}

#[test]
fn a_command_outside_the_limits_is_counted_as_rejected_and_changes_nothing() {
    let r = the_run();
    // The only out-of-range command was the delta's sensitivity 9 (limit 4).
    assert_eq!(r.metrics.commands_rejected, 1);
    let states: Vec<&str> = on_topic(r, TOPICS.state).map(Seen::text).collect();
    assert!(
        states.iter().all(|s| !s.contains("\"sensitivity\":9")),
        "{states:?}"
    );
}

#[test]
fn sent_bytes_are_under_five_percent_of_raw_bytes() {
    let r = the_run();
    let raw = r.samples_latched * RAW_PER_SAMPLE;
    assert_eq!(r.samples_latched, (WINDOWS * WINDOW) as u64);
    let sent: u64 = r
        .delivered
        .iter()
        .map(|m| (m.topic.len() + m.payload.len()) as u64)
        .sum();
    assert_eq!(r.metrics.raw_bytes, raw);
    assert_eq!(r.metrics.sent_bytes, sent);
    assert_eq!(r.metrics.samples, r.samples_latched);
    assert_eq!(r.metrics.inferences, WINDOWS as u64);
    assert!(sent * 20 < raw, "sent {sent} of {raw} raw bytes");
}

#[test]
fn a_watch_list_the_agent_cannot_serve_is_refused() {
    let mut mem = [0u8; 64];
    let mut esc = [0u8; 64];
    let empty = AgentConfig {
        watch: &[],
        ..config()
    };
    let r = Agent::<NoopRawMutex, _, _>::new(
        empty,
        RamQueue::new(&mut mem, 1),
        RamQueue::new(&mut esc, 1),
    );
    assert!(matches!(r, Err(AgentError::BadWatchList)));
}

#[test]
fn zz_debug_dump() {
    let r = the_run();
    std::println!("metrics {:?}", r.metrics);
    std::println!("edge {:?}", r.edge);
    std::println!("backlog {} refused {} published {} delivered {} onset {}", r.backlog_at_reconnect, r.publishes_refused, r.published.len(), r.delivered.len(), r.onset_us);
    for m in &r.delivered { if m.topic != TOPICS.telemetry { std::println!("{} {}", m.topic, m.text()); } }
    for c in &r.contexts { std::println!("ctx {c}"); }
}
