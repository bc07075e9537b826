//! On-target check of the certificate-signature algorithms beyond P-256 (32-bit limbs
//! here, 64-bit on the host): a P-256 leaf under a P-384 intermediate and root, a
//! P-384 leaf, and RSA chains (RSA-4096 root: PKCS#1 v1.5 SHA-384 and RSASSA-PSS),
//! verified offline with `tls::verify_chain` on fixtures from the host suite. RSA
//! verifies with the `tls-rsa` feature, P-384 with `tls-p384`; without them those
//! chains are `UnsupportedAlgorithm`. Each
//! test prints the stack peak and instructions of one chain verification.
#![no_std]
#![no_main]

use core::hint::black_box;
use ioto_board_qemu::footprint::StackProbe;
use ioto_board_qemu::{entry, harness, instructions, print, tests};
use ioto_transport::tls::{TlsError, verify_chain};

const P384_ROOT: &[u8] = include_bytes!("../../fixtures/tls_algorithms/p384_root.der");
const P384_INTERMEDIATE: &[u8] =
    include_bytes!("../../fixtures/tls_algorithms/p384_intermediate.der");
const P256_VIA_P384: &[u8] = include_bytes!("../../fixtures/tls_algorithms/p256_via_p384.der");
const P384_LEAF: &[u8] = include_bytes!("../../fixtures/tls_algorithms/p384_leaf.der");
const RSA_ROOT: &[u8] = include_bytes!("../../fixtures/tls_algorithms/rsa_root.der");
const RSA_LEAF: &[u8] = include_bytes!("../../fixtures/tls_algorithms/rsa_leaf.der");
const P256_VIA_RSA_PSS: &[u8] =
    include_bytes!("../../fixtures/tls_algorithms/p256_via_rsa_pss.der");
const NOW: u64 = u64::from_le_bytes(*include_bytes!("../../fixtures/tls_algorithms/now.bin"));

/// Verifies `chain` under `root` for `localhost`, printing stack peak and instructions.
fn measured(root: &[u8], chain: &[&[u8]]) -> Result<(), TlsError> {
    let probe = StackProbe::paint(32 * 1024);
    let start = instructions();
    let result = verify_chain(black_box(root), black_box(chain), "localhost", NOW);
    let spent = instructions() - start;
    print!("[stack {} B, {} instructions] ", probe.used(), spent);
    result
}

/// The verdict for a valid chain that needs an algorithm built in only when `enabled`.
fn verdict(enabled: bool) -> Result<(), TlsError> {
    if enabled {
        Ok(())
    } else {
        Err(TlsError::UnsupportedAlgorithm)
    }
}

/// The verdict for a chain with RSA signatures.
fn rsa_verdict() -> Result<(), TlsError> {
    verdict(cfg!(feature = "tls-rsa"))
}

/// The verdict for a chain with P-384 keys (and SHA-384 signatures).
fn p384_verdict() -> Result<(), TlsError> {
    verdict(cfg!(feature = "tls-p384"))
}

fn p256_leaf_under_p384_intermediate_and_root() {
    assert_eq!(
        measured(P384_ROOT, &[P256_VIA_P384, P384_INTERMEDIATE]),
        p384_verdict()
    );
}

fn p384_leaf_under_p384_root() {
    assert_eq!(measured(P384_ROOT, &[P384_LEAF]), p384_verdict());
}

fn flipped_p384_signature_is_bad_signature() {
    let mut flipped = [0u8; 1024];
    let flipped = &mut flipped[..P384_INTERMEDIATE.len()];
    flipped.copy_from_slice(P384_INTERMEDIATE);
    if let Some(last) = flipped.last_mut() {
        *last ^= 1;
    }
    let expected = if cfg!(feature = "tls-p384") {
        TlsError::BadSignature
    } else {
        TlsError::UnsupportedAlgorithm
    };
    assert_eq!(
        verify_chain(P384_ROOT, &[P256_VIA_P384, flipped], "localhost", NOW),
        Err(expected)
    );
}

fn rsa_2048_leaf_under_rsa_4096_root() {
    assert_eq!(measured(RSA_ROOT, &[RSA_LEAF]), rsa_verdict());
}

fn p256_leaf_under_rsa_root_with_pss() {
    assert_eq!(measured(RSA_ROOT, &[P256_VIA_RSA_PSS]), rsa_verdict());
}

fn flipped_rsa_signature_is_rejected() {
    let mut flipped = [0u8; 2048];
    let flipped = &mut flipped[..RSA_LEAF.len()];
    flipped.copy_from_slice(RSA_LEAF);
    if let Some(last) = flipped.last_mut() {
        *last ^= 1;
    }
    let expected = if cfg!(feature = "tls-rsa") {
        TlsError::BadSignature
    } else {
        TlsError::UnsupportedAlgorithm
    };
    assert_eq!(
        verify_chain(RSA_ROOT, &[flipped], "localhost", NOW),
        Err(expected)
    );
}

fn wrong_root_is_unknown_ca() {
    // Without `tls-p384` the P-384 intermediate's signature cannot be checked, and that
    // is the first failure on the way to the (wrong) root.
    let expected = if cfg!(feature = "tls-p384") {
        TlsError::UnknownCa
    } else {
        TlsError::UnsupportedAlgorithm
    };
    assert_eq!(
        verify_chain(
            RSA_ROOT,
            &[P256_VIA_P384, P384_INTERMEDIATE],
            "localhost",
            NOW
        ),
        Err(expected)
    );
    assert_eq!(
        verify_chain(RSA_ROOT, &[P384_LEAF], "localhost", NOW),
        Err(TlsError::UnknownCa)
    );
}

#[entry]
fn main() -> ! {
    harness::run(
        "tls_algorithms",
        tests![
            p256_leaf_under_p384_intermediate_and_root,
            p384_leaf_under_p384_root,
            flipped_p384_signature_is_bad_signature,
            rsa_2048_leaf_under_rsa_4096_root,
            p256_leaf_under_rsa_root_with_pss,
            flipped_rsa_signature_is_rejected,
            wrong_root_is_unknown_ca,
        ],
    )
}
