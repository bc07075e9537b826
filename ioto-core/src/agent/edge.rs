//! The edge task: features → detectors → policy → records, and device commands.

use core::cell::RefCell;

use embassy_sync::blocking_mutex::raw::RawMutex;

use super::documents::{self, Context, Scored};
use super::records::RecordKind;
use super::{Agent, MAX_WATCHED, Observation, RECORD_MAX};
use crate::detect::Detector;
use crate::device::Command;
use crate::outbox::{Outbox, Pushed};
use crate::policy::{Action, Decision, Link, Reason};
use crate::state::{StateError, encode_reported};
use crate::time::Instant;

/// What the edge task last did, for progress displays.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EdgeState {
    /// Sensor time of the last window.
    pub at: Instant,
    /// The combined score of the last window (the largest feature score).
    pub score: f32,
    /// Each watched feature's score.
    pub scores: [f32; MAX_WATCHED],
    /// Each watched feature's value.
    pub values: [f32; MAX_WATCHED],
    /// The last decision.
    pub decision: Option<Decision>,
    /// Current sensitivity multiplier.
    pub sensitivity: f32,
    /// Current actuator level.
    pub actuator: f32,
}

/// Every decision that does something is logged with its reason: through `defmt`
/// on firmware (feature `defmt`), through `log` on hosts (feature `log`).
#[allow(unused_variables)]
fn log_decision(at: Instant, d: &Decision) {
    #[cfg(feature = "defmt")]
    defmt::info!("t={=u64}ms {}", at.as_millis(), d);
    #[cfg(all(feature = "log", not(feature = "defmt")))]
    log::info!("t={}ms {}", at.as_millis(), d);
}

/// Timers and control values owned by the edge task.
struct Control {
    next_telemetry: Option<Instant>,
    next_metrics: Option<Instant>,
    report_at: Option<Instant>,
    read_now: bool,
    sensitivity: f32,
    actuator: f32,
    state_dirty: bool,
    held: f32,
}

