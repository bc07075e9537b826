//! Reading and interpreting an HTTP/1.1 response head (status line + headers).
//!
//! The head is read into the caller's buffer until `httparse` reports it
//! complete; bytes after it (the start of the body) stay in the buffer.
//! Everything is bounds-checked and bad input gives a typed [`HttpError`].

use embedded_io_async::Read;

use super::HttpError;

/// Most headers a response may carry (`httparse` needs a fixed-size array).
pub const MAX_HEADERS: usize = 48;

/// Most `1xx` interim responses skipped before the final one.
const MAX_INTERIM: usize = 8;

/// How the body of a response is delimited (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD request, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the server closes the connection.
    ToEnd,
}

/// A parsed response head; its bytes are `buf[..header_len]`, and
/// `buf[header_len..loaded]` already holds the first body bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// Length of the head including the blank line.
    pub header_len: usize,
    /// Bytes of the buffer filled so far (head + early body bytes).
    pub loaded: usize,
    /// How the body is delimited.
    pub framing: Framing,
}

/// Reads one response head into `buf`, of which the first `preloaded` bytes are
/// already filled. `head_request` marks a response to `HEAD` (never a body).
pub async fn read_head<S: Read>(
    stream: &mut S,
    buf: &mut [u8],
    preloaded: usize,
    head_request: bool,
) -> Result<Head, HttpError> {
    let mut pos = preloaded.min(buf.len());
    loop {
        if pos > 0
            && let Some((status, header_len)) = try_parse(&buf[..pos])?
        {
            let framing = framing(&buf[..header_len], status, head_request)?;
            return Ok(Head {
                status,
                header_len,
                loaded: pos,
                framing,
            });
        }
        let free = buf.get_mut(pos..).filter(|b| !b.is_empty());
        let Some(free) = free else {
            return Err(HttpError::HeadTooLarge);
        };
        let n = stream.read(free).await.map_err(HttpError::from_io)?;
        if n == 0 {
            return Err(HttpError::ConnectionClosed);
        }
        pos += n.min(free.len());
    }
}

/// Like [`read_head`] but skips interim `1xx` responses (except `101 Switching
/// Protocols`, which is final for WebSocket upgrades).
pub async fn read_final_head<S: Read>(
    stream: &mut S,
    buf: &mut [u8],
    head_request: bool,
) -> Result<Head, HttpError> {
    let mut preloaded = 0;
    for _ in 0..MAX_INTERIM {
        let head = read_head(stream, buf, preloaded, head_request).await?;
        if !(100..200).contains(&head.status) || head.status == 101 {
            return Ok(head);
        }
        buf.copy_within(head.header_len..head.loaded, 0);
        preloaded = head.loaded - head.header_len;
    }
    Err(HttpError::MalformedHead)
}

/// `Some((status, head length))` once `data` holds a complete head.
fn try_parse(data: &[u8]) -> Result<Option<(u16, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(data) {
        Ok(httparse::Status::Complete(len)) => {
            let status = response.code.ok_or(HttpError::MalformedHead)?;
            if !(100..=999).contains(&status) {
                return Err(HttpError::MalformedHead);
            }
            Ok(Some((status, len)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HttpError::TooManyHeaders),
        Err(_) => Err(HttpError::MalformedHead),
    }
}

fn framing(head: &[u8], status: u16, head_request: bool) -> Result<Framing, HttpError> {
    let mut content_length: Option<usize> = None;
    let mut transfer_encoding: Option<&[u8]> = None;
    for (name, value) in HeaderIter::new(head) {
        if name.eq_ignore_ascii_case("content-length") {
            let n = parse_content_length(value)?;
            if content_length.is_some_and(|old| old != n) {
                return Err(HttpError::InvalidContentLength);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if transfer_encoding.is_some() {
                // Several Transfer-Encoding lines: only "chunked" alone is supported.
                return Err(HttpError::UnsupportedTransferEncoding);
            }
            transfer_encoding = Some(value);
        }
    }
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if let Some(te) = transfer_encoding {
        // Transfer-Encoding overrides Content-Length (RFC 9112 6.3 item 3).
        return if trim(te).eq_ignore_ascii_case(b"chunked") {
            Ok(Framing::Chunked)
        } else {
            Err(HttpError::UnsupportedTransferEncoding)
        };
    }
    Ok(match content_length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::ToEnd,
    })
}

fn parse_content_length(value: &[u8]) -> Result<usize, HttpError> {
    let digits = trim(value);
    if digits.is_empty() || digits.len() > 19 {
        return Err(HttpError::InvalidContentLength);
    }
    digits.iter().try_fold(0usize, |acc, &b| {
        let d = (b as char)
            .to_digit(10)
            .ok_or(HttpError::InvalidContentLength)?;
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(d as usize))
            .ok_or(HttpError::InvalidContentLength)
    })
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

/// Iterates over `(name, value)` pairs of a head already validated by
/// `httparse` (status line skipped, values trimmed).
#[derive(Clone, Debug)]
pub struct HeaderIter<'a> {
    rest: &'a [u8],
}

impl<'a> HeaderIter<'a> {
    /// Iterates over the header lines of `head` (status line first).
    pub fn new(head: &'a [u8]) -> Self {
        let rest = match head.iter().position(|&b| b == b'\n') {
            Some(i) => &head[i + 1..],
            None => &[],
        };
        Self { rest }
    }
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let end = self.rest.iter().position(|&b| b == b'\n')?;
            let line = &self.rest[..end];
            self.rest = &self.rest[end + 1..];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                self.rest = &[];
                return None;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let Ok(name) = core::str::from_utf8(&line[..colon]) else {
                continue;
            };
            return Some((name, trim(&line[colon + 1..])));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn header_iter_skips_status_line_and_trims() {
        let head = b"HTTP/1.1 200 OK\r\nA: 1\r\nB:  two \r\n\r\nbody";
        let v: [(&str, &[u8]); 2] = [("A", b"1"), ("B", b"two")];
        assert!(HeaderIter::new(head).eq(v.iter().copied()));
    }

    #[test]
    fn framing_rules() {
        let f = |h: &[u8], s| framing(h, s, false);
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200),
            Ok(Framing::Length(5))
        );
        assert_eq!(f(b"HTTP/1.1 200 OK\r\n\r\n", 200), Ok(Framing::ToEnd));
        assert_eq!(f(b"HTTP/1.1 204 N\r\n\r\n", 204), Ok(Framing::Empty));
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                200
            ),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                200
            ),
            Err(HttpError::InvalidContentLength)
        );
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                200
            ),
            Err(HttpError::InvalidContentLength)
        );
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 200),
            Err(HttpError::UnsupportedTransferEncoding)
        );
    }
}
