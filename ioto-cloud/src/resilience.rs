//! Retry policy (429 with `Retry-After`, 5xx, connection failures) and a call/token
//! budget per hour and per day, checked before anything is sent.
//!
//! Waits between attempts use the device's one backoff, [`ioto_core::backoff::Backoff`],
//! with full jitter: a fleet that lost the endpoint at the same moment does not retry
//! in step. The random bits come from the caller (the [`Client`](crate::client::Client)
//! draws them from its seeded generator, see
//! [`ClientConfig::jitter_seed`](crate::client::ClientConfig::jitter_seed)).

use crate::error::Error;
use ioto_core::Instant;
use ioto_core::backoff::Backoff;

/// When and how long to wait before trying again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub max_attempts: u32,
    /// Full-jitter backoff between attempts; its `max_ms` also caps `Retry-After`.
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff: Backoff {
                base_ms: 500,
                max_ms: 30_000,
            },
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether an error is worth retrying (429, 5xx, connect failures, timeouts).
    pub fn retryable(e: &Error) -> bool {
        match e {
            Error::Http { status, .. } => *status == 429 || (500..=599).contains(status),
            Error::Transport(t) => matches!(
                t,
                crate::transport::TransportError::Connect
                    | crate::transport::TransportError::Timeout
            ),
            _ => false,
        }
    }

    /// Milliseconds to wait after failed attempt number `attempt` (1-based), given 32
    /// random bits: the server's `Retry-After` if given (capped at `backoff.max_ms`),
    /// else a uniformly random wait in `0..=backoff.ceiling_ms(attempt - 1)`.
    /// `None` when no attempts are left.
    pub fn delay_ms(&self, attempt: u32, retry_after_s: Option<u32>, random: u32) -> Option<u32> {
        if attempt >= self.max_attempts {
            return None;
        }
        Some(match retry_after_s {
            Some(s) => s.saturating_mul(1000).min(self.backoff.max_ms),
            None => self.backoff.delay_ms(attempt.saturating_sub(1), random),
        })
    }
}

/// Limits on calls and tokens per rolling-fixed hour and day windows (0 = unlimited).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BudgetLimits {
    /// Calls per hour.
    pub calls_per_hour: u32,
    /// Calls per day.
    pub calls_per_day: u32,
    /// Tokens per hour.
    pub tokens_per_hour: u32,
    /// Tokens per day.
    pub tokens_per_day: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Window {
    start_us: u64,
    calls: u32,
    tokens: u32,
}

impl Window {
    fn roll(&mut self, now: Instant, len_us: u64) {
        if now.as_micros().saturating_sub(self.start_us) >= len_us
            || self.start_us > now.as_micros()
        {
            *self = Window {
                start_us: now.as_micros(),
                calls: 0,
                tokens: 0,
            };
        }
    }
}

const HOUR_US: u64 = 3_600_000_000;
const DAY_US: u64 = 24 * HOUR_US;

/// Call/token accounting. [`check`](Budget::check) before sending (counts the call and
/// reserves the expected tokens), [`settle`](Budget::settle) with the real usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Budget {
    limits: BudgetLimits,
    hour: Window,
    day: Window,
}

impl Budget {
    /// A budget with `limits`, windows starting at the first call.
    pub fn new(limits: BudgetLimits) -> Self {
        Self {
            limits,
            hour: Window::default(),
            day: Window::default(),
        }
    }

    /// Refuses when one more call, or `expected_tokens` more tokens, would break a
    /// limit; otherwise counts the call and reserves the tokens.
    pub fn check(&mut self, now: Instant, expected_tokens: u32) -> Result<(), Error> {
        self.hour.roll(now, HOUR_US);
        self.day.roll(now, DAY_US);
        let over = |used: u32, add: u32, limit: u32| limit != 0 && used.saturating_add(add) > limit;
        if over(self.hour.calls, 1, self.limits.calls_per_hour) {
            return Err(Error::BudgetExceeded("calls per hour"));
        }
        if over(self.day.calls, 1, self.limits.calls_per_day) {
            return Err(Error::BudgetExceeded("calls per day"));
        }
        if over(
            self.hour.tokens,
            expected_tokens,
            self.limits.tokens_per_hour,
        ) {
            return Err(Error::BudgetExceeded("tokens per hour"));
        }
        if over(self.day.tokens, expected_tokens, self.limits.tokens_per_day) {
            return Err(Error::BudgetExceeded("tokens per day"));
        }
        for w in [&mut self.hour, &mut self.day] {
            w.calls += 1;
            w.tokens = w.tokens.saturating_add(expected_tokens);
        }
        Ok(())
    }

    /// Replaces the reservation of one call with the tokens it really used.
    pub fn settle(&mut self, expected_tokens: u32, used_tokens: u32) {
        for w in [&mut self.hour, &mut self.day] {
            w.tokens = w
                .tokens
                .saturating_sub(expected_tokens)
                .saturating_add(used_tokens);
        }
    }

    /// (calls, tokens) used in the current hour window.
    pub fn used_this_hour(&self) -> (u32, u32) {
        (self.hour.calls, self.hour.tokens)
    }
}
