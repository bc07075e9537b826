//! Call and token budgets for escalations to the cloud model.
//!
//! Two fixed windows are counted: the hour (`Instant / 3600 s`) and the day
//! (`Instant / 86 400 s`). A call reserves an estimated token count before it is sent
//! ([`Budget::reserve`]); [`Budget::settle`] replaces the estimate with what the call
//! really used once the answer is in. A limit of 0 means unlimited.

use crate::time::Instant;

/// Microseconds in one hour window.
pub const HOUR_US: u64 = 3_600 * 1_000_000;
/// Microseconds in one day window.
pub const DAY_US: u64 = 86_400 * 1_000_000;

/// Limits on escalations; 0 = unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BudgetLimits {
    /// Calls to the cloud model per hour window.
    pub calls_per_hour: u32,
    /// Calls to the cloud model per day window.
    pub calls_per_day: u32,
    /// Tokens per hour window.
    pub tokens_per_hour: u32,
    /// Tokens per day window.
    pub tokens_per_day: u32,
}

impl BudgetLimits {
    /// No limit at all.
    pub const UNLIMITED: Self = Self {
        calls_per_hour: 0,
        calls_per_day: 0,
        tokens_per_hour: 0,
        tokens_per_day: 0,
    };
}

/// An escalation would exceed a call or token budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BudgetExhausted;

impl core::fmt::Display for BudgetExhausted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("escalation budget exhausted")
    }
}

/// Tokens reserved for one call, and the windows they were counted in. Hand it back
/// to [`Budget::settle`] (or [`super::Policy::settle`]) with the real usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reservation {
    tokens: u32,
    hour: u64,
    day: u64,
}

impl Reservation {
    /// The estimated tokens reserved (what the call may use without overrunning).
    pub const fn tokens(&self) -> u32 {
        self.tokens
    }
}

/// Use of one window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WindowUsage {
    /// Window index (`Instant / window length`).
    pub index: u64,
    /// Calls counted in the window.
    pub calls: u32,
    /// Tokens counted in the window (reserved, corrected by settling).
    pub tokens: u64,
}

impl WindowUsage {
    /// This window as seen at window index `index`: empty once time moved past it.
    fn at(self, index: u64) -> Self {
        if index > self.index {
            Self {
                index,
                calls: 0,
                tokens: 0,
            }
        } else {
            // Never roll back: a clock that went backwards keeps counting here.
            self
        }
    }

    fn allows(&self, max_calls: u32, max_tokens: u32, tokens: u32) -> bool {
        let calls_ok = max_calls == 0 || self.calls < max_calls;
        let tokens_ok = max_tokens == 0 || self.tokens + u64::from(tokens) <= u64::from(max_tokens);
        calls_ok && tokens_ok
    }
}

/// Hour and day counters of escalations against [`BudgetLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Budget {
    limits: BudgetLimits,
    hour: WindowUsage,
    day: WindowUsage,
}

impl Budget {
    /// Empty counters under `limits`.
    pub const fn new(limits: BudgetLimits) -> Self {
        Self {
            limits,
            hour: WindowUsage {
                index: 0,
                calls: 0,
                tokens: 0,
            },
            day: WindowUsage {
                index: 0,
                calls: 0,
                tokens: 0,
            },
        }
    }

    /// The limits.
    pub const fn limits(&self) -> BudgetLimits {
        self.limits
    }

    /// Replaces the limits; what was used in the current windows still counts.
    pub fn set_limits(&mut self, limits: BudgetLimits) {
        self.limits = limits;
    }

    /// Use of the hour and day windows as of `now`.
    pub fn usage(&self, now: Instant) -> (WindowUsage, WindowUsage) {
        (self.hour.at(now.0 / HOUR_US), self.day.at(now.0 / DAY_US))
    }

    /// Whether a call reserving `tokens` would fit every budget at `now`; counts nothing.
    pub fn allows(&self, now: Instant, tokens: u32) -> bool {
        let (hour, day) = self.usage(now);
        let l = &self.limits;
        hour.allows(l.calls_per_hour, l.tokens_per_hour, tokens)
            && day.allows(l.calls_per_day, l.tokens_per_day, tokens)
    }

    /// Counts one call reserving `tokens` at `now`, or refuses it when any budget
    /// would be exceeded (nothing is counted then).
    pub fn reserve(&mut self, now: Instant, tokens: u32) -> Result<Reservation, BudgetExhausted> {
        if !self.allows(now, tokens) {
            return Err(BudgetExhausted);
        }
        let (mut hour, mut day) = self.usage(now);
        hour.calls = hour.calls.saturating_add(1);
        day.calls = day.calls.saturating_add(1);
        hour.tokens = hour.tokens.saturating_add(u64::from(tokens));
        day.tokens = day.tokens.saturating_add(u64::from(tokens));
        self.hour = hour;
        self.day = day;
        Ok(Reservation {
            tokens,
            hour: hour.index,
            day: day.index,
        })
    }

