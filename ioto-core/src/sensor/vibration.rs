//! A deterministic vibration signal of a rotating machine, with injected faults.
//!
//! [`MachineVibration`] produces one 3-axis acceleration sample (in g) per call at a
//! set sample rate: shaft harmonics (1×, 2×, 3×) on a rotating orbit, broadband
//! noise, gravity, and the faults of a [`FaultPlan`] as they start and grow. The
//! sensor frame is that of an accelerometer on a bearing housing: **x** radial
//! horizontal, **y** axial, **z** radial vertical (gravity +1 g by default).
//!
//! It is `no_std`, allocation-free and cheap — two `sinf`/`cosf` per sample, one
//! more while a fault impact rings — so it runs on emulated Cortex-M0 boards too.
//! Same profile, plan and seed: the same samples, bit for bit. A fault never
//! changes the noise realisation, so runs with and without a fault compare cleanly.
//!
//! ```rust
//! use ioto_core::sensor::{Fault, FaultKind, FaultPlan, MachineProfile, MachineVibration};
//!
//! let plan = FaultPlan::healthy()
//!     .with(Fault::new(FaultKind::StuckSensor, 100, 0, 1.0))
//!     .unwrap();
//! let mut machine = MachineVibration::new(MachineProfile::default(), plan, 1)
//!     .unwrap()
//!     .with_sample_rate_hz(400.0)
//!     .unwrap();
//! let before: [[f32; 3]; 100] = core::array::from_fn(|_| machine.next_g());
//! assert_ne!(before[0], before[1]);
//! let stuck = machine.next_g();
//! assert_eq!(machine.next_g(), stuck);
//! ```

use core::f32::consts::TAU;

use super::fault::{FaultKind, FaultPlan, SplitMix64};

/// Radial 1× amplitude a fully developed imbalance adds, g.
const IMBALANCE_G: f32 = 0.5;
/// Peak of a fully developed bearing-defect impact, g (times 0.5–1.5).
const BEARING_IMPACT_G: f32 = 0.8;
/// Outer-race defect frequency of a typical deep-groove ball bearing, × shaft.
const BPFO_PER_REV: f32 = 3.58;
/// Chance that one ball pass over the spall gives a clear impact (early wear is
/// intermittent, which is what makes it impulsive).
const BEARING_IMPACT_CHANCE: f32 = 0.25;
/// Ring-down time constant of a bearing impact, s.
const BEARING_RING_S: f32 = 0.002;
/// The ringing resonance, as a fraction of the sample rate: near the top of the
/// band, where a kHz structural resonance of a real housing would fold.
const BEARING_RING_PER_SAMPLE: f32 = 0.37;
/// ½× sub-harmonic amplitude of a fully loose mount, g (1½× gets half of it).
const LOOSE_SUBHARMONIC_G: f32 = 0.25;
/// Peak of a fully loose mount's once-per-revolution impact, g (times 0.5–1.5).
const LOOSE_RATTLE_G: f32 = 0.6;
/// Decay time constant of a rattle impact, s.
const LOOSE_RATTLE_S: f32 = 0.004;
/// Envelopes below this are dropped (g).
const SILENT_G: f32 = 1e-5;
/// Seed offset of the fault-event stream, so faults leave the noise untouched.
const EVENT_STREAM: u64 = 0x5EED_FA17_0000_0001;

/// A rotating machine's simulated vibration, one sample at a time.
#[derive(Clone, Debug)]
pub struct MachineVibration {
    profile: MachineProfile,
    plan: FaultPlan,
    noise: SplitMix64,
    events: SplitMix64,
    sample_rate_hz: f32,
    index: u64,
    /// Half-shaft phase ψ in cycles, in [0, 1); the shaft angle is 2ψ.
    half_phase: f32,
    /// Outer-race defect phase in cycles, in [0, 1).
    bpfo_phase: f32,
    bearing_envelope: f32,
    bearing_age: u32,
    bearing_decay: f32,
    rattle_envelope: f32,
    rattle_decay: f32,
    stuck: Option<[f32; 3]>,
}

