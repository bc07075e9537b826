//! The audio front end of TensorFlow Lite Micro's keyword spotters: 16-bit PCM in,
//! one vector of log filterbank energies per window out — integer arithmetic only,
//! no heap, and **bit-exact with TensorFlow's `audio_microfrontend` op**
//! (`tensorflow/lite/experimental/microfrontend`), the front end the `micro_speech`
//! model was trained with.
//!
//! Stages, per window of `window_ms` every `step_ms`:
//!
//! 1. **window**: a Hann window in Q12;
//! 2. **FFT**: a 16-bit fixed-point real FFT (KISS FFT's Q15 arithmetic) of the window
//!    shifted up to use the full 16 bits;
//! 3. **filterbank**: `channels` triangular mel channels between `lower_band_hz` and
//!    `upper_band_hz`, square root of the energy;
//! 4. **noise reduction**: subtraction of a running per-channel noise estimate;
//! 5. **PCAN** gain control: per-channel energy normalisation by that estimate;
//! 6. **log scale**: `ln(x) · 2^scale_shift`, saturated to `u16`.
//!
//! [`FrontendConfig::MICRO_SPEECH`] is `micro_speech`'s setting (16 kHz, 30 ms windows
//! every 20 ms, 40 channels, 125–7 500 Hz): one second of audio gives 49 frames of 40
//! values, which [`micro_speech_input`] turns into the model's 1 960 int8 inputs.
//!
//! [`AudioFrontend`] holds everything (window, FFT tables and buffers, filterbank,
//! noise estimate: about 9 KiB for FFTs up to [`MAX_FFT_SIZE`]); the caller owns it,
//! typically in a `static`. [`wav::Wav`] reads 16-bit PCM WAVE files, e.g. a recorded
//! clip standing in for a microphone.
//!
//! # Example
//!
//! One second of a 1 kHz tone through micro_speech's front end: 49 frames; the mel
//! channel around 1 kHz is the loudest at the onset, and as the noise estimate learns
//! the steady tone, noise reduction lets it fade.
//!
//! ```rust
//! use ioto_core::features::audio::{AudioFrontend, FrontendConfig};
//!
//! let mut audio = [0i16; 16_000];
//! for (n, s) in audio.iter_mut().enumerate() {
//!     let t = n as f32 / 16_000.0;
//!     *s = (8_000.0 * libm::sinf(2.0 * core::f32::consts::PI * 1_000.0 * t)) as i16;
//! }
//! let mut frontend = AudioFrontend::new();
//! frontend.configure(&FrontendConfig::MICRO_SPEECH)?;
//! let mut features = [0u16; 49 * 40];
//! let frames = frontend.features(&audio, &mut features)?;
//! assert_eq!(frames, 49);
//! let first = &features[..40];
//! let loudest = (0..40).max_by_key(|&c| first[c]).unwrap_or(0);
//! assert_eq!(loudest, 12);
//! assert!(features[48 * 40 + 12] < first[12] / 2);
//! # Ok::<(), ioto_core::features::audio::AudioError>(())
//! ```
//!
//! Provenance: the algorithm and its constants follow TensorFlow's micro front end and
//! KISS FFT's fixed-point FFT step by step (both credited in this crate's `NOTICE`);
//! the code was written for this crate.

mod fft;
mod filterbank;
mod gain;
pub mod wav;

use fft::{Cpx, Rfft};
use filterbank::{FILTERBANK_BITS, Filterbank, msb32};
use gain::{NoiseReduction, Pcan};

/// The largest FFT (so the longest window, in samples) an [`AudioFrontend`] holds:
/// 32 ms at 16 kHz.
pub const MAX_FFT_SIZE: usize = 512;
/// The most filterbank channels an [`AudioFrontend`] holds.
pub const MAX_CHANNELS: usize = 64;

/// `Q` bits of the window coefficients (`kFrontendWindowBits`).
const WINDOW_BITS: u32 = 12;

/// Why the front end cannot run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AudioError {
    /// A configuration value is out of range; names the setting.
    InvalidConfig(&'static str),
    /// [`AudioFrontend::configure`] has not succeeded yet.
    NotConfigured,
    /// An output slice has the wrong length.
    LengthMismatch {
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
}

impl core::fmt::Display for AudioError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidConfig(what) => write!(f, "invalid front end setting: {what}"),
            Self::NotConfigured => f.write_str("front end not configured"),
            Self::LengthMismatch { expected, got } => {
                write!(f, "length {got}, expected {expected}")
            }
        }
    }
}

