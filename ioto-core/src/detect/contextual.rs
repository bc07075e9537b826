//! [`Contextual`]: novelty of a value and of its recent shape.
//!
//! The stream's range is learned as it goes (the lowest and highest value seen). Block
//! means at three time scales (`SCALES`: 8, 24 and 72 samples) are quantised to one of
//! `LEVELS` (5) levels of that range, and the last `DEPTH` (3) levels of a scale form its
//! *context*: the recent shape of the signal at that scale. Each context indexes a
//! table of 4-bit saturating counts of how often it was seen. Raw surprise is the
//! largest of
//!
//! - how far the value lies outside the range seen so far (relative to that range), and
//! - at each scale, how rarely the newest context was seen (`1 / (1 + count)`),
//!
//! and the [`Likelihood`] post-processor turns it into a score. A new record — a value
//! beyond the range seen so far, after the warm-up — also scores directly, in
//! proportion to how far beyond it lies (`RECORD_GAIN`): the first value that leaves
//! what a stream has ever done is news. Once a score passed
//! `report`, later scores are damped for `refractory` samples: a fault is one event, and
//! re-announcing it is noise to whoever listens.
//!
//! State: three count tables of `LEVELS^DEPTH` = 125 nibbles (63 B each), a few floats; no
//! heap.

use super::{Detector, Likelihood, LikelihoodConfig, unit};
use crate::time::Instant;

/// Quantisation levels of the learned range.
const LEVELS: usize = 5;
/// Levels per context.
const DEPTH: usize = 3;
/// Samples per block of each context scale.
const SCALES: [u32; 3] = [8, 24, 72];
/// A new record (a value outside the range seen so far) by this fraction of the range
/// scores `RECORD_GAIN × fraction`, directly (clamped to 1).
const RECORD_GAIN: f32 = 25.0;
/// Samples until the longest scale has its first full context.
const WARM_UP: u32 = SCALES[SCALES.len() - 1] * DEPTH as u32;
/// Entries of a context table.
const TABLE: usize = LEVELS.pow(DEPTH as u32);

/// One context scale: block means of `block` samples, the last `DEPTH` levels, and a
/// table of 4-bit saturating counts (two per byte).
#[derive(Clone, Debug)]
struct Scale {
    block: u32,
    sum: f32,
    n: u32,
    blocks: u32,
    ctx: [u8; DEPTH],
    seen: [u8; TABLE / 2],
}

impl Scale {
    const fn new(block: u32) -> Self {
        Self {
            block,
            sum: 0.0,
            n: 0,
            blocks: 0,
            ctx: [0; DEPTH],
            seen: [0; TABLE / 2],
        }
    }

    /// Adds `x`; at the end of a block returns how rarely the new context was seen
    /// (1 = never), counting this sighting.
    fn push(&mut self, x: f32, level: impl Fn(f32) -> u8) -> f32 {
        self.sum += x;
        self.n += 1;
        if self.n < self.block {
            return 0.0;
        }
        let mean = self.sum / self.block as f32;
        self.sum = 0.0;
        self.n = 0;
        self.ctx.rotate_left(1);
        self.ctx[DEPTH - 1] = level(mean);
        self.blocks = self.blocks.saturating_add(1);
        if self.blocks < DEPTH as u32 {
            return 0.0;
        }
        let idx = self
            .ctx
            .iter()
            .fold(0usize, |i, &l| i * LEVELS + usize::from(l));
        let Some(byte) = self.seen.get_mut(idx / 2) else {
            return 0.0;
        };
        let shift = (idx % 2) * 4;
        let count = (*byte >> shift) & 0xF;
        if count < 0xF {
            *byte += 1 << shift;
        }
        1.0 / (1.0 + f32::from(count))
    }
}

/// Parameters of [`Contextual`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ContextualConfig {
    /// The post-processor.
    pub likelihood: LikelihoodConfig,
    /// Score above which an event is taken as reported.
    pub report: f32,
    /// Samples after a report during which scores are damped.
    pub refractory: u32,
}

impl ContextualConfig {
    /// The one configuration used for every stream.
    pub const DEFAULT: Self = Self {
        likelihood: LikelihoodConfig::DEFAULT,
        report: 0.5,
        refractory: 200,
    };
}

/// The contextual novelty detector (see the module docs).
#[derive(Clone, Debug)]
pub struct Contextual {
    cfg: ContextualConfig,
    n: u32,
    lo: f32,
    hi: f32,
    scales: [Scale; SCALES.len()],
    likelihood: Likelihood,
    quiet: u32,
    last: f32,
}

default_constructors!(Contextual, ContextualConfig);

impl Contextual {
    /// A detector with `cfg`.
    pub const fn with_config(cfg: ContextualConfig) -> Self {
        Self {
            cfg,
            n: 0,
            lo: 0.0,
            hi: 0.0,
            scales: [
                Scale::new(SCALES[0]),
                Scale::new(SCALES[1]),
                Scale::new(SCALES[2]),
            ],
            likelihood: Likelihood::new(cfg.likelihood),
            quiet: 0,
            last: 0.0,
        }
    }

