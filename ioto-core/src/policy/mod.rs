//! The edge/cloud policy: per event, decide from a detector score in [0, 1] whether
//! to ignore it, act on the device, report it, or escalate it to the cloud model —
//! deterministically, without heap, within call and token budgets — and write what
//! leaves the device through a privacy-aware JSON writer ([`JsonRecord`]).
//!
//! * **Episodes with hysteresis.** An episode starts when the score reaches
//!   `report_on` and ends only when it falls under `clear_below`. Within it,
//!   `act_locally_on` triggers the local response once, `escalate_on` asks the cloud
//!   model; a report cooldown and a separate escalation cooldown keep a long anomaly
//!   from flooding the uplink. The end of an episode is reported once.
//! * **Sensitivity.** [`Policy::set_sensitivity`] multiplies every threshold (> 1 less
//!   sensitive); the cloud model tunes the edge through
//!   [`crate::device::Command::SetSensitivity`].
//! * **Budgets.** Escalations are limited in calls and tokens per hour and per day
//!   ([`BudgetLimits`], fixed windows of `Instant / 3600 s` and `/ 86 400 s`). An
//!   escalation that would not fit is downgraded ([`Reason::BudgetExhausted`]) to the
//!   local response ([`Action::ActLocally`]) or, once that is engaged, to a
//!   [`Action::Report`]; the refused attempt takes the escalation's cooldown slot, so
//!   the next try (and the next such report) waits for the escalation cooldown.
//!   [`Policy::decide`] only *checks* the budget; the agent *counts* a call with
//!   [`Policy::reserve_escalation`] right before it actually sends one (now, or later
//!   from its outbox when the decision was [`Decision::deferred`] because the link was
//!   down), and corrects the estimate with [`Policy::settle`] once the answer says how
//!   many tokens were used. So whatever is sent never exceeds a budget.
//! * **Privacy.** Each record [`Field`] is [`Privacy::Public`], [`Privacy::Summary`]
//!   or [`Privacy::Private`]; [`JsonRecord`] writes a payload into a caller-owned
//!   buffer, never writes private fields and writes summary windows as aggregates
//!   only. [`Decision::write_to`] adds a decision to a record.
//!
//! ```
//! use ioto_core::Instant;
//! use ioto_core::policy::{Action, Link, Policy, PolicyConfig, Reason, Thresholds};
//!
//! let config = PolicyConfig {
//!     thresholds: Thresholds { report_on: 0.5, clear_below: 0.4, act_locally_on: 0.7, escalate_on: 0.9 },
//!     report_cooldown_s: 60,
//!     escalate_cooldown_s: 600,
//!     ..PolicyConfig::DEFAULT
//! };
//! let mut policy = Policy::new(config)?;
//! let s = |secs: u64| Instant(secs * 1_000_000);
//!
//! // 0.6 ≥ report_on: an episode starts and is reported.
//! let d = policy.decide(s(0), 0.6, Link::Online);
//! assert_eq!((d.action, d.reason), (Action::Report, Reason::EpisodeStart));
//!
//! // 0.95 ≥ escalate_on: ask the cloud model; count the call when sending it.
//! let d = policy.decide(s(1), 0.95, Link::Online);
//! assert_eq!((d.action, d.reason), (Action::Escalate, Reason::EscalateThreshold));
//! let reservation = policy.reserve_escalation(s(1)).expect("within budget");
//! policy.settle(reservation, 420); // tokens the answer really used
//!
//! // Still 0.95 two seconds later: both cooldowns hold, nothing is sent.
//! let d = policy.decide(s(3), 0.95, Link::Online);
//! assert_eq!((d.action, d.reason), (Action::Ignore, Reason::Cooldown));
//!
//! // 0.45 is under report_on but not under clear_below: the episode goes on.
//! assert_eq!(policy.decide(s(4), 0.45, Link::Online).reason, Reason::Cooldown);
//! // 0.3 < clear_below: the episode ends, once.
//! let d = policy.decide(s(5), 0.3, Link::Online);
//! assert_eq!((d.action, d.reason), (Action::Report, Reason::EpisodeEnd));
//! # Ok::<(), ioto_core::policy::PolicyError>(())
//! ```

mod budget;
mod decision;
mod privacy;

#[cfg(test)]
mod privacy_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use budget::{
    Budget, BudgetExhausted, BudgetLimits, DAY_US, HOUR_US, Reservation, WindowUsage,
};
pub use decision::{ACTION, Action, DEFERRED, Decision, REASON, Reason, SCORE};
pub use privacy::{Field, JsonRecord, Privacy, RecordError};

