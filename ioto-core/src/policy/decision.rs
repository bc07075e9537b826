//! The typed outcome of [`super::Policy::decide`]: [`Action`], [`Reason`], [`Decision`].

use super::privacy::{Field, JsonRecord, RecordError};

/// What the agent does with one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Nothing to do, nothing to send.
    Ignore,
    /// The score is past `act_locally_on`: the device applies its own response (its
    /// local rule: actuator, alarm) and sends the event record like [`Action::Report`].
    ActLocally,
    /// Send an event record to the cloud (telemetry/event topic); no model call.
    Report,
    /// Ask the cloud model (the event record goes with it). The score is past
    /// `escalate_on ≥ act_locally_on`, so the local response applies too while the
    /// answer is pending or deferred.
    Escalate,
}

impl Action {
    /// Lower-case name, as written in records and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Ignore => "ignore",
            Action::ActLocally => "act_locally",
            Action::Report => "report",
            Action::Escalate => "escalate",
        }
    }
}

/// Why the policy decided what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reason {
    /// No episode and the score is under `report_on`.
    BelowThreshold,
    /// The score reached `report_on`: an episode starts.
    EpisodeStart,
    /// Within an episode the score reached `act_locally_on` for the first time.
    ActLocallyThreshold,
    /// The episode goes on and the report cooldown has passed: a periodic report.
    StillAnomalous,
    /// The episode goes on but the report cooldown has not passed.
    Cooldown,
    /// The score reached `escalate_on` (and the escalation cooldown had passed).
    EscalateThreshold,
    /// An escalation was due but a call or token budget would be exceeded.
    BudgetExhausted,
    /// An escalation was due while the link is down: it is deferred (queued).
    Offline,
    /// The score fell under `clear_below`: the episode is over.
    EpisodeEnd,
    /// The score was NaN; nothing changed.
    InvalidScore,
}

impl Reason {
    /// Lower-case name, as written in records and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::BelowThreshold => "below_threshold",
            Reason::EpisodeStart => "episode_start",
            Reason::ActLocallyThreshold => "act_locally_threshold",
            Reason::StillAnomalous => "still_anomalous",
            Reason::Cooldown => "cooldown",
            Reason::EscalateThreshold => "escalate_threshold",
            Reason::BudgetExhausted => "budget_exhausted",
            Reason::Offline => "offline",
            Reason::EpisodeEnd => "episode_end",
            Reason::InvalidScore => "invalid_score",
        }
    }
}

/// One decision of the policy.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Decision {
    /// What to do.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// The detector score decided on (clamped to [0, 1]; NaN kept as is).
    pub score: f32,
    /// An [`Action::Escalate`] decided while offline: the agent queues it and calls
    /// [`super::Policy::reserve_escalation`] when it actually sends it.
    pub deferred: bool,
}

/// Record field `action` (public).
pub const ACTION: Field = Field::public("action");
/// Record field `reason` (public).
pub const REASON: Field = Field::public("reason");
/// Record field `score` (public).
pub const SCORE: Field = Field::public("score");
/// Record field `deferred` (public).
pub const DEFERRED: Field = Field::public("deferred");

impl Decision {
    /// Whether the decision sends something (a record, a model call) now or later.
    pub const fn sends(&self) -> bool {
        !matches!(self.action, Action::Ignore)
    }

    /// Writes `action`, `reason`, `score` and `deferred` into `record`.
    pub fn write_to<'r, 'b>(
        &self,
        record: &'r mut JsonRecord<'b>,
    ) -> Result<&'r mut JsonRecord<'b>, RecordError> {
        record
            .str(&ACTION, self.action.as_str())?
            .str(&REASON, self.reason.as_str())?
            .f32(&SCORE, self.score)?
            .bool(&DEFERRED, self.deferred)
    }
}

impl core::fmt::Display for Decision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} ({}, score {:.3}{})",
            self.action.as_str(),
            self.reason.as_str(),
            self.score,
            if self.deferred { ", deferred" } else { "" }
        )
    }
}
