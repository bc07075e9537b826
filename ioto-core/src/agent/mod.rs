//! The agent loop: sensor → features → detectors → policy → outbox → uplink, and on
//! escalation → advisor → device commands → state — generic over the ports, with
//! bounded channels between its tasks.
//!
//! An [`Agent`] is shared (by reference) between four tasks; each owns one port:
//!
//! | task | owns | does |
//! |---|---|---|
//! | the application's sensing loop | the sensor | reads windows, calls [`Agent::observe`] (waits when the edge is behind: backpressure) |
//! | [`Agent::run_edge`] | detectors, device control | scores each window's features, asks the policy, writes telemetry / events / escalations into the outboxes, applies commands |
//! | [`Agent::run_uplink`] | the [`Uplink`](crate::uplink::Uplink) | sends the outbox in order, removes a record only when the broker acknowledged it, turns incoming state deltas into commands |
//! | [`Agent::run_advisor`] | the [`Advisor`](crate::advisor::Advisor) | asks the cloud model about each queued escalation within the budget, retries with jittered backoff, turns its answer into commands |
//!
//! Everything that must survive a reset waits in an [`Outbox`]: the records
//! (kind-tagged, see [`records`]) and the escalations. With a flash outbox
//! (`ioto_transport::storage::outbox::FlashOutbox`) a record whose push returned is
//! delivered at least once, in order, across resets and power cuts.
//!
//! Tasks communicate through `embassy-sync` primitives over a [`RawMutex`] `M`
//! (`NoopRawMutex` when every task runs on one executor, as with
//! `embassy_futures::join` or a single-threaded tokio runtime;
//! `CriticalSectionRawMutex` across interrupt priorities).

pub mod documents;
mod edge;
pub mod features;
pub mod metrics;
pub mod records;
mod tasks;
#[cfg(test)]
mod tests;

use core::cell::RefCell;

use embassy_sync::blocking_mutex::Mutex as BlockingMutex;
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::mutex::Mutex;
use embassy_sync::signal::Signal;

use crate::device::{Command, Limits};
use crate::outbox::{OfflineQueue, Outbox};
use crate::policy::{Policy, PolicyConfig};
use crate::sensor::WindowView;
use crate::state::{DeviceState, Reported};
use crate::time::Instant;

pub use edge::EdgeState;
pub use features::{Stat, VIBRATION_WATCH, Watched};
pub use metrics::Metrics;
pub use records::{RecordKind, Topics};

/// Windows that may wait between the sensing loop and the edge task.
pub const OBSERVATION_DEPTH: usize = 4;
/// Commands that may wait for the edge task.
pub const COMMAND_DEPTH: usize = 8;
/// Largest record the agent writes (JSON payload + kind byte).
pub const RECORD_MAX: usize = 768;
/// Most watched features.
pub const MAX_WATCHED: usize = 8;

/// How the agent behaves.
#[derive(Clone, Copy, Debug)]
pub struct AgentConfig<'a> {
    /// The device's name in documents (thing name).
    pub device: &'a str,
    /// What the device watches, in a few words for the cloud model (e.g. "rotating
    /// machine, accelerometer on the bearing housing").
    pub machine: &'a str,
    /// Firmware version, reported in the device state.
    pub firmware: &'a str,
    /// Where each kind of record goes.
    pub topics: Topics<'a>,
    /// The features the detectors watch (at most [`MAX_WATCHED`]).
    pub watch: &'a [Watched],
    /// Raw bytes the sensor delivers per sample (LIS3DH: 3 channels × 2 bytes).
    pub raw_bytes_per_sample: u32,
    /// A telemetry summary every this many seconds of sensor time.
    pub telemetry_every_s: u32,
    /// Metrics every this many seconds of sensor time.
    pub metrics_every_s: u32,
    /// The edge/cloud policy.
    pub policy: PolicyConfig,
    /// The device's limits on commands.
    pub limits: Limits,
    /// An escalation older than this (sensor time) is dropped unsent.
    pub escalation_ttl_s: u32,
    /// Attempts per escalation before it is dropped.
    pub escalation_attempts: u32,
    /// A delivery not acknowledged within this is sent again.
    pub ack_timeout_ms: u32,
    /// Peak hold of the combined score: each window it decays by this factor
    /// unless a higher score replaces it (0 = no hold). Detectors that score an
    /// anomaly as a short spike then give one policy episode per anomaly instead of
    /// one per spike; 0.97 holds a spike above half for about 23 windows.
    pub score_hold: f32,
}

