//! [`TlsStream`]: the thin async driver over an `embedded_io_async` `Read + Write`
//! stream. It moves records between the stream and the caller's buffers, protects
//! them ([`super::record`]), reassembles handshake messages and feeds them to the
//! sans-I/O [`Handshake`]; after the handshake it carries application data and handles
//! the post-handshake messages (NewSessionTicket ignored, KeyUpdate honoured).
//!
//! The read buffer holds, at its start, handshake bytes not yet forming a whole
//! message; a record is read right after them and decrypted in place. The write buffer
//! holds one outgoing record: header, fragment, content type and tag.

use embedded_io::Error as _;
use embedded_io_async::{ErrorType, Read, ReadExactError, Write};

use super::alert::{self, Fatal};
use super::codec::Writer;
use super::error::TlsError;
use super::handshake::{Event, Handshake};
use super::hello::MaxFragmentLength;
use super::record::{
    self, ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, Cipher, HANDSHAKE, HEADER, MAX_PLAINTEXT,
    OVERHEAD,
};

/// Handshake message type `new_session_ticket`.
const NEW_SESSION_TICKET: u8 = 4;
/// Handshake message type `key_update`.
const KEY_UPDATE: u8 = 24;
/// The largest protected record body (RFC 8446 §5.2).
const MAX_RECORD: usize = MAX_PLAINTEXT + 256;

/// What one incoming record was, after the handshake.
enum Incoming {
    /// Application data: this many bytes at the start of the read buffer.
    Data(usize),
    /// A handshake message or a part of one (kept in the read buffer).
    Handshake,
    /// The peer's `close_notify`.
    CloseNotify,
}

/// An established TLS 1.3 connection over the stream `S`; `Read + Write` itself.
pub struct TlsStream<'b, S: Read + Write> {
    io: S,
    rbuf: &'b mut [u8],
    wbuf: &'b mut [u8],
    read: Option<Cipher>,
    write: Option<Cipher>,
    /// Handshake bytes kept at the start of `rbuf`.
    hs_len: usize,
    /// Unread application data: `rbuf[start..end]`.
    start: usize,
    end: usize,
    /// Application data waiting in `wbuf[HEADER..HEADER + pending]`.
    pending: usize,
    /// The largest fragment we send.
    fragment: usize,
    /// Whether the handshake is still running (middlebox ChangeCipherSpec allowed).
    handshaking: bool,
    /// The peer sent `close_notify`.
    eof: bool,
}

/// The error of a failed stream read.
fn io_error<E: embedded_io::Error>(e: ReadExactError<E>) -> Fatal {
    match e {
        ReadExactError::UnexpectedEof => TlsError::Closed.into(),
        ReadExactError::Other(e) => TlsError::Io(e.kind()).into(),
    }
}

impl<'b, S: Read + Write> TlsStream<'b, S> {
    /// A connection over `io` with the caller's record buffers, before the handshake.
    pub(crate) fn new(
        io: S,
        rbuf: &'b mut [u8],
        wbuf: &'b mut [u8],
        mfl: Option<MaxFragmentLength>,
    ) -> Self {
        let limit = mfl.map_or(MAX_PLAINTEXT, MaxFragmentLength::bytes);
        let fragment = wbuf.len().saturating_sub(OVERHEAD).min(limit);
        Self {
            io,
            rbuf,
            wbuf,
            read: None,
            write: None,
            hs_len: 0,
            start: 0,
            end: 0,
            pending: 0,
            fragment,
            handshaking: true,
            eof: false,
        }
    }

