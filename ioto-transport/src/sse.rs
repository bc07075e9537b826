//! Server-Sent Events (the WHATWG `text/event-stream` format), push-based and bounded.
//!
//! [`SseParser`] is fed bytes in pieces of any size (down to one byte) and reports an
//! event when a blank line completes it. It understands the `event`, `data`
//! (multi-line, joined with `\n`), `id` and `retry` fields, comments (`:` lines),
//! a leading UTF-8 BOM, and CRLF, LF and CR line endings — including a CR at the end
//! of one piece and the LF at the start of the next. Everything is kept in one
//! caller-owned buffer: a line longer than the configured limit is a typed error
//! ([`SseError::LineTooLong`]), and so is an event whose data outgrows the buffer
//! ([`SseError::EventTooLarge`]).
//!
//! [`SseReader`] drives a parser from any [`embedded_io_async::Read`] (for example a
//! streaming HTTP body) using a second caller-owned buffer for reads.
//!
//! ```
//! use ioto_transport::sse::SseParser;
//! let mut buf = [0u8; 256];
//! let mut p = SseParser::new(&mut buf);
//! let mut input: &[u8] = b"event: greet\ndata: hello\ndata: world\n\n";
//! let mut seen = 0;
//! while !input.is_empty() {
//!     let fed = p.feed(input).unwrap();
//!     input = &input[fed.consumed..];
//!     if let Some(ev) = p.event() {
//!         assert_eq!(ev.event, "greet");
//!         assert_eq!(ev.data, b"hello\nworld");
//!         seen += 1;
//!     }
//! }
//! assert_eq!(seen, 1);
//! ```

use core::fmt;

/// Longest `event:` name kept (bytes).
pub const MAX_EVENT_NAME: usize = 64;
/// Longest `id:` value kept (bytes).
pub const MAX_ID: usize = 128;

/// Why the parser stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseError {
    /// A line was longer than the configured maximum.
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The `data` of one event did not fit the buffer.
    EventTooLarge {
        /// The buffer size in bytes.
        capacity: usize,
    },
    /// An `event:` name was longer than [`MAX_EVENT_NAME`].
    EventNameTooLong,
    /// An `id:` value was longer than [`MAX_ID`].
    IdTooLong,
    /// An `event:` name was not UTF-8.
    InvalidUtf8,
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => write!(f, "SSE line longer than {limit} bytes"),
            Self::EventTooLarge { capacity } => {
                write!(f, "SSE event data larger than the {capacity}-byte buffer")
            }
            Self::EventNameTooLong => write!(f, "SSE event name too long"),
            Self::IdTooLong => write!(f, "SSE id too long"),
            Self::InvalidUtf8 => write!(f, "SSE event name is not UTF-8"),
        }
    }
}

impl core::error::Error for SseError {}

/// One dispatched event, borrowed from the parser until the next `feed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The event type (`message` when the stream named none).
    pub event: &'a str,
    /// The data lines joined with `\n`.
    pub data: &'a [u8],
    /// The last event id seen on the stream so far, if any.
    pub id: Option<&'a [u8]>,
    /// The reconnection time in milliseconds, when the stream set one.
    pub retry: Option<u32>,
}

impl<'a> SseEvent<'a> {
    /// The data as UTF-8 text.
    pub fn data_str(&self) -> Result<&'a str, core::str::Utf8Error> {
        core::str::from_utf8(self.data)
    }
}

/// What one call to [`SseParser::feed`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fed {
    /// Bytes of the input consumed; feed the rest again.
    pub consumed: usize,
    /// Whether an event is ready ([`SseParser::event`]).
    pub event_ready: bool,
}

/// Push-based SSE parser over a caller-owned buffer.
///
/// The buffer holds the current event's data followed by the line being read, so
/// its size bounds both.
pub struct SseParser<'b> {
    buf: &'b mut [u8],
    max_line: usize,
    data_len: usize,
    has_data: bool,
    line_len: usize,
    event_name: [u8; MAX_EVENT_NAME],
    event_len: usize,
    id: [u8; MAX_ID],
    id_len: usize,
    has_id: bool,
    retry: Option<u32>,
    after_cr: bool,
    at_start: bool,
    ready: bool,
}

impl fmt::Debug for SseParser<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseParser")
            .field("capacity", &self.buf.len())
            .field("max_line", &self.max_line)
            .field("data_len", &self.data_len)
            .field("line_len", &self.line_len)
            .finish()
    }
}

