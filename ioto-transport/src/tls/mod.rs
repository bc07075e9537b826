//! TLS 1.3 client with server-certificate verification, `no_std` and allocation-free
//! (RSA included).
//!
//! [`connect`] wraps any [`embedded_io_async`] `Read + Write` stream (a TCP socket from
//! `embassy-net`, the `std` adapters, …) and returns a [`TlsStream`] that is itself
//! `Read + Write`, so MQTT, HTTP and WebSocket run over it unchanged.
//!
//! The TLS 1.3 engine is ours and small: the record layer (`record.rs`: AES-128-GCM on
//! the `aes-gcm` crate, per-record nonces, size limits), the key schedule
//! (`schedule.rs`: HMAC/HKDF on `sha2`), the handshake as a sans-I/O state machine
//! (`handshake.rs`, `hello.rs`) and a thin async driver over the stream (`conn.rs`).
//! It speaks TLS 1.3 only (RFC 8446) with `TLS_AES_128_GCM_SHA256` and X25519 key
//! exchange (`x25519.rs`, RFC 7748, constant time); a HelloRetryRequest with a cookie
//! is answered, one that asks for another key share fails ([`TlsError::Protocol`],
//! `illegal_parameter`: we offer no other group), and a server without X25519 refuses
//! the handshake (`Alert(40)`). ECDSA P-256 (and P-384) verification is ours too
//! (`ecdsa.rs`, on `crypto-bigint`). Post-handshake, NewSessionTicket is ignored (no resumption) and
//! KeyUpdate updates the keys (and is answered when the server asks). Certificate
//! verification is ours too. What is verified:
//!
//! * **Chain**: the server certificate, through at most [`MAX_CHAIN_DEPTH`]
//!   intermediates sent by the server (in any order), must be signed by a configured CA
//!   (issuer/subject names compared as DER, every signature verified). Intermediates
//!   must be CAs (`basicConstraints`), allowed to sign certificates (`keyUsage`), and
//!   within their `pathLenConstraint`.
//! * **Validity**: every certificate in the chain must be valid at
//!   [`TlsConfig::now_unix`] ([`TlsError::Expired`], [`TlsError::NotYetValid`]).
//!   The CA itself is a trust anchor (name + key) and its dates are not checked.
//! * **Name**: the server certificate's subjectAltName must contain
//!   [`TlsConfig::server_name`] — a `dNSName` (with RFC 6125 left-label wildcards) or,
//!   for an IP literal, an `iPAddress`. The Common Name is not used.
//! * **Usage**: the server certificate must not be a CA; if present, `keyUsage` must
//!   allow `digitalSignature` and `extKeyUsage` must allow `serverAuth`. Any unknown
//!   *critical* extension (e.g. name constraints) rejects the certificate.
//! * **Possession**: the handshake's CertificateVerify must be signed by the server
//!   certificate's key, and a handshake without it fails
//!   ([`TlsError::MissingCertificate`]); the server Finished MAC is checked (in
//!   constant time).
//!
//! Not verified: revocation (CRL/OCSP), certificate policies, name constraints (a CA
//! that marks them critical is rejected). Cipher suite: `TLS_AES_128_GCM_SHA256`, key
//! exchange: X25519.
//!
//! # Algorithms
//! | | feature `tls` (common profile) | + feature `tls-p384` | + feature `tls-rsa` |
//! |---|---|---|---|
//! | certificate signatures | ECDSA with SHA-256 by P-256 keys (SHA-384/512 with either opt-in feature) | + ECDSA by P-384 keys | + `sha256/384/512WithRSAEncryption` (PKCS#1 v1.5) and RSASSA-PSS (MGF1, same digest) by RSA 2048–4096-bit keys |
//! | server (leaf) keys | P-256 | + P-384 | + RSA 2048–4096 |
//! | CertificateVerify | `ecdsa_secp256r1_sha256` | + `ecdsa_secp384r1_sha384` | + `rsa_pss_rsae_sha256/384/512` |
//!
//! The handshake itself is always TLS 1.3 with `TLS_AES_128_GCM_SHA256` and X25519.
//! The opt-in features cost code (numbers in the crate README); chains
//! public cloud endpoints serve need them as follows: Let's Encrypt ECDSA (P-256
//! leaf, P-384 E5/E6 intermediate: `tls-p384`; ISRG Root X2, or the X1 cross-sign
//! with `tls-rsa`), Google Trust Services / Cloudflare (GTS Root R4 is P-384; R1 and
//! RSA leaves need `tls-rsa`), AWS IoT (Amazon Root CA 3 is P-256: the common
//! profile; Root CA 1 is RSA). Anything else — Ed25519, P-521, RSA below 2048 or
//! above 4096 bits, RSA exponents over 32 bits, SHA-1, and whatever a feature that is
//! off would verify — fails with [`TlsError::UnsupportedAlgorithm`].
//!
//! The ClientHello offers the signature schemes the build can verify:
//! `ecdsa_secp256r1_sha256`, `ecdsa_secp384r1_sha384` only with `tls-p384`, the RSA
//! schemes only with `tls-rsa`, never `ed25519`. So a server with an RSA key and no
//! ECDSA alternative refuses a client without `tls-rsa` ([`TlsError::Alert`]`(40)`),
//! and so does a server with only a P-384 key and a client without `tls-p384`. RSA needs no allocator: `s^e mod n` runs on
//! our Montgomery multiplication over fixed arrays of 32-bit limbs. P-384 and RSA-4096
//! verification are slow and stack-hungry on a Cortex-M (≈ 48 M (P-384) and ≈ 11 M
//! (RSA-4096) instructions on a Cortex-M4, 6 KB and 9 KB of stack; numbers in the
//! crate README).

