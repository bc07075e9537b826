//! Reads and writes with deadlines: every wait races the I/O against a delay, so a
//! peer that stops talking (without FIN) cannot stall the client.

use super::config::DisconnectReason;
use embassy_futures::select::{Either, select};
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Read, Write};

/// Longest single wait, in microseconds; longer waits are re-armed by the caller.
pub(crate) const MAX_WAIT_US: u64 = 60_000_000;

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