impl<'b> SseParser<'b> {
    /// A parser whose lines may be as long as the whole buffer.
    pub fn new(buf: &'b mut [u8]) -> Self {
        let max_line = buf.len();
        Self::with_max_line(buf, max_line)
    }

    /// A parser that rejects lines longer than `max_line` bytes (capped at the buffer size).
    pub fn with_max_line(buf: &'b mut [u8], max_line: usize) -> Self {
        let max_line = max_line.min(buf.len());
        Self {
            buf,
            max_line,
            data_len: 0,
            has_data: false,
            line_len: 0,
            event_name: [0; MAX_EVENT_NAME],
            event_len: 0,
            id: [0; MAX_ID],
            id_len: 0,
            has_id: false,
            retry: None,
            after_cr: false,
            at_start: true,
            ready: false,
        }
    }

    /// The reconnection time set by the stream's last valid `retry:` field.
    pub fn retry(&self) -> Option<u32> {
        self.retry
    }

    /// The last event id (persists across events, as the spec says).
    pub fn last_event_id(&self) -> Option<&[u8]> {
        self.has_id.then(|| &self.id[..self.id_len])
    }

    /// Consumes input up to the end of the next complete event (or all of it).
    ///
    /// After `event_ready` is reported, read the event with [`event`](Self::event)
    /// before feeding again; feeding again discards it.
    pub fn feed(&mut self, input: &[u8]) -> Result<Fed, SseError> {
        if self.ready {
            self.clear_event();
        }
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            i += 1;
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' | b'\n' => {
                    self.after_cr = b == b'\r';
                    if self.end_line()? {
                        return Ok(Fed {
                            consumed: i,
                            event_ready: true,
                        });
                    }
                }
                _ => self.push_line_byte(b)?,
            }
        }
        Ok(Fed {
            consumed: i,
            event_ready: false,
        })
    }

    /// Ends the stream: a final line without a terminator is processed and a pending
    /// event without its blank line is dispatched (lenient; some servers omit it).
    /// Returns whether an event is ready.
    pub fn finish(&mut self) -> Result<bool, SseError> {
        if self.ready {
            self.clear_event();
        }
        if self.line_len > 0 && self.end_line()? {
            return Ok(true);
        }
        if self.has_data {
            self.ready = true;
        }
        Ok(self.ready)
    }

    /// The event completed by the last `feed`/`finish`, if any.
    pub fn event(&self) -> Option<SseEvent<'_>> {
        if !self.ready {
            return None;
        }
        let name = &self.event_name[..self.event_len];
        let event = if name.is_empty() {
            "message"
        } else {
            core::str::from_utf8(name).unwrap_or("message")
        };
        Some(SseEvent {
            event,
            data: &self.buf[..self.data_len],
            id: self.last_event_id(),
            retry: self.retry,
        })
    }

    fn clear_event(&mut self) {
        self.ready = false;
        self.data_len = 0;
        self.has_data = false;
        self.event_len = 0;
    }

    fn push_line_byte(&mut self, b: u8) -> Result<(), SseError> {
        if self.line_len >= self.max_line {
            return Err(SseError::LineTooLong {
                limit: self.max_line,
            });
        }
        let pos = self.data_len + self.line_len;
        let capacity = self.buf.len();
        let slot = self
            .buf
            .get_mut(pos)
            .ok_or(SseError::EventTooLarge { capacity })?;
        *slot = b;
        self.line_len += 1;
        Ok(())
    }

    /// Processes the line in the buffer; returns true when it dispatched an event.
    fn end_line(&mut self) -> Result<bool, SseError> {
        let start = self.data_len;
        let mut len = self.line_len;
        self.line_len = 0;
        let mut from = start;
        if self.at_start {
            self.at_start = false;
            if self.buf[start..start + len].starts_with(&[0xEF, 0xBB, 0xBF]) {
                from += 3;
                len -= 3;
            }
        }
        if len == 0 {
            if self.has_data {
                self.ready = true;
                return Ok(true);
            }
            self.event_len = 0;
            return Ok(false);
        }
        let line = &self.buf[from..from + len];
        if line[0] == b':' {
            return Ok(false);
        }
        let (name_len, value_off) = match line.iter().position(|&c| c == b':') {
            Some(colon) if line.get(colon + 1) == Some(&b' ') => (colon, colon + 2),
            Some(colon) => (colon, colon + 1),
            None => (len, len),
        };
        let value_from = from + value_off;
        let value_len = len - value_off;
        match &line[..name_len] {
            b"data" => self.append_data(value_from, value_len)?,
            b"event" => {
                let value = &self.buf[value_from..value_from + value_len];
                if value.len() > MAX_EVENT_NAME {
                    return Err(SseError::EventNameTooLong);
                }
                core::str::from_utf8(value).map_err(|_| SseError::InvalidUtf8)?;
                self.event_name[..value.len()].copy_from_slice(value);
                self.event_len = value.len();
            }
            b"id" => {
                let value = &self.buf[value_from..value_from + value_len];
                if !value.contains(&0) {
                    if value.len() > MAX_ID {
                        return Err(SseError::IdTooLong);
                    }
                    self.id[..value.len()].copy_from_slice(value);
                    self.id_len = value.len();
                    self.has_id = true;
                }
            }
            b"retry" => {
                let value = &self.buf[value_from..value_from + value_len];
                if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
                    let ms = value.iter().try_fold(0u32, |acc, &d| {
                        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
                    });
                    if ms.is_some() {
                        self.retry = ms;
                    }
                }
            }
            _ => {}
        }
        Ok(false)
    }

    /// Moves a `data:` value (already in the buffer after the data) into place.
    fn append_data(&mut self, value_from: usize, value_len: usize) -> Result<(), SseError> {
        let mut dst = self.data_len;
        if self.has_data {
            // The separator overwrites the first byte of the field name, which sits
            // at `data_len` and is always before `value_from`.
            self.buf[dst] = b'\n';
            dst += 1;
        }
        if dst + value_len > self.buf.len() {
            return Err(SseError::EventTooLarge {
                capacity: self.buf.len(),
            });
        }
        self.buf
            .copy_within(value_from..value_from + value_len, dst);
        self.data_len = dst + value_len;
        self.has_data = true;
        Ok(())
    }
}