    /// Reads one record after the kept handshake bytes and decrypts it in place.
    /// Returns the content type and the content length; ChangeCipherSpec during the
    /// handshake is skipped, a `close_notify` is `ALERT` with length 0, any other
    /// alert an error.
    async fn recv(&mut self) -> Result<(u8, usize), Fatal> {
        loop {
            let mut header = [0u8; HEADER];
            self.io.read_exact(&mut header).await.map_err(io_error)?;
            let (kind, len) = record::parse_header(&header, MAX_RECORD)?;
            let at = self.hs_len;
            let body = self
                .rbuf
                .get_mut(at..at + len)
                .ok_or(TlsError::BufferTooSmall)?;
            self.io.read_exact(body).await.map_err(io_error)?;
            let (kind, len) = match (&mut self.read, kind) {
                (_, CHANGE_CIPHER_SPEC) if self.handshaking && body == [1] => continue,
                (Some(cipher), APPLICATION_DATA) => cipher.open(&header, body)?,
                // Plaintext handshake records before the keys change; plaintext alerts
                // also later in the handshake (a server that fails early may not have
                // our keys yet).
                (None, HANDSHAKE) | (_, ALERT) if self.handshaking || kind == HANDSHAKE => {
                    if len > MAX_PLAINTEXT {
                        return Err(Fatal::protocol(alert::RECORD_OVERFLOW));
                    }
                    (kind, len)
                }
                _ => return Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE)),
            };
            if kind != ALERT {
                return Ok((kind, len));
            }
            return match self.rbuf.get(at..at + len) {
                Some([_, alert::CLOSE_NOTIFY]) => Ok((ALERT, 0)),
                Some([_, description]) => Err(TlsError::Alert(*description).into()),
                _ => Err(Fatal::protocol(alert::DECODE_ERROR)),
            };
        }
    }

    /// The length of the whole handshake message at the start of the read buffer, if
    /// it is complete.
    fn complete(&self) -> Result<Option<usize>, Fatal> {
        let kept = self.rbuf.get(..self.hs_len).unwrap_or(&[]);
        let &[_, a, b, c, ..] = kept else {
            return Ok(None);
        };
        let len = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
        if len > self.rbuf.len() {
            return Err(TlsError::BufferTooSmall.into());
        }
        Ok((len <= kept.len()).then_some(len))
    }

    /// Reads records until a whole handshake message is at the start of the read
    /// buffer; returns its length.
    async fn message(&mut self) -> Result<usize, Fatal> {
        loop {
            if let Some(len) = self.complete()? {
                return Ok(len);
            }
            match self.recv().await? {
                (HANDSHAKE, len) => self.hs_len += len,
                (ALERT, _) => return Err(TlsError::Closed.into()),
                _ => return Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE)),
            }
        }
    }

    /// Drops the first `len` handshake bytes. With `boundary`, the message changed
    /// the keys, so nothing may follow it in the same record (RFC 8446 §5.1).
    fn consume(&mut self, len: usize, boundary: bool) -> Result<(), Fatal> {
        self.rbuf.copy_within(len..self.hs_len, 0);
        self.hs_len -= len;
        if boundary && self.hs_len != 0 {
            return Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE));
        }
        Ok(())
    }

    /// Sends `wbuf[HEADER..HEADER + len]` as one record of type `kind`.
    async fn send(&mut self, kind: u8, len: usize) -> Result<(), Fatal> {
        let n = match &mut self.write {
            Some(cipher) => cipher.seal(kind, self.wbuf, len)?,
            None => {
                record::header(kind, len, self.wbuf);
                HEADER + len
            }
        };
        let bytes = self.wbuf.get(..n).ok_or(TlsError::BufferTooSmall)?;
        let io = |e: S::Error| Fatal::from(TlsError::Io(e.kind()));
        self.io.write_all(bytes).await.map_err(io)?;
        self.io.flush().await.map_err(io)
    }

    /// The write buffer after the record header.
    fn body(&mut self) -> Result<Writer<'_>, Fatal> {
        Ok(Writer::new(
            self.wbuf
                .get_mut(HEADER..)
                .ok_or(TlsError::BufferTooSmall)?,
        ))
    }

    /// Sends the alert `description` (fatal, or a warning for `close_notify`).
    async fn alert(&mut self, description: u8) -> Result<(), Fatal> {
        let level = if description == alert::CLOSE_NOTIFY {
            1
        } else {
            2
        };
        self.body()?.put(&[level, description])?;
        self.send(ALERT, 2).await
    }

    /// Sends the alert `fatal` calls for (best effort) and returns its error.
    async fn fail(&mut self, fatal: Fatal) -> TlsError {
        if let Some(description) = fatal.alert {
            let _ = self.alert(description).await;
        }
        self.eof = true;
        fatal.error
    }

    /// Runs the handshake `hs` to completion, sending the alert of a failure.
    pub(crate) async fn handshake(&mut self, hs: &mut Handshake<'_>) -> Result<(), TlsError> {
        match self.drive(hs).await {
            Ok(()) => Ok(()),
            Err(fatal) => Err(self.fail(fatal).await),
        }
    }

    async fn drive(&mut self, hs: &mut Handshake<'_>) -> Result<(), Fatal> {
        let mut w = self.body()?;
        hs.client_hello(&mut w, None)?;
        let len = w.len();
        self.send(HANDSHAKE, len).await?;
        loop {
            let n = self.message().await?;
            let msg = self.rbuf.get(..n).unwrap_or(&[]);
            match hs.handle(msg)? {
                Event::Next => self.consume(n, false)?,
                Event::Retry(cookie) => {
                    let mut w = Writer::new(
                        self.wbuf
                            .get_mut(HEADER..)
                            .ok_or(TlsError::BufferTooSmall)?,
                    );
                    hs.client_hello(&mut w, cookie)?;
                    let len = w.len();
                    self.consume(n, true)?;
                    self.send(HANDSHAKE, len).await?;
                }
                Event::HandshakeKeys(client, server) => {
                    self.consume(n, true)?;
                    self.read = Some(Cipher::new(&server));
                    self.write = Some(Cipher::new(&client));
                }
                Event::ServerFinished => {
                    self.consume(n, true)?;
                    let mut w = self.body()?;
                    let (client, server) = hs.client_finished(&mut w)?;
                    let len = w.len();
                    self.send(HANDSHAKE, len).await?;
                    self.read = Some(Cipher::new(&server));
                    self.write = Some(Cipher::new(&client));
                    self.handshaking = false;
                    return Ok(());
                }
            }
        }
    }

    /// Reads the next record after the handshake, handling a whole post-handshake
    /// message first if one is kept.
    async fn incoming(&mut self) -> Result<Incoming, Fatal> {
        if let Some(n) = self.complete()? {
            self.post_handshake(n).await?;
            return Ok(Incoming::Handshake);
        }
        match self.recv().await? {
            (APPLICATION_DATA, len) if self.hs_len == 0 => Ok(Incoming::Data(len)),
            (HANDSHAKE, len) => {
                self.hs_len += len;
                Ok(Incoming::Handshake)
            }
            (ALERT, _) => Ok(Incoming::CloseNotify),
            _ => Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE)),
        }
    }

    /// NewSessionTicket (ignored: no resumption) and KeyUpdate (RFC 8446 §4.6.3).
    async fn post_handshake(&mut self, n: usize) -> Result<(), Fatal> {
        let update = match self.rbuf.get(..n) {
            Some([NEW_SESSION_TICKET, ..]) => None,
            Some([KEY_UPDATE, 0, 0, 1, request @ (0 | 1)]) => Some(*request == 1),
            Some([KEY_UPDATE, ..]) => return Err(Fatal::protocol(alert::ILLEGAL_PARAMETER)),
            _ => return Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE)),
        };
        // A KeyUpdate must end its record: the next one uses the new key.
        self.consume(n, update.is_some())?;
        if let Some(cipher) = self.read.as_mut().filter(|_| update.is_some()) {
            cipher.update();
        }
        if update == Some(true) {
            // Our own KeyUpdate (update_not_requested), after data already buffered.
            self.send_pending().await?;
            self.body()?.put(&[KEY_UPDATE, 0, 0, 1, 0])?;
            self.send(HANDSHAKE, 5).await?;
            if let Some(cipher) = self.write.as_mut() {
                cipher.update();
            }
        }
        Ok(())
    }

    /// Sends the buffered application data as one record.
    async fn send_pending(&mut self) -> Result<(), Fatal> {
        if self.pending > 0 {
            let len = core::mem::take(&mut self.pending);
            self.send(APPLICATION_DATA, len).await?;
        }
        Ok(())
    }

    /// Sends `close_notify` and returns the underlying stream.
    ///
    /// # Errors
    /// The stream failed while sending the alert.
    pub async fn close(mut self) -> Result<S, (S, TlsError)> {
        let sent = match self.send_pending().await {
            Ok(()) => self.alert(alert::CLOSE_NOTIFY).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => Ok(self.io),
            Err(fatal) => Err((self.io, fatal.error)),
        }
    }
}

