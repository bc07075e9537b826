//! The documents the agent sends: every field goes through the policy's
//! privacy-aware [`JsonRecord`], so a watched feature marked
//! [`Privacy::Private`](crate::policy::Privacy::Private) is used on the device and
//! never written into any outgoing byte — telemetry, events, or the context a cloud
//! model sees.

use super::features::Watched;
use super::metrics::Metrics;
use crate::advisor::Advice;
use crate::policy::{Decision, Field, JsonRecord, RecordError};
use crate::time::Instant;

const DEVICE: Field = Field::public("device");
const T_MS: Field = Field::public("t_ms");
const SCORE: Field = Field::public("score");
const TOP: Field = Field::public("top");
const QUEUE: Field = Field::public("queue");
const SENSITIVITY: Field = Field::public("sensitivity");
const ACTUATOR: Field = Field::public("actuator");
const MACHINE: Field = Field::public("machine");
const ANOMALIES: Field = Field::public("anomalies_so_far");
const REPORTS: Field = Field::public("reports_so_far");
const ESCALATIONS: Field = Field::public("escalations_so_far");
const SEVERITY: Field = Field::public("severity");
const SUMMARY: Field = Field::public("summary");
const COMMANDS: Field = Field::public("commands");

/// One scored window as the documents see it.
#[derive(Clone, Copy, Debug)]
pub struct Scored<'a> {
    /// The device name.
    pub device: &'a str,
    /// End of the window (sensor time).
    pub at: Instant,
    /// The watched features.
    pub watch: &'a [Watched],
    /// Their values.
    pub values: &'a [f32],
    /// Their scores.
    pub scores: &'a [f32],
    /// The combined (held) score.
    pub score: f32,
}

impl Scored<'_> {
    fn head<'r, 'b>(
        &self,
        r: &'r mut JsonRecord<'b>,
    ) -> Result<&'r mut JsonRecord<'b>, RecordError> {
        r.str(&DEVICE, self.device)?.u64(&T_MS, self.at.as_millis())
    }

    fn features<'r, 'b>(
        &self,
        r: &'r mut JsonRecord<'b>,
    ) -> Result<&'r mut JsonRecord<'b>, RecordError> {
        for (w, v) in self.watch.iter().zip(self.values) {
            r.f32(&Field::new(w.name, w.privacy), *v)?;
        }
        Ok(r)
    }

    /// The public feature with the highest score (what drove the decision).
    fn top(&self) -> &str {
        let mut best: Option<(&Watched, f32)> = None;
        for (w, s) in self.watch.iter().zip(self.scores) {
            if w.privacy != crate::policy::Privacy::Private && best.is_none_or(|(_, b)| *s > b) {
                best = Some((w, *s));
            }
        }
        best.map_or("", |(w, _)| w.name)
    }
}

fn finish(r: JsonRecord<'_>) -> Result<usize, RecordError> {
    r.finish().map(<[u8]>::len)
}

/// A telemetry summary: device, time, score, the (non-private) features, the overall
/// RMS (`rms`: the first watched RMS feature, public ones only), sensitivity and
/// outbox depth (`queue`) — the keys Home Assistant discovery documents point at
/// ([`crate::state::discovery::Entity::json_key`]).
pub fn telemetry(
    out: &mut [u8],
    s: &Scored<'_>,
    sensitivity: f32,
    queue: u64,
) -> Result<usize, RecordError> {
    let mut r = JsonRecord::new(out);
    s.head(&mut r)?.f32(&SCORE, s.score)?;
    s.features(&mut r)?;
    let rms = s
        .watch
        .iter()
        .zip(s.values)
        .find(|(w, _)| w.stat == super::features::Stat::Rms);
    if let Some((w, v)) = rms {
        r.f32(&Field::new("rms", w.privacy), *v)?;
    }
    r.f32(&SENSITIVITY, sensitivity)?.u64(&QUEUE, queue)?;
    finish(r)
}