impl core::error::Error for AudioError {}

/// PCAN gain control settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PcanConfig {
    /// Normalisation exponent (0 disables, 1 is full strength).
    pub strength: f32,
    /// Positive value added to the noise estimate in the normaliser.
    pub offset: f32,
    /// Fractional bits of the gain.
    pub gain_bits: u32,
}

/// The front end's settings (the parameters of TensorFlow's `audio_microfrontend`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrontendConfig {
    /// Samples per second of the input.
    pub sample_rate: u32,
    /// Window length in milliseconds.
    pub window_ms: u32,
    /// Step between windows in milliseconds.
    pub step_ms: u32,
    /// Filterbank channels (values per frame), `1..=MAX_CHANNELS`.
    pub channels: usize,
    /// Lowest frequency of the filterbank, Hz.
    pub lower_band_hz: f32,
    /// Highest frequency of the filterbank, Hz.
    pub upper_band_hz: f32,
    /// Bits the signal is scaled up by before noise reduction.
    pub smoothing_bits: u32,
    /// Noise estimate smoothing coefficient of even channels, `0..=1`.
    pub even_smoothing: f32,
    /// Noise estimate smoothing coefficient of odd channels, `0..=1`.
    pub odd_smoothing: f32,
    /// Fraction of the signal kept after noise subtraction, `0..=1`.
    pub min_signal_remaining: f32,
    /// PCAN gain control, or `None` to skip it.
    pub pcan: Option<PcanConfig>,
    /// `Some(scale_shift)`: output `ln(energy) · 2^scale_shift`; `None`: the linear
    /// energy, saturated to `u16`.
    pub log_scale_shift: Option<u32>,
}

impl FrontendConfig {
    /// The setting `micro_speech` (TFLM's yes/no keyword spotter) was trained with.
    pub const MICRO_SPEECH: Self = Self {
        sample_rate: 16_000,
        window_ms: 30,
        step_ms: 20,
        channels: 40,
        lower_band_hz: 125.0,
        upper_band_hz: 7_500.0,
        smoothing_bits: 10,
        even_smoothing: 0.025,
        odd_smoothing: 0.06,
        min_signal_remaining: 0.05,
        pcan: Some(PcanConfig {
            strength: 0.95,
            offset: 80.0,
            gain_bits: 21,
        }),
        log_scale_shift: Some(6),
    };
}

/// What one [`AudioFrontend::process`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Samples taken from the input.
    pub consumed: usize,
    /// Whether a window was completed and its frame written to the output.
    pub frame: bool,
}

/// The front end's state: window, FFT, filterbank, noise estimate and gain tables.
/// Create it with [`AudioFrontend::new`] (a `const fn`, so it can be a `static`),
/// then [`configure`](Self::configure) it.
pub struct AudioFrontend {
    configured: bool,
    window_size: usize,
    step: usize,
    coefficients: [i16; MAX_FFT_SIZE],
    input: [i16; MAX_FFT_SIZE],
    input_used: usize,
    fft: Rfft,
    fft_input: [i16; MAX_FFT_SIZE],
    spectrum: [Cpx; MAX_FFT_SIZE / 2 + 1],
    filterbank: Filterbank,
    channels: usize,
    noise: NoiseReduction,
    pcan: Option<Pcan>,
    log_scale_shift: Option<u32>,
    signal: [u32; MAX_CHANNELS],
}

impl Default for AudioFrontend {
    fn default() -> Self {
        Self::new()
    }
}

impl AudioFrontend {
    /// An unconfigured front end.
    pub const fn new() -> Self {
        Self {
            configured: false,
            window_size: 0,
            step: 0,
            coefficients: [0; MAX_FFT_SIZE],
            input: [0; MAX_FFT_SIZE],
            input_used: 0,
            fft: Rfft::new(),
            fft_input: [0; MAX_FFT_SIZE],
            spectrum: [Cpx { r: 0, i: 0 }; MAX_FFT_SIZE / 2 + 1],
            filterbank: Filterbank::new(),
            channels: 0,
            noise: NoiseReduction::new(),
            pcan: None,
            log_scale_shift: None,
            signal: [0; MAX_CHANNELS],
        }
    }

