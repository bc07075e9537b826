//! Tests of the device state: shadow JSON, CBOR, config, discovery, and fuzzing.
#![allow(clippy::unwrap_used, clippy::panic)]

mod fuzz;
mod shadow;
mod wire;

use crate::state::Reported;

/// A reported state with every field set (the documents' common fixture).
fn reported() -> Reported<'static> {
    Reported {
        sensitivity: 1.5,
        actuator: 0.25,
        report_interval_s: 30,
        anomaly_score: 0.125,
        rms: 2.5,
        firmware: "1.2.0",
        uptime_s: 3600,
        queue_depth: 4,
    }
}
