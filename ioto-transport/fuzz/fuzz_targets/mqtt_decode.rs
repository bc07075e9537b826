//! Fuzz the MQTT packet decoder, both protocol versions: the first byte picks the
//! version, the rest is one packet. Any decoded packet must encode again and decode
//! to the same value; nothing may panic.
#![no_main]

use ioto_transport::mqtt::{ProtocolVersion, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let version = if selector & 1 == 0 {
        ProtocolVersion::V3_1_1
    } else {
        ProtocolVersion::V5
    };
    let Ok(Some((packet, used))) = decode(bytes, version) else {
        return;
    };
    assert!(used <= bytes.len());
    let mut out = vec![0u8; bytes.len() + 16];
    let n = packet
        .encode(version, &mut out)
        .expect("a decoded packet encodes");
    let (again, m) = decode(&out[..n], version)
        .expect("re-encoded packet decodes")
        .expect("complete");
    assert_eq!(m, n);
    assert_eq!(again, packet);
});
