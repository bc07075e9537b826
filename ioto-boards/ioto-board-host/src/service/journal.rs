//! [`JournalOutbox`]: an outbox that says which records it accepted.

use std::io::Write;

use ioto_core::agent::RECORD_MAX;
use ioto_core::outbox::Outbox;

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An [`Outbox`] that reports each record the inner outbox accepted.
///
/// After the inner `push_back` returned `Ok(true)` it writes
/// `pushed <kind> <hash>` (the record's first byte in decimal, then the FNV-1a-64 of
/// the rest as 16 hex digits) and flushes. When a push found the outbox full, the
/// record the queue then evicts is reported as `evicted <kind> <hash>`. Write errors
/// are ignored: the journal never changes what the outbox does.
#[derive(Debug)]
pub struct JournalOutbox<O, W = std::io::Stdout> {
    inner: O,
    out: W,
    /// The last push found the outbox full: the next pop is an eviction.
    full: bool,
    scratch: Vec<u8>,
}

impl<O: Outbox> JournalOutbox<O> {
    /// Journals to stdout.
    pub fn new(inner: O) -> Self {
        Self::with_writer(inner, std::io::stdout())
    }
}

impl<O: Outbox, W: Write> JournalOutbox<O, W> {
    /// Journals to `out`.
    pub fn with_writer(inner: O, out: W) -> Self {
        Self {
            inner,
            out,
            full: false,
            scratch: vec![0; RECORD_MAX],
        }
    }

    /// The inner outbox and the writer.
    pub fn into_parts(self) -> (O, W) {
        (self.inner, self.out)
    }

    fn line(&mut self, what: &str, record: &[u8]) {
        let (kind, body) = record.split_first().map_or((0, record), |(k, b)| (*k, b));
        let _ = writeln!(self.out, "{what} {kind} {:016x}", fnv1a64(body));
        let _ = self.out.flush();
    }
}

impl<O: Outbox, W: Write> Outbox for JournalOutbox<O, W> {
    type Error = O::Error;

    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error> {
        let pushed = self.inner.push_back(record).await?;
        self.full = !pushed;
        if pushed {
            self.line("pushed", record);
        }
        Ok(pushed)
    }

    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        self.inner.read_front(out).await
    }

    async fn pop_front(&mut self) -> Result<bool, Self::Error> {
        if !self.full {
            return self.inner.pop_front().await;
        }
        self.full = false;
        let mut scratch = core::mem::take(&mut self.scratch);
        let front = self.inner.read_front(&mut scratch).await;
        let popped = self.inner.pop_front().await;
        if let (Ok(Some(n)), Ok(true)) = (&front, &popped)
            && let Some(record) = scratch.get(..*n)
        {
            self.line("evicted", record);
        }
        self.scratch = scratch;
        popped
    }

    fn len(&self) -> usize {
        self.inner.len()
    }

    fn can_ever_hold(&self, len: usize) -> bool {
        self.inner.can_ever_hold(len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use embassy_futures::block_on;
    use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};

    #[test]
    fn service_fnv1a64_matches_the_reference_vectors() {
        // From the FNV reference test suite (Fowler/Noll/Vo, test_fnv.c).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn service_journal_reports_accepted_and_evicted_records() {
        let mut mem = [0u8; 64];
        let mut journal = JournalOutbox::with_writer(RamQueue::new(&mut mem, 2), Vec::new());
        block_on(async {
            let mut q = OfflineQueue::new(&mut journal, QueuePolicy::DropOldest);
            q.push(&[1, b'a']).await.unwrap();
            q.push(&[2]).await.unwrap();
            // Full (two records): the oldest goes, then the new one is stored.
            q.push(&[5, b'f', b'o', b'o', b'b', b'a', b'r'])
                .await
                .unwrap();
            // A delivery's pop is not an eviction.
            assert!(q.pop().await.unwrap());
        });
        let (_, out) = journal.into_parts();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "pushed 1 af63dc4c8601ec8c\n\
             pushed 2 cbf29ce484222325\n\
             evicted 1 af63dc4c8601ec8c\n\
             pushed 5 85944171f73967e8\n"
        );
    }
}
