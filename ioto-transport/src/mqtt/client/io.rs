//! Reads and writes with deadlines: every wait races the I/O against a delay, so a
//! peer that stops talking (without FIN) cannot stall the client.

use super::config::DisconnectReason;
use embassy_futures::select::{Either, select};
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Read, Write};

/// Longest single wait, in microseconds; longer waits are re-armed by the caller.
pub(crate) const MAX_WAIT_US: u64 = 60_000_000;

/// The connection (while there is one) with what writing on it needs: the delay for
/// timeouts and the dirty flag of an interrupted write. Every packet goes out through
/// [`Link::send`].
pub(crate) struct Link<S, D> {
    /// The connection, if one is up.
    pub conn: Option<S>,
    /// Waiting (timeouts, backoff).
    pub delay: D,
    /// A write (or the post-connect re-send) is in progress or was cancelled midway:
    /// the stream may hold half a packet, and the next poll replaces the connection.
    pub dirty: bool,
    write_timeout_ms: u32,
}

impl<S: Write, D: DelayNs> Link<S, D> {
    pub fn new(delay: D, write_timeout_ms: u32) -> Self {
        Link {
            conn: None,
            delay,
            dirty: false,
            write_timeout_ms,
        }
    }

    /// Writes `bytes` on the connection, if there is one, within the write timeout.
    /// `dirty` is set while the write runs and restored after it (a re-send that
    /// spans several writes keeps it set until it is complete).
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), DisconnectReason> {
        let Some(s) = self.conn.as_mut() else {
            return Err(DisconnectReason::Closed);
        };
        let was = self.dirty;
        self.dirty = true;
        write_packet(s, &mut self.delay, self.write_timeout_ms, bytes).await?;
        self.dirty = was;
        Ok(())
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
