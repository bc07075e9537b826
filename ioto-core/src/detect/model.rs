//! [`ModelDetector`]: anomaly scores from a model's reconstruction error.
//!
//! The port [`ReconstructionModel`] is what an inference engine implements (`ioto-ml`
//! does, behind its `ioto-core` feature, for int8 autoencoders such as the MLPerf Tiny
//! `ad01` model). The detector keeps the last `W` values, scales them to `[0, 1]` with
//! the range learned so far, asks the model to reconstruct them every `hop` samples and
//! turns the reconstruction error into a score with [`Likelihood`]. Between two
//! inferences the last score is repeated (still causal: it depends only on the past).

use super::{Detector, Likelihood, LikelihoodConfig};
use crate::time::Instant;

/// A model that reconstructs a window of values; the port behind [`ModelDetector`].
pub trait ReconstructionModel {
    /// The error an inference can fail with.
    type Error: core::fmt::Debug;

    /// Reconstructs `window` (values scaled to `[0, 1]`, oldest first) and returns the
    /// reconstruction error (any non-negative measure; larger = less like training).
    fn reconstruction_error(&mut self, window: &[f32]) -> Result<f32, Self::Error>;
}

impl<M: ReconstructionModel + ?Sized> ReconstructionModel for &mut M {
    type Error = M::Error;
    fn reconstruction_error(&mut self, window: &[f32]) -> Result<f32, Self::Error> {
        (**self).reconstruction_error(window)
    }
}

/// Parameters of [`ModelDetector`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ModelDetectorConfig {
    /// Samples between two inferences.
    pub hop: u32,
    /// The post-processor of the reconstruction error.
    pub likelihood: LikelihoodConfig,
}

impl ModelDetectorConfig {
    /// The one configuration used for every stream.
    pub const DEFAULT: Self = Self {
        hop: 4,
        likelihood: LikelihoodConfig {
            short_alpha: 0.5,
            long_alpha: 0.01,
            learn: 40,
            min_std: 1e-4,
            decades: 10.0,
        },
    };
}

/// Scores a stream by how badly a model reconstructs its last `W` values.
#[derive(Debug)]
pub struct ModelDetector<M, const W: usize> {
    model: M,
    cfg: ModelDetectorConfig,
    ring: [f32; W],
    head: usize,
    scaled: [f32; W],
    n: u32,
    lo: f32,
    hi: f32,
    likelihood: Likelihood,
    last: f32,
    errors: u32,
}

impl<M: ReconstructionModel, const W: usize> ModelDetector<M, W> {
    /// A detector over `model` with [`ModelDetectorConfig::DEFAULT`].
    pub fn new(model: M) -> Self {
        Self::with_config(model, ModelDetectorConfig::DEFAULT)
    }

    /// A detector over `model` with `cfg`.
    pub fn with_config(model: M, cfg: ModelDetectorConfig) -> Self {
        Self {
            model,
            cfg,
            ring: [0.0; W],
            head: 0,
            scaled: [0.0; W],
            n: 0,
            lo: 0.0,
            hi: 0.0,
            likelihood: Likelihood::new(cfg.likelihood),
            last: 0.0,
            errors: 0,
        }
    }

    /// Inferences that failed (their samples scored as the previous one).
    pub const fn failed_inferences(&self) -> u32 {
        self.errors
    }

    /// The model.
    pub fn model(&mut self) -> &mut M {
        &mut self.model
    }
}

impl<M: ReconstructionModel, const W: usize> Detector for ModelDetector<M, W> {
    fn update(&mut self, _at: Instant, value: f32) -> f32 {
        if !value.is_finite() || W == 0 {
            return self.last;
        }
        if self.n == 0 {
            (self.lo, self.hi) = (value, value);
        }
        self.lo = self.lo.min(value);
        self.hi = self.hi.max(value);
        self.n = self.n.saturating_add(1);
        // `head` is the oldest value's slot: overwrite it, instead of shifting the
        // whole window on every sample.
        if let Some(slot) = self.ring.get_mut(self.head) {
            *slot = value;
        }
        self.head = (self.head + 1) % W;
        if (self.n as usize) < W || !self.n.is_multiple_of(self.cfg.hop.max(1)) {
            return self.last;
        }
        let span = self.hi - self.lo;
        let (newer, older) = self.ring.split_at(self.head);
        for (s, v) in self.scaled.iter_mut().zip(older.iter().chain(newer)) {
            *s = if span > 0.0 {
                (v - self.lo) / span
            } else {
                0.5
            };
        }
        match self.model.reconstruction_error(&self.scaled) {
            Ok(err) => self.last = self.likelihood.update(err),
            Err(_) => self.errors = self.errors.saturating_add(1),
        }
        self.last
    }

    fn reset(&mut self) {
        self.ring = [0.0; W];
        self.head = 0;
        self.n = 0;
        self.likelihood.reset();
        self.last = 0.0;
        self.errors = 0;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A test double: "reconstructs" every window as a flat line at 0.5, so the error
    /// is the window's mean squared distance from 0.5; fails when asked to.
    struct Flat {
        calls: u32,
        fail: bool,
    }

    impl ReconstructionModel for Flat {
        type Error = ();
        fn reconstruction_error(&mut self, window: &[f32]) -> Result<f32, ()> {
            self.calls += 1;
            if self.fail {
                return Err(());
            }
            assert!(window.iter().all(|x| (0.0..=1.0).contains(x)));
            Ok(window.iter().map(|x| (x - 0.5) * (x - 0.5)).sum::<f32>() / window.len() as f32)
        }
    }

    #[test]
    fn infers_every_hop_once_the_window_is_full() {
        let mut d = ModelDetector::<_, 8>::new(Flat {
            calls: 0,
            fail: false,
        });
        for i in 0..8 + 4 * 10 {
            d.update(Instant(i), (i % 5) as f32);
        }
        // first inference at sample 8 (a multiple of hop 4), then every 4 samples
        assert_eq!(d.model().calls, 11);
    }

    #[test]
    fn a_badly_reconstructed_window_scores_high() {
        let mut d = ModelDetector::<_, 8>::new(Flat {
            calls: 0,
            fail: false,
        });
        let mut before = 0.0f32;
        // a noiseless triangle around the middle of its range: small, steady error
        for i in 0..400u64 {
            let s = d.update(Instant(i), [4.0, 5.0, 6.0, 5.0][i as usize % 4]);
            before = before.max(s);
        }
        // then values pinned at the range's edges: large error
        let mut after = 0.0f32;
        for i in 400..420u64 {
            after = after.max(d.update(Instant(i), if i % 2 == 0 { 0.0 } else { 10.0 }));
        }
        assert!(
            after > 0.9 && before < 0.5,
            "before {before}, after {after}"
        );
    }

    #[test]
    fn failed_inferences_are_counted_not_fatal() {
        let mut d = ModelDetector::<_, 4>::new(Flat {
            calls: 0,
            fail: true,
        });
        for i in 0..20 {
            assert_eq!(d.update(Instant(i), i as f32), 0.0);
        }
        assert_eq!(d.failed_inferences(), 5);
        assert_eq!(d.update(Instant(21), f32::NAN), 0.0);
    }
}