use crate::time::Instant;

/// Whether the uplink is up when an event is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Link {
    /// Connected: an escalation is sent now.
    Online,
    /// Not connected: an escalation is deferred (queued by the agent).
    Offline,
}

/// Score thresholds, in score units; must hold
/// `0 ≤ clear_below ≤ report_on ≤ act_locally_on ≤ escalate_on`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Thresholds {
    /// An episode starts when the score is at least this.
    pub report_on: f32,
    /// An episode ends only when the score is below this.
    pub clear_below: f32,
    /// Within an episode, the local response applies from this score on.
    pub act_locally_on: f32,
    /// Within an episode, the cloud model is asked from this score on.
    pub escalate_on: f32,
}

impl Thresholds {
    fn scaled(self, k: f32) -> Self {
        Self {
            report_on: self.report_on * k,
            clear_below: self.clear_below * k,
            act_locally_on: self.act_locally_on * k,
            escalate_on: self.escalate_on * k,
        }
    }

    fn check(&self) -> Result<(), PolicyError> {
        let all = [
            self.clear_below,
            self.report_on,
            self.act_locally_on,
            self.escalate_on,
        ];
        if all.iter().any(|t| !t.is_finite()) {
            return Err(PolicyError::NotFinite);
        }
        if self.clear_below < 0.0 || all.windows(2).any(|w| w[0] > w[1]) {
            return Err(PolicyError::ThresholdOrder);
        }
        Ok(())
    }
}

/// Configuration of a [`Policy`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PolicyConfig {
    /// Thresholds at sensitivity 1.
    pub thresholds: Thresholds,
    /// Least time between two reports of one episode, seconds (0 = every event).
    pub report_cooldown_s: u32,
    /// Least time between two escalations of one episode, seconds.
    pub escalate_cooldown_s: u32,
    /// Call and token budgets of escalations.
    pub budget: BudgetLimits,
    /// Tokens reserved per escalation before it is sent (corrected by settling).
    pub tokens_per_call: u32,
}

impl PolicyConfig {
    /// A starting point: report at 0.5 (clear under 0.4), act locally at 0.7,
    /// escalate at 0.9; a report a minute and an escalation per 10 minutes at most
    /// within an episode; 10 calls / 20 000 tokens an hour, 50 calls / 100 000 tokens
    /// a day, 1 000 tokens reserved per call.
    pub const DEFAULT: Self = Self {
        thresholds: Thresholds {
            report_on: 0.5,
            clear_below: 0.4,
            act_locally_on: 0.7,
            escalate_on: 0.9,
        },
        report_cooldown_s: 60,
        escalate_cooldown_s: 600,
        budget: BudgetLimits {
            calls_per_hour: 10,
            calls_per_day: 50,
            tokens_per_hour: 20_000,
            tokens_per_day: 100_000,
        },
        tokens_per_call: 1_000,
    };
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A refused configuration or sensitivity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PolicyError {
    /// A threshold is NaN or infinite.
    NotFinite,
    /// Thresholds not in `0 ≤ clear_below ≤ report_on ≤ act_locally_on ≤ escalate_on`.
    ThresholdOrder,
    /// A sensitivity that is not a finite number > 0.
    InvalidSensitivity,
}

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PolicyError::NotFinite => "threshold not finite",
            PolicyError::ThresholdOrder => "thresholds out of order",
            PolicyError::InvalidSensitivity => "sensitivity must be finite and > 0",
        })
    }
}

/// The state of an ongoing episode.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Episode {
    /// Last time something was sent for it (start, local action, report, escalation).
    last_send: Instant,
    /// Last escalation decided in it.
    last_escalation: Option<Instant>,
    /// Whether the local response has been triggered in it.
    local: bool,
}

/// Per-event edge/cloud decisions; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    config: PolicyConfig,
    sensitivity: f32,
    budget: Budget,
    episode: Option<Episode>,
}

const US_PER_S: u64 = 1_000_000;

