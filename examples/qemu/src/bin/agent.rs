//! ioto-core's agent loop as firmware on every virtual board (console only, no network
//! yet): the real LIS3DH driver on the simulated chip (`SimAccel`) with an imbalance
//! starting mid-run, one `RobustZ` per watched feature (`VIBRATION_WATCH`), the
//! edge/cloud policy, a `RamQueue` outbox and an uplink that prints each message's
//! topic and length and acknowledges it on the next poll. The sensing loop, the edge
//! task and the uplink task run under `embassy_futures::join` on one thread.
//!
//! The run happens first (its console lines come before the harness's report); the
//! suite's tests then check what the uplink saw against the fault plan and the
//! sensor's own sample count.
#![no_std]
#![no_main]

use core::cell::{Cell, RefCell};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use embassy_futures::join::join3;
use embassy_futures::yield_now;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use ioto_board_qemu::{entry, harness, println, tests};
use ioto_core::agent::{Agent, AgentConfig, EdgeState, Topics, VIBRATION_WATCH, documents};
use ioto_core::detect::RobustZ;
use ioto_core::device::Command;
use ioto_core::outbox::RamQueue;
use ioto_core::sensor::FaultKind;
use ioto_core::uplink::{Message, Uplink, UplinkEvent};
use ioto_core::{Clock, Instant, agent_topics};

#[path = "agent_common/sim.rs"]
mod sim;

use sim::{SAMPLE_US, WINDOW};

/// Windows in the run (192 s of sensor time).
const WINDOWS: usize = 300;
/// The imbalance starts with the first sample of this window.
const FAULT_WINDOW: usize = 150;
/// Raw bytes per LIS3DH sample: three 16-bit output registers.
const RAW_PER_SAMPLE: u32 = 6;

const TOPICS: Topics<'static> = agent_topics!("dev/qemu", "qemu");

/// The sensor's clock: each read is the next sample at 400 Hz.
struct SampleClock(Cell<u64>);

impl Clock for SampleClock {
    fn now(&self) -> Instant {
        self.0.set(self.0.get() + SAMPLE_US);
        Instant(self.0.get())
    }
}

/// The uplink task's clock: each look is one poll period (50 ms) later.
struct PollClock(Cell<u64>);

impl Clock for PollClock {
    fn now(&self) -> Instant {
        self.0.set(self.0.get() + 50_000);
        Instant(self.0.get())
    }
}

/// What the console uplink saw.
#[derive(Default)]
struct Seen {
    messages: u32,
    bytes: u64,
    events: u32,
    events_before_onset: u32,
    first_event_ms: Option<u64>,
}

/// Prints each message's topic and length and acknowledges it on the next poll.
struct ConsoleUplink<'a> {
    seen: &'a RefCell<Seen>,
    onset_ms: u64,
    connected: bool,
    next_ticket: u32,
    pending: Option<u32>,
}

impl Uplink for ConsoleUplink<'_> {
    type Error = ();

    async fn publish(&mut self, m: &Message<'_>) -> Result<Option<u32>, ()> {
        if self.pending.is_some() {
            return Err(()); // one in flight at a time, as the agent sends
        }
        println!("publish {} {} B", m.topic, m.payload.len());
        let mut seen = self.seen.borrow_mut();
        seen.messages += 1;
        seen.bytes += (m.topic.len() + m.payload.len()) as u64;
        if m.topic == TOPICS.events {
            seen.events += 1;
            let t = t_ms(m.payload).unwrap_or(0);
            if t < self.onset_ms {
                seen.events_before_onset += 1;
            }
            seen.first_event_ms.get_or_insert(t);
        }
        self.next_ticket += 1;
        self.pending = Some(self.next_ticket);
        Ok(Some(self.next_ticket))
    }

    async fn poll(&mut self, _max_wait_ms: u32) -> Result<Option<UplinkEvent<'_>>, ()> {
        yield_now().await;
        if !self.connected {
            self.connected = true;
            return Ok(Some(UplinkEvent::Connected));
        }
        Ok(self.pending.take().map(UplinkEvent::Delivered))
    }

    fn is_connected(&self) -> bool {
        self.connected
    }
}

