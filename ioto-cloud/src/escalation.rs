//! Offline escalation queue: when the cloud cannot be reached, the question goes into
//! a bounded store (RAM here; the agent backs it with flash) with an expiry, and is
//! retried when the link returns. Expired entries are dropped and counted.

use crate::error::Error;
use alloc::collections::VecDeque;
use alloc::string::String;
use ioto_core::Instant;

/// One queued escalation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalation {
    /// When it was queued.
    pub queued_at: Instant,
    /// After this it is dropped unsent.
    pub expires_at: Instant,
    /// What to send (the prompt or the request JSON).
    pub payload: String,
}

/// Persistent storage for escalations, oldest first.
pub trait EscalationStore {
    /// Appends; fails when full.
    fn push(&mut self, e: Escalation) -> Result<(), Error>;
    /// The oldest entry.
    fn front(&self) -> Option<&Escalation>;
    /// Removes the oldest entry.
    fn pop_front(&mut self) -> Option<Escalation>;
    /// Number of entries.
    fn len(&self) -> usize;
    /// True when empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A RAM store holding at most `capacity` entries of at most `max_payload` bytes.
#[derive(Debug)]
pub struct MemoryStore {
    items: VecDeque<Escalation>,
    capacity: usize,
    max_payload: usize,
}

impl MemoryStore {
    /// An empty store.
    pub fn new(capacity: usize, max_payload: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
            max_payload,
        }
    }
}

impl EscalationStore for MemoryStore {
    fn push(&mut self, e: Escalation) -> Result<(), Error> {
        if e.payload.len() > self.max_payload {
            return Err(Error::Storage("payload too large"));
        }
        if self.items.len() >= self.capacity {
            return Err(Error::Storage("queue full"));
        }
        self.items.push_back(e);
        Ok(())
    }
    fn front(&self) -> Option<&Escalation> {
        self.items.front()
    }
    fn pop_front(&mut self) -> Option<Escalation> {
        self.items.pop_front()
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

/// The queue: expiry on top of a store.
#[derive(Debug)]
pub struct EscalationQueue<S> {
    store: S,
    expired: u32,
}

impl<S: EscalationStore> EscalationQueue<S> {
    /// Wraps a store.
    pub fn new(store: S) -> Self {
        Self { store, expired: 0 }
    }

    /// Queues `payload`, valid for `ttl_ms` from `now`.
    pub fn enqueue(&mut self, now: Instant, payload: &str, ttl_ms: u64) -> Result<(), Error> {
        self.store.push(Escalation {
            queued_at: now,
            expires_at: Instant(now.as_micros().saturating_add(ttl_ms.saturating_mul(1000))),
            payload: payload.into(),
        })
    }

    /// The oldest unexpired entry (expired ones are dropped and counted).
    pub fn next(&mut self, now: Instant) -> Option<&Escalation> {
        while self.store.front().is_some_and(|e| e.expires_at <= now) {
            self.store.pop_front();
            self.expired += 1;
        }
        self.store.front()
    }

    /// Removes the entry returned by [`next`](Self::next) once it was sent.
    pub fn done(&mut self) -> Option<Escalation> {
        self.store.pop_front()
    }

    /// Entries dropped because they expired.
    pub fn expired(&self) -> u32 {
        self.expired
    }

    /// Entries waiting.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }
}
