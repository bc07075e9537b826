//! Streaming response bodies: an `embedded_io_async::Read` over the connection.
//!
//! Decoding is reqwless's (`FixedLengthBodyReader`, `ChunkedBodyReader`) over a
//! [`Prefixed`] reader that first hands out the body bytes read with the head; this
//! wrapper adds what a device needs on top: it never asks reqwless for more
//! than `Content-Length` allows, turns an early end of the connection into
//! [`HttpError::TruncatedBody`], and maps every failure to a typed [`HttpError`].

use embedded_io::{ErrorKind, ErrorType};
use embedded_io_async::Read;
use reqwless::response::{BodyReader, ChunkedBodyReader, FixedLengthBodyReader};

use super::HttpError;
use super::head::{Framing, Head};
use super::prefixed::Prefixed;

/// The body of a response, read as a stream. Implements
/// `embedded_io_async::Read` with [`HttpError`] as its error: `Ok(0)` means the
/// whole body was received; a connection closed earlier is an error.
pub struct Body<'s, 'b, S: Read> {
    reader: BodyReader<Prefixed<'s, 'b, S>>,
}

impl<'s, 'b, S: Read> Body<'s, 'b, S> {
    /// A body for `head`, whose first bytes are in `buf[head.header_len..head.loaded]`.
    /// The whole of `buf` becomes the body's read buffer.
    pub(crate) fn new(stream: &'s mut S, buf: &'b mut [u8], head: &Head) -> Self {
        let end = head.loaded.min(buf.len());
        let start = head.header_len.min(end);
        let raw = Prefixed::new(stream, buf, start, end);
        let reader = match head.framing {
            Framing::Empty => BodyReader::Empty,
            Framing::Length(remaining) => BodyReader::FixedLength(FixedLengthBodyReader {
                raw_body: raw,
                remaining,
            }),
            Framing::Chunked => BodyReader::Chunked(ChunkedBodyReader::new(raw)),
            Framing::ToEnd => BodyReader::ToEnd(raw),
        };
        Body { reader }
    }

    /// Whether the whole body has been read (always `false` for bodies that end
    /// when the connection closes, until `read` returned 0).
    pub fn is_done(&self) -> bool {
        match &self.reader {
            BodyReader::Empty => true,
            BodyReader::FixedLength(r) => r.remaining == 0,
            BodyReader::Chunked(r) => r.is_done(),
            BodyReader::ToEnd(_) => false,
        }
    }

    /// Reads the rest of the body into `out` and returns its length;
    /// [`HttpError::BodyTooLarge`] if it does not fit.
    pub async fn read_to_end(&mut self, out: &mut [u8]) -> Result<usize, HttpError> {
        let mut len = 0;
        while len < out.len() {
            match self.read(&mut out[len..]).await? {
                0 => return Ok(len),
                n => len += n,
            }
        }
        let mut probe = [0u8; 1];
        match self.read(&mut probe).await? {
            0 => Ok(len),
            _ => Err(HttpError::BodyTooLarge),
        }
    }

    /// Reads and drops the rest of the body; returns how many bytes that was.
    pub async fn discard(&mut self) -> Result<usize, HttpError> {
        let mut scratch = [0u8; 64];
        let mut total = 0usize;
        loop {
            match self.read(&mut scratch).await? {
                0 => return Ok(total),
                n => total = total.saturating_add(n),
            }
        }
    }
}

impl<S: Read> ErrorType for Body<'_, '_, S> {
    type Error = HttpError;
}

impl<S: Read> Read for Body<'_, '_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.reader {
            BodyReader::Empty => Ok(0),
            BodyReader::FixedLength(r) => {
                if r.remaining == 0 {
                    return Ok(0);
                }
                // reqwless subtracts what the stream returned from `remaining`;
                // never offer it more room than the body has left.
                let cap = buf.len().min(r.remaining);
                let n = r.read(&mut buf[..cap]).await.map_err(from_reqwless)?;
                if n == 0 {
                    return Err(HttpError::TruncatedBody);
                }
                Ok(n)
            }
            BodyReader::Chunked(r) => {
                let n = r.read(buf).await.map_err(from_chunked)?;
                if n == 0 && !r.is_done() {
                    return Err(HttpError::TruncatedBody);
                }
                Ok(n)
            }
            BodyReader::ToEnd(r) => r.read(buf).await.map_err(HttpError::from_io),
        }
    }
}

fn from_reqwless(e: reqwless::Error) -> HttpError {
    match e {
        reqwless::Error::Network(kind) => HttpError::from_io(kind),
        reqwless::Error::ConnectionAborted => HttpError::TruncatedBody,
        _ => HttpError::MalformedChunk,
    }
}

fn from_chunked(e: reqwless::Error) -> HttpError {
    match e {
        // reqwless reports an end of stream inside chunk framing as an aborted connection.
        reqwless::Error::Network(ErrorKind::ConnectionAborted) => HttpError::TruncatedBody,
        other => from_reqwless(other),
    }
}
