//! Which scalar features of a window the agent's detectors watch.

use crate::features::WindowStats;
use crate::policy::Privacy;
use crate::sensor::WindowView;

/// A time-domain statistic of one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Stat {
    /// Root mean square.
    Rms,
    /// Standard deviation (a stuck sensor drops it to 0).
    Std,
    /// Largest magnitude.
    Peak,
    /// Peak over RMS (impacts raise it).
    Crest,
    /// Excess kurtosis (impulsiveness: bearing defects, a loose mount).
    Kurtosis,
}

impl Stat {
    /// Its name in telemetry.
    pub const fn name(self) -> &'static str {
        match self {
            Stat::Rms => "rms",
            Stat::Std => "std",
            Stat::Peak => "peak",
            Stat::Crest => "crest",
            Stat::Kurtosis => "kurtosis",
        }
    }

    /// Picks the statistic out of `s`.
    pub const fn of(self, s: &WindowStats) -> f32 {
        match self {
            Stat::Rms => s.rms,
            Stat::Std => s.std,
            Stat::Peak => s.peak,
            Stat::Crest => s.crest,
            Stat::Kurtosis => s.kurtosis,
        }
    }
}

/// One watched feature: a statistic of a channel, under a telemetry name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Watched {
    /// Sensor channel.
    pub channel: u8,
    /// Statistic.
    pub stat: Stat,
    /// Name in telemetry and in the model's context (e.g. `"x_rms"`).
    pub name: &'static str,
    /// Name of its score in the model's context (e.g. `"x_rms_score"`).
    pub score_name: &'static str,
    /// Whether its value may leave the device (a private feature is scored on the
    /// device and never sent).
    pub privacy: Privacy,
}

impl Watched {
    /// A public feature `name` (its score goes as `score_name`).
    pub const fn public(
        channel: u8,
        stat: Stat,
        name: &'static str,
        score_name: &'static str,
    ) -> Self {
        Self {
            channel,
            stat,
            name,
            score_name,
            privacy: Privacy::Public,
        }
    }
}

/// The default watch list for a 3-axis accelerometer on a bearing housing (x radial
/// horizontal, y axial, z radial vertical): imbalance raises the radial RMS, bearing
/// wear and a loose mount make the radial signal impulsive (kurtosis, crest), a stuck
/// sensor drops the vertical standard deviation to zero.
pub const VIBRATION_WATCH: [Watched; 4] = [
    Watched::public(0, Stat::Rms, "x_rms", "x_rms_score"),
    Watched::public(0, Stat::Kurtosis, "x_kurtosis", "x_kurtosis_score"),
    Watched::public(0, Stat::Crest, "x_crest", "x_crest_score"),
    Watched::public(2, Stat::Std, "z_std", "z_std_score"),
];

/// Why features could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FeatureFault {
    /// A watched channel does not exist in the window, or the scratch is too short.
    NoSuchChannel,
    /// The samples are empty, not finite, or overflow.
    BadSamples,
}

/// Computes the watched features of `view` into `out` (`out.len() == watch.len()`),
/// using `scratch` (at least the window's length) for one channel at a time.
pub fn extract<const N: usize>(
    view: &WindowView<'_, N>,
    watch: &[Watched],
    scratch: &mut [f32],
    out: &mut [f32],
) -> Result<(), FeatureFault> {
    let mut cached: Option<(u8, WindowStats)> = None;
    for (w, o) in watch.iter().zip(out.iter_mut()) {
        let stats = match cached {
            Some((c, s)) if c == w.channel => s,
            _ => {
                let n = view
                    .copy_channel(usize::from(w.channel), scratch)
                    .map_err(|_| FeatureFault::NoSuchChannel)?;
                let s =
                    WindowStats::from_slice(&scratch[..n]).map_err(|_| FeatureFault::BadSamples)?;
                cached = Some((w.channel, s));
                s
            }
        };
        *o = w.stat.of(&stats);
    }
    Ok(())
}
