//! [`RobustZ`]: the cheap baseline — distance from an EWMA baseline in units of an EW
//! mean absolute deviation, with hysteresis.
//!
//! The mean absolute deviation is less swayed by outliers than the variance, and while
//! an alarm is on the baseline learns ten times slower, so a fault does not teach the
//! detector that it is normal. A level shift that lasts is learned all the same.
//! Scores: `z / (z + z_on)`, which passes 0.5 at `z = z_on`, never saturates (so a
//! threshold can still tell big deviations from huge ones), and is held at ≥ 0.5 while
//! the alarm is on (until `z < z_off`) and below 0.5 while it is off.

use super::{Detector, unit};
use crate::time::Instant;

/// Parameters of [`RobustZ`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RobustZConfig {
    /// Weight of a new sample in the baseline.
    pub alpha: f32,
    /// Weight of a new deviation in the mean absolute deviation (slower than the
    /// baseline, so it remembers how far the stream usually strays).
    pub mad_alpha: f32,
    /// Deviations at which the alarm turns on.
    pub z_on: f32,
    /// Deviations below which it turns off again.
    pub z_off: f32,
    /// Samples before any score is given.
    pub learn: u32,
}

impl RobustZConfig {
    /// The one configuration used for every stream.
    pub const DEFAULT: Self = Self {
        alpha: 0.05,
        mad_alpha: 0.005,
        z_on: 6.0,
        z_off: 3.0,
        learn: 50,
    };
}

/// The baseline detector (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RobustZ {
    cfg: RobustZConfig,
    n: u32,
    base: f32,
    mad: f32,
    alarm: bool,
    last: f32,
}

default_constructors!(RobustZ, RobustZConfig);

impl RobustZ {
    /// A detector with `cfg`.
    pub const fn with_config(cfg: RobustZConfig) -> Self {
        Self {
            cfg,
            n: 0,
            base: 0.0,
            mad: 0.0,
            alarm: false,
            last: 0.0,
        }
    }

    /// Whether the alarm is on.
    pub const fn alarm(&self) -> bool {
        self.alarm
    }
}

impl Detector for RobustZ {
    fn update(&mut self, _at: Instant, value: f32) -> f32 {
        if !value.is_finite() {
            return self.last;
        }
        self.n = self.n.saturating_add(1);
        let dev = (value - self.base).abs();
        // MAD of a normal variable is 0.798 σ; the floor keeps a flat stream finite.
        let scale = f32::max(self.mad * 1.2533, 1e-6 + 1e-3 * self.base.abs());
        let z = if self.n == 1 { 0.0 } else { dev / scale };
        let learning = self.n <= self.cfg.learn;
        if !learning {
            if self.alarm && z < self.cfg.z_off {
                self.alarm = false;
            } else if z >= self.cfg.z_on {
                self.alarm = true;
            }
        }
        let warm = 1.0 / self.n as f32;
        let slow = if self.alarm { 0.1 } else { 1.0 };
        self.base += slow * f32::max(self.cfg.alpha, warm) * (value - self.base);
        self.mad += slow * f32::max(self.cfg.mad_alpha, warm) * (dev - self.mad);
        let score = if learning {
            0.0
        } else {
            let s = unit(z / (z + self.cfg.z_on));
            if self.alarm { s.max(0.5) } else { s.min(0.5) }
        };
        self.last = score;
        score
    }

    fn reset(&mut self) {
        *self = Self::with_config(self.cfg);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn feed(d: &mut impl Detector, xs: impl IntoIterator<Item = f32>) -> [f32; 2] {
        let mut max = 0.0f32;
        let mut last = 0.0;
        for (i, x) in xs.into_iter().enumerate() {
            last = d.update(Instant(i as u64), x);
            max = max.max(last);
        }
        [max, last]
    }

    #[test]
    fn quiet_stream_stays_low_and_a_spike_alarms() {
        let mut d = RobustZ::new();
        // ±1 square noise around 10: MAD 1, so z ≤ 1.6 — far below z_on.
        let noise = (0..500).map(|i| 10.0 + if i % 2 == 0 { 1.0 } else { -1.0 });
        let [max, _] = feed(&mut d, noise);
        assert!(max < 0.2, "{max}");
        assert!(!d.alarm());
        let s = d.update(Instant(501), 30.0);
        assert!(d.alarm() && s >= 0.5, "{s}");
    }

    #[test]
    fn hysteresis_holds_between_off_and_on() {
        let mut d = RobustZ::new();
        feed(
            &mut d,
            (0..500).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }),
        );
        d.update(Instant(501), 20.0);
        assert!(d.alarm());
        // 4.5 deviations: below z_on, above z_off → still on
        let s = d.update(Instant(502), 4.5 * 1.2533);
        assert!(d.alarm() && s >= 0.5, "{s}");
        d.update(Instant(503), 0.0);
        assert!(!d.alarm());
    }

    #[test]
    fn nan_and_infinity_are_ignored() {
        let mut d = RobustZ::new();
        feed(&mut d, (0..100).map(|i| (i % 3) as f32));
        let before = d;
        assert_eq!(d.update(Instant(101), f32::NAN), before.last);
        assert_eq!(d.update(Instant(102), f32::INFINITY), before.last);
        assert_eq!(d, before);
    }
}
