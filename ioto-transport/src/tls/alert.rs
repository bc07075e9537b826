//! Alert descriptions (RFC 8446 §6) and [`Fatal`]: an error together with the alert
//! the client sends before it drops the connection.

use super::error::TlsError;

/// `close_notify`.
pub(crate) const CLOSE_NOTIFY: u8 = 0;
/// `unexpected_message`.
pub(crate) const UNEXPECTED_MESSAGE: u8 = 10;
/// `bad_record_mac`.
pub(crate) const BAD_RECORD_MAC: u8 = 20;
/// `record_overflow`.
pub(crate) const RECORD_OVERFLOW: u8 = 22;
/// `bad_certificate`.
const BAD_CERTIFICATE: u8 = 42;
/// `unsupported_certificate`.
const UNSUPPORTED_CERTIFICATE: u8 = 43;
/// `certificate_expired`.
const CERTIFICATE_EXPIRED: u8 = 45;
/// `illegal_parameter`.
pub(crate) const ILLEGAL_PARAMETER: u8 = 47;
/// `unknown_ca`.
const UNKNOWN_CA: u8 = 48;
/// `decode_error`.
pub(crate) const DECODE_ERROR: u8 = 50;
/// `decrypt_error`.
pub(crate) const DECRYPT_ERROR: u8 = 51;
/// `internal_error`.
pub(crate) const INTERNAL_ERROR: u8 = 80;
/// `missing_extension`.
pub(crate) const MISSING_EXTENSION: u8 = 109;

/// A failure and the fatal alert to send for it (`None`: send nothing, e.g. the peer
/// sent an alert or the stream failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fatal {
    /// What [`connect`](super::connect) or the stream reports.
    pub(crate) error: TlsError,
    /// The alert description sent to the peer.
    pub(crate) alert: Option<u8>,
}

impl Fatal {
    /// A protocol violation answered with `alert`.
    pub(crate) const fn protocol(alert: u8) -> Self {
        Self {
            error: TlsError::Protocol,
            alert: Some(alert),
        }
    }

    /// `error` answered with `alert`.
    pub(crate) const fn new(error: TlsError, alert: u8) -> Self {
        Self {
            error,
            alert: Some(alert),
        }
    }
}

impl From<TlsError> for Fatal {
    /// The alert for a certificate failure (RFC 8446 §6.2; the connect documentation
    /// lists them), `decode_error` for a malformed message.
    fn from(error: TlsError) -> Self {
        let alert = match error {
            TlsError::UnknownCa => UNKNOWN_CA,
            TlsError::Expired | TlsError::NotYetValid => CERTIFICATE_EXPIRED,
            TlsError::UnsupportedAlgorithm => UNSUPPORTED_CERTIFICATE,
            // An empty Certificate message (RFC 8446 §4.4.2.4), a malformed message.
            TlsError::MissingCertificate | TlsError::Protocol => DECODE_ERROR,
            TlsError::BufferTooSmall => INTERNAL_ERROR,
            TlsError::Alert(_) | TlsError::Closed | TlsError::Io(_) => {
                return Self { error, alert: None };
            }
            _ => BAD_CERTIFICATE,
        };
        Self::new(error, alert)
    }
}
