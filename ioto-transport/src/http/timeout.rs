//! Timeouts that work under any executor (embassy, tokio, ...).
//!
//! A [`Timer`] tells the time and sleeps; [`ClockDelay`] builds one from an
//! [`ioto_core::Clock`] and an `embedded_hal_async::delay::DelayNs` (for example
//! `embassy_time::Delay`). [`TimedStream`] races every read and write of a stream
//! against the read timeout and an overall deadline and fails with
//! `ErrorKind::TimedOut` when either passes.

use core::future::Future;

use embassy_futures::select::{Either, select};
use embedded_hal_async::delay::DelayNs;
use embedded_io::{Error as _, ErrorKind, ErrorType};
use embedded_io_async::{Read, Write};
use ioto_core::{Clock, Instant};

/// Time source and sleep used for timeouts.
#[allow(async_fn_in_trait)]
pub trait Timer: Clone {
    /// The current monotonic time.
    fn now(&self) -> Instant;
    /// Completes after `ms` milliseconds.
    async fn sleep_ms(&mut self, ms: u32);
}

/// A [`Timer`] made of a board [`Clock`] and an async [`DelayNs`].
#[derive(Clone, Debug)]
pub struct ClockDelay<K, D> {
    /// Tells the time.
    pub clock: K,
    /// Sleeps.
    pub delay: D,
}

impl<K: Clock + Clone, D: DelayNs + Clone> Timer for ClockDelay<K, D> {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    async fn sleep_ms(&mut self, ms: u32) {
        self.delay.delay_ms(ms).await
    }
}

/// A [`Timer`] for clients without timeouts: time stands still and sleeps never end.
/// Use it only with [`Timeouts::NONE`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTimer;

impl Timer for NoTimer {
    fn now(&self) -> Instant {
        Instant(0)
    }

    async fn sleep_ms(&mut self, _ms: u32) {
        core::future::pending::<()>().await
    }
}

/// Timeouts in milliseconds; `None` disables one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Limit on DNS + TCP (+ TLS) connection setup.
    pub connect_ms: Option<u32>,
    /// Limit on each single read or write (time without progress).
    pub read_ms: Option<u32>,
    /// Limit on the whole exchange, from connect to the last body byte.
    pub total_ms: Option<u32>,
}

impl Timeouts {
    /// No timeouts at all.
    pub const NONE: Timeouts = Timeouts {
        connect_ms: None,
        read_ms: None,
        total_ms: None,
    };
}

impl Default for Timeouts {
    /// 10 s to connect, 30 s without progress, no overall limit (streams such as
    /// Server-Sent Events run for as long as the server keeps them open).
    fn default() -> Self {
        Timeouts {
            connect_ms: Some(10_000),
            read_ms: Some(30_000),
            total_ms: None,
        }
    }
}

/// An absolute deadline on a [`Timer`]'s clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// `total_ms` from `now`, or no deadline.
    pub fn after<T: Timer>(timer: &T, total_ms: Option<u32>) -> Self {
        Deadline(total_ms.map(|ms| Instant(timer.now().0.saturating_add(u64::from(ms) * 1_000))))
    }

    /// No deadline.
    pub const NEVER: Deadline = Deadline(None);

    /// The time left (ms) combined with `step_ms`: the smaller one, or `None`
    /// when neither limits. `Some(0)` means the deadline has passed.
    pub fn budget<T: Timer>(self, timer: &T, step_ms: Option<u32>) -> Option<u32> {
        let left = self.0.map(|end| {
            let us = end.micros_since(timer.now());
            u32::try_from(us.div_ceil(1_000)).unwrap_or(u32::MAX)
        });
        match (left, step_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Runs `fut` with at most `budget_ms` milliseconds; `Err(())` on timeout.
pub async fn with_timeout<T: Timer, F: Future>(
    timer: &mut T,
    budget_ms: Option<u32>,
    fut: F,
) -> Result<F::Output, ()> {
    match budget_ms {
        None => Ok(fut.await),
        Some(0) => Err(()),
        Some(ms) => match select(fut, timer.sleep_ms(ms)).await {
            Either::First(out) => Ok(out),
            Either::Second(()) => Err(()),
        },
    }
}

/// A stream whose reads and writes fail with [`ErrorKind::TimedOut`] after the
/// read timeout, or once the overall deadline has passed.
pub struct TimedStream<S, T> {
    inner: S,
    timer: T,
    step_ms: Option<u32>,
    deadline: Deadline,
}

impl<S, T: Timer> TimedStream<S, T> {
    /// Wraps `inner`; each operation gets `step_ms`, all of them end at `deadline`.
    pub fn new(inner: S, timer: T, step_ms: Option<u32>, deadline: Deadline) -> Self {
        Self {
            inner,
            timer,
            step_ms,
            deadline,
        }
    }

    /// The wrapped stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Replaces the overall deadline (for example when a new request starts on
    /// the same connection).
    pub fn set_deadline(&mut self, deadline: Deadline) {
        self.deadline = deadline;
    }
}

impl<S: ErrorType, T> ErrorType for TimedStream<S, T> {
    type Error = ErrorKind;
}

impl<S: Read, T: Timer> Read for TimedStream<S, T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let budget = self.deadline.budget(&self.timer, self.step_ms);
        with_timeout(&mut self.timer, budget, self.inner.read(buf))
            .await
            .map_err(|()| ErrorKind::TimedOut)?
            .map_err(|e| e.kind())
    }
}

impl<S: Write, T: Timer> Write for TimedStream<S, T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let budget = self.deadline.budget(&self.timer, self.step_ms);
        with_timeout(&mut self.timer, budget, self.inner.write(buf))
            .await
            .map_err(|()| ErrorKind::TimedOut)?
            .map_err(|e| e.kind())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        let budget = self.deadline.budget(&self.timer, self.step_ms);
        with_timeout(&mut self.timer, budget, self.inner.flush())
            .await
            .map_err(|()| ErrorKind::TimedOut)?
            .map_err(|e| e.kind())
    }
}
