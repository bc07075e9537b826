//! Record buffers that a connector lends to one TLS connection at a time.
//!
//! The MQTT and HTTP connector traits hand out connections that borrow the connector
//! (`&self`) or nothing at all, never `&mut self`, so a connector cannot hand its two
//! record buffers to a connection through an exclusive borrow. [`TlsBuffers`] is the
//! slot that makes this sound without allocation or atomics: a `Cell<bool>` in-use
//! flag guards the buffers, [`connect`](super::connect) borrows them through a
//! [`LeasedTlsStream`], and dropping that stream frees the slot. A second connect while
//! the slot is taken fails with [`TlsError::BuffersBusy`].

use core::cell::{Cell, UnsafeCell};

use embedded_io_async::{ErrorType, Read, Write};

use super::{TlsError, TlsStream};

/// The two TLS record buffers, lent to one connection at a time.
///
/// Give it [`READ_BUF_FULL`](super::READ_BUF_FULL) (16 640) bytes of read buffer unless
/// the server honours `max_fragment_length`, and at least
/// [`WRITE_BUF_MIN`](super::WRITE_BUF_MIN) bytes of write buffer (see the
/// [module documentation](super#buffers)). On a device, put the memory in a `static`
/// (e.g. through `static_cell::StaticCell`); on a host, a `Vec` works.
///
/// `TlsBuffers` is `!Sync`: it belongs to the one task that runs the connector.
pub struct TlsBuffers<'a> {
    busy: Cell<bool>,
    read: UnsafeCell<&'a mut [u8]>,
    write: UnsafeCell<&'a mut [u8]>,
}

impl<'a> TlsBuffers<'a> {
    /// A free slot over `read` (incoming records) and `write` (outgoing records).
    pub fn new(read: &'a mut [u8], write: &'a mut [u8]) -> Self {
        Self {
            busy: Cell::new(false),
            read: UnsafeCell::new(read),
            write: UnsafeCell::new(write),
        }
    }

    /// Whether a connection currently holds the buffers.
    pub fn is_busy(&self) -> bool {
        self.busy.get()
    }

    /// Takes the buffers for one connection.
    ///
    /// # Errors
    /// [`TlsError::BuffersBusy`] while an earlier lease is alive.
    pub(crate) fn lease(&self) -> Result<Lease<'_>, TlsError> {
        if self.busy.replace(true) {
            return Err(TlsError::BuffersBusy);
        }
        // SAFETY: `busy` was false, so no other `Lease` exists and nothing else holds a
        // reference into the buffers (they are reachable only through a lease). It is now
        // true until the `Lease` below is dropped, so these are the only live mutable
        // references. `TlsBuffers` is `!Sync` (Cell/UnsafeCell) and no `&mut` reference
        // to the slices is ever created outside a lease, so no other thread or path can
        // touch them meanwhile. The returned references live no longer than `&self`.
        let (read, write) = unsafe { (&mut **self.read.get(), &mut **self.write.get()) };
        Ok(Lease {
            guard: SlotGuard { slot: &self.busy },
            read,
            write,
        })
    }
}

impl core::fmt::Debug for TlsBuffers<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsBuffers")
            .field("busy", &self.busy.get())
            .finish_non_exhaustive()
    }
}

/// Exclusive use of a [`TlsBuffers`] slot; dropping it (or the guard it splits into)
/// frees the slot.
pub(crate) struct Lease<'s> {
    guard: SlotGuard<'s>,
    /// The read record buffer, to hand to [`super::connect`].
    pub(crate) read: &'s mut [u8],
    /// The write record buffer.
    pub(crate) write: &'s mut [u8],
}

/// The part of a [`Lease`] that stays with the connection after the buffers were
/// handed to the TLS engine: it frees the slot on drop.
pub(crate) struct SlotGuard<'s> {
    slot: &'s Cell<bool>,
}

impl<'s> Lease<'s> {
    /// Splits into the two buffers and the guard that frees the slot on drop.
    pub(crate) fn split(self) -> (&'s mut [u8], &'s mut [u8], SlotGuard<'s>) {
        (self.read, self.write, self.guard)
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.slot.set(false);
    }
}

/// A verified TLS connection whose record buffers are leased from a [`TlsBuffers`];
/// dropping it (or [`close`](Self::close)) frees the buffers for the next connection.
/// `Read + Write`, like [`TlsStream`].
pub struct LeasedTlsStream<'b, S: Read + Write> {
    stream: TlsStream<'b, S>,
    // SAFETY (drop order): fields drop in declaration order, so `stream`, which borrows
    // the buffers, is gone before this guard marks the slot free. Keep it last.
    _slot: SlotGuard<'b>,
}

impl<'b, S: Read + Write + 'b> LeasedTlsStream<'b, S> {
    /// Runs the verified handshake of [`super::connect`] over `stream` with the leased
    /// buffers. On failure the lease is dropped, so the slot is free again.
    pub(crate) async fn connect<R: super::CryptoRngCore>(
        stream: S,
        config: &super::TlsConfig<'_>,
        rng: R,
        lease: Lease<'b>,
    ) -> Result<Self, TlsError> {
        let (read, write, slot) = lease.split();
        let stream = super::connect(stream, config, rng, read, write).await?;
        Ok(Self {
            stream,
            _slot: slot,
        })
    }

    /// Sends `close_notify`, frees the buffers and returns the underlying stream.
    ///
    /// # Errors
    /// The stream failed while sending the alert (the buffers are freed all the same).
    pub async fn close(self) -> Result<S, (S, TlsError)> {
        let Self { stream, _slot } = self;
        stream.close().await
    }
}

impl<S: Read + Write> ErrorType for LeasedTlsStream<'_, S> {
    type Error = TlsError;
}

impl<S: Read + Write> Read for LeasedTlsStream<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        self.stream.read(buf).await
    }
}

impl<S: Read + Write> Write for LeasedTlsStream<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        self.stream.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), TlsError> {
        self.stream.flush().await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_unused_lease_frees_the_slot_on_drop() {
        let (mut r, mut w) = ([0u8; 8], [0u8; 4]);
        let slot = TlsBuffers::new(&mut r, &mut w);
        drop(slot.lease().unwrap());
        assert!(!slot.is_busy());
        assert!(slot.lease().is_ok());
    }

    #[test]
    fn one_lease_at_a_time_and_drop_frees_the_slot() {
        let (mut r, mut w) = ([0u8; 8], [0u8; 4]);
        let slot = TlsBuffers::new(&mut r, &mut w);
        let lease = slot.lease().unwrap();
        assert_eq!((lease.read.len(), lease.write.len()), (8, 4));
        assert!(slot.is_busy());
        assert!(matches!(slot.lease(), Err(TlsError::BuffersBusy)));
        let (read, _write, guard) = lease.split();
        read[0] = 7;
        assert!(slot.is_busy());
        drop(guard);
        assert!(!slot.is_busy());
        let again = slot.lease().unwrap();
        assert_eq!(again.read[0], 7);
    }
}