//! # Time
//! A device needs the wall-clock time before it can check validity. Get it first (SNTP
//! over UDP, cellular NITZ, GNSS or a battery-backed RTC) and pass it as
//! [`TlsConfig::now_unix`]. A clock before 2025-01-01 is taken as "never set" and
//! [`connect`] fails with [`TlsError::ClockNotSet`] before sending anything: it does
//! not fall back to skipping the check.
//!
//! # Buffers
//! The caller owns both record buffers, which must live as long as the stream:
//! * `read_buf`: one whole encrypted record. Servers send records of up to
//!   16 384 + 256 bytes, so use [`READ_BUF_FULL`] (16 640) unless the server honours
//!   `max_fragment_length` ([`TlsConfig::max_fragment_length`]), in which case
//!   `2^n + 256` is enough. The server's certificate chain must fit in one record or be
//!   reassembled from several within this buffer, so keep chains short.
//! * `write_buf`: at least [`WRITE_BUF_MIN`] bytes; larger writes are split into
//!   several records. The larger buffer also holds the ClientHello.
//!
//! # Connectors
//! [`TlsMqttConnector`] (MQTT `mqtts://`) and [`TlsHttpConnector`] (HTTP `https://`,
//! WebSocket `wss://`; feature `http`) wrap the plain TCP connectors and run [`connect`]
//! on every (re)connect. Their record buffers live in a caller-owned [`TlsBuffers`]
//! slot, lent to one connection at a time ([`LeasedTlsStream`]); the time comes from a
//! [`UnixTime`] and the randomness from a [`CryptoRngCore`] given to the connector.

mod alert;
mod algorithm;
mod asn1;
mod buffers;
mod codec;
mod conn;
mod connector;
mod ecdsa;
mod ecdsa_p256;
#[cfg(feature = "tls-p384")]
mod ecdsa_p384;
mod error;
mod handshake;
mod hello;
#[cfg(feature = "http")]
mod http_connector;
#[cfg(feature = "tls-rsa")]
mod montgomery;
mod mqtt_connector;
mod name;
mod pem;
mod record;
#[cfg(feature = "tls-rsa")]
mod rsa;
mod schedule;
mod signature;
mod verify;
mod x25519;
mod x509;

use embedded_io_async::{Read, Write};

pub use buffers::{LeasedTlsStream, TlsBuffers};
pub use conn::TlsStream;
pub use error::TlsError;
pub use hello::MaxFragmentLength;
#[cfg(feature = "http")]
pub use http_connector::{HttpsStream, PlainPolicy, TlsHttpConnector};
pub use mqtt_connector::TlsMqttConnector;
pub use pem::MAX_PEM_CA_DER;
pub use rand_core::{CryptoRng, CryptoRngCore};
pub use verify::MAX_CHAIN_DEPTH;

use handshake::Handshake;
use hello::Hello;
use name::ServerName;
use verify::Verifier;

/// A read buffer that holds any TLS record a server may send (2^14 + 256 bytes).
pub const READ_BUF_FULL: usize = 16_384 + 256;
/// The smallest usable write buffer (the ClientHello needs ≈ 200 bytes plus the server
/// name and the ALPN names; a record adds 22 bytes to its fragment).
pub const WRITE_BUF_MIN: usize = 1024;
/// Clocks earlier than this (2025-01-01T00:00:00Z) are treated as never set.
pub const MIN_PLAUSIBLE_UNIX_TIME: u64 = 1_735_689_600;

/// The wall-clock time the connectors check certificate validity against, read at
/// every connect. Implemented for any `Fn() -> u64` closure returning seconds since the
/// Unix epoch (e.g. an SNTP-corrected RTC on a device, `SystemTime` on a host).
pub trait UnixTime {
    /// Seconds since 1970-01-01T00:00:00Z; a value before
    /// [`MIN_PLAUSIBLE_UNIX_TIME`] makes the connect fail with [`TlsError::ClockNotSet`].
    fn now_unix(&self) -> u64;
}

impl<F: Fn() -> u64> UnixTime for F {
    fn now_unix(&self) -> u64 {
        self()
    }
}

