//! A buffered reader that first returns bytes already sitting in the caller's
//! buffer (read together with the response head), then refills from the stream.

use embedded_io::ErrorType;
use embedded_io_async::{BufRead, Read};

/// Reads `buf[start..end]` first, then refills `buf` from `stream`. Small reads
/// (like the chunk-size lines the chunked decoder reads a byte at a time) are
/// served from the buffer instead of going to the stream for every byte.
pub struct Prefixed<'s, 'b, S> {
    stream: &'s mut S,
    buf: &'b mut [u8],
    start: usize,
    end: usize,
}

impl<'s, 'b, S: Read> Prefixed<'s, 'b, S> {
    /// `buf[start..end]` holds bytes already read from `stream`.
    pub fn new(stream: &'s mut S, buf: &'b mut [u8], start: usize, end: usize) -> Self {
        let end = end.min(buf.len());
        let start = start.min(end);
        Self {
            stream,
            buf,
            start,
            end,
        }
    }

    /// The buffered bytes not handed out yet.
    pub fn buffered(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }
}

impl<S: ErrorType> ErrorType for Prefixed<'_, '_, S> {
    type Error = S::Error;
}

impl<S: Read> Read for Prefixed<'_, '_, S> {
    async fn read(&mut self, out: &mut [u8]) -> Result<usize, S::Error> {
        if out.is_empty() {
            // reqwless asks for 0 bytes at the end of a chunked body: never block on it.
            return Ok(0);
        }
        if self.start == self.end {
            if out.len() >= self.buf.len() {
                return self.stream.read(out).await;
            }
            self.fill_buf().await?;
        }
        let avail = self.buffered();
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.start += n;
        Ok(n)
    }
}

impl<S: Read> BufRead for Prefixed<'_, '_, S> {
    async fn fill_buf(&mut self) -> Result<&[u8], S::Error> {
        if self.start == self.end {
            let n = self.stream.read(self.buf).await?;
            self.start = 0;
            self.end = n.min(self.buf.len());
        }
        Ok(self.buffered())
    }

    fn consume(&mut self, amt: usize) {
        self.start = self.start.saturating_add(amt).min(self.end);
    }
}
