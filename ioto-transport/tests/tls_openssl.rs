//! TLS 1.3 client against a real `openssl s_server -tls1_3`, with certificates made by
//! the `openssl` CLI at run time: the good certificate is accepted and carries data;
//! a wrong CA, an expired / not-yet-valid certificate and a wrong hostname are each
//! rejected with their own error.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod tls_common;

use std::path::PathBuf;
use std::sync::OnceLock;

use embassy_futures::block_on;
use embedded_io_async::{Read, Write};
use ioto_transport::tls::{self, MaxFragmentLength, TlsConfig, TlsError};
use rand_core::OsRng;
use tls_common::echo::{echo_line, handshake_and_echo, try_leaf};
use tls_common::{Pki, now_unix, openssl_server, openssl_server_with};

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        Pki::generate(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_openssl_pki"))
    })
}

#[test]
fn good_certificate_by_dns_name_exchanges_data() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.good, None, &pki.ca.pem(), "localhost"),
        Ok(())
    );
}

#[test]
fn good_certificate_by_ip_address_with_der_ca_exchanges_data() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.good, None, &pki.ca.der(), "127.0.0.1"),
        Ok(())
    );
}

/// `s_server -stateless` answers the first ClientHello with a HelloRetryRequest that
/// carries a cookie: the client sends it back in a second ClientHello (RFC 8446
/// §4.2.2), with the transcript restarted from `message_hash`, and the handshake
/// completes.
#[test]
fn a_hello_retry_request_with_a_cookie_is_answered() {
    let pki = pki();
    let server = openssl_server_with(&pki.good, None, &["-stateless"]);
    let ca = pki.ca.pem();
    let config = TlsConfig::new(&ca, "localhost", now_unix());
    let result = block_on(handshake_and_echo(server.port, &config, tls::READ_BUF_FULL));
    assert_eq!(result, Ok(()));
}

/// A server without X25519 (our only group) has no group in common with us, so it
/// refuses the handshake: handshake_failure.
#[test]
fn a_server_without_x25519_refuses_the_handshake() {
    let pki = pki();
    let server = openssl_server_with(&pki.good, None, &["-groups", "P-256"]);
    let ca = pki.ca.pem();
    let config = TlsConfig::new(&ca, "localhost", now_unix());
    let result = block_on(handshake_and_echo(server.port, &config, tls::READ_BUF_FULL));
    assert_eq!(result, Err(TlsError::Alert(40)));
}

#[test]
fn pem_bundle_with_several_cas_finds_the_issuer() {
    let pki = pki();
    let mut bundle = pki.other_ca.pem();
    bundle.extend_from_slice(&pki.ca.pem());
    assert_eq!(try_leaf(&pki.good, None, &bundle, "localhost"), Ok(()));
}

#[test]
fn chain_through_an_intermediate_is_accepted() {
    let pki = pki();
    let chain = pki.intermediate.cert.as_path();
    assert_eq!(
        try_leaf(
            &pki.via_intermediate,
            Some(chain),
            &pki.ca.pem(),
            "localhost"
        ),
        Ok(())
    );
}

#[test]
fn missing_intermediate_is_unknown_ca() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.via_intermediate, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::UnknownCa)
    );
}

#[test]
fn issuer_without_ca_flag_is_rejected() {
    let pki = pki();
    let chain = pki.not_a_ca.cert.as_path();
    assert_eq!(
        try_leaf(&pki.via_not_a_ca, Some(chain), &pki.ca.pem(), "localhost"),
        Err(TlsError::BadCertificate)
    );
}

#[test]
fn unknown_critical_extension_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.critical_unknown, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::BadCertificate)
    );
}

#[test]
fn certificate_for_clients_only_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.client_only, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::BadCertificate)
    );
}

#[test]
fn certificate_from_another_ca_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.from_other_ca, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::UnknownCa)
    );
}

#[test]
fn certificate_from_an_impostor_ca_with_the_same_name_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.from_impostor, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::BadSignature)
    );
}

#[test]
fn expired_certificate_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.expired, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::Expired)
    );
}

#[test]
fn not_yet_valid_certificate_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.not_yet_valid, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::NotYetValid)
    );
}

#[test]
fn wrong_hostname_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.other_host, None, &pki.ca.pem(), "localhost"),
        Err(TlsError::NameMismatch)
    );
}

#[test]
fn wrong_ip_address_is_rejected() {
    let pki = pki();
    assert_eq!(
        try_leaf(&pki.other_host, None, &pki.ca.pem(), "127.0.0.1"),
        Err(TlsError::NameMismatch)
    );
}

#[test]
fn unset_clock_fails_before_connecting() {
    let ca = pki().ca.pem();
    let result = block_on(async {
        let mut r = [0u8; 64];
        let mut w = [0u8; 64];
        let config = TlsConfig::new(&ca, "localhost", 0);
        tls::connect(StdStreamNever, &config, OsRng, &mut r, &mut w)
            .await
            .map(|_| ())
    });
    assert_eq!(result, Err(TlsError::ClockNotSet));
}

#[test]
fn garbage_ca_is_rejected_before_connecting() {
    let result = block_on(async {
        let mut r = [0u8; 64];
        let mut w = [0u8; 64];
        let config = TlsConfig::new(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "localhost",
            now_unix(),
        );
        tls::connect(StdStreamNever, &config, OsRng, &mut r, &mut w)
            .await
            .map(|_| ())
    });
    assert_eq!(result, Err(TlsError::InvalidCa));
}

/// A 10 000-byte line comes back as records larger than a 4 KiB buffer unless the
/// server honours max_fragment_length.
fn long_line() -> (Vec<u8>, Vec<u8>) {
    let line: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let reversed = line.iter().rev().copied().collect();
    (line, reversed)
}

#[test]
fn max_fragment_length_lets_a_4k_read_buffer_carry_large_messages() {
    let pki = pki();
    let server = openssl_server(&pki.good, None);
    let ca = pki.ca.pem();
    let config = TlsConfig {
        max_fragment_length: Some(MaxFragmentLength::Bits12),
        ..TlsConfig::new(&ca, "localhost", now_unix())
    };
    let (line, reversed) = long_line();
    assert_eq!(
        block_on(echo_line(
            server.port,
            &config,
            4096 + 256,
            &line,
            &reversed
        )),
        Ok(())
    );
}

#[test]
fn without_max_fragment_length_a_4k_read_buffer_is_too_small() {
    let pki = pki();
    let server = openssl_server(&pki.good, None);
    let ca = pki.ca.pem();
    let config = TlsConfig::new(&ca, "localhost", now_unix());
    let (line, reversed) = long_line();
    let result = block_on(echo_line(
        server.port,
        &config,
        4096 + 256,
        &line,
        &reversed,
    ));
    assert_eq!(result, Err(TlsError::BufferTooSmall));
}

/// A stream that fails the test if it is ever used.
struct StdStreamNever;

impl embedded_io_async::ErrorType for StdStreamNever {
    type Error = embedded_io_async::ErrorKind;
}

impl Read for StdStreamNever {
    async fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
        panic!("configuration errors must be reported before any I/O")
    }
}

impl Write for StdStreamNever {
    async fn write(&mut self, _: &[u8]) -> Result<usize, Self::Error> {
        panic!("configuration errors must be reported before any I/O")
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        panic!("configuration errors must be reported before any I/O")
    }
}
