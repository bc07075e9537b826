//! How the agent frames what it keeps in its [`Outbox`](crate::outbox::Outbox): one
//! byte of [`RecordKind`], then the payload. The kind picks the topic
//! ([`Topics`]) when the record is sent.

/// What a record is; decides its topic and delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum RecordKind {
    /// Periodic summary of features and score.
    Telemetry = 1,
    /// A decision worth reporting (report, act locally, escalate) with its reason.
    Event = 2,
    /// The device's reported state (retained).
    State = 3,
    /// The agent's counters.
    Metrics = 4,
    /// The model's advice and what the device did with it.
    Advice = 5,
}

impl RecordKind {
    /// The kind stored in a record's first byte; `None` for an unknown byte
    /// (a record written by a newer firmware, or damage).
    pub const fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Telemetry,
            2 => Self::Event,
            3 => Self::State,
            4 => Self::Metrics,
            5 => Self::Advice,
            _ => return None,
        })
    }

    /// Whether the broker keeps the last one (device state).
    pub const fn retained(self) -> bool {
        matches!(self, Self::State)
    }
}

/// The [`Topics`](crate::agent::Topics) of a device as `&'static str`s, built at compile
/// time from string literals: `<prefix>/telemetry`, `<prefix>/events`,
/// `<prefix>/metrics` and `<prefix>/advice`, and the device state on the AWS IoT Device
/// Shadow of `thing` (`$aws/things/<thing>/shadow/update` and `…/update/delta`).
///
/// ```
/// const TOPICS: ioto_core::agent::Topics<'static> = ioto_core::agent_topics!("ioto/pump-7", "pump-7");
/// assert_eq!(TOPICS.events, "ioto/pump-7/events");
/// assert_eq!(TOPICS.delta, "$aws/things/pump-7/shadow/update/delta");
/// ```
#[macro_export]
macro_rules! agent_topics {
    ($prefix:expr, $thing:expr $(,)?) => {
        $crate::agent::Topics {
            telemetry: concat!($prefix, "/telemetry"),
            events: concat!($prefix, "/events"),
            state: concat!("$aws/things/", $thing, "/shadow/update"),
            metrics: concat!($prefix, "/metrics"),
            advice: concat!($prefix, "/advice"),
            delta: concat!("$aws/things/", $thing, "/shadow/update/delta"),
        }
    };
}

/// Where each kind of record goes, and where commands come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topics<'a> {
    /// Telemetry summaries.
    pub telemetry: &'a str,
    /// Events (decisions with reasons).
    pub events: &'a str,
    /// Reported device state (e.g. `$aws/things/<thing>/shadow/update`).
    pub state: &'a str,
    /// Metrics.
    pub metrics: &'a str,
    /// The model's advice and its outcome.
    pub advice: &'a str,
    /// Desired-state deltas from the cloud (e.g. `$aws/things/<thing>/shadow/update/delta`);
    /// the uplink adapter must subscribe to it.
    pub delta: &'a str,
}

impl<'a> Topics<'a> {
    /// The topic of `kind`.
    pub const fn of(&self, kind: RecordKind) -> &'a str {
        match kind {
            RecordKind::Telemetry => self.telemetry,
            RecordKind::Event => self.events,
            RecordKind::State => self.state,
            RecordKind::Metrics => self.metrics,
            RecordKind::Advice => self.advice,
        }
    }
}

/// Splits a stored record into its kind and payload; `None` for an empty record or
/// an unknown kind.
pub fn split(record: &[u8]) -> Option<(RecordKind, &[u8])> {
    let (&k, payload) = record.split_first()?;
    Some((RecordKind::from_byte(k)?, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_bytes_are_refused() {
        for k in [
            RecordKind::Telemetry,
            RecordKind::Event,
            RecordKind::State,
            RecordKind::Metrics,
            RecordKind::Advice,
        ] {
            assert_eq!(RecordKind::from_byte(k as u8), Some(k));
        }
        assert_eq!(RecordKind::from_byte(0), None);
        assert_eq!(RecordKind::from_byte(6), None);
        assert_eq!(split(&[]), None);
        assert_eq!(split(&[9, 1]), None);
        assert_eq!(
            split(&[2, b'{', b'}']),
            Some((RecordKind::Event, &b"{}"[..]))
        );
    }
}