/// What to trust and whom to expect.
#[derive(Clone, Copy, Debug)]
pub struct TlsConfig<'a> {
    /// The CA that must have issued the server's chain: one DER certificate, or PEM
    /// text with one or more `CERTIFICATE` blocks (each a trust anchor, each at most
    /// [`MAX_PEM_CA_DER`] bytes of DER).
    pub ca: &'a [u8],
    /// The server's DNS name (sent as SNI) or IP literal (`"127.0.0.1"`, `"::1"`),
    /// matched against the certificate's subjectAltName.
    pub server_name: &'a str,
    /// The current time in seconds since the Unix epoch (see "Time" above).
    pub now_unix: u64,
    /// Ask the server for smaller records so a smaller `read_buf` suffices
    /// (RFC 6066). Servers may ignore it; `None` keeps the 16 KiB default.
    pub max_fragment_length: Option<MaxFragmentLength>,
    /// ALPN protocol names to offer (e.g. `b"x-amzn-mqtt-ca"` for MQTT on port 443).
    pub alpn: Option<&'a [&'a [u8]]>,
}

impl<'a> TlsConfig<'a> {
    /// A configuration trusting `ca` for `server_name` at `now_unix`, with 16 KiB
    /// records and no ALPN.
    pub fn new(ca: &'a [u8], server_name: &'a str, now_unix: u64) -> Self {
        Self {
            ca,
            server_name,
            now_unix,
            max_fragment_length: None,
            alpn: None,
        }
    }
}

/// Checks the configuration without touching the network (the connectors call it
/// before opening TCP, so a bad CA or unset clock fails fast).
pub(crate) fn validate<'a>(config: &TlsConfig<'a>) -> Result<ServerName<'a>, TlsError> {
    let name = ServerName::parse(config.server_name)?;
    if config.now_unix < MIN_PLAUSIBLE_UNIX_TIME {
        return Err(TlsError::ClockNotSet);
    }
    let usable = pem::for_each_anchor(config.ca, |der| {
        x509::Certificate::from_der(der).ok().map(|_| ())
    })?;
    usable.ok_or(TlsError::InvalidCa)?;
    Ok(name)
}

/// Performs a TLS 1.3 handshake over `stream` and verifies the server as described in
/// the [module documentation](self).
///
/// `rng` must be a cryptographically secure generator (the chip's TRNG, or a CSPRNG
/// seeded from it); it supplies the ECDHE key and the client random.
///
/// When the server's certificate fails a check, the matching fatal alert is sent
/// before the connection is dropped (RFC 8446 §6.2): `unknown_ca` for
/// [`TlsError::UnknownCa`], `certificate_expired` for [`TlsError::Expired`] and
/// [`TlsError::NotYetValid`], `unsupported_certificate` for
/// [`TlsError::UnsupportedAlgorithm`], `decrypt_error` for a CertificateVerify that
/// does not verify, `bad_certificate` for the other certificate failures.
///
/// # Errors
/// A configuration error ([`TlsError::InvalidCa`], [`TlsError::InvalidServerName`],
/// [`TlsError::ClockNotSet`]) before any I/O; the first failed certificate check;
/// a server alert, protocol or I/O error.
pub async fn connect<'b, S, R>(
    stream: S,
    config: &TlsConfig<'_>,
    rng: R,
    read_buf: &'b mut [u8],
    write_buf: &'b mut [u8],
) -> Result<TlsStream<'b, S>, TlsError>
where
    S: Read + Write + 'b,
    R: CryptoRngCore,
{
    let name = validate(config)?;
    let mut rng = rng;
    let (mut random, mut secret) = ([0u8; 32], [0u8; 32]);
    rng.fill_bytes(&mut random);
    rng.fill_bytes(&mut secret);
    let hello = Hello {
        random,
        share: [0; 32],
        server_name: match name {
            ServerName::Dns(dns) => Some(dns),
            _ => None,
        },
        max_fragment_length: config.max_fragment_length,
        alpn: config.alpn,
    };
    let verifier = Verifier::new(config.ca, name, config.now_unix);
    let mut handshake = Handshake::new(secret, hello, verifier);
    let mut tls = TlsStream::new(stream, read_buf, write_buf, config.max_fragment_length);
    tls.handshake(&mut handshake).await?;
    Ok(tls)
}

/// Verifies a certificate chain offline exactly as [`connect`] verifies the server's
/// Certificate message: `chain` is the end-entity certificate first, then any
/// intermediates (DER). Proof of possession of the key (CertificateVerify) is of course
/// not part of this; use it to check provisioning data or to test a CA set-up.
///
/// # Errors
/// Configuration errors as for [`connect`], then the first failed certificate check.
pub fn verify_chain(
    ca: &[u8],
    chain: &[&[u8]],
    server_name: &str,
    now_unix: u64,
) -> Result<(), TlsError> {
    let name = validate(&TlsConfig::new(ca, server_name, now_unix))?;
    let chain = chain
        .get(..chain.len().min(MAX_CHAIN_DEPTH + 2))
        .unwrap_or(chain);
    verify::verify_chain(ca, chain, &name, now_unix).map(|_| ())
}
