//! From raw surprise to an anomaly likelihood.
//!
//! Raw surprise (a novelty in `[0, 1]`, a reconstruction error, a z-score) is noisy and
//! its level differs from stream to stream. [`Likelihood`] compares a short moving average
//! of it with its own long-run distribution (an exponentially weighted mean and
//! variance) and reports how improbable the recent level is under that distribution,
//! on a log scale: `score = -log10(P(Z > z)) / decades`, clamped to `[0, 1]`. This is
//! the idea behind Numenta's "anomaly likelihood", written from its description, with
//! constant memory instead of a window of past scores.

use super::{stats::Ewm, stats::normal_tail, unit};

/// Parameters of [`Likelihood`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LikelihoodConfig {
    /// Weight of a new raw value in the short moving average.
    pub short_alpha: f32,
    /// Weight of a new short average in the long-run distribution.
    pub long_alpha: f32,
    /// Samples before any score is given (the long-run distribution is learned first).
    pub learn: u32,
    /// Floor of the long-run standard deviation (in raw units), so a stream that was
    /// perfectly quiet does not turn the first tiny change into certainty.
    pub min_std: f32,
    /// Decades of improbability that map to a score of 1 (`P = 10^-decades`).
    pub decades: f32,
}

impl LikelihoodConfig {
    /// The one configuration used for every stream.
    pub const DEFAULT: Self = Self {
        short_alpha: 0.2,
        long_alpha: 0.01,
        learn: 150,
        min_std: 0.02,
        decades: 10.0,
    };
}

/// Turns raw surprise into a score in `[0, 1]` (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Likelihood {
    cfg: LikelihoodConfig,
    short: Ewm,
    long: Ewm,
}

impl Likelihood {
    /// A fresh post-processor.
    pub const fn new(cfg: LikelihoodConfig) -> Self {
        Self {
            cfg,
            short: Ewm::new(cfg.short_alpha),
            long: Ewm::new(cfg.long_alpha),
        }
    }

    /// Feeds one raw value; returns the score of the recent level.
    pub fn update(&mut self, raw: f32) -> f32 {
        if !raw.is_finite() {
            return 0.0;
        }
        self.short.push(raw);
        let avg = self.short.mean();
        let score = if self.long.count() < self.cfg.learn {
            0.0
        } else {
            let std = f32::max(self.long.std(), self.cfg.min_std);
            let z = (avg - self.long.mean()) / std;
            let tail = f32::max(normal_tail(z), 1e-30);
            unit(-libm::log10f(tail) / self.cfg.decades)
        };
        self.long.push(avg);
        score
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::new(self.cfg);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn silent_while_learning_then_rare_levels_score_high() {
        let mut l = Likelihood::new(LikelihoodConfig::DEFAULT);
        for i in 0..LikelihoodConfig::DEFAULT.learn {
            assert_eq!(l.update(if i % 2 == 0 { 0.1 } else { 0.0 }), 0.0);
        }
        // the usual level: far from improbable
        let usual = l.update(0.05);
        assert!(usual < 0.1, "{usual}");
        // a run of maximal surprise: improbable under what was learned
        let mut s = 0.0;
        for _ in 0..5 {
            s = l.update(1.0);
        }
        assert!(s > 0.9, "{s}");
        assert_eq!(l.update(f32::NAN), 0.0);
    }

    #[test]
    fn score_is_minus_log10_of_the_tail_over_decades() {
        let cfg = LikelihoodConfig {
            short_alpha: 1.0,
            long_alpha: 0.5,
            learn: 2,
            min_std: 1.0,
            decades: 10.0,
        };
        let mut l = Likelihood::new(cfg);
        l.update(0.0);
        l.update(0.0);
        // long mean 0, std floored at 1: z = 3, P(Z > 3) = 0.0013499 -> 2.8697 decades
        let s = l.update(3.0);
        assert!((s - 0.28697).abs() < 1e-3, "{s}");
    }
}
