//! [`HostDelay`]: `embedded-hal-async`'s [`DelayNs`] that never blocks the thread that
//! polls it. One timer thread for the process keeps the deadlines and wakes each
//! sleeping future at its own, so the same delay works under any executor — a tokio
//! runtime, embassy's `block_on`, a `join` of several tasks on one thread — and the
//! other tasks of that thread run while one of them waits.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, Once};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use embedded_hal_async::delay::DelayNs;

/// An async delay on the host: waiting yields to the executor (see the module doc).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostDelay;

impl HostDelay {
    /// Completes once `duration` has passed.
    pub fn sleep(duration: Duration) -> Sleep {
        Sleep {
            deadline: Instant::now() + duration,
            key: None,
        }
    }
}

impl DelayNs for HostDelay {
    async fn delay_ns(&mut self, ns: u32) {
        Self::sleep(Duration::from_nanos(u64::from(ns))).await;
    }

    async fn delay_us(&mut self, us: u32) {
        Self::sleep(Duration::from_micros(u64::from(us))).await;
    }

    async fn delay_ms(&mut self, ms: u32) {
        Self::sleep(Duration::from_millis(u64::from(ms))).await;
    }
}

/// Pending deadlines, earliest first; the id tells equal deadlines apart.
type Key = (Instant, u64);

struct Timers {
    pending: BTreeMap<Key, Waker>,
    next_id: u64,
}

struct Shared {
    timers: Mutex<Timers>,
    changed: Condvar,
}

static SHARED: Shared = Shared {
    timers: Mutex::new(Timers {
        pending: BTreeMap::new(),
        next_id: 0,
    }),
    changed: Condvar::new(),
};

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Timers> {
        // A waker that panicked cannot leave the map inconsistent: keep going.
        self.timers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The timers, their thread started on first use.
fn shared() -> &'static Shared {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("ioto-host-timer".into())
            .spawn(|| run_timers(&SHARED))
            // Without the timer thread no delay could ever end (and the OS is out of
            // threads): not something a caller could handle.
            .expect("cannot start the host timer thread");
    });
    &SHARED
}

/// Wakes every future whose deadline has passed, then sleeps until the next one (or
/// until a new, earlier deadline arrives).
fn run_timers(shared: &Shared) {
    let mut timers = shared.lock();
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(entry) = timers.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        if !due.is_empty() {
            drop(timers);
            due.into_iter().for_each(Waker::wake);
            timers = shared.lock();
            continue;
        }
        timers = match timers.pending.keys().next() {
            Some(&(deadline, _)) => {
                let wait = deadline.saturating_duration_since(now);
                shared
                    .changed
                    .wait_timeout(timers, wait)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|e| e.into_inner().0)
            }
            None => shared
                .changed
                .wait(timers)
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        };
    }
}

/// The future of one [`HostDelay::sleep`]. Dropping it cancels the wake-up.
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    key: Option<Key>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        let shared = shared();
        let mut timers = shared.lock();
        match self.key {
            // Still pending: keep the latest waker (the task may have moved).
            Some(key) => match timers.pending.get_mut(&key) {
                Some(waker) => waker.clone_from(cx.waker()),
                // The timer thread fired it: the deadline has passed.
                None => return Poll::Ready(()),
            },
            None => {
                let key = (self.deadline, timers.next_id);
                timers.next_id = timers.next_id.wrapping_add(1);
                let earliest = timers.pending.keys().next().is_none_or(|k| key < *k);
                timers.pending.insert(key, cx.waker().clone());
                self.key = Some(key);
                if earliest {
                    shared.changed.notify_one();
                }
            }
        }
        Poll::Pending
    }
}

impl Sleep {
    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            shared().lock().pending.remove(&key);
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use embassy_futures::join::join;

    /// When each of five 10 ms ticks of one task ended, while another task on the same
    /// thread waits 300 ms on `delay`: with a delay that blocks the thread, the ticks
    /// cannot run during those 300 ms.
    async fn ticks_beside_a_long_wait(mut delay: impl DelayNs) -> Vec<Duration> {
        let start = Instant::now();
        let long = async { delay.delay_ms(300).await };
        let ticks = async {
            let mut at = Vec::new();
            for _ in 0..5 {
                HostDelay.delay_ms(10).await;
                at.push(start.elapsed());
            }
            at
        };
        join(long, ticks).await.1
    }

    fn all_before(ticks: &[Duration], limit_ms: u64) -> bool {
        ticks.len() == 5 && ticks.iter().all(|t| *t < Duration::from_millis(limit_ms))
    }

    #[test]
    fn a_delay_lets_the_other_tasks_of_its_thread_run() {
        let ticks = embassy_futures::block_on(ticks_beside_a_long_wait(HostDelay));
        assert!(all_before(&ticks, 200), "{ticks:?}");
    }

    #[test]
    fn a_delay_lets_the_other_tasks_of_a_current_thread_tokio_runtime_run() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ticks = rt.block_on(async {
            let long = tokio::spawn(async { HostDelay.delay_ms(300).await });
            let ticks = tokio::spawn(async {
                let start = Instant::now();
                let mut at = Vec::new();
                for _ in 0..5 {
                    HostDelay.delay_ms(10).await;
                    at.push(start.elapsed());
                }
                at
            });
            long.await.unwrap();
            ticks.await.unwrap()
        });
        assert!(all_before(&ticks, 200), "{ticks:?}");
    }

    /// The check above catches a delay that sleeps the thread (what `ioto-cloud`'s
    /// `StdDelay` did).
    #[test]
    fn a_thread_sleeping_delay_fails_that_check() {
        struct Blocking;
        impl DelayNs for Blocking {
            async fn delay_ns(&mut self, ns: u32) {
                std::thread::sleep(Duration::from_nanos(u64::from(ns)));
            }
        }
        let ticks = embassy_futures::block_on(ticks_beside_a_long_wait(Blocking));
        assert!(!all_before(&ticks, 200), "{ticks:?}");
    }

    #[test]
    fn a_delay_lasts_at_least_its_time_and_dropping_one_cancels_it() {
        let start = Instant::now();
        embassy_futures::block_on(HostDelay.delay_ms(30));
        assert!(start.elapsed() >= Duration::from_millis(30));
        // A timeout that lost its race is dropped: its wake-up goes with it.
        let mut sleep = Box::pin(HostDelay::sleep(Duration::from_secs(60)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        let key = sleep.key.unwrap();
        assert!(shared().lock().pending.contains_key(&key));
        drop(sleep);
        assert!(!shared().lock().pending.contains_key(&key));
    }
}