impl MachineVibration {
    /// A machine of `profile` failing as `plan` says, its noise and fault events
    /// drawn from `seed`; sampled at 400 Hz until told otherwise.
    ///
    /// # Errors
    ///
    /// [`SignalError::BadProfile`] if a profile value is not finite, the shaft
    /// speed is not positive, or an amplitude is negative.
    pub fn new(profile: MachineProfile, plan: FaultPlan, seed: u64) -> Result<Self, SignalError> {
        if !profile.is_valid() {
            return Err(SignalError::BadProfile);
        }
        let mut machine = Self {
            profile,
            plan,
            noise: SplitMix64::new(seed),
            events: SplitMix64::new(seed ^ EVENT_STREAM),
            sample_rate_hz: 400.0,
            index: 0,
            half_phase: 0.0,
            bpfo_phase: 0.0,
            bearing_envelope: 0.0,
            bearing_age: 0,
            bearing_decay: 0.0,
            rattle_envelope: 0.0,
            rattle_decay: 0.0,
            stuck: None,
        };
        machine.set_sample_rate_hz(400.0)?;
        Ok(machine)
    }

    /// The same machine sampled at `hz`.
    ///
    /// # Errors
    ///
    /// [`SignalError::BadSampleRate`] unless `hz` is finite and positive.
    pub fn with_sample_rate_hz(mut self, hz: f32) -> Result<Self, SignalError> {
        self.set_sample_rate_hz(hz)?;
        Ok(self)
    }

    /// Samples at `hz` from the next sample on (phases continue smoothly).
    ///
    /// # Errors
    ///
    /// [`SignalError::BadSampleRate`] unless `hz` is finite and positive.
    pub fn set_sample_rate_hz(&mut self, hz: f32) -> Result<(), SignalError> {
        if !(hz.is_finite() && hz > 0.0) {
            return Err(SignalError::BadSampleRate);
        }
        self.sample_rate_hz = hz;
        self.bearing_decay = libm::expf(-1.0 / (BEARING_RING_S * hz));
        self.rattle_decay = libm::expf(-1.0 / (LOOSE_RATTLE_S * hz));
        Ok(())
    }

    /// The rate samples are produced at, Hz.
    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// Samples produced so far: the index of the next one.
    pub fn sample_index(&self) -> u64 {
        self.index
    }

    /// The machine's profile.
    pub fn profile(&self) -> &MachineProfile {
        &self.profile
    }

    /// The fault schedule (the ground truth of the run).
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// The next sample: acceleration on x, y, z in g.
    pub fn next_g(&mut self) -> [f32; 3] {
        let n = self.index;
        self.index += 1;
        let plan = &self.plan;
        let stuck = plan.has_started(FaultKind::StuckSensor, n);
        let imbalance = plan.severity(FaultKind::Imbalance, n);
        let bearing = plan.severity(FaultKind::BearingWear, n);
        let loose = plan.severity(FaultKind::LooseMount, n);

        let dt = 1.0 / self.sample_rate_hz;
        let shaft = self.profile.shaft_hz;
        let old_half = self.half_phase;
        self.half_phase = wrap(old_half + 0.5 * shaft * dt);
        let new_revolution = (old_half >= 0.5) != (self.half_phase >= 0.5);
        self.bpfo_phase += BPFO_PER_REV * shaft * dt;
        let ball_pass = self.bpfo_phase >= 1.0;
        self.bpfo_phase = wrap(self.bpfo_phase);

        // Shaft harmonics from one sin/cos of the half angle ψ (θ = 2ψ).
        let (sh, ch) = (
            libm::sinf(TAU * self.half_phase),
            libm::cosf(TAU * self.half_phase),
        );
        let (s1, c1) = (2.0 * sh * ch, ch * ch - sh * sh);
        let (s2, c2) = (2.0 * s1 * c1, c1 * c1 - s1 * s1);
        let (s3, c3) = (s1 * (3.0 - 4.0 * s1 * s1), c1 * (4.0 * c1 * c1 - 3.0));
        let p = &self.profile;
        let a1 = p.one_x_g + imbalance * IMBALANCE_G;
        let mut x = a1 * s1 + p.two_x_g * s2 + p.three_x_g * s3;
        let mut z = a1 * c1 + p.two_x_g * c2 + p.three_x_g * c3;
        let mut y = p.axial_ratio * (p.one_x_g * s1 + p.two_x_g * s2 + p.three_x_g * s3);

        if loose > 0.0 {
            let sub = loose * LOOSE_SUBHARMONIC_G;
            let s_three_halves = s1 * ch + c1 * sh;
            x += sub * (sh + 0.5 * s_three_halves);
            z += sub * ch;
            if new_revolution {
                self.rattle_envelope = loose * LOOSE_RATTLE_G * (0.5 + self.events.unit_f32());
            }
        }
        if self.rattle_envelope > SILENT_G {
            // The foot lifts and slams down: a one-sided vertical thump.
            z -= self.rattle_envelope;
            x += 0.3 * self.rattle_envelope;
            self.rattle_envelope *= self.rattle_decay;
        }

        if bearing > 0.0 && ball_pass && self.events.unit_f32() < BEARING_IMPACT_CHANCE {
            self.bearing_envelope = bearing * BEARING_IMPACT_G * (0.5 + self.events.unit_f32());
            self.bearing_age = 0;
        }
        if self.bearing_envelope > SILENT_G {
            let ring = libm::cosf(TAU * wrap(BEARING_RING_PER_SAMPLE * self.bearing_age as f32));
            let b = self.bearing_envelope * ring;
            z += b;
            x += 0.5 * b;
            y += 0.2 * b;
            self.bearing_envelope *= self.bearing_decay;
            self.bearing_age = self.bearing_age.saturating_add(1);
        }

        let noise = p.noise_g;
        let g = p.gravity_g;
        let value = [
            g[0] + x + noise * self.noise.gaussian_f32(),
            g[1] + y + noise * self.noise.gaussian_f32(),
            g[2] + z + noise * self.noise.gaussian_f32(),
        ];
        if stuck {
            *self.stuck.get_or_insert(value)
        } else {
            self.stuck = None;
            value
        }
    }
}

