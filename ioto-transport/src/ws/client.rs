//! The WebSocket connection: receive (reassembly, control frames, UTF-8
//! checks, limits), send (masked frames, fragments) and the close handshake.

use embedded_io_async::{Read, Write};
use ioto_core::Entropy;

use super::frame::{
    FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, apply_mask, decode_header,
    encode_header,
};
use super::handshake::{HandshakeOptions, handshake};
use super::{CloseFrame, Message, ProtocolViolation, WsError, close_code};
use crate::http::{Connect, Url};

/// Connection settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// Largest frame payload accepted; bigger frames fail with
    /// [`WsError::FrameTooLarge`] and close the connection with code 1009.
    pub max_frame_len: usize,
}

impl Default for WsConfig {
    /// 64 KiB frames.
    fn default() -> Self {
        WsConfig {
            max_frame_len: 64 * 1024,
        }
    }
}

/// Whether a data message is text or binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// We sent a close frame and wait for the server's.
    CloseSent,
    Closed,
}

/// A client WebSocket over any byte stream `S` (plain TCP for `ws://`, a TLS
/// stream for `wss://`). `rx_buf` (caller-owned, at least the size of the
/// server's handshake response) buffers incoming bytes; messages are
/// reassembled into the buffer passed to [`receive`](WebSocket::receive).
///
/// Not cancel-safe: dropping a `receive` or `send` future midway leaves the
/// stream mid-frame. For read timeouts wrap the stream in
/// [`TimedStream`](crate::http::TimedStream), which fails the connection.
pub struct WebSocket<'b, S, E> {
    stream: S,
    entropy: E,
    rx: &'b mut [u8],
    start: usize,
    end: usize,
    config: WsConfig,
    state: State,
    protocol: Option<usize>,
}

/// Opens a connection to a `ws://` or `wss://` URL through `connector` and
/// performs the opening handshake.
pub async fn connect<'b, C: Connect, E: Entropy>(
    connector: &mut C,
    url: &str,
    options: &HandshakeOptions<'_>,
    config: WsConfig,
    entropy: E,
    rx_buf: &'b mut [u8],
) -> Result<WebSocket<'b, C::Connection, E>, WsError> {
    let parsed = ws_url(url)?;
    let stream = connector.connect(&parsed).await.map_err(WsError::Connect)?;
    WebSocket::upgrade(stream, url, options, config, entropy, rx_buf).await
}

fn ws_url(url: &str) -> Result<Url<'_>, WsError> {
    let parsed = Url::parse(url).map_err(|_| WsError::InvalidUrl)?;
    match parsed.scheme {
        crate::http::Scheme::Ws | crate::http::Scheme::Wss => Ok(parsed),
        _ => Err(WsError::InvalidUrl),
    }
}

impl<'b, S: Read + Write, E: Entropy> WebSocket<'b, S, E> {
    /// Performs the opening handshake for `url` on an open `stream`.
    pub async fn upgrade(
        mut stream: S,
        url: &str,
        options: &HandshakeOptions<'_>,
        config: WsConfig,
        mut entropy: E,
        rx_buf: &'b mut [u8],
    ) -> Result<Self, WsError> {
        let parsed = ws_url(url)?;
        let up = handshake(&mut stream, &parsed, options, &mut entropy, rx_buf).await?;
        let mut ws = Self::from_upgraded(stream, entropy, rx_buf, config);
        ws.start = up.start.min(up.end);
        ws.end = up.end.min(ws.rx.len());
        ws.protocol = up.protocol;
        Ok(ws)
    }

    /// Wraps a stream on which the handshake already happened (the next bytes
    /// are server frames).
    pub fn from_upgraded(stream: S, entropy: E, rx_buf: &'b mut [u8], config: WsConfig) -> Self {
        WebSocket {
            stream,
            entropy,
            rx: rx_buf,
            start: 0,
            end: 0,
            config,
            state: State::Open,
            protocol: None,
        }
    }

    /// Index (into `HandshakeOptions::protocols`) of the subprotocol the server chose.
    pub fn protocol(&self) -> Option<usize> {
        self.protocol
    }

