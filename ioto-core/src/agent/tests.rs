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

mod doubles;
use doubles::*;

use embassy_futures::join::join4;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;

use super::*;
use crate::backoff::Backoff;
use crate::detect::RobustZ;
use crate::outbox::RamQueue;
use crate::sensor::{
    Fault, FaultKind, FaultPlan, Lis3dh, MachineProfile, MachineVibration, Window,
    fill_window_back_to_back,
};

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

const TOPICS: Topics<'static> = crate::agent_topics!("dev/rig", "rig");
/// Where the uplink double injects the shadow delta, written out by hand.
const DELTA_TOPIC: &str = "$aws/things/rig/shadow/update/delta";

/// A short-paced vibration monitor: telemetry every 10 s, metrics every minute,
/// cooldowns of 10 s (reports) and a minute (escalations), no score hold.
fn config() -> AgentConfig<'static> {
    AgentConfig {
        machine: "test rig",
        raw_bytes_per_sample: RAW_PER_SAMPLE as u32,
        telemetry_every_s: 10,
        metrics_every_s: 60,
        policy: PolicyConfig {
            report_cooldown_s: 10,
            escalate_cooldown_s: 60,
            ..PolicyConfig::DEFAULT
        },
        escalation_ttl_s: 600,
        ack_timeout_ms: 2_000,
        score_hold: 0.0,
        ..AgentConfig::vibration("rig", "0.1.0", TOPICS)
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
    let (start, ramp) = ((FAULT_WINDOW * WINDOW) as u64, 20 * WINDOW as u64);
    let imbalance = Fault::new(FaultKind::Imbalance, start, ramp, 1.0);
    FaultPlan::healthy().with(imbalance).unwrap()
}

fn run(plan: FaultPlan, seed: u64) -> Run {
    let onset_sample = plan.first_onset().unwrap();
    let machine = MachineVibration::new(MachineProfile::default(), plan, seed).unwrap();
    let mut accel = Lis3dh::simulated(machine, SampleClock(Cell::new(0)));
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
    let mut uplink = DoubleUplink::online(&ctl);
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
    // Deltas on `TOPICS.delta` are the agent's own (parsed, checked against the
    // limits, applied); nothing else arrives in this run.
    let on_message = |_: &str, _: &[u8], _: &mut [Option<Command>; 4]| {};
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
    RUN.get_or_init(|| run(plan(), 11))
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
    // Windows end every 0.64 s. Telemetry is due at the first window and then at the
    // first window at least 10 s later: every 16th window (10.24 s), windows 0, 16, ...,
    // 592 of 600, so 38. Metrics every 60 s: every 94th window (60.16 s), windows 0,
    // 94, ..., 564, so 7.
    assert_eq!(on_topic(r, TOPICS.telemetry).count(), 38);
    assert_eq!(on_topic(r, TOPICS.metrics).count(), 7);
}

#[test]
fn going_offline_mid_run_loses_nothing_and_keeps_order() {
    let r = the_run();
    assert_eq!(r.delivered_while_offline, 0);
    assert_eq!(
        r.publishes_refused, 0,
        "the agent publishes only while connected"
    );
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
    // The publish in flight when the link dropped was never acknowledged (the double
    // forgets it with the session): it was published again after reconnection, right
    // after its first attempt. So the published sequence is the delivered one with
    // that re-send as an adjacent duplicate.
    assert!(
        r.published.len() > r.delivered.len(),
        "no publish was lost in flight"
    );
    let mut once = r.published.clone();
    once.dedup();
    assert_eq!(once, r.delivered);
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
        states.iter().any(|s| s.contains("\"sensitivity\":2.0")),
        "{states:?}"
    );
    assert!(states[0].contains("\"sensitivity\":1.0"), "{}", states[0]);
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