/// Errors of [`SseReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum SseReadError<E> {
    /// Reading the underlying stream failed.
    Io(E),
    /// The stream was not valid bounded SSE.
    Sse(SseError),
}

impl<E: fmt::Debug> fmt::Display for SseReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "SSE read failed: {e:?}"),
            Self::Sse(e) => write!(f, "{e}"),
        }
    }
}

impl<E> From<SseError> for SseReadError<E> {
    fn from(e: SseError) -> Self {
        Self::Sse(e)
    }
}

/// Reads SSE events from an [`embedded_io_async::Read`] with two caller-owned
/// buffers: `chunk` for reads and the parser's buffer for lines and event data.
pub struct SseReader<'b, R> {
    reader: R,
    parser: SseParser<'b>,
    chunk: &'b mut [u8],
    start: usize,
    end: usize,
    eof: bool,
}

impl<R> fmt::Debug for SseReader<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseReader")
            .field("parser", &self.parser)
            .field("pending", &(self.end - self.start))
            .field("eof", &self.eof)
            .finish()
    }
}

impl<'b, R: embedded_io_async::Read> SseReader<'b, R> {
    /// Wraps `reader`; `chunk` must not be empty.
    pub fn new(reader: R, parser: SseParser<'b>, chunk: &'b mut [u8]) -> Self {
        Self {
            reader,
            parser,
            chunk,
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// The next event, or `None` at the end of the stream.
    pub async fn next_event(&mut self) -> Result<Option<SseEvent<'_>>, SseReadError<R::Error>> {
        if !self.advance().await? {
            return Ok(None);
        }
        Ok(self.parser.event())
    }

    /// The parser (retry time, last event id).
    pub fn parser(&self) -> &SseParser<'b> {
        &self.parser
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.reader
    }

    async fn advance(&mut self) -> Result<bool, SseReadError<R::Error>> {
        loop {
            if self.start < self.end {
                let fed = self.parser.feed(&self.chunk[self.start..self.end])?;
                self.start += fed.consumed;
                if fed.event_ready {
                    return Ok(true);
                }
                continue;
            }
            if self.eof {
                return Ok(false);
            }
            let n = self
                .reader
                .read(self.chunk)
                .await
                .map_err(SseReadError::Io)?;
            self.start = 0;
            self.end = n;
            if n == 0 {
                self.eof = true;
                return Ok(self.parser.finish()?);
            }
        }
    }
}