/// The fractional part of a non-negative phase in cycles.
fn wrap(phase: f32) -> f32 {
    phase - libm::floorf(phase)
}

/// What the healthy machine looks like.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MachineProfile {
    /// Shaft speed, Hz.
    pub shaft_hz: f32,
    /// Radial 1× amplitude (residual imbalance), g.
    pub one_x_g: f32,
    /// Radial 2× amplitude (residual misalignment), g.
    pub two_x_g: f32,
    /// Radial 3× amplitude, g.
    pub three_x_g: f32,
    /// Axial (y) vibration as a fraction of radial.
    pub axial_ratio: f32,
    /// Broadband noise per axis, g RMS.
    pub noise_g: f32,
    /// Gravity in the sensor frame, g.
    pub gravity_g: [f32; 3],
}

impl Default for MachineProfile {
    /// A 4-pole induction motor on 60 Hz mains under load (1776 rpm = 29.6 Hz),
    /// well balanced, sensor z axis up.
    fn default() -> Self {
        Self {
            shaft_hz: 29.6,
            one_x_g: 0.05,
            two_x_g: 0.02,
            three_x_g: 0.01,
            axial_ratio: 0.3,
            noise_g: 0.01,
            gravity_g: [0.0, 0.0, 1.0],
        }
    }
}

impl MachineProfile {
    fn is_valid(&self) -> bool {
        let amplitudes = [
            self.one_x_g,
            self.two_x_g,
            self.three_x_g,
            self.axial_ratio,
            self.noise_g,
        ];
        self.shaft_hz.is_finite()
            && self.shaft_hz > 0.0
            && amplitudes.iter().all(|a| a.is_finite() && *a >= 0.0)
            && self.gravity_g.iter().all(|g| g.is_finite())
    }
}

/// A machine signal that cannot be built as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SignalError {
    /// A profile value is not finite, the shaft speed not positive, or an
    /// amplitude negative.
    BadProfile,
    /// The sample rate is not finite and positive.
    BadSampleRate,
}

impl core::fmt::Display for SignalError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BadProfile => "machine profile has a bad value",
            Self::BadSampleRate => "sample rate must be finite and positive",
        })
    }
}

impl core::error::Error for SignalError {}

#[cfg(test)]
#[path = "vibration_tests.rs"]
mod tests;