    /// Replaces the reservation's estimate with the tokens the call really `used`, in
    /// the windows it was counted in. A window that has already ended is left alone
    /// (its budget is gone with it). A call that used more than it reserved is charged
    /// in full, so the next calls of the window wait; it can overrun the window's
    /// token limit by at most that excess.
    pub fn settle(&mut self, reservation: Reservation, used: u32) {
        let fix = |w: &mut WindowUsage, index: u64| {
            if w.index == index {
                w.tokens = w
                    .tokens
                    .saturating_sub(u64::from(reservation.tokens))
                    .saturating_add(u64::from(used));
            }
        };
        fix(&mut self.hour, reservation.hour);
        fix(&mut self.day, reservation.day);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    fn limits(cph: u32, cpd: u32, tph: u32, tpd: u32) -> BudgetLimits {
        BudgetLimits {
            calls_per_hour: cph,
            calls_per_day: cpd,
            tokens_per_hour: tph,
            tokens_per_day: tpd,
        }
    }

    #[test]
    fn zero_limits_are_unlimited() {
        let mut b = Budget::new(BudgetLimits::UNLIMITED);
        for n in 0..1_000u64 {
            assert!(b.reserve(Instant(n), u32::MAX).is_ok());
        }
    }

    #[test]
    fn calls_per_hour_refuse_the_next_call_until_the_hour_window_turns() {
        let mut b = Budget::new(limits(2, 0, 0, 0));
        // 00:10 and 00:20 fit, 00:59:59 does not; 01:00:00 is a new window.
        assert!(b.reserve(Instant(600 * S), 10).is_ok());
        assert!(b.reserve(Instant(1_200 * S), 10).is_ok());
        assert_eq!(b.reserve(Instant(3_599 * S), 10), Err(BudgetExhausted));
        assert!(b.reserve(Instant(3_600 * S), 10).is_ok());
    }

    #[test]
    fn calls_per_day_hold_across_hours() {
        let mut b = Budget::new(limits(0, 3, 0, 0));
        for h in 0..3 {
            assert!(b.reserve(Instant(h * HOUR_US), 1).is_ok());
        }
        assert_eq!(b.reserve(Instant(23 * HOUR_US), 1), Err(BudgetExhausted));
        assert!(b.reserve(Instant(24 * HOUR_US), 1).is_ok());
    }

    #[test]
    fn tokens_per_hour_count_the_reservation_itself() {
        // 300 + 300 = 600 ≤ 700, a third 300 would make 900 > 700.
        let mut b = Budget::new(limits(0, 0, 700, 0));
        assert!(b.reserve(Instant(0), 300).is_ok());
        assert!(b.reserve(Instant(1), 300).is_ok());
        assert!(!b.allows(Instant(2), 300));
        assert!(b.allows(Instant(2), 100));
        // A reservation bigger than the whole limit never fits.
        let b = Budget::new(limits(0, 0, 0, 200));
        assert!(!b.allows(Instant(0), 201));
        assert!(b.allows(Instant(0), 200));
    }

    #[test]
    fn refused_reservations_count_nothing() {
        let mut b = Budget::new(limits(1, 0, 0, 0));
        b.reserve(Instant(0), 50).unwrap();
        assert!(b.reserve(Instant(1), 50).is_err());
        let (hour, day) = b.usage(Instant(2));
        assert_eq!(
            (hour.calls, hour.tokens, day.calls, day.tokens),
            (1, 50, 1, 50)
        );
    }

    #[test]
    fn settle_refunds_unused_tokens_in_the_same_window() {
        let mut b = Budget::new(limits(0, 0, 1_000, 0));
        let r = b.reserve(Instant(0), 800).unwrap();
        assert!(!b.allows(Instant(1), 800));
        b.settle(r, 150);
        assert_eq!(b.usage(Instant(1)).0.tokens, 150);
        assert!(b.allows(Instant(1), 800)); // 150 + 800 = 950 ≤ 1000
    }

    #[test]
    fn settle_charges_overruns() {
        let mut b = Budget::new(limits(0, 0, 1_000, 0));
        let r = b.reserve(Instant(0), 100).unwrap();
        b.settle(r, 950);
        assert_eq!(b.usage(Instant(1)).0.tokens, 950);
        assert!(!b.allows(Instant(1), 100));
    }

    #[test]
    fn settle_after_the_hour_turned_does_not_refund_into_the_new_hour() {
        let mut b = Budget::new(limits(0, 0, 1_000, 0));
        let r = b.reserve(Instant(HOUR_US - 1), 800).unwrap();
        let r2 = b.reserve(Instant(HOUR_US), 900).unwrap();
        b.settle(r, 0);
        // The new hour still holds its 900; only the day window is refunded.
        let (hour, day) = b.usage(Instant(HOUR_US + 1));
        assert_eq!(hour.tokens, 900);
        assert_eq!(day.tokens, 900);
        assert!(!b.allows(Instant(HOUR_US + 1), 200));
        b.settle(r2, 900);
        assert_eq!(b.usage(Instant(HOUR_US + 1)).0.tokens, 900);
    }

    #[test]
    fn a_clock_going_backwards_keeps_counting_in_the_current_window() {
        let mut b = Budget::new(limits(1, 0, 0, 0));
        b.reserve(Instant(2 * HOUR_US), 1).unwrap();
        assert_eq!(b.reserve(Instant(HOUR_US), 1), Err(BudgetExhausted));
    }
}
