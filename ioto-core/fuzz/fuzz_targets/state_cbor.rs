//! Fuzzes the compact CBOR state documents: any bytes through `decode_reported` and
//! `decode_desired`. A decoded value must encode again, and that encoding must decode
//! and encode to the same bytes; an applied desired change passed the limits.
#![no_main]

use ioto_core::device::Limits;
use ioto_core::state::cbor::{decode_desired, decode_reported, encode_desired, encode_reported};
use ioto_core::state::{DeviceState, Reported};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Re-encoding may widen (e.g. a half float read as f32): leave room.
    let mut a = vec![0u8; 2 * data.len() + 64];
    let mut b = vec![0u8; 2 * data.len() + 64];
    if let Ok(r) = decode_reported(data) {
        let n = encode_reported(&r, &mut a).expect("a decoded reported state encodes");
        let again = decode_reported(&a[..n]).expect("its encoding decodes");
        let m = encode_reported(&again, &mut b).expect("and encodes again");
        assert_eq!(a[..n], b[..m]);
    }
    if let Ok(d) = decode_desired(data) {
        let n = encode_desired(&d, &mut a).expect("a decoded desired change encodes");
        let again = decode_desired(&a[..n]).expect("its encoding decodes");
        let m = encode_desired(&again, &mut b).expect("and encodes again");
        assert_eq!(a[..n], b[..m]);
        let limits = Limits::default();
        let mut state = DeviceState::new(Reported::new("1.0.0"));
        let report = state.apply_desired(&d, &limits);
        for c in report.commands() {
            assert!(limits.check(&c).is_ok(), "applied {c:?} outside the limits");
        }
    }
});