    /// Raw surprise of `x` in `[0, 1]` and how far `x` lies beyond the range seen
    /// before it (relative to that range, 0 inside it), learning from it.
    fn surprise(&mut self, x: f32) -> (f32, f32) {
        let mut out_of_range = 0.0;
        if self.n == 0 {
            self.lo = x;
            self.hi = x;
        } else {
            let span = self.hi - self.lo;
            let excess = if x > self.hi {
                x - self.hi
            } else if x < self.lo {
                self.lo - x
            } else {
                0.0
            };
            if excess > 0.0 {
                out_of_range = if span > 0.0 { unit(excess / span) } else { 1.0 };
                self.lo = self.lo.min(x);
                self.hi = self.hi.max(x);
            }
        }
        self.n = self.n.saturating_add(1);

        let (lo, hi) = (self.lo, self.hi);
        let level = |v: f32| level_of(lo, hi, v);
        let mut raw = out_of_range;
        for sc in &mut self.scales {
            raw = raw.max(sc.push(x, level));
        }
        (raw, out_of_range)
    }
}

/// The level of `x` in `[lo, hi]`, of `LEVELS`.
fn level_of(lo: f32, hi: f32, x: f32) -> u8 {
    let span = hi - lo;
    if span <= 0.0 {
        return 0;
    }
    let q = ((x - lo) / span * LEVELS as f32) as i32;
    q.clamp(0, LEVELS as i32 - 1) as u8
}

impl Detector for Contextual {
    fn update(&mut self, _at: Instant, value: f32) -> f32 {
        if !value.is_finite() {
            return self.last;
        }
        let (raw, record) = self.surprise(value);
        // Until every scale has a full context, novelty only says "still learning".
        let mut score = if self.n >= WARM_UP {
            self.likelihood.update(raw)
        } else {
            0.0
        };
        if self.n > WARM_UP {
            score = score.max(unit(RECORD_GAIN * record));
        }
        if self.quiet > 0 {
            self.quiet -= 1;
            score *= 1.0 - self.quiet as f32 / self.cfg.refractory as f32;
        } else if score >= self.cfg.report {
            self.quiet = self.cfg.refractory;
        }
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

    /// A daily cycle of 144 samples with a small deterministic wobble.
    fn cycle(i: u32) -> f32 {
        let phase = (i % 144) as f32 / 144.0 * core::f32::consts::TAU;
        10.0 + 3.0 * libm::sinf(phase) + 0.05 * ((i * 7919) % 13) as f32 / 13.0
    }

    fn run(d: &mut Contextual, n: u32, f: impl Fn(u32) -> f32) -> (f32, f32) {
        let (mut max, mut last) = (0.0f32, 0.0);
        for i in 0..n {
            last = d.update(Instant(u64::from(i)), f(i));
            assert!((0.0..=1.0).contains(&last), "score {last} at {i}");
            max = max.max(last);
        }
        (max, last)
    }

    #[test]
    fn state_fits_the_budget() {
        assert!(core::mem::size_of::<Contextual>() <= 8 * 1024);
    }

    #[test]
    fn repeating_cycle_goes_quiet_and_a_new_record_scores_one() {
        let mut d = Contextual::new();
        run(&mut d, 3_000, cycle);
        // after the cycle has been seen many times, one more day is unremarkable
        let mut quiet = d.clone();
        let (max, _) = run(&mut quiet, 144, |i| cycle(i + 3_000));
        assert!(max < 0.5, "{max}");
        // a value 50 % of the range above anything seen: a record, reported at once
        let s = d.update(Instant(3_000), 16.0);
        assert_eq!(s, 1.0);
    }

    #[test]
    fn a_new_shape_inside_the_range_is_noticed() {
        // flat at mid-level for a day: every value is within the range, the shape is new
        let mut d = Contextual::new();
        run(&mut d, 3_000, cycle);
        let (max, _) = run(&mut d, 144, |_| 10.0);
        assert!(max > 0.5, "{max}");
    }

    #[test]
    fn refractory_damps_repeats_of_one_event() {
        let mut d = Contextual::new();
        run(&mut d, 3_000, cycle);
        assert_eq!(d.update(Instant(3_000), 16.0), 1.0);
        // an even bigger record right after is damped: the event was reported
        let s = d.update(Instant(3_001), 20.0);
        assert!(s < 0.1, "{s}");
    }

    #[test]
    fn non_finite_values_repeat_the_last_score_and_reset_forgets() {
        let mut d = Contextual::new();
        let (_, last) = run(&mut d, 500, cycle);
        assert_eq!(d.update(Instant(500), f32::NAN), last);
        assert_eq!(d.update(Instant(501), f32::NEG_INFINITY), last);
        d.reset();
        // a fresh detector learns first: no score during warm-up
        let (max, _) = run(&mut d, WARM_UP, |i| cycle(i) * 100.0);
        assert_eq!(max, 0.0);
    }
}