    /// Builds the tables for `config` and resets the state. On error the front end is
    /// left unconfigured.
    pub fn configure(&mut self, config: &FrontendConfig) -> Result<(), AudioError> {
        self.configured = false;
        let window = config.window_ms as u64 * u64::from(config.sample_rate) / 1000;
        let step = config.step_ms as u64 * u64::from(config.sample_rate) / 1000;
        if !(4..=MAX_FFT_SIZE as u64).contains(&window) {
            return Err(AudioError::InvalidConfig("window length"));
        }
        if step == 0 || step > window {
            return Err(AudioError::InvalidConfig("window step"));
        }
        let (window, step) = (window as usize, step as usize);
        // Hann window in Q12, with the C code's float/double steps.
        let arg = (core::f64::consts::PI * 2.0 / f64::from(window as f32)) as f32;
        for (i, c) in self.coefficients.iter_mut().take(window).enumerate() {
            let value = (0.5 - 0.5 * libm::cos(f64::from(arg) * (i as f64 + 0.5))) as f32;
            *c = libm::floor(f64::from(value * (1u32 << WINDOW_BITS) as f32) + 0.5) as i16;
        }
        let fft_size = window.next_power_of_two();
        self.fft.configure(fft_size)?;
        self.filterbank.configure(
            config.sample_rate,
            fft_size / 2 + 1,
            config.channels,
            config.lower_band_hz,
            config.upper_band_hz,
        )?;
        self.noise.configure(
            config.smoothing_bits,
            config.even_smoothing,
            config.odd_smoothing,
            config.min_signal_remaining,
            config.channels,
        )?;
        self.pcan = match config.pcan {
            Some(p) => {
                let mut pcan = Pcan::new();
                pcan.configure(
                    p.strength,
                    p.offset,
                    p.gain_bits,
                    config.smoothing_bits,
                    self.correction_bits(fft_size),
                )?;
                Some(pcan)
            }
            None => None,
        };
        if config.log_scale_shift.is_some_and(|s| s > 16) {
            return Err(AudioError::InvalidConfig("log scale shift"));
        }
        self.log_scale_shift = config.log_scale_shift;
        self.window_size = window;
        self.step = step;
        self.channels = config.channels;
        self.configured = true;
        self.reset();
        Ok(())
    }

    /// `log2(fft size) − 1 − FILTERBANK_BITS / 2`: the fixed-point scale the
    /// filterbank output carries.
    fn correction_bits(&self, fft_size: usize) -> i32 {
        msb32(fft_size as u32) as i32 - 1 - (FILTERBANK_BITS / 2) as i32
    }

    /// Forgets all audio seen: the partial window and the noise estimate.
    pub fn reset(&mut self) {
        self.input = [0; MAX_FFT_SIZE];
        self.input_used = 0;
        self.filterbank.reset();
        self.noise.reset();
    }

    /// Values per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Samples per window.
    pub fn window_size(&self) -> usize {
        self.window_size
    }

    /// Samples between windows.
    pub fn step(&self) -> usize {
        self.step
    }

    /// Frames that `samples` samples give from a reset front end (TensorFlow's count:
    /// complete windows only).
    pub fn frames_for(&self, samples: usize) -> usize {
        if !self.configured || samples < self.window_size {
            return 0;
        }
        (samples - self.window_size) / self.step + 1
    }