/// The integer after `"t_ms":` in an event record.
fn t_ms(payload: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"t_ms\":";
    let at = payload.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let mut v = 0u64;
    let mut any = false;
    for &b in payload[at..].iter().take_while(|b| b.is_ascii_digit()) {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(v)
}

// What the run left for the suite's tests.
static RAN: AtomicBool = AtomicBool::new(false);
static SAMPLES_LATCHED: AtomicU32 = AtomicU32::new(0);
static RAW_BYTES: AtomicU32 = AtomicU32::new(0);
static SENT_BYTES_METRIC: AtomicU32 = AtomicU32::new(0);
static SENT_BYTES_SEEN: AtomicU32 = AtomicU32::new(0);
static DELIVERED_METRIC: AtomicU32 = AtomicU32::new(0);
static MESSAGES_SEEN: AtomicU32 = AtomicU32::new(0);
static QUEUE_LEFT: AtomicU32 = AtomicU32::new(u32::MAX);
static DROPS: AtomicU32 = AtomicU32::new(u32::MAX);
static INFERENCES: AtomicU32 = AtomicU32::new(0);
static EVENTS: AtomicU32 = AtomicU32::new(0);
static EVENTS_BEFORE_ONSET: AtomicU32 = AtomicU32::new(u32::MAX);
static FIRST_EVENT_DELAY_MS: AtomicU32 = AtomicU32::new(u32::MAX);
static ANOMALIES: AtomicU32 = AtomicU32::new(0);

fn run() {
    let onset = sim::onset(FAULT_WINDOW as u64);
    // The first faulty sample is stamped (onset + 1) sample periods after boot.
    let onset_ms = (onset + 1) * SAMPLE_US / 1_000;
    let imbalance = (FaultKind::Imbalance, FAULT_WINDOW as u64);
    let mut accel = sim::faulty_machine(imbalance.0, imbalance.1, 11, SampleClock(Cell::new(0)))
        .expect("the simulated machine");
    // The library's vibration monitor, with telemetry every 10 s for more traffic.
    let config = AgentConfig {
        telemetry_every_s: 10,
        ..AgentConfig::vibration("qemu", "0.1.0", TOPICS)
    };
    let mut records = [0u8; 8 * 1024];
    let mut escalations = [0u8; 4 * 1024];
    let agent: Agent<'_, NoopRawMutex, _, _> = Agent::new(
        config,
        RamQueue::new(&mut records, 64),
        RamQueue::new(&mut escalations, 6),
    )
    .expect("agent");
    let seen = RefCell::new(Seen::default());
    let mut uplink = ConsoleUplink {
        seen: &seen,
        onset_ms,
        connected: false,
        next_ticket: 0,
        pending: None,
    };
    let mut detectors = [RobustZ::new(); VIBRATION_WATCH.len()];
    let edge = RefCell::new(EdgeState::default());
    let clock = PollClock(Cell::new(0));

    let sensing = async {
        let sensed = sim::sense(&agent, &mut accel, WINDOWS as u32).await;
        sensed.expect("sensing");
    };
    let no_commands = |_: &str, _: &[u8], _: &mut [Option<Command>; 4]| {};
    ioto_board_qemu::block_on(join3(
        sensing,
        agent.run_edge(&mut detectors, &edge),
        agent.run_uplink(&mut uplink, &clock, 60_000, no_commands),
    ));

    let m = agent.metrics();
    let queue_left = ioto_board_qemu::block_on(agent.queue_depth());
    let waiting = ioto_board_qemu::block_on(agent.escalations_waiting());
    drop(agent);
    let (chip, _) = accel.release();
    let seen = seen.into_inner();
    let samples = chip.samples_latched();
    let raw = samples * u64::from(RAW_PER_SAMPLE);
    let mut doc = [0u8; 512];
    let n = documents::metrics(&mut doc, "qemu", &m).expect("metrics document");
    println!("agent: {}", core::str::from_utf8(&doc[..n]).unwrap_or("?"));
    println!(
        "agent: escalations waiting {}, sent {} B vs raw {} B ({}.{:02} %)",
        waiting,
        m.sent_bytes,
        raw,
        m.sent_bytes * 100 / raw.max(1),
        m.sent_bytes * 10_000 / raw.max(1) % 100,
    );
    let to32 = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    SAMPLES_LATCHED.store(to32(samples), Ordering::Relaxed);
    RAW_BYTES.store(to32(m.raw_bytes), Ordering::Relaxed);
    SENT_BYTES_METRIC.store(to32(m.sent_bytes), Ordering::Relaxed);
    SENT_BYTES_SEEN.store(to32(seen.bytes), Ordering::Relaxed);
    DELIVERED_METRIC.store(to32(m.delivered), Ordering::Relaxed);
    MESSAGES_SEEN.store(seen.messages, Ordering::Relaxed);
    QUEUE_LEFT.store(to32(queue_left as u64), Ordering::Relaxed);
    DROPS.store(to32(m.drops), Ordering::Relaxed);
    INFERENCES.store(to32(m.inferences), Ordering::Relaxed);
    EVENTS.store(seen.events, Ordering::Relaxed);
    EVENTS_BEFORE_ONSET.store(seen.events_before_onset, Ordering::Relaxed);
    if let Some(first) = seen.first_event_ms {
        FIRST_EVENT_DELAY_MS.store(to32(first.saturating_sub(onset_ms)), Ordering::Relaxed);
    }
    ANOMALIES.store(to32(m.anomalies), Ordering::Relaxed);
    RAN.store(true, Ordering::Relaxed);
}