    /// Whether the close handshake has finished (or the connection failed).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The underlying stream.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Receives the next data message (or the server's close) into `msg`.
    /// Pings are answered automatically and pongs skipped. Fragments are
    /// reassembled; a message longer than `msg` fails with
    /// [`WsError::MessageTooLarge`] (close code 1009), invalid UTF-8 in text
    /// with [`WsError::InvalidUtf8`] (1007), protocol violations with
    /// [`WsError::Protocol`] (1002).
    pub async fn receive<'m>(&mut self, msg: &'m mut [u8]) -> Result<Message<'m>, WsError> {
        if self.state == State::Closed {
            return Err(WsError::Closed);
        }
        let mut kind: Option<DataKind> = None;
        let mut len = 0usize;
        let mut valid_to = 0usize;
        loop {
            let h = self.next_header().await?;
            let data_kind = match h.opcode {
                Opcode::Ping | Opcode::Pong => {
                    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
                    let n = h.len as usize;
                    self.read_payload(&mut payload[..n]).await?;
                    if h.opcode == Opcode::Ping && self.state == State::Open {
                        self.send_frame(Opcode::Pong, true, &payload[..n]).await?;
                    }
                    continue;
                }
                Opcode::Close => return self.on_close(h, msg).await,
                Opcode::Text | Opcode::Binary if kind.is_some() => {
                    return Err(self
                        .fail_protocol(ProtocolViolation::ExpectedContinuation)
                        .await);
                }
                Opcode::Text => DataKind::Text,
                Opcode::Binary => DataKind::Binary,
                Opcode::Continuation => match kind {
                    Some(k) => k,
                    None => {
                        return Err(self
                            .fail_protocol(ProtocolViolation::UnexpectedContinuation)
                            .await);
                    }
                },
            };
            kind = Some(data_kind);
            let n = h.len as usize;
            let Some(dst) = msg.get_mut(len..len.saturating_add(n)) else {
                return Err(self
                    .fail(WsError::MessageTooLarge, close_code::TOO_BIG)
                    .await);
            };
            self.read_payload(dst).await?;
            len += n;
            if data_kind == DataKind::Text {
                valid_to = match core::str::from_utf8(&msg[valid_to..len]) {
                    Ok(_) => len,
                    // An incomplete sequence at the end may be finished by the next fragment.
                    Err(e) if e.error_len().is_none() && !h.fin => valid_to + e.valid_up_to(),
                    Err(_) => {
                        return Err(self
                            .fail(WsError::InvalidUtf8, close_code::INVALID_DATA)
                            .await);
                    }
                };
            }
            if h.fin {
                let data = &msg[..len];
                return Ok(match data_kind {
                    DataKind::Binary => Message::Binary(data),
                    DataKind::Text => {
                        Message::Text(core::str::from_utf8(data).map_err(|_| WsError::InvalidUtf8)?)
                    }
                });
            }
        }
    }

    /// Sends a text message in one frame.
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.send_frame(Opcode::Text, true, text.as_bytes()).await
    }

    /// Sends a binary message in one frame.
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.send_frame(Opcode::Binary, true, data).await
    }

    /// Sends one fragment of a message: `first` picks the text/binary opcode
    /// (else continuation), `last` sets FIN. Text fragments may split UTF-8
    /// sequences; the whole message must be valid UTF-8.
    pub async fn send_fragment(
        &mut self,
        kind: DataKind,
        first: bool,
        last: bool,
        payload: &[u8],
    ) -> Result<(), WsError> {
        let opcode = match (first, kind) {
            (false, _) => Opcode::Continuation,
            (true, DataKind::Text) => Opcode::Text,
            (true, DataKind::Binary) => Opcode::Binary,
        };
        self.send_frame(opcode, last, payload).await
    }

    /// Sends a ping (payload at most 125 bytes); the pong is skipped by `receive`.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(WsError::ControlPayloadTooLong);
        }
        self.send_frame(Opcode::Ping, true, payload).await
    }

    /// Starts the close handshake with `code` and `reason` (at most 123 bytes)
    /// and waits for the server's close frame, dropping data that arrives
    /// meanwhile. Returns the server's close code, if it sent one.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<Option<u16>, WsError> {
        if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
            return Err(WsError::ControlPayloadTooLong);
        }
        if !close_code::is_valid(code) {
            return Err(WsError::InvalidCloseCode);
        }
        if self.state == State::Open {
            self.send_close(code, reason).await?;
        }
        let mut scratch = [0u8; MAX_CONTROL_PAYLOAD];
        loop {
            match self.receive(&mut scratch).await {
                Ok(Message::Close(frame)) => return Ok(frame.map(|f| f.code)),
                Ok(_) | Err(WsError::MessageTooLarge) => {}
                Err(WsError::Closed) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    async fn send_close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        payload[..2].copy_from_slice(&code.to_be_bytes());
        let n = 2 + reason.len().min(MAX_CONTROL_PAYLOAD - 2);
        payload[2..n].copy_from_slice(&reason.as_bytes()[..n - 2]);
        self.send_frame(Opcode::Close, true, &payload[..n]).await?;
        self.state = State::CloseSent;
        Ok(())
    }

    async fn on_close<'m>(
        &mut self,
        h: FrameHeader,
        msg: &'m mut [u8],
    ) -> Result<Message<'m>, WsError> {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let n = h.len as usize;
        self.read_payload(&mut payload[..n]).await?;
        let frame = match n {
            0 => None,
            1 => return Err(self.fail_protocol(ProtocolViolation::BadClosePayload).await),
            _ => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                if !close_code::is_valid(code) {
                    return Err(self.fail_protocol(ProtocolViolation::BadClosePayload).await);
                }
                if core::str::from_utf8(&payload[2..n]).is_err() {
                    return Err(self
                        .fail(WsError::InvalidUtf8, close_code::INVALID_DATA)
                        .await);
                }
                Some(code)
            }
        };
        if self.state == State::Open {
            // Echo the server's code (RFC 6455 section 5.5.1); failures do not matter now.
            let _ = match frame {
                Some(code) => self.send_close(code, "").await,
                None => self.send_frame(Opcode::Close, true, &[]).await,
            };
        }
        self.state = State::Closed;
        let Some(code) = frame else {
            return Ok(Message::Close(None));
        };
        let reason_bytes = &payload[2..n];
        let reason = match msg.get_mut(..reason_bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(reason_bytes);
                core::str::from_utf8(dst).unwrap_or("")
            }
            None => "",
        };
        Ok(Message::Close(Some(CloseFrame { code, reason })))
    }

    /// Writes a masked frame; the payload is masked through a small stack buffer.
    async fn send_frame(
        &mut self,
        opcode: Opcode,
        fin: bool,
        payload: &[u8],
    ) -> Result<(), WsError> {
        if self.state == State::Closed
            || (self.state == State::CloseSent && opcode != Opcode::Close)
        {
            return Err(WsError::Closed);
        }
        let mut mask = [0u8; 4];
        self.entropy.fill_bytes(&mut mask);
        let mut header = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut header, fin, opcode, payload.len(), mask);
        self.write_all(&header[..n]).await?;
        let mut scratch = [0u8; 128];
        for (i, piece) in payload.chunks(scratch.len()).enumerate() {
            let out = &mut scratch[..piece.len()];
            out.copy_from_slice(piece);
            apply_mask(out, mask, i * 128);
            self.write_all(out).await?;
        }
        self.stream.flush().await.map_err(|e| self.io_failed(e))
    }

    async fn write_all(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.stream
            .write_all(data)
            .await
            .map_err(|e| self.io_failed(e))
    }

    fn io_failed<Er: embedded_io::Error>(&mut self, e: Er) -> WsError {
        self.state = State::Closed;
        WsError::from_io(e)
    }

    /// Reads and validates the next frame header of a server frame.
    async fn next_header(&mut self) -> Result<FrameHeader, WsError> {
        loop {
            match decode_header(self.rx.get(self.start..self.end).unwrap_or(&[])) {
                Ok(Some((h, used))) => {
                    self.start += used;
                    if h.mask.is_some() {
                        return Err(self.fail_protocol(ProtocolViolation::MaskedFrame).await);
                    }
                    if h.len > self.config.max_frame_len as u64 {
                        return Err(self.fail(WsError::FrameTooLarge, close_code::TOO_BIG).await);
                    }
                    return Ok(h);
                }
                Ok(None) => self.fill().await?,
                Err(v) => return Err(self.fail_protocol(v).await),
            }
        }
    }

    /// Reads more bytes into the receive buffer, compacting it first.
    async fn fill(&mut self) -> Result<(), WsError> {
        if self.start > 0 {
            self.rx.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let Some(free) = self.rx.get_mut(self.end..).filter(|f| !f.is_empty()) else {
            return Err(WsError::BufferTooSmall);
        };
        let room = free.len();
        let n = match self.stream.read(free).await {
            Ok(0) => {
                self.state = State::Closed;
                return Err(WsError::ConnectionClosed);
            }
            Ok(n) => n,
            Err(e) => return Err(self.io_failed(e)),
        };
        self.end += n.min(room);
        Ok(())
    }

    /// Fills `dst` with payload bytes: buffered ones first, then from the stream.
    async fn read_payload(&mut self, dst: &mut [u8]) -> Result<(), WsError> {
        let buffered = self.end - self.start;
        let take = buffered.min(dst.len());
        dst[..take].copy_from_slice(&self.rx[self.start..self.start + take]);
        self.start += take;
        let mut filled = take;
        while filled < dst.len() {
            let n = self
                .stream
                .read(&mut dst[filled..])
                .await
                .map_err(|e| self.io_failed(e))?;
            if n == 0 {
                self.state = State::Closed;
                return Err(WsError::ConnectionClosed);
            }
            filled += n;
        }
        Ok(())
    }

    async fn fail_protocol(&mut self, violation: ProtocolViolation) -> WsError {
        self.fail(WsError::Protocol(violation), close_code::PROTOCOL_ERROR)
            .await
    }

    /// Fails the connection: best-effort close frame with `code`, then closed.
    async fn fail(&mut self, error: WsError, code: u16) -> WsError {
        if self.state == State::Open {
            let _ = self.send_close(code, "").await;
        }
        self.state = State::Closed;
        error
    }
}
