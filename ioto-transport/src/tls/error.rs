//! Typed TLS errors.

use core::fmt;

/// Why a TLS connection failed or was refused.
///
/// The certificate variants (`BadCertificate` … `UnsupportedAlgorithm`) come from our
/// verifier and name the first check that failed; the others come from the TLS
/// protocol engine or the underlying stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// The configured CA (`TlsConfig::ca`) is not a parseable DER or PEM certificate
    /// with a supported key.
    InvalidCa,
    /// `TlsConfig::server_name` is empty, too long or not a DNS name or IP literal.
    InvalidServerName,
    /// `TlsConfig::now_unix` is before 2025-01-01: the device clock was never set, so
    /// validity periods cannot be checked. Get the time (SNTP, cellular NITZ, an RTC)
    /// before connecting.
    ClockNotSet,
    /// A server certificate is malformed, has an unknown critical extension, a
    /// non-CA certificate was used as an issuer, the end-entity certificate is a CA,
    /// or its key/extended key usage does not allow TLS server authentication.
    BadCertificate,
    /// The server's chain does not lead to the configured CA (no certificate in the
    /// chain was issued by it).
    UnknownCa,
    /// A certificate in the chain, or the handshake's CertificateVerify, carries a
    /// signature that does not verify with its issuer's key.
    BadSignature,
    /// A certificate in the chain is past its `notAfter`.
    Expired,
    /// A certificate in the chain is before its `notBefore`.
    NotYetValid,
    /// The end-entity certificate's subjectAltName entries do not match
    /// `TlsConfig::server_name`.
    NameMismatch,
    /// The chain is longer than [`MAX_CHAIN_DEPTH`](super::MAX_CHAIN_DEPTH) or a
    /// pathLenConstraint was exceeded.
    ChainTooLong,
    /// A key or signature algorithm that is not implemented: Ed25519, P-521, SHA-1,
    /// RSA outside 2048–4096 bits, or any RSA without the `tls-rsa` feature.
    UnsupportedAlgorithm,
    /// The server sent no certificate / CertificateVerify (the handshake would have been
    /// unauthenticated).
    MissingCertificate,
    /// The server sent a TLS alert; the value is the alert description (RFC 8446 §6).
    Alert(u8),
    /// A record or handshake message violated the protocol or could not be decrypted.
    Protocol,
    /// A record does not fit the record buffers (see the buffer sizes in the module
    /// documentation), or the server negotiated something we cannot hold.
    BufferTooSmall,
    /// The peer closed the connection.
    Closed,
    /// The underlying stream failed.
    Io(embedded_io::ErrorKind),
    /// A connector's [`TlsBuffers`](super::TlsBuffers) are still lent to an open
    /// connection; drop (or close) it before connecting again.
    BuffersBusy,
}

impl TlsError {
    /// A fixed, human-readable reason (without the alert number or I/O kind that
    /// [`Display`](fmt::Display) adds), for error types that carry `&'static str`.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::InvalidCa => "the configured CA certificate cannot be used",
            Self::InvalidServerName => "invalid server name",
            Self::ClockNotSet => "the clock is not set; certificate validity cannot be checked",
            Self::BadCertificate => "the server certificate is malformed or not usable for TLS",
            Self::UnknownCa => "the server certificate is not issued by the configured CA",
            Self::BadSignature => "a certificate or handshake signature does not verify",
            Self::Expired => "a certificate in the chain has expired",
            Self::NotYetValid => "a certificate in the chain is not yet valid",
            Self::NameMismatch => "the server certificate does not match the server name",
            Self::ChainTooLong => "the certificate chain is too long",
            Self::UnsupportedAlgorithm => "unsupported key or signature algorithm",
            Self::MissingCertificate => "the server did not authenticate with a certificate",
            Self::Alert(_) => "the server sent a TLS alert",
            Self::Protocol => "TLS protocol error",
            Self::BufferTooSmall => "a TLS record does not fit the record buffer",
            Self::Closed => "the connection is closed",
            Self::Io(_) => "I/O error on the TLS connection",
            Self::BuffersBusy => "the TLS record buffers are in use by another connection",
        }
    }

    /// Whether retrying cannot help: the configuration is unusable or the server's
    /// certificate failed verification (as opposed to I/O, protocol or alert errors,
    /// which a reconnect may cure).
    pub const fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Self::InvalidCa
                | Self::InvalidServerName
                | Self::ClockNotSet
                | Self::BadCertificate
                | Self::UnknownCa
                | Self::BadSignature
                | Self::Expired
                | Self::NotYetValid
                | Self::NameMismatch
                | Self::ChainTooLong
                | Self::UnsupportedAlgorithm
                | Self::MissingCertificate
        )
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Alert(code) => write!(f, "the server sent TLS alert {code}"),
            Self::Io(kind) => write!(f, "I/O error: {kind:?}"),
            other => f.write_str(other.reason()),
        }
    }
}

impl core::error::Error for TlsError {}

impl embedded_io::Error for TlsError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            Self::Io(kind) => *kind,
            Self::Closed => embedded_io::ErrorKind::ConnectionReset,
            Self::BufferTooSmall => embedded_io::ErrorKind::OutOfMemory,
            Self::BuffersBusy => embedded_io::ErrorKind::AddrInUse,
            Self::InvalidCa | Self::InvalidServerName | Self::ClockNotSet => {
                embedded_io::ErrorKind::InvalidInput
            }
            _ => embedded_io::ErrorKind::InvalidData,
        }
    }
}