impl Policy {
    /// A policy at sensitivity 1 with empty budgets, or why `config` is refused.
    pub fn new(config: PolicyConfig) -> Result<Self, PolicyError> {
        config.thresholds.check()?;
        Ok(Self {
            config,
            sensitivity: 1.0,
            budget: Budget::new(config.budget),
            episode: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The current sensitivity multiplier.
    pub fn sensitivity(&self) -> f32 {
        self.sensitivity
    }

    /// Scales every threshold by `level` (> 1 less sensitive, < 1 more). The
    /// ongoing episode, if any, goes on under the new thresholds.
    pub fn set_sensitivity(&mut self, level: f32) -> Result<(), PolicyError> {
        if !level.is_finite() || level <= 0.0 {
            return Err(PolicyError::InvalidSensitivity);
        }
        self.sensitivity = level;
        Ok(())
    }

    /// The thresholds in effect (configured × sensitivity).
    pub fn thresholds(&self) -> Thresholds {
        self.config.thresholds.scaled(self.sensitivity)
    }

    /// Whether an episode is ongoing.
    pub fn in_episode(&self) -> bool {
        self.episode.is_some()
    }

    /// The escalation budget counters.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Decides what to do with an event of detector `score` at `now`. The budget is
    /// checked, not counted: call [`Policy::reserve_escalation`] when sending.
    pub fn decide(&mut self, now: Instant, score: f32, link: Link) -> Decision {
        if score.is_nan() {
            return decision(Action::Ignore, Reason::InvalidScore, score, false);
        }
        let score = score.clamp(0.0, 1.0);
        let t = self.thresholds();
        let Some(mut ep) = self.episode else {
            if score < t.report_on {
                return decision(Action::Ignore, Reason::BelowThreshold, score, false);
            }
            let mut ep = Episode {
                last_send: now,
                last_escalation: None,
                local: false,
            };
            let d = self.in_episode_step(&mut ep, true, now, score, link);
            self.episode = Some(ep);
            return d;
        };
        if score < t.clear_below {
            self.episode = None;
            return decision(Action::Report, Reason::EpisodeEnd, score, false);
        }
        let d = self.in_episode_step(&mut ep, false, now, score, link);
        self.episode = Some(ep);
        d
    }

    fn in_episode_step(
        &self,
        ep: &mut Episode,
        starting: bool,
        now: Instant,
        score: f32,
        link: Link,
    ) -> Decision {
        let t = self.thresholds();
        let escalate_cooldown = u64::from(self.config.escalate_cooldown_s) * US_PER_S;
        let report_cooldown = u64::from(self.config.report_cooldown_s) * US_PER_S;
        if score >= t.escalate_on
            && ep
                .last_escalation
                .is_none_or(|at| now.micros_since(at) >= escalate_cooldown)
        {
            // The attempt takes the escalation's slot even when the budget refuses
            // it, so a refused escalation is reported once per escalation cooldown.
            ep.last_escalation = Some(now);
            ep.last_send = now;
            if !self.budget.allows(now, self.config.tokens_per_call) {
                // escalate_on ≥ act_locally_on: the local response applies.
                let action = if ep.local {
                    Action::Report
                } else {
                    Action::ActLocally
                };
                ep.local = true;
                return decision(action, Reason::BudgetExhausted, score, false);
            }
            ep.local = true;
            return match link {
                Link::Online => decision(Action::Escalate, Reason::EscalateThreshold, score, false),
                Link::Offline => decision(Action::Escalate, Reason::Offline, score, true),
            };
        }
        let because = |otherwise: Reason| {
            if starting {
                Reason::EpisodeStart
            } else {
                otherwise
            }
        };
        if score >= t.act_locally_on && !ep.local {
            ep.local = true;
            ep.last_send = now;
            return decision(
                Action::ActLocally,
                because(Reason::ActLocallyThreshold),
                score,
                false,
            );
        }
        if starting || now.micros_since(ep.last_send) >= report_cooldown {
            ep.last_send = now;
            return decision(
                Action::Report,
                because(Reason::StillAnomalous),
                score,
                false,
            );
        }
        decision(Action::Ignore, Reason::Cooldown, score, false)
    }

    /// Counts one escalation call in the budgets at `now` — call it right before the
    /// call is actually sent (online decision or deferred one from the outbox). Refused
    /// (and nothing counted) when a call or token budget would be exceeded; the agent
    /// then sends a report instead or drops the deferred escalation.
    pub fn reserve_escalation(&mut self, now: Instant) -> Result<Reservation, BudgetExhausted> {
        self.budget.reserve(now, self.config.tokens_per_call)
    }

    /// Replaces a reservation's estimate with the tokens the call really `used`
    /// (see [`Budget::settle`]).
    pub fn settle(&mut self, reservation: Reservation, used: u32) {
        self.budget.settle(reservation, used);
    }
}

const fn decision(action: Action, reason: Reason, score: f32, deferred: bool) -> Decision {
    Decision {
        action,
        reason,
        score,
        deferred,
    }
}
