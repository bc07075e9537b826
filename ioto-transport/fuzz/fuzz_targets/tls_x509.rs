//! Certificate-chain verification on arbitrary bytes: the X.509 parser, the
//! subjectAltName walker, name matching and path building must return an error, never
//! panic. Input: byte 0 picks the server name, byte 1 the number of certificates,
//! then each certificate as a big-endian u16 length and its bytes.
#![no_main]

use ioto_transport::tls::verify_chain;
use libfuzzer_sys::fuzz_target;

/// The trust anchor of the recorded session (a P-256 CA made by `openssl`).
const CA: &[u8] = include_bytes!("../../../examples/qemu/fixtures/tls/ca.der");
const NAMES: [&str; 4] = ["localhost", "127.0.0.1", "broker.example.com", "::1"];
/// The recording time of that session: within the validity of certificates made by
/// the test PKI around the same time (use them as seeds).
const NOW: u64 = u64::from_le_bytes(*include_bytes!(
    "../../../examples/qemu/fixtures/tls/now.bin"
));

fuzz_target!(|data: &[u8]| {
    let (Some(&pick), Some(&count)) = (data.first(), data.get(1)) else {
        return;
    };
    let mut rest = &data[2..];
    let mut chain: [&[u8]; 8] = [&[]; 8];
    let mut n = 0;
    while n < usize::from(count % 8) && rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        chain[n] = &rest[2..2 + len];
        rest = &rest[2 + len..];
        n += 1;
    }
    let _ = verify_chain(CA, &chain[..n], NAMES[usize::from(pick % 4)], NOW);
    // The same bytes as a (PEM or DER) trust anchor.
    let _ = verify_chain(data, &chain[..n], NAMES[usize::from(pick % 4)], NOW);
});
