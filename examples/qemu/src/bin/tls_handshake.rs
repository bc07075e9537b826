//! TLS 1.3 on the virtual boards: a full handshake with certificate verification
//! (X25519, the server's chain, CertificateVerify, Finished), replayed from a
//! session recorded against `openssl s_server` (`fixtures/tls/`), then one
//! request/response; and the same session refused with a wrong clock or CA.
//! `bench_tls` measures the same session's RAM and instructions.
#![no_std]
#![no_main]

#[path = "tls_common/replay.rs"]
mod replay;

use ioto_board_qemu::{entry, harness, tests};
use ioto_transport::tls::TlsError;
use replay::{RECORDING, Recording, run_session};

fn handshake_and_exchange() {
    let (result, finished) = run_session(RECORDING);
    assert_eq!(result, Ok(()));
    assert!(
        finished,
        "the client did not replay the whole recorded session"
    );
}

fn expired_certificate_is_rejected() {
    // The fixture's server certificate is valid for 30 days from recording.
    let later = Recording {
        now_unix: RECORDING.now_unix + 31 * 24 * 3600,
        ..RECORDING
    };
    assert_eq!(run_session(later).0, Err(TlsError::Expired));
}

fn certificate_not_yet_valid_is_rejected() {
    let earlier = Recording {
        now_unix: RECORDING.now_unix - 24 * 3600,
        ..RECORDING
    };
    assert_eq!(run_session(earlier).0, Err(TlsError::NotYetValid));
}

fn wrong_ca_is_rejected() {
    // The same CA certificate with one letter of its name changed: the server's
    // certificate names another issuer.
    let ca = RECORDING.ca;
    let mut other = [0u8; 512];
    other[..ca.len()].copy_from_slice(ca);
    let name = ca
        .windows(12)
        .rposition(|w| w == b"Ioto Test CA")
        .expect("CA name in fixture");
    other[name + 11] = b'B';
    assert_eq!(
        run_session(Recording {
            ca: &other[..ca.len()],
            ..RECORDING
        })
        .0,
        Err(TlsError::UnknownCa)
    );
}

fn tampered_server_flight_is_rejected() {
    let mut server = [0u8; 2048];
    let len = RECORDING.server.len();
    server[..len].copy_from_slice(RECORDING.server);
    server[len / 2] ^= 1;
    assert!(
        run_session(Recording {
            server: &server[..len],
            ..RECORDING
        })
        .0
        .is_err()
    );
}

#[entry]
fn main() -> ! {
    harness::run(
        "tls_handshake",
        tests![
            handshake_and_exchange,
            expired_certificate_is_rejected,
            certificate_not_yet_valid_is_rejected,
            wrong_ca_is_rejected,
            tampered_server_flight_is_rejected,
        ],
    )
}
