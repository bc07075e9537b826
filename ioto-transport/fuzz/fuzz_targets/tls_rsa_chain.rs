//! RSA signature verification on arbitrary certificates: a fuzzed certificate checked
//! under the RSA-4096 root of the `tls_algorithms` fixtures, so mutated signatures,
//! algorithm parameters (PKCS#1 v1.5, PSS salt lengths, digests) and TBS bytes reach
//! the Montgomery exponentiation and the EMSA decoders. Must return an error, never
//! panic. Seeds: `examples/qemu/fixtures/tls_algorithms/{rsa_leaf,p256_via_rsa_pss}.der`.
#![no_main]

use ioto_transport::tls::verify_chain;
use libfuzzer_sys::fuzz_target;

const RSA_ROOT: &[u8] =
    include_bytes!("../../../examples/qemu/fixtures/tls_algorithms/rsa_root.der");
const NOW: u64 = u64::from_le_bytes(*include_bytes!(
    "../../../examples/qemu/fixtures/tls_algorithms/now.bin"
));

fuzz_target!(|data: &[u8]| {
    let _ = verify_chain(RSA_ROOT, &[data], "localhost", NOW);
});
