//! Faults to inject into a simulated machine, and when: a [`FaultPlan`].
//!
//! A plan holds up to [`MAX_FAULTS`] [`Fault`]s, each a [`FaultKind`] that starts at
//! a sample index and ramps linearly to its severity. Script one by hand, or draw
//! one from a seed with [`FaultPlan::random`] so a demo is not tuned to one script
//! (the plan is the ground truth to score a detector against).
//!
//! ```rust
//! use ioto_core::sensor::{Fault, FaultKind, FaultPlan};
//!
//! let plan = FaultPlan::healthy()
//!     .with(Fault::new(FaultKind::Imbalance, 4_000, 2_000, 1.0))
//!     .unwrap();
//! assert_eq!(plan.severity(FaultKind::Imbalance, 3_999), 0.0);
//! assert_eq!(plan.severity(FaultKind::Imbalance, 5_000), 0.5);
//! assert_eq!(plan.severity(FaultKind::Imbalance, 9_000), 1.0);
//!
//! let drawn = FaultPlan::random(0xC0FFEE, 48_000);
//! assert_eq!(drawn, FaultPlan::random(0xC0FFEE, 48_000)); // deterministic
//! assert!(drawn.first_onset().is_some_and(|s| s < 48_000));
//! ```

/// The most faults one plan holds.
pub const MAX_FAULTS: usize = 4;

/// A schedule of faults, in sample indices of the simulated sensor.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FaultPlan {
    faults: [Fault; MAX_FAULTS],
    len: usize,
}

impl Default for FaultPlan {
    fn default() -> Self {
        Self::healthy()
    }
}

impl FaultPlan {
    /// No faults: a healthy machine forever.
    pub const fn healthy() -> Self {
        Self {
            faults: [Fault::new(FaultKind::Imbalance, 0, 0, 0.0); MAX_FAULTS],
            len: 0,
        }
    }

    /// The plan with `fault` added.
    ///
    /// # Errors
    ///
    /// [`FaultPlanError::Full`] past [`MAX_FAULTS`], [`FaultPlanError::BadSeverity`]
    /// for a severity that is negative or not finite.
    pub fn with(mut self, fault: Fault) -> Result<Self, FaultPlanError> {
        if !(fault.severity.is_finite() && fault.severity >= 0.0) {
            return Err(FaultPlanError::BadSeverity);
        }
        let slot = self.faults.get_mut(self.len).ok_or(FaultPlanError::Full)?;
        *slot = fault;
        self.len += 1;
        Ok(self)
    }

    /// A plan drawn from `seed` for a run of `horizon` samples: one fault of a
    /// random kind starting in the middle half of the run (`horizon/4` to
    /// `3·horizon/4`), ramping over up to a quarter of the run to a severity of
    /// 0.6–1.0, and one time in four a second, different machine fault starting
    /// later. Same seed, same plan.
    pub fn random(seed: u64, horizon: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let quarter = horizon / 4;
        let kind = FaultKind::ALL[rng.below(4) as usize];
        let start = quarter + rng.below(2 * quarter + 1);
        let ramp = if kind == FaultKind::StuckSensor {
            0
        } else {
            rng.below(quarter + 1)
        };
        let severity = 0.6 + 0.4 * rng.unit_f32();
        let mut plan = Self::healthy();
        plan.push(Fault::new(kind, start, ramp, severity));
        if kind != FaultKind::StuckSensor && rng.below(4) == 0 {
            let mut others = FaultKind::ALL[..3].iter().filter(|&&k| k != kind);
            if let Some(&second) = others.nth(rng.below(2) as usize) {
                let later = start + rng.below(horizon.saturating_sub(start) / 2 + 1);
                let ramp = rng.below(quarter + 1);
                plan.push(Fault::new(second, later, ramp, 0.6 + 0.4 * rng.unit_f32()));
            }
        }
        plan
    }

    /// The faults, in the order they were added.
    pub fn faults(&self) -> &[Fault] {
        &self.faults[..self.len]
    }

    /// The severity of `kind` at sample `sample`: the largest over the plan's faults
    /// of that kind, 0 if none has started.
    pub fn severity(&self, kind: FaultKind, sample: u64) -> f32 {
        self.faults()
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.severity_at(sample))
            .fold(0.0, f32::max)
    }

    /// Whether a fault of `kind` with a severity above zero has started by sample
    /// `sample` (ramps ignored: for faults that are on or off, like a stuck sensor).
    pub fn has_started(&self, kind: FaultKind, sample: u64) -> bool {
        self.faults()
            .iter()
            .any(|f| f.kind == kind && f.severity > 0.0 && sample >= f.start)
    }

    /// The earliest sample any fault starts at.
    pub fn first_onset(&self) -> Option<u64> {
        self.faults().iter().map(|f| f.start).min()
    }

    fn push(&mut self, fault: Fault) {
        if let Some(slot) = self.faults.get_mut(self.len) {
            *slot = fault;
            self.len += 1;
        }
    }
}

/// One fault: what, from when, how fast, how bad.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// The sample index it starts at.
    pub start: u64,
    /// Samples from onset to full severity (0: a step).
    pub ramp: u64,
    /// Full severity: 1.0 is a clear, textbook case; 0 disables the fault.
    pub severity: f32,
}

impl Fault {
    /// A fault of `kind` starting at sample `start`, reaching `severity` after
    /// `ramp` samples.
    pub const fn new(kind: FaultKind, start: u64, ramp: u64, severity: f32) -> Self {
        Self {
            kind,
            start,
            ramp,
            severity,
        }
    }