    /// Streams `samples` in: takes samples until a window is complete (or the input
    /// ends). When a window completes, its frame (`channels()` values) is written to
    /// `frame`. Call again with the rest of the input.
    pub fn process(&mut self, samples: &[i16], frame: &mut [u16]) -> Result<Step, AudioError> {
        if !self.configured {
            return Err(AudioError::NotConfigured);
        }
        if frame.len() != self.channels {
            return Err(AudioError::LengthMismatch {
                expected: self.channels,
                got: frame.len(),
            });
        }
        let size = self.window_size;
        let take = (size - self.input_used).min(samples.len());
        self.input[self.input_used..self.input_used + take].copy_from_slice(&samples[..take]);
        self.input_used += take;
        if self.input_used < size {
            return Ok(Step {
                consumed: take,
                frame: false,
            });
        }
        // Window (Q12), tracking the peak to scale the FFT input up to 16 bits.
        let mut max_abs = 0i16;
        for ((o, &x), &c) in self
            .fft_input
            .iter_mut()
            .zip(&self.input[..size])
            .zip(&self.coefficients[..size])
        {
            let v = ((i32::from(x) * i32::from(c)) >> WINDOW_BITS) as i16;
            *o = v;
            max_abs = max_abs.max(if v < 0 { v.wrapping_neg() } else { v });
        }
        self.input.copy_within(self.step..size, 0);
        self.input_used -= self.step;

        let shift = 15 - msb32(max_abs as u32);
        let fft_size = self.fft.size();
        for (i, v) in self.fft_input[..fft_size].iter_mut().enumerate() {
            *v = if i < size {
                (u32::from(*v as u16) << shift) as u16 as i16
            } else {
                0
            };
        }
        self.fft.forward(&self.fft_input, &mut self.spectrum);

        let channels = self.channels;
        let correction_bits = self.correction_bits(fft_size);
        let signal = &mut self.signal[..channels];
        self.filterbank.apply(&self.spectrum, shift, signal);
        self.noise.apply(signal);
        if let Some(pcan) = &self.pcan {
            pcan.apply(signal, &self.noise.estimate[..channels]);
        }
        gain::log_scale(signal, self.log_scale_shift, correction_bits, frame);
        Ok(Step {
            consumed: take,
            frame: true,
        })
    }

    /// Resets, then runs a whole clip: frame after frame into `out`, which must hold
    /// exactly [`frames_for`](Self::frames_for)`(audio.len()) × channels()` values.
    /// Returns the number of frames. This is what TensorFlow's op computes.
    pub fn features(&mut self, audio: &[i16], out: &mut [u16]) -> Result<usize, AudioError> {
        if !self.configured {
            return Err(AudioError::NotConfigured);
        }
        let expected = self.frames_for(audio.len()) * self.channels;
        if out.len() != expected {
            return Err(AudioError::LengthMismatch {
                expected,
                got: out.len(),
            });
        }
        self.features_from(audio.iter().copied(), out)
    }

    /// Resets, then streams `samples` (e.g. [`wav::Wav::samples`], without copying a
    /// clip into RAM) frame after frame into `out` until `out` is full or the samples
    /// end. `out` must hold a whole number of frames. Returns the frames written.
    pub fn features_from(
        &mut self,
        samples: impl IntoIterator<Item = i16>,
        out: &mut [u16],
    ) -> Result<usize, AudioError> {
        if !self.configured {
            return Err(AudioError::NotConfigured);
        }
        let channels = self.channels;
        if !out.len().is_multiple_of(channels) {
            return Err(AudioError::LengthMismatch {
                expected: out.len() / channels * channels,
                got: out.len(),
            });
        }
        self.reset();
        let mut samples = samples.into_iter();
        let mut chunk = [0i16; 64];
        let (capacity, mut written) = (out.len() / channels, 0);
        while written < capacity {
            let mut n = 0;
            for (c, s) in chunk.iter_mut().zip(&mut samples) {
                *c = s;
                n += 1;
            }
            if n == 0 {
                break;
            }
            let mut rest = &chunk[..n];
            while !rest.is_empty() && written < capacity {
                let frame = &mut out[written * channels..(written + 1) * channels];
                let step = self.process(rest, frame)?;
                rest = &rest[step.consumed..];
                written += usize::from(step.frame);
            }
        }
        Ok(written)
    }
}

/// The labels of micro_speech's four outputs, in order.
pub const MICRO_SPEECH_LABELS: [&str; 4] = ["silence", "unknown", "yes", "no"];

/// micro_speech's input quantisation of one front end value (TFLM's
/// `micro_features_generator`): `round(v · 256 / 666) − 128`, clamped to `i8`.
pub fn micro_speech_value(v: u16) -> i8 {
    ((i32::from(v) * 256 + 333) / 666 - 128).clamp(-128, 127) as i8
}

/// Quantises front end values into micro_speech's int8 input ([`micro_speech_value`]
/// of each); `out` must be as long as `features`.
pub fn micro_speech_input(features: &[u16], out: &mut [i8]) -> Result<(), AudioError> {
    if out.len() != features.len() {
        return Err(AudioError::LengthMismatch {
            expected: features.len(),
            got: out.len(),
        });
    }
    for (o, &v) in out.iter_mut().zip(features) {
        *o = micro_speech_value(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
