//! The client handshake state machine (RFC 8446 §2, §4), sans I/O: it takes whole
//! handshake messages and says what the driver must do next ([`Event`]). It keeps the
//! transcript hash, the X25519 key, the handshake secrets and the certificate verifier.
//!
//! ```text
//! ServerHello ─HRR─> ServerHello (once) ─> EncryptedExtensions ─> [CertificateRequest]
//!   ─> Certificate ─> CertificateVerify ─> Finished ─> Done
//! ```

use sha2::{Digest as _, Sha256};

use super::alert::{self, Fatal};
use super::codec::{Reader, Writer};
use super::error::TlsError;
use super::hello::{self, Hello, ServerHello, X25519};
use super::schedule::{self, Secret};
use super::verify::{MAX_CHAIN_DEPTH, Verifier};
use super::x25519;

/// Handshake message type `encrypted_extensions`.
const ENCRYPTED_EXTENSIONS: u8 = 8;
/// Handshake message type `certificate`.
const CERTIFICATE: u8 = 11;
/// Handshake message type `certificate_request`.
const CERTIFICATE_REQUEST: u8 = 13;
/// Handshake message type `certificate_verify`.
const CERTIFICATE_VERIFY: u8 = 15;
/// Handshake message type `finished`.
pub(crate) const FINISHED: u8 = 20;

/// Where the handshake is: the message expected next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// ServerHello or HelloRetryRequest.
    ServerHello,
    /// ServerHello after a HelloRetryRequest (a second retry is refused).
    RetriedServerHello,
    /// EncryptedExtensions.
    EncryptedExtensions,
    /// CertificateRequest or Certificate.
    CertificateRequest,
    /// Certificate.
    Certificate,
    /// CertificateVerify.
    CertificateVerify,
    /// The server's Finished.
    Finished,
    /// The server is authenticated; the client flight is due.
    Done,
}

/// What the driver does after a message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event<'m> {
    /// Nothing: read the next message.
    Next,
    /// A HelloRetryRequest: send [`Handshake::client_hello`] again with this cookie.
    Retry(Option<&'m [u8]>),
    /// The handshake traffic secrets are ready (client, server): switch keys.
    HandshakeKeys(Secret, Secret),
    /// The server Finished verified: send [`Handshake::client_finished`].
    ServerFinished,
}

/// A client handshake in progress.
pub(crate) struct Handshake<'a> {
    state: State,
    transcript: Sha256,
    /// Our X25519 secret.
    x25519: [u8; 32],
    hello: Hello<'a>,
    verifier: Verifier<'a>,
    /// The handshake secret, then the master secret.
    secret: Secret,
    client: Secret,
    server: Secret,
    cert_requested: bool,
}

/// Compares two MACs in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

impl<'a> Handshake<'a> {
    /// A handshake with the X25519 secret `x25519`, the ClientHello contents `hello`
    /// (its `share` is filled in here) and the certificate verifier.
    pub(crate) fn new(x25519: [u8; 32], mut hello: Hello<'a>, verifier: Verifier<'a>) -> Self {
        hello.share = x25519::public_key(&x25519);
        Self {
            state: State::ServerHello,
            transcript: Sha256::new(),
            x25519,
            hello,
            verifier,
            secret: [0; 32],
            client: [0; 32],
            server: [0; 32],
            cert_requested: false,
        }
    }

    fn hash(&self) -> Secret {
        self.transcript.clone().finalize().into()
    }

    /// Writes the ClientHello (with `cookie` after a HelloRetryRequest) and adds it to
    /// the transcript.
    ///
    /// # Errors
    /// [`TlsError::BufferTooSmall`] when it does not fit `w`.
    pub(crate) fn client_hello(
        &mut self,
        w: &mut Writer<'_>,
        cookie: Option<&[u8]>,
    ) -> Result<(), TlsError> {
        let start = w.len();
        hello::client_hello(w, &self.hello, cookie)?;
        self.transcript
            .update(w.written().get(start..).unwrap_or(&[]));
        Ok(())
    }

