//! [`Metrics`]: what the agent counts, published periodically.

use super::json::JsonOut;

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

impl Metrics {
    /// Writes the counters as one JSON object.
    pub fn write_json(&self, out: &mut JsonOut<'_>) -> Result<(), super::json::JsonFull> {
        out.begin()?;
        out.u64("samples", self.samples)?;
        out.u64("inferences", self.inferences)?;
        out.u64("anomalies", self.anomalies)?;
        out.u64("ignore", self.decisions[0])?;
        out.u64("act_locally", self.decisions[1])?;
        out.u64("report", self.decisions[2])?;
        out.u64("escalate", self.decisions[3])?;
        out.u64("escalations", self.escalations)?;
        out.u64("escalation_failures", self.escalation_failures)?;
        out.u64("commands_applied", self.commands_applied)?;
        out.u64("commands_rejected", self.commands_rejected)?;
        out.u64("raw_bytes", self.raw_bytes)?;
        out.u64("sent_bytes", self.sent_bytes)?;
        out.u64("delivered", self.delivered)?;
        out.u64("drops", self.drops)?;
        out.u64("queue_depth", self.queue_depth)?;
        out.end()
    }
}
