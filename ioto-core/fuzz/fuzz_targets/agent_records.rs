//! Fuzzes the agent's record framing as read back from the outbox: `records::split`
//! on any bytes. A record splits exactly when its first byte is a known kind, and the
//! payload is the rest of the record, untouched.
#![no_main]

use ioto_core::agent::records::{RecordKind, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match split(data) {
        Some((kind, payload)) => {
            assert_eq!(data[0], kind as u8);
            assert_eq!(payload, &data[1..]);
            assert_eq!(RecordKind::from_byte(data[0]), Some(kind));
            // Only the device state is retained.
            assert_eq!(kind.retained(), kind == RecordKind::State);
        }
        None => assert!(
            data.first()
                .is_none_or(|&b| RecordKind::from_byte(b).is_none())
        ),
    }
});