    /// Handles one whole handshake message `msg` (4-byte header included).
    ///
    /// # Errors
    /// An unexpected or malformed message, a failed certificate check, a
    /// CertificateVerify or Finished that does not verify; each with its alert.
    pub(crate) fn handle<'m>(&mut self, msg: &'m [u8]) -> Result<Event<'m>, Fatal> {
        let mut r = Reader::new(msg);
        let kind = r.u8()?;
        let body = r.vec(3)?;
        r.finish()?;
        let hash = self.hash();
        let event = match (self.state, kind) {
            (State::ServerHello | State::RetriedServerHello, hello::SERVER_HELLO) => {
                return self.server_hello(msg, body);
            }
            (State::EncryptedExtensions, ENCRYPTED_EXTENSIONS) => {
                hello::encrypted_extensions(body, self.hello.alpn)?;
                self.state = State::CertificateRequest;
                Event::Next
            }
            (State::CertificateRequest, CERTIFICATE_REQUEST) => {
                // Client authentication is not supported: an empty Certificate goes
                // with our Finished. The context is empty during the handshake.
                if !Reader::new(body).vec(1)?.is_empty() {
                    return Err(Fatal::protocol(alert::ILLEGAL_PARAMETER));
                }
                self.cert_requested = true;
                self.state = State::Certificate;
                Event::Next
            }
            (State::CertificateRequest | State::Certificate, CERTIFICATE) => {
                self.certificate(body)?;
                self.state = State::CertificateVerify;
                Event::Next
            }
            (State::CertificateVerify, CERTIFICATE_VERIFY) => {
                let mut r = Reader::new(body);
                let scheme = r.u16()?;
                let signature = r.vec(2)?;
                r.finish()?;
                self.verifier.certificate_verify(scheme, signature, &hash)?;
                self.state = State::Finished;
                Event::Next
            }
            (State::Finished, FINISHED) => {
                if !same(body, &schedule::finished(&self.server, &hash)) {
                    return Err(Fatal::new(TlsError::Protocol, alert::DECRYPT_ERROR));
                }
                self.state = State::Done;
                Event::ServerFinished
            }
            // A Finished (or anything) before CertificateVerify: the server did not
            // prove it holds a certificate's key.
            (State::CertificateRequest | State::Certificate | State::CertificateVerify, _) => {
                return Err(Fatal::new(
                    TlsError::MissingCertificate,
                    alert::UNEXPECTED_MESSAGE,
                ));
            }
            _ => return Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE)),
        };
        self.transcript.update(msg);
        Ok(event)
    }

    fn server_hello<'m>(&mut self, msg: &'m [u8], body: &'m [u8]) -> Result<Event<'m>, Fatal> {
        let illegal = Fatal::protocol(alert::ILLEGAL_PARAMETER);
        match hello::server_hello(body)? {
            ServerHello::Retry(group, cookie) => {
                if self.state == State::RetriedServerHello {
                    return Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE));
                }
                // A new key share cannot be honoured: X25519 is our only group and its
                // share was sent (RFC 8446 §4.1.4); a retry must change something.
                if group.is_some() || cookie.is_none() {
                    return Err(illegal);
                }
                // RFC 8446 §4.4.1: ClientHello1 is replaced by message_hash.
                let first = self.hash();
                self.transcript = Sha256::new();
                self.transcript.update([254, 0, 0, 32]);
                self.transcript.update(first);
                self.transcript.update(msg);
                self.state = State::RetriedServerHello;
                Ok(Event::Retry(cookie))
            }
            ServerHello::Hello(group, share) => {
                let peer: &[u8; 32] = share.try_into().map_err(|_| illegal)?;
                let shared = x25519::x25519(&self.x25519, peer);
                // Another group, or a low-order point, which gives zero (RFC 8446
                // §7.4.2, RFC 7748 §6.1).
                if group != X25519 || shared == [0; 32] {
                    return Err(illegal);
                }
                self.transcript.update(msg);
                let hash = self.hash();
                self.secret = schedule::handshake_secret(&shared);
                self.client = schedule::derive(&self.secret, b"c hs traffic", &hash);
                self.server = schedule::derive(&self.secret, b"s hs traffic", &hash);
                self.state = State::EncryptedExtensions;
                Ok(Event::HandshakeKeys(self.client, self.server))
            }
        }
    }

    fn certificate(&mut self, body: &[u8]) -> Result<(), Fatal> {
        let mut r = Reader::new(body);
        if !r.vec(1)?.is_empty() {
            return Err(Fatal::protocol(alert::ILLEGAL_PARAMETER));
        }
        let mut list = Reader::new(r.vec(3)?);
        r.finish()?;
        let mut ders: [&[u8]; MAX_CHAIN_DEPTH + 2] = [&[]; MAX_CHAIN_DEPTH + 2];
        let mut count = 0;
        while !list.is_empty() {
            let der = list.vec(3)?;
            list.vec(2)?; // per-certificate extensions
            // Extra certificates beyond what a valid path can use are ignored.
            if let Some(slot) = ders.get_mut(count) {
                *slot = der;
                count += 1;
            }
        }
        Ok(self
            .verifier
            .certificate(ders.get(..count).unwrap_or(&[]))?)
    }

    /// Writes the client's flight (an empty Certificate if one was requested, then
    /// Finished) and returns the application traffic secrets (client, server).
    ///
    /// # Errors
    /// [`TlsError::BufferTooSmall`] when it does not fit `w`.
    pub(crate) fn client_finished(
        &mut self,
        w: &mut Writer<'_>,
    ) -> Result<(Secret, Secret), TlsError> {
        let hash = self.hash();
        let master = schedule::master_secret(&self.secret);
        let client = schedule::derive(&master, b"c ap traffic", &hash);
        let server = schedule::derive(&master, b"s ap traffic", &hash);
        if self.cert_requested {
            let empty = [CERTIFICATE, 0, 0, 4, 0, 0, 0, 0];
            w.put(&empty)?;
            self.transcript.update(empty);
        }
        let verify = schedule::finished(&self.client, &self.hash());
        w.put(&[FINISHED, 0, 0, 32])?;
        w.put(&verify)?;
        Ok((client, server))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "handshake_tests.rs"]
mod tests;
