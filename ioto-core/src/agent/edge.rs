//! The edge task: features → detectors → policy → records, and device commands.

use core::cell::RefCell;

use embassy_sync::blocking_mutex::raw::RawMutex;

use super::json::{JsonFull, JsonOut};
use super::records::RecordKind;
use super::{Agent, MAX_WATCHED, Observation, RECORD_MAX};
use crate::detect::Detector;
use crate::device::Command;
use crate::outbox::{Outbox, Pushed};
use crate::policy::{Action, Decision, Link, Reason};
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
                    match embassy_futures::select::select(
                        self.observations.receive(),
                        self.commands.receive(),
                    )
                    .await
                    {
                        embassy_futures::select::Either::First(o) => o,
                        embassy_futures::select::Either::Second(cmd) => {
                            self.apply(cmd, &mut ctl, state);
                            continue;
                        }
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
        let decision = self
            .policy
            .lock(|p| p.borrow_mut().decide(obs.at, score, link));
        self.count(|m| {
            m.inferences = m.inferences.saturating_add(1);
            let k = decision.action as usize;
            m.decisions[k] = m.decisions[k].saturating_add(1);
            if decision.reason == Reason::EpisodeStart {
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
        if matches!(decision.action, Action::ActLocally | Action::Escalate) {
            // Acting locally: the machine's actuator goes to its safe level at once.
            self.apply(
                Command::SetActuator {
                    actuator: 0,
                    level: 0.0,
                },
                ctl,
                state,
            );
        }
        if decision.action != Action::Ignore {
            self.record(RecordKind::Event, rec, |j| {
                self.write_event(j, obs, &scores, &decision)
            })
            .await;
        }
        if decision.action == Action::Escalate {
            self.escalate(obs, &scores, &decision, ctl, rec).await;
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
            self.record(RecordKind::Telemetry, rec, |j| {
                self.write_telemetry(j, obs, score, ctl)
            })
            .await;
        }
        if ctl.state_dirty {
            ctl.state_dirty = false;
            self.record(RecordKind::State, rec, |j| self.write_state(j, score, ctl))
                .await;
        }
        if due(&mut ctl.next_metrics, self.config.metrics_every_s) {
            let depth = self.outbox.lock().await.len() as u64;
            self.count(|m| m.queue_depth = depth);
            let metrics = self.metrics();
            self.record(RecordKind::Metrics, rec, |j| metrics.write_json(j))
                .await;
        }
    }

    /// Writes one record (kind byte + JSON from `write`) into the outbox.
    pub(super) async fn record(
        &self,
        kind: RecordKind,
        rec: &mut [u8; RECORD_MAX],
        write: impl FnOnce(&mut JsonOut<'_>) -> Result<(), JsonFull>,
    ) {
        rec[0] = kind as u8;
        let (head, body) = rec.split_at_mut(1);
        let mut j = JsonOut::new(body);
        if write(&mut j).is_err() {
            self.count(|m| m.drops = m.drops.saturating_add(1));
            return;
        }
        let len = 1 + j.len();
        let _ = head;
        let pushed = self.outbox.lock().await.push(&rec[..len]).await;
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

    fn write_features(
        &self,
        j: &mut JsonOut<'_>,
        values: &[f32],
        scores: &[f32],
    ) -> Result<(), JsonFull> {
        j.object("features")?;
        for (w, v) in self.config.watch.iter().zip(values) {
            j.f32(w.name, *v)?;
        }
        j.end()?;
        j.object("scores")?;
        for (w, s) in self.config.watch.iter().zip(scores) {
            j.f32(w.name, *s)?;
        }
        j.end()
    }

    fn write_event(
        &self,
        j: &mut JsonOut<'_>,
        obs: &Observation,
        scores: &[f32; MAX_WATCHED],
        d: &Decision,
    ) -> Result<(), JsonFull> {
        let n = self.config.watch.len();
        j.begin()?;
        j.str("device", self.config.device)?;
        j.u64("t_ms", obs.at.as_millis())?;
        j.str("action", d.action.as_str())?;
        j.str("reason", d.reason.as_str())?;
        j.f32("score", d.score)?;
        self.write_features(j, &obs.values[..n], &scores[..n])?;
        j.end()
    }

    fn write_telemetry(
        &self,
        j: &mut JsonOut<'_>,
        obs: &Observation,
        score: f32,
        ctl: &Control,
    ) -> Result<(), JsonFull> {
        let n = self.config.watch.len();
        j.begin()?;
        j.str("device", self.config.device)?;
        j.u64("t_ms", obs.at.as_millis())?;
        j.f32("score", score)?;
        j.object("features")?;
        for (w, v) in self.config.watch.iter().zip(&obs.values[..n]) {
            j.f32(w.name, *v)?;
        }
        j.end()?;
        j.f32("sensitivity", ctl.sensitivity)?;
        j.end()
    }

    fn write_state(&self, j: &mut JsonOut<'_>, score: f32, ctl: &Control) -> Result<(), JsonFull> {
        j.begin()?;
        j.object("state")?;
        j.object("reported")?;
        j.f32("sensitivity", ctl.sensitivity)?;
        j.f32("actuator", ctl.actuator)?;
        j.f32("anomaly_score", score)?;
        j.end()?;
        j.end()?;
        j.end()
    }

    async fn escalate(
        &self,
        obs: &Observation,
        scores: &[f32; MAX_WATCHED],
        d: &Decision,
        ctl: &Control,
        rec: &mut [u8; RECORD_MAX],
    ) {
        let n = self.config.watch.len();
        let (head, body) = rec.split_at_mut(super::tasks::ESCALATION_HEADER);
        head.copy_from_slice(&obs.at.0.to_le_bytes());
        let mut j = JsonOut::new(body);
        let written = (|| {
            j.begin()?;
            j.str("device", self.config.device)?;
            j.str(
                "machine",
                "rotating machine, accelerometer on the bearing housing",
            )?;
            j.u64("t_ms", obs.at.as_millis())?;
            j.str("decision", d.action.as_str())?;
            j.str("reason", d.reason.as_str())?;
            j.f32("score", d.score)?;
            self.write_features(&mut j, &obs.values[..n], &scores[..n])?;
            j.object("state")?;
            j.f32("sensitivity", ctl.sensitivity)?;
            j.f32("actuator", ctl.actuator)?;
            j.end()?;
            let m = self.metrics();
            j.object("recent")?;
            j.u64("anomalies", m.anomalies)?;
            j.u64("reports", m.decisions[2])?;
            j.u64("escalations", m.escalations)?;
            j.end()?;
            j.end()
        })();
        if written.is_err() {
            self.count(|m| m.drops = m.drops.saturating_add(1));
            return;
        }
        let len = super::tasks::ESCALATION_HEADER + j.len();
        let mut q = self.escalations.lock().await;
        if !matches!(q.push_back(&rec[..len]).await, Ok(true)) {
            self.count(|m| m.drops = m.drops.saturating_add(1));
        }
    }
}