/// Events (t_ms, action) of a run.
fn events(r: &Run) -> Vec<(u64, String)> {
    on_topic(r, TOPICS.events)
        .map(|m| {
            let d = m.text();
            (
                json_u64(d, "t_ms").unwrap(),
                json_str(d, "action").unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn every_fault_kind_and_drawn_plans_are_detected_after_onset_and_never_before() {
    let end_ms = (WINDOWS * WINDOW) as u64 * PERIOD_US / 1_000;
    let scripted = FaultKind::ALL.map(|kind| {
        let start = (FAULT_WINDOW * WINDOW) as u64;
        FaultPlan::healthy()
            .with(Fault::new(kind, start, 20 * WINDOW as u64, 0.8))
            .unwrap()
    });
    let drawn = (0..12).map(|seed| (FaultPlan::random(seed, (WINDOWS * WINDOW) as u64), seed));
    for (plan, seed) in scripted.into_iter().map(|p| (p, 5)).chain(drawn) {
        let r = run(plan, seed);
        let onset_ms = r.onset_us / 1_000;
        let ev = events(&r);
        let why = std::format!(
            "{:?} (seed {seed}): onset {onset_ms} ms, {ev:?}",
            plan.faults()
        );
        // No false alarm: no event from a window that ended before the first faulty sample.
        assert!(ev.iter().all(|(t, _)| *t >= onset_ms), "{why}");
        assert!(
            ev.iter().any(|(_, a)| a == "report" || a == "escalate"),
            "{why}"
        );
        // Found within 15 s of the onset (the slowest here, a loose mount ramping over
        // 93 s, is found after 9 s).
        assert!(ev[0].0 - onset_ms <= 15_000, "{why}");
        // The cooldown bounds the rest: per episode a start, a local action, an
        // escalation and an end, plus one report per 10 s.
        let bound = (end_ms - onset_ms) / 10_000 + 4 * r.metrics.anomalies;
        assert!(ev.len() as u64 <= bound, "{why}");
        assert_eq!(r.queue_left, 0, "{why}");
        assert_eq!(r.delivered.len(), r.pushed.len(), "{why}");
    }
}

/// `stop()` after the edge task has scored the last window and gone to sleep must
/// still end it (and so the uplink task): the stop wakes it.
#[test]
fn a_stop_after_the_edge_went_idle_ends_every_task() {
    let mut mem = std::vec![0u8; 16 * 1024];
    let mut esc_mem = std::vec![0u8; 4 * 1024];
    let agent: Agent<'_, NoopRawMutex, _, _> = Agent::new(
        config(),
        RamQueue::new(&mut mem, 64),
        RamQueue::new(&mut esc_mem, 4),
    )
    .unwrap();
    let ctl = LinkCtl::default();
    let mut uplink = DoubleUplink::online(&ctl);
    let mut detectors = [RobustZ::new(); VIBRATION_WATCH.len()];
    let edge = RefCell::new(EdgeState::default());
    let clock = PollClock(Cell::new(0));
    let steps = Cell::new(0u32);
    let sensing = async {
        let mut rows = [[0.1f32, 0.2, 1.0]; WINDOW];
        rows[1][0] = 0.3;
        rows[2][2] = 0.9;
        let mut window = Window::new(&mut rows, 400.0).unwrap();
        let mut scratch = [0.0f32; WINDOW];
        for _ in 0..WINDOW {
            window.push(crate::sensor::Sample::new(Instant(0), [0.1, 0.2, 1.0]));
        }
        let view = window.take().unwrap();
        agent.observe(&view, &mut scratch).await.unwrap();
        // Let the edge task take the window and go to sleep on an empty channel.
        while steps.get() == 0 {
            embassy_futures::yield_now().await;
        }
        for _ in 0..10 {
            embassy_futures::yield_now().await;
        }
        agent.stop();
    };
    let edge_task = agent.run_edge_observed(&mut detectors, &edge, |_| steps.set(steps.get() + 1));
    let up = agent.run_uplink(&mut uplink, &clock, 1_000, |_, _, _| {});
    embassy_futures::block_on(embassy_futures::join::join3(sensing, edge_task, up));
    assert_eq!(steps.get(), 1);
    assert_eq!(agent.metrics().inferences, 1);
}
