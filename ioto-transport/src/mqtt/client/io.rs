//! Reads and writes with deadlines: every wait races the I/O against a delay, so a
//! peer that stops talking (without FIN) cannot stall the client.

use super::config::DisconnectReason;
use embassy_futures::select::{Either, select};
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Read, Write};
use ioto_core::{Clock, Instant};

/// Longest single wait, in microseconds; longer waits are re-armed by the caller.
pub(crate) const MAX_WAIT_US: u64 = 60_000_000;

/// The connection (while there is one) with what I/O on it needs: the delay for
/// timeouts and the dirty flag of an interrupted write. Every packet goes out through
/// [`Link::send`], every read through [`Link::recv`].
pub(crate) struct Link<S, D> {
    /// The connection, if one is up.
    pub conn: Option<S>,
    /// Waiting (timeouts, backoff).
    pub delay: D,
    /// A write is in progress or was cancelled midway: the stream may hold half a
    /// packet, and the next poll replaces the connection.
    pub dirty: bool,
    write_timeout_ms: u32,
}

impl<S, D> Link<S, D> {
    /// No connection yet.
    pub fn new(delay: D, write_timeout_ms: u32) -> Self {
        Link {
            conn: None,
            delay,
            dirty: false,
            write_timeout_ms,
        }
    }

    /// Installs a freshly opened connection.
    pub fn install(&mut self, conn: S) {
        self.conn = Some(conn);
        self.dirty = false;
    }

    /// Removes the connection (to drop or close it).
    pub fn take(&mut self) -> Option<S> {
        self.dirty = false;
        self.conn.take()
    }
}

impl<S: Read + Write, D: DelayNs> Link<S, D> {
    /// Writes `bytes` on the connection, if there is one, within the write timeout.
    /// `dirty` is set while the write runs.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), DisconnectReason> {
        let Some(s) = self.conn.as_mut() else {
            return Err(DisconnectReason::Closed);
        };
        self.dirty = true;
        write_packet(s, &mut self.delay, self.write_timeout_ms, bytes).await?;
        self.dirty = false;
        Ok(())
    }

    /// Reads what is available into `buf`, waiting at most `wait_us`; `Ok(None)` when
    /// the wait ended first.
    pub async fn recv(
        &mut self,
        buf: &mut [u8],
        wait_us: u64,
    ) -> Result<Option<usize>, DisconnectReason> {
        let Some(s) = self.conn.as_mut() else {
            return Err(DisconnectReason::Closed);
        };
        read_some(s, &mut self.delay, wait_us, buf).await
    }
}

impl<S, D: DelayNs> Link<S, D> {
    /// Waits until `clock` reaches `at`.
    pub async fn sleep_until<K: Clock>(&mut self, clock: &K, at: Instant) {
        loop {
            let now = clock.now();
            if now >= at {
                return;
            }
            let wait = at.micros_since(now).min(MAX_WAIT_US) as u32;
            self.delay.delay_us(wait).await;
        }
    }
}

/// Writes one whole packet, failing after `timeout_ms`.
pub(crate) async fn write_packet<S: Write, D: DelayNs>(
    stream: &mut S,
    delay: &mut D,
    timeout_ms: u32,
    bytes: &[u8],
) -> Result<(), DisconnectReason> {
    let write = async {
        stream.write_all(bytes).await?;
        stream.flush().await
    };
    match select(write, delay.delay_ms(timeout_ms)).await {
        Either::First(Ok(())) => Ok(()),
        Either::First(Err(e)) => Err(DisconnectReason::Io(embedded_io::Error::kind(&e))),
        Either::Second(()) => Err(DisconnectReason::WriteTimeout),
    }
}

/// Reads what is available into `buf`, waiting at most `wait_us`.
/// `Ok(None)` means the wait ended first (nothing was consumed from the stream).
pub(crate) async fn read_some<S: Read, D: DelayNs>(
    stream: &mut S,
    delay: &mut D,
    wait_us: u64,
    buf: &mut [u8],
) -> Result<Option<usize>, DisconnectReason> {
    let wait = wait_us.min(MAX_WAIT_US) as u32;
    match select(stream.read(buf), delay.delay_us(wait)).await {
        Either::First(Ok(0)) => Err(DisconnectReason::Closed),
        Either::First(Ok(n)) => Ok(Some(n)),
        Either::First(Err(e)) => Err(DisconnectReason::Io(embedded_io::Error::kind(&e))),
        Either::Second(()) => Ok(None),
    }
}
