//! [`Metrics`]: what the agent counts, published periodically.

/// Counters of one agent run (all saturating).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Metrics {
    /// Sensor samples read.
    pub samples: u64,
    /// Windows scored (one detector inference each).
    pub inferences: u64,
    /// Windows that started an anomaly episode.
    pub anomalies: u64,
    /// Decisions by kind: ignore, act locally, report, escalate.
    pub decisions: [u64; 4],
    /// Escalations answered by the advisor.
    pub escalations: u64,
    /// Escalations that failed (link, budget, refused answer) and were retried or dropped.
    pub escalation_failures: u64,
    /// Device commands applied (from the model or the device state).
    pub commands_applied: u64,
    /// Device commands refused by the device's limits or schemas.
    pub commands_rejected: u64,
    /// Raw sensor bytes (as the sensor delivers them: 2 bytes per channel per sample).
    pub raw_bytes: u64,
    /// Bytes sent upstream (topic + payload of every delivered message).
    pub sent_bytes: u64,
    /// Messages the broker acknowledged.
    pub delivered: u64,
    /// Of those, by record kind (telemetry, event, state, metrics, advice).
    pub delivered_by_kind: [u64; 5],
    /// Records dropped (outbox full, refused by the broker, window lost to backpressure).
    pub drops: u64,
    /// Records waiting in the outbox (sampled when metrics are published).
    pub queue_depth: u64,
}