impl<M: RawMutex, O: Outbox, E: Outbox> Agent<'_, M, O, E> {
    /// The edge task: runs until [`Agent::stop`] was called and every waiting window
    /// was scored. `detectors[i]` scores the feature `config.watch[i]`.
    pub async fn run_edge<D: Detector>(&self, detectors: &mut [D], state: &RefCell<EdgeState>) {
        self.run_edge_observed(detectors, state, |_| {}).await;
    }

    /// [`Agent::run_edge`], calling `on_step` after every scored window (progress
    /// displays, reports).
    pub async fn run_edge_observed<D: Detector>(
        &self,
        detectors: &mut [D],
        state: &RefCell<EdgeState>,
        mut on_step: impl FnMut(&EdgeState),
    ) {
        let mut ctl = Control {
            next_telemetry: None,
            next_metrics: None,
            report_at: None,
            read_now: false,
            sensitivity: 1.0,
            actuator: 0.0,
            state_dirty: true,
            held: 0.0,
        };
        let mut rec = [0u8; RECORD_MAX];
        loop {
            while let Ok(cmd) = self.commands.try_receive() {
                self.apply(cmd, &mut ctl, state);
            }
            let obs = match self.observations.try_receive() {
                Ok(o) => o,
                Err(_) if self.with_status(|s| s.stopping) => break,
                Err(_) => {
                    // Wait for a window, a command, or the stop (which must wake this
                    // task: the last window may already have been taken).
                    match embassy_futures::select::select3(
                        self.observations.receive(),
                        self.commands.receive(),
                        self.stopped.wait(),
                    )
                    .await
                    {
                        embassy_futures::select::Either3::First(o) => o,
                        embassy_futures::select::Either3::Second(cmd) => {
                            self.apply(cmd, &mut ctl, state);
                            continue;
                        }
                        embassy_futures::select::Either3::Third(()) => continue,
                    }
                }
            };
            self.step(&obs, detectors, &mut ctl, state, &mut rec).await;
            on_step(&state.borrow());
        }
        self.with_status(|s| s.edge_done = true);
    }

    fn apply(&self, cmd: Command, ctl: &mut Control, state: &RefCell<EdgeState>) {
        if self.config.limits.check(&cmd).is_err() {
            self.count(|m| m.commands_rejected = m.commands_rejected.saturating_add(1));
            return;
        }
        match cmd {
            Command::SetSensitivity { level } => {
                ctl.sensitivity = level;
                if self
                    .policy
                    .lock(|p| p.borrow_mut().set_sensitivity(level))
                    .is_err()
                {
                    self.count(|m| m.commands_rejected = m.commands_rejected.saturating_add(1));
                    return;
                }
            }
            Command::SetActuator { level, .. } => ctl.actuator = level,
            Command::ScheduleReport { after_s } => {
                let at = state.borrow().at;
                ctl.report_at = Some(Instant(at.0.saturating_add(u64::from(after_s) * 1_000_000)));
            }
            Command::ReadSensor { .. } => ctl.read_now = true,
        }
        ctl.state_dirty = true;
        self.count(|m| m.commands_applied = m.commands_applied.saturating_add(1));
        let mut s = state.borrow_mut();
        s.sensitivity = ctl.sensitivity;
        s.actuator = ctl.actuator;
    }

    async fn step<D: Detector>(
        &self,
        obs: &Observation,
        detectors: &mut [D],
        ctl: &mut Control,
        state: &RefCell<EdgeState>,
        rec: &mut [u8; RECORD_MAX],
    ) {
        let n = self.config.watch.len().min(detectors.len());
        let mut scores = [0.0f32; MAX_WATCHED];
        let mut score = 0.0f32;
        for i in 0..n {
            scores[i] = detectors[i].update(obs.at, obs.values[i]);
            score = score.max(scores[i]);
        }
        if score.is_finite() {
            ctl.held = score.max(ctl.held * self.config.score_hold.clamp(0.0, 1.0));
            score = ctl.held;
        }
        let link = if self.with_status(|s| s.online) {
            Link::Online
        } else {
            Link::Offline
        };
        let (decision, episode_started) = self.policy.lock(|p| {
            let mut p = p.borrow_mut();
            let before = p.in_episode();
            let d = p.decide(obs.at, score, link);
            (d, !before && p.in_episode())
        });
        self.count(|m| {
            m.inferences = m.inferences.saturating_add(1);
            let k = decision.action as usize;
            m.decisions[k] = m.decisions[k].saturating_add(1);
            if episode_started {
                m.anomalies = m.anomalies.saturating_add(1);
            }
        });
        {
            let mut s = state.borrow_mut();
            s.at = obs.at;
            s.score = score;
            s.scores = scores;
            s.values = obs.values;
            s.decision = Some(decision);
        }
        self.with_status(|s| s.sensor_now = obs.at);
        if decision.action != Action::Ignore || decision.reason == Reason::EpisodeEnd {
            log_decision(obs.at, &decision);
        }
        if matches!(decision.action, Action::ActLocally | Action::Escalate) {
            // The device's own response: the machine's actuator to its safe level.
            ctl.actuator = 0.0;
            ctl.state_dirty = true;
            state.borrow_mut().actuator = 0.0;
        }
        let scored = Scored {
            device: self.config.device,
            at: obs.at,
            watch: &self.config.watch[..n],
            values: &obs.values[..n],
            scores: &scores[..n],
            score,
        };
        if decision.action != Action::Ignore {
            self.record(RecordKind::Event, rec, |b| {
                documents::event(b, &scored, &decision)
            })
            .await;
        }
        if decision.action == Action::Escalate {
            self.escalate(&scored, &decision, ctl, rec).await;
        }
        let due = |next: &mut Option<Instant>, every_s: u32| match *next {
            Some(t) if obs.at < t => false,
            _ => {
                *next = Some(Instant(
                    obs.at.0.saturating_add(u64::from(every_s) * 1_000_000),
                ));
                true
            }
        };
        let report_due = ctl.report_at.is_some_and(|t| obs.at >= t);
        if report_due {
            ctl.report_at = None;
        }
        if due(&mut ctl.next_telemetry, self.config.telemetry_every_s) || ctl.read_now || report_due
        {
            ctl.read_now = false;
            let sensitivity = ctl.sensitivity;
            let queue = self.outbox.lock().await.len() as u64;
            self.record(RecordKind::Telemetry, rec, |b| {
                documents::telemetry(b, &scored, sensitivity, queue)
            })
            .await;
        }
        if ctl.state_dirty || self.with_status(|s| core::mem::take(&mut s.state_dirty)) {
            ctl.state_dirty = false;
            let rms = obs.values[0];
            self.record(RecordKind::State, rec, |b| {
                self.write_state(b, score, rms, ctl)
            })
            .await;
        }
        if due(&mut ctl.next_metrics, self.config.metrics_every_s) {
            let depth = self.outbox.lock().await.len() as u64;
            self.count(|m| m.queue_depth = depth);
            let metrics = self.metrics();
            let device = self.config.device;
            self.record(RecordKind::Metrics, rec, |b| {
                documents::metrics(b, device, &metrics)
            })
            .await;
        }
    }

    /// Writes one record (kind byte + the document `write` puts into the rest of
    /// `rec`, returning its length) into the outbox; a document that does not fit,
    /// or a full outbox, counts as a drop.
    pub(super) async fn record<Er>(
        &self,
        kind: RecordKind,
        rec: &mut [u8; RECORD_MAX],
        write: impl FnOnce(&mut [u8]) -> Result<usize, Er>,
    ) {
        rec[0] = kind as u8;
        let Ok(n) = write(&mut rec[1..]) else {
            self.count(|m| m.drops = m.drops.saturating_add(1));
            return;
        };
        let pushed = self.outbox.lock().await.push(&rec[..1 + n]).await;
        match pushed {
            Ok(Pushed::Stored { evicted: 0 }) => {}
            Ok(Pushed::Stored { evicted }) => {
                self.count(|m| m.drops = m.drops.saturating_add(evicted as u64));
            }
            Ok(Pushed::Discarded) | Err(_) => {
                self.count(|m| m.drops = m.drops.saturating_add(1));
            }
        }
    }

    /// The reported state, as an AWS IoT shadow update.
    fn write_state(
        &self,
        out: &mut [u8],
        score: f32,
        rms: f32,
        ctl: &Control,
    ) -> Result<usize, StateError> {
        let queue = self.metrics().queue_depth;
        self.state.lock(|st| {
            let mut st = st.borrow_mut();
            let r = &mut st.reported;
            r.sensitivity = ctl.sensitivity;
            r.actuator = ctl.actuator;
            r.anomaly_score = score;
            r.rms = rms;
            r.queue_depth = u32::try_from(queue).unwrap_or(u32::MAX);
            r.uptime_s = self.with_status(|s| s.sensor_now.as_micros() / 1_000_000);
            encode_reported(&st.reported, None, "", out)
        })
    }

    async fn escalate(
        &self,
        scored: &Scored<'_>,
        d: &Decision,
        ctl: &Control,
        rec: &mut [u8; RECORD_MAX],
    ) {
        let (head, body) = rec.split_at_mut(super::tasks::ESCALATION_HEADER);
        head.copy_from_slice(&scored.at.0.to_le_bytes());
        let context = Context {
            scored: *scored,
            decision: *d,
            machine: self.config.machine,
            sensitivity: ctl.sensitivity,
            actuator: ctl.actuator,
            metrics: self.metrics(),
        };
        let Ok(n) = documents::escalation(body, &context) else {
            self.count(|m| m.drops = m.drops.saturating_add(1));
            return;
        };
        let len = super::tasks::ESCALATION_HEADER + n;
        let mut q = self.escalations.lock().await;
        if !matches!(q.push_back(&rec[..len]).await, Ok(true)) {
            self.count(|m| m.drops = m.drops.saturating_add(1));
        }
    }
}