/// An event: the decision (action, reason, score, deferred), what drove it, the
/// features.
pub fn event(out: &mut [u8], s: &Scored<'_>, d: &Decision) -> Result<usize, RecordError> {
    let mut r = JsonRecord::new(out);
    s.head(&mut r)?;
    d.write_to(&mut r)?.str(&TOP, s.top())?;
    s.features(&mut r)?;
    finish(r)
}

/// What the device knows when it asks a cloud model.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The window and its scores.
    pub scored: Scored<'a>,
    /// The decision that escalated.
    pub decision: Decision,
    /// What the device is.
    pub machine: &'a str,
    /// Current sensitivity and actuator level.
    pub sensitivity: f32,
    /// Current actuator level.
    pub actuator: f32,
    /// Counters so far.
    pub metrics: Metrics,
}

/// The compact context of an escalation (a few hundred bytes, never raw samples).
pub fn escalation(out: &mut [u8], c: &Context<'_>) -> Result<usize, RecordError> {
    let mut r = JsonRecord::new(out);
    c.scored.head(&mut r)?.str(&MACHINE, c.machine)?;
    c.decision.write_to(&mut r)?.str(&TOP, c.scored.top())?;
    c.scored.features(&mut r)?;
    for (w, s) in c.scored.watch.iter().zip(c.scored.scores) {
        // A private feature's score says nothing about its value, but its name could:
        // leave both out.
        if w.privacy != crate::policy::Privacy::Private {
            r.f32(&Field::public(w.score_name), *s)?;
        }
    }
    r.f32(&SENSITIVITY, c.sensitivity)?
        .f32(&ACTUATOR, c.actuator)?
        .u64(&ANOMALIES, c.metrics.anomalies)?
        .u64(&REPORTS, c.metrics.decisions[2])?
        .u64(&ESCALATIONS, c.metrics.escalations)?;
    finish(r)
}

/// The model's advice as the device took it.
pub fn advice(out: &mut [u8], device: &str, a: &Advice) -> Result<usize, RecordError> {
    let mut names = [0u8; 96];
    let mut n = 0;
    for (i, c) in a.commands().enumerate() {
        let sep: &[u8] = if i > 0 { b"," } else { b"" };
        for part in [sep, c.name().as_bytes()] {
            if let Some(dst) = names.get_mut(n..n + part.len()) {
                dst.copy_from_slice(part);
                n += part.len();
            }
        }
    }
    let names = core::str::from_utf8(&names[..n]).unwrap_or("");
    let mut r = JsonRecord::new(out);
    r.str(&DEVICE, device)?
        .str(&SEVERITY, a.severity.name())?
        .str(&SUMMARY, a.summary())?
        .str(&COMMANDS, names)?;
    finish(r)
}

/// The agent's counters.
pub fn metrics(out: &mut [u8], device: &str, m: &Metrics) -> Result<usize, RecordError> {
    const F: [Field; 16] = [
        Field::public("samples"),
        Field::public("inferences"),
        Field::public("anomalies"),
        Field::public("ignore"),
        Field::public("act_locally"),
        Field::public("report"),
        Field::public("escalate"),
        Field::public("escalations"),
        Field::public("escalation_failures"),
        Field::public("commands_applied"),
        Field::public("commands_rejected"),
        Field::public("raw_bytes"),
        Field::public("sent_bytes"),
        Field::public("delivered"),
        Field::public("drops"),
        Field::public("queue_depth"),
    ];
    let v = [
        m.samples,
        m.inferences,
        m.anomalies,
        m.decisions[0],
        m.decisions[1],
        m.decisions[2],
        m.decisions[3],
        m.escalations,
        m.escalation_failures,
        m.commands_applied,
        m.commands_rejected,
        m.raw_bytes,
        m.sent_bytes,
        m.delivered,
        m.drops,
        m.queue_depth,
    ];
    let mut r = JsonRecord::new(out);
    r.str(&DEVICE, device)?;
    for (f, x) in F.iter().zip(v) {
        r.u64(f, x)?;
    }
    finish(r)
}