impl<'a> AgentConfig<'a> {
    /// A vibration monitor: an LIS3DH (3 channels × 2 raw bytes a sample) on the bearing
    /// housing of a rotating machine, watching [`VIBRATION_WATCH`]; telemetry every 30 s
    /// and metrics every 120 s of sensor time, [`PolicyConfig::DEFAULT`], the default
    /// [`Limits`], escalations kept for an hour with 3 attempts each, a 5 s
    /// acknowledgement timeout and a 0.97 score hold. Change any field with struct
    /// update syntax (`AgentConfig { telemetry_every_s: 10, ..AgentConfig::vibration(…) }`).
    pub fn vibration(device: &'a str, firmware: &'a str, topics: Topics<'a>) -> Self {
        Self {
            device,
            machine: "rotating machine, accelerometer on the bearing housing",
            firmware,
            topics,
            watch: &VIBRATION_WATCH,
            raw_bytes_per_sample: 6,
            telemetry_every_s: 30,
            metrics_every_s: 120,
            policy: PolicyConfig::DEFAULT,
            limits: Limits::default(),
            escalation_ttl_s: 3_600,
            escalation_attempts: 3,
            ack_timeout_ms: 5_000,
            score_hold: 0.97,
        }
    }
}

/// One window's watched features, on their way from sensing to the edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// When the window ended (sensor time).
    pub at: Instant,
    /// Samples in the window.
    pub samples: u32,
    /// The watched features, in the order of [`AgentConfig::watch`].
    pub values: [f32; MAX_WATCHED],
}

/// Why the agent stopped or could not take a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AgentError {
    /// The configuration watches no feature or more than [`MAX_WATCHED`].
    BadWatchList,
    /// A window's features could not be computed (see [`features::FeatureFault`]).
    Features(features::FeatureFault),
    /// The policy configuration is inconsistent.
    Policy(crate::policy::PolicyError),
}

/// The agent's shared state: channels, outboxes, the policy, the counters.
pub struct Agent<'a, M: RawMutex, O: Outbox, E: Outbox> {
    config: AgentConfig<'a>,
    observations: Channel<M, Observation, OBSERVATION_DEPTH>,
    commands: Channel<M, Command, COMMAND_DEPTH>,
    outbox: Mutex<M, OfflineQueue<O>>,
    escalations: Mutex<M, E>,
    policy: BlockingMutex<M, RefCell<Policy>>,
    metrics: BlockingMutex<M, RefCell<Metrics>>,
    status: BlockingMutex<M, RefCell<Status>>,
    state: BlockingMutex<M, RefCell<DeviceState<'a>>>,
    stopped: Signal<M, ()>,
}

/// What the tasks tell each other.
#[derive(Clone, Copy, Debug, Default)]
struct Status {
    online: bool,
    stopping: bool,
    edge_done: bool,
    sensor_now: Instant,
    /// The device state changed outside the edge task (a desired-state delta).
    state_dirty: bool,
    /// The advisor task runs; the uplink waits for it before it finishes.
    advisor_running: bool,
}