fn load(v: &AtomicU32) -> u32 {
    assert!(RAN.load(Ordering::Relaxed), "the agent did not run");
    v.load(Ordering::Relaxed)
}

/// Every window was read from the simulated chip and scored once.
fn every_window_was_scored() {
    assert_eq!(load(&SAMPLES_LATCHED), (WINDOWS * WINDOW) as u32);
    assert_eq!(load(&INFERENCES), WINDOWS as u32);
}

/// The imbalance was reported within 15 s of its onset, and nothing before it.
fn the_fault_was_detected_and_nothing_before_it() {
    assert_eq!(load(&EVENTS_BEFORE_ONSET), 0);
    assert!(load(&EVENTS) >= 1, "no event");
    assert!(load(&ANOMALIES) >= 1);
    let delay = load(&FIRST_EVENT_DELAY_MS);
    assert!(delay <= 15_000, "first event {} ms after the onset", delay);
}

/// Everything written was acknowledged; the agent's counters match the uplink's.
fn everything_was_delivered() {
    assert_eq!(load(&QUEUE_LEFT), 0);
    assert_eq!(load(&DROPS), 0);
    assert_eq!(load(&DELIVERED_METRIC), load(&MESSAGES_SEEN));
}

/// Sent bytes (topic + payload, as the uplink saw them) are under 5 % of the raw
/// sensor bytes (6 per sample latched by the chip).
fn sent_bytes_are_under_five_percent_of_raw() {
    let raw = load(&SAMPLES_LATCHED) * RAW_PER_SAMPLE;
    assert_eq!(load(&RAW_BYTES), raw);
    let sent = load(&SENT_BYTES_SEEN);
    assert_eq!(load(&SENT_BYTES_METRIC), sent);
    assert!(sent * 20 < raw, "sent {} of {} raw bytes", sent, raw);
}

#[entry]
fn main() -> ! {
    run();
    let suite = tests![
        every_window_was_scored,
        the_fault_was_detected_and_nothing_before_it,
        everything_was_delivered,
        sent_bytes_are_under_five_percent_of_raw,
    ];
    harness::run("agent", suite)
}