    /// Severity at sample `sample`: 0 before the start, then a linear ramp.
    pub fn severity_at(&self, sample: u64) -> f32 {
        if sample < self.start {
            return 0.0;
        }
        let into = sample - self.start;
        if into >= self.ramp {
            self.severity
        } else {
            self.severity * (into as f32 / self.ramp as f32)
        }
    }
}

/// What goes wrong with the machine or its sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FaultKind {
    /// A rolling-element bearing wears: impulses at the outer-race defect frequency
    /// (3.58× shaft) ringing a high-frequency structural resonance. Raises kurtosis,
    /// crest factor and high-band energy.
    BearingWear,
    /// Mass imbalance on the rotor: the radial 1× shaft component grows.
    Imbalance,
    /// The machine's mount works loose: ½× and 1½× shaft sub-harmonics and
    /// once-per-revolution rattling impacts, mostly vertical.
    LooseMount,
    /// The sensor freezes: every axis repeats the value it read at onset. The ramp
    /// is ignored; any severity above zero freezes it.
    StuckSensor,
}

impl FaultKind {
    /// Every kind, machine faults first.
    pub const ALL: [FaultKind; 4] = [
        Self::BearingWear,
        Self::Imbalance,
        Self::LooseMount,
        Self::StuckSensor,
    ];
}

/// A fault that cannot be added to a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FaultPlanError {
    /// The plan already holds [`MAX_FAULTS`] faults.
    Full,
    /// The severity is negative or not finite.
    BadSeverity,
}

impl core::fmt::Display for FaultPlanError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Full => "fault plan is full",
            Self::BadSeverity => "fault severity must be finite and non-negative",
        })
    }
}

impl core::error::Error for FaultPlanError {}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, well-mixed generator for
/// deterministic simulations. Not for cryptography.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) const fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 for `n == 0`), by multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`, 24 bits.
    pub(crate) fn unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32
    }

    /// Approximately standard normal: the sum of four 16-bit uniforms (Irwin–Hall),
    /// centred and scaled to unit variance. One draw of the generator.
    pub(crate) fn gaussian_f32(&mut self) -> f32 {
        let r = self.next_u64();
        let sum = (r & 0xFFFF) + (r >> 16 & 0xFFFF) + (r >> 32 & 0xFFFF) + (r >> 48);
        // Mean 2 · 65535, variance 4/12 · 65536²: scale by √3 / 65536.
        (sum as f32 - 131_070.0) * (1.732_050_8 / 65_536.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn severity_ramps_and_takes_the_largest() {
        let plan = FaultPlan::healthy()
            .with(Fault::new(FaultKind::LooseMount, 100, 0, 0.3))
            .unwrap()
            .with(Fault::new(FaultKind::LooseMount, 200, 100, 1.0))
            .unwrap();
        assert_eq!(plan.severity(FaultKind::LooseMount, 99), 0.0);
        assert_eq!(plan.severity(FaultKind::LooseMount, 100), 0.3);
        assert_eq!(plan.severity(FaultKind::LooseMount, 250), 0.5);
        assert_eq!(plan.severity(FaultKind::LooseMount, 10_000), 1.0);
        assert_eq!(plan.severity(FaultKind::BearingWear, 10_000), 0.0);
        assert_eq!(plan.first_onset(), Some(100));
        assert_eq!(FaultPlan::healthy().first_onset(), None);
    }

    #[test]
    fn bad_faults_are_typed_errors() {
        let f = Fault::new(FaultKind::Imbalance, 0, 0, 1.0);
        let mut plan = FaultPlan::healthy();
        for _ in 0..MAX_FAULTS {
            plan = plan.with(f).unwrap();
        }
        assert_eq!(plan.with(f), Err(FaultPlanError::Full));
        for bad in [-0.1, f32::NAN, f32::INFINITY] {
            let err = FaultPlan::healthy().with(Fault { severity: bad, ..f });
            assert_eq!(err, Err(FaultPlanError::BadSeverity));
        }
    }

    #[test]
    fn random_plans_depend_on_the_seed_and_stay_in_the_run() {
        let mut kinds = [0u32; 4];
        let mut doubles = 0;
        for seed in 0..200u64 {
            let plan = FaultPlan::random(seed, 40_000);
            assert_eq!(plan, FaultPlan::random(seed, 40_000));
            let first = plan.faults()[0];
            assert!((10_000..=30_000).contains(&first.start), "{first:?}");
            assert!(first.ramp <= 10_000 && (0.6..=1.0).contains(&first.severity));
            for f in plan.faults() {
                assert!(f.start < 40_000);
            }
            if let [a, b] = plan.faults() {
                assert_ne!(a.kind, b.kind);
                assert_ne!(b.kind, FaultKind::StuckSensor);
                assert!(b.start >= a.start);
                doubles += 1;
            }
            kinds[FaultKind::ALL
                .iter()
                .position(|&k| k == first.kind)
                .unwrap()] += 1;
        }
        assert!(kinds.iter().all(|&n| n > 25), "{kinds:?}");
        assert!((20..=80).contains(&doubles), "{doubles}");
        assert_ne!(FaultPlan::random(1, 40_000), FaultPlan::random(2, 40_000));
        // A zero-length run still gives a valid plan.
        assert_eq!(FaultPlan::random(9, 0).first_onset(), Some(0));
    }

    #[test]
    fn gaussian_noise_has_unit_variance() {
        let mut rng = SplitMix64::new(42);
        let n = 20_000;
        let (mut sum, mut sq) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let x = f64::from(rng.gaussian_f32());
            sum += x;
            sq += x * x;
        }
        let mean = sum / f64::from(n);
        let var = sq / f64::from(n) - mean * mean;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        assert!(rng.below(0) == 0 && rng.unit_f32() < 1.0);
    }
}
