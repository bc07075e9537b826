//! [`Wire`]: the stream under the TLS engine, repairing the plaintext alert records of
//! `embedded-tls` 0.19.
//!
//! `embedded-tls` writes an alert that is not encrypted (a handshake abort, or
//! `close_notify` before the handshake finished) under the record content type
//! `change_cipher_spec` (20) instead of `alert` (21), so a peer reads a malformed
//! ChangeCipherSpec and never sees the alert (OpenSSL: "bad change cipher spec"). A
//! real ChangeCipherSpec record always carries exactly one byte (RFC 8446 §5,
//! RFC 5246 §7.1) and the client never sends one, so a two-byte record of type 20 can
//! only be such an alert: [`Wire`] rewrites its header to type 21, version 0x0303.

use embedded_io_async::{ErrorType, Read, Write};

/// Record content type `change_cipher_spec`.
const CHANGE_CIPHER_SPEC: u8 = 20;
/// Record content type `alert`.
const ALERT: u8 = 21;
/// A plaintext record: 5-byte header, then the 2-byte alert (level, description).
const ALERT_RECORD_LEN: usize = 7;

/// The transport stream as the TLS engine sees it.
pub(crate) struct Wire<S> {
    inner: S,
}

impl<S> Wire<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }

    pub(crate) fn into_inner(self) -> S {
        self.inner
    }
}

/// The repaired record if `buf` starts with a mislabelled plaintext alert.
fn repaired_alert(buf: &[u8]) -> Option<[u8; ALERT_RECORD_LEN]> {
    match buf.get(..ALERT_RECORD_LEN)? {
        &[CHANGE_CIPHER_SPEC, 3, _, 0, 2, level, description] => {
            Some([ALERT, 3, 3, 0, 2, level, description])
        }
        _ => None,
    }
}

impl<S: ErrorType> ErrorType for Wire<S> {
    type Error = S::Error;
}

impl<S: Read> Read for Wire<S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, S::Error> {
        self.inner.read(buf).await
    }
}

impl<S: Write> Write for Wire<S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, S::Error> {
        match repaired_alert(buf) {
            Some(record) => {
                self.inner.write_all(&record).await?;
                Ok(ALERT_RECORD_LEN)
            }
            None => self.inner.write(buf).await,
        }
    }

    async fn flush(&mut self) -> Result<(), S::Error> {
        self.inner.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_byte_change_cipher_spec_record_becomes_an_alert() {
        // embedded-tls 0.19's fatal unknown_ca before the handshake finished.
        let written = [20, 3, 1, 0, 2, 2, 48];
        assert_eq!(repaired_alert(&written), Some([21, 3, 3, 0, 2, 2, 48]));
    }

    #[test]
    fn other_records_pass_unchanged() {
        // A real ChangeCipherSpec (one byte), a ClientHello header, application data.
        assert_eq!(repaired_alert(&[20, 3, 3, 0, 1, 1]), None);
        assert_eq!(repaired_alert(&[22, 3, 1, 0, 2, 2, 48]), None);
        assert_eq!(repaired_alert(&[23, 3, 3, 0, 2, 2, 48, 9]), None);
        assert_eq!(repaired_alert(&[20, 3, 1]), None);
    }
}