impl<'a, M: RawMutex, O: Outbox, E: Outbox> Agent<'a, M, O, E> {
    /// An agent over `outbox` (records; full → the oldest records go, counted as
    /// drops) and `escalations` (escalation contexts).
    pub fn new(config: AgentConfig<'a>, outbox: O, escalations: E) -> Result<Self, AgentError> {
        if config.watch.is_empty() || config.watch.len() > MAX_WATCHED {
            return Err(AgentError::BadWatchList);
        }
        Ok(Self {
            config,
            observations: Channel::new(),
            commands: Channel::new(),
            outbox: Mutex::new(OfflineQueue::new(
                outbox,
                crate::outbox::QueuePolicy::DropOldest,
            )),
            escalations: Mutex::new(escalations),
            policy: BlockingMutex::new(RefCell::new(
                Policy::new(config.policy).map_err(AgentError::Policy)?,
            )),
            metrics: BlockingMutex::new(RefCell::new(Metrics::default())),
            status: BlockingMutex::new(RefCell::new(Status::default())),
            stopped: Signal::new(),
            state: BlockingMutex::new(RefCell::new(DeviceState::new(Reported::new(
                config.firmware,
            )))),
        })
    }

    /// A copy of the device state (reported values and the shadow version).
    pub fn device_state(&self) -> DeviceState<'a> {
        self.state.lock(|s| *s.borrow())
    }

    /// The configuration.
    pub fn config(&self) -> &AgentConfig<'a> {
        &self.config
    }

    /// A copy of the counters.
    pub fn metrics(&self) -> Metrics {
        self.metrics.lock(|m| *m.borrow())
    }

    fn count(&self, f: impl FnOnce(&mut Metrics)) {
        self.metrics.lock(|m| f(&mut m.borrow_mut()));
    }

    fn with_status<R>(&self, f: impl FnOnce(&mut Status) -> R) -> R {
        self.status.lock(|s| f(&mut s.borrow_mut()))
    }

    /// Computes the watched features of `view` and hands them to the edge task;
    /// waits while [`OBSERVATION_DEPTH`] windows are already waiting.
    /// `scratch` holds one channel of the window.
    pub async fn observe<const N: usize>(
        &self,
        view: &WindowView<'_, N>,
        scratch: &mut [f32],
    ) -> Result<(), AgentError> {
        let mut values = [0.0f32; MAX_WATCHED];
        let n = self.config.watch.len();
        features::extract(view, self.config.watch, scratch, &mut values[..n])
            .map_err(AgentError::Features)?;
        let samples = view.len() as u32;
        self.count(|m| {
            m.samples = m.samples.saturating_add(u64::from(samples));
            m.raw_bytes = m
                .raw_bytes
                .saturating_add(u64::from(samples) * u64::from(self.config.raw_bytes_per_sample));
        });
        self.observations
            .send(Observation {
                at: view.ended_at(),
                samples,
                values,
            })
            .await;
        Ok(())
    }

    /// Queues a device command (from the application, e.g. a button) for the edge task.
    pub async fn command(&self, command: Command) {
        self.commands.send(command).await;
    }

    /// Asks every task to finish: the edge task drains the observations, the uplink
    /// task sends what is queued (until its deadline), the advisor task stops.
    pub fn stop(&self) {
        self.with_status(|s| s.stopping = true);
        self.stopped.signal(());
    }

    /// Records waiting in the outbox.
    pub async fn queue_depth(&self) -> usize {
        self.outbox.lock().await.len()
    }

    /// Escalations waiting for the advisor.
    pub async fn escalations_waiting(&self) -> usize {
        self.escalations.lock().await.len()
    }

    /// Reads the oldest waiting escalation context into `out` (e.g. to show the
    /// request that would be sent when no advisor is configured).
    pub async fn peek_escalation(&self, out: &mut [u8]) -> Option<usize> {
        let mut q = self.escalations.lock().await;
        match q.read_front(out).await {
            Ok(Some(n)) if n <= out.len() && n >= tasks::ESCALATION_HEADER => Some(n),
            _ => None,
        }
    }
}