impl<S: Read + Write> ErrorType for TlsStream<'_, S> {
    type Error = TlsError;
}

impl<S: Read + Write> Read for TlsStream<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        while self.start == self.end && !buf.is_empty() {
            if self.eof {
                return Ok(0);
            }
            match self.incoming().await {
                Ok(Incoming::Data(len)) => (self.start, self.end) = (0, len),
                Ok(Incoming::Handshake) => {}
                // The peer's close_notify is a clean end of stream.
                Ok(Incoming::CloseNotify) => self.eof = true,
                Err(fatal) => return Err(self.fail(fatal).await),
            }
        }
        let data = self.rbuf.get(self.start..self.end).unwrap_or(&[]);
        let n = data.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.start += n;
        Ok(n)
    }
}

impl<S: Read + Write> Write for TlsStream<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.fragment == 0 {
            return Err(TlsError::BufferTooSmall);
        }
        if self.pending == self.fragment {
            self.send_pending().await.map_err(|f| f.error)?;
        }
        let n = buf.len().min(self.fragment - self.pending);
        let at = HEADER + self.pending;
        if let (Some(dst), Some(src)) = (self.wbuf.get_mut(at..at + n), buf.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pending += n;
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), TlsError> {
        self.send_pending().await.map_err(|f| f.error)
    }
}
