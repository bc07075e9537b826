//! Streaming anomaly detectors behind one trait.
//!
//! Every detector here keeps to the same rules, so that a score carries over to streams
//! it was never tuned on:
//!
//! - **causal**: the score of a sample depends only on that sample and the ones before it;
//! - **no knowledge of the stream's length** (nor of its range: ranges are learned);
//! - **one set of parameters for every stream**: each detector has one `const` default
//!   configuration, used unchanged for every series of the benchmark;
//! - **fixed state**, no heap: `core::mem::size_of::<D>()` is the whole cost per stream
//!   (all ≤ 8 KiB).
//!
//! | detector | what it watches | state |
//! |---|---|---|
//! | [`RobustZ`] | distance from an EWMA baseline in units of an EW mean absolute deviation, with hysteresis | < 100 B |
//! | [`Contextual`] | novelty of the value and of its recent shape (quantised contexts), turned into a likelihood | ≈ 5 KiB |
//! | [`ModelDetector`] | reconstruction error of a model behind [`ReconstructionModel`] (e.g. `ioto-ml` running the MLPerf Tiny `ad01` autoencoder), turned into a likelihood | window + model |
//!
//! ```
//! use ioto_core::detect::{Contextual, Detector};
//! use ioto_core::Instant;
//!
//! let mut d = Contextual::new();
//! let (mut before, mut spike) = (0.0f32, 0.0);
//! for i in 0..2_000u64 {
//!     // a daily cycle of 144 samples (10-minute readings), then one wild value
//!     let phase = (i % 144) as f32 / 144.0 * core::f32::consts::TAU;
//!     let v = if i == 1_500 { 50.0 } else { libm::sinf(phase) };
//!     let score = d.update(Instant(i * 1_000_000), v);
//!     match i {
//!         ..1_500 => before = before.max(score),
//!         1_500 => spike = score,
//!         _ => {}
//!     }
//! }
//! assert!(spike > 0.5 && spike > 2.0 * before, "spike {spike}, before {before}");
//! //! ```

/// The constructors every configurable detector has: `Default` for `$config` (its
/// `DEFAULT`), `$detector::new()` with it, and `Default` for `$detector` (`new()`).
/// `$detector` provides `const fn with_config($config) -> Self`.
macro_rules! default_constructors {
    ($detector:ident, $config:ident) => {
        impl Default for $config {
            fn default() -> Self {
                Self::DEFAULT
            }
        }

        impl Default for $detector {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $detector {
            #[doc = concat!("A detector with [`", stringify!($config), "::DEFAULT`].")]
            pub const fn new() -> Self {
                Self::with_config($config::DEFAULT)
            }
        }
    };
}

mod baseline;
mod contextual;
mod likelihood;
mod model;
mod stats;

pub use baseline::{RobustZ, RobustZConfig};
pub use contextual::{Contextual, ContextualConfig};
pub use likelihood::{Likelihood, LikelihoodConfig};
pub use model::{ModelDetector, ModelDetectorConfig, ReconstructionModel};
pub use stats::Ewm;

use crate::time::Instant;

/// A streaming anomaly detector: one value in, one score in `[0, 1]` out.
///
/// Higher means more anomalous. A detector never panics on its input: NaN and
/// infinite values are ignored (they score as the previous score).
pub trait Detector {
    /// Feeds one sample taken at `at`; returns its anomaly score in `[0, 1]`.
    fn update(&mut self, at: Instant, value: f32) -> f32;

    /// Forgets everything learned, as if newly created.
    fn reset(&mut self);
}

impl<D: Detector + ?Sized> Detector for &mut D {
    fn update(&mut self, at: Instant, value: f32) -> f32 {
        (**self).update(at, value)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

/// Clamps `x` to `[0, 1]`, mapping NaN to 0.
pub(crate) fn unit(x: f32) -> f32 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}
