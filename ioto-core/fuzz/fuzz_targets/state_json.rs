//! Fuzzes the AWS shadow documents the device reads: any bytes go through
//! `parse_delta`, `parse_get_accepted`, `parse_update_accepted` and
//! `parse_update_rejected`; accepted deltas and get documents are applied to a device
//! state. Nothing may panic, and every command the state applies passed the limits.
#![no_main]

use ioto_core::device::Limits;
use ioto_core::state::{
    DeltaOutcome, DeviceState, KeyOutcome, Reported, parse_delta, parse_get_accepted,
    parse_update_accepted, parse_update_rejected,
};
use libfuzzer_sys::fuzz_target;

fn check(outcome: &DeltaOutcome<'_>, limits: &Limits) {
    if let DeltaOutcome::Applied(report) = outcome {
        for r in report.iter() {
            if let KeyOutcome::Applied(c) = r.outcome {
                assert!(limits.check(&c).is_ok(), "applied {c:?} outside the limits");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let mut state = DeviceState::new(Reported::new("1.0.0"));
    if let Ok(d) = parse_delta(data) {
        let before = state.version;
        let outcome = state.apply_delta(&d, &limits);
        check(&outcome, &limits);
        assert!(state.version >= before);
    }
    if let Ok(g) = parse_get_accepted(data) {
        let outcome = state.apply_get(&g, &limits);
        check(&outcome, &limits);
    }
    let _ = parse_update_accepted(data);
    let _ = parse_update_rejected(data);
});
