//! Fixed-length analysis windows over a sample stream, in caller-owned memory.
//!
//! A [`Window`] is a ring buffer of `[f32; N]` rows the caller provides (a `static`,
//! a stack array). Push samples into it; once it holds a full window it reports
//! ready and [`Window::take`] hands out a [`WindowView`], oldest sample first. The
//! next window is ready after `hop` more samples: `hop == len` gives back-to-back
//! windows, a smaller hop overlapping ones (`hop = len / 2` for 50 % overlap).
//!
//! The window is pure state; [`fill_window`] is the I/O loop that paces reads of a
//! [`Sensor`] at the window's rate with a [`Clock`] and a [`DelayNs`], and
//! [`fill_window_back_to_back`] the one for sensors whose `read` already waits for
//! fresh data.
//!
//! ```rust
//! use ioto_core::sensor::{Sample, Window};
//! use ioto_core::Instant;
//!
//! let mut rows = [[0.0f32; 2]; 4];
//! let mut window = Window::new(&mut rows, 100.0).unwrap().with_hop(2).unwrap();
//! for i in 0..4u64 {
//!     window.push(Sample::new(Instant(i * 10_000), [i as f32, -(i as f32)]));
//! }
//! let view = window.take().unwrap();
//! assert_eq!(view.samples()[0], [0.0, -0.0]);
//! assert_eq!(view.channel(1).unwrap().sum::<f32>(), -6.0);
//! // Two more samples make the next (overlapping) window.
//! window.push(Sample::new(Instant(40_000), [4.0, -4.0]));
//! assert!(!window.is_ready());
//! window.push(Sample::new(Instant(50_000), [5.0, -5.0]));
//! assert_eq!(window.take().unwrap().samples()[0], [2.0, -2.0]);
//! ```

use embedded_hal_async::delay::DelayNs;

use super::contract::{Sample, Sensor};
use crate::time::{Clock, Instant};

/// Reads `sensor` into `window` until a window is ready, one read every
/// `1 / window.sample_rate_hz()` seconds, and returns it.
///
/// Reads are scheduled on `clock` (no drift from the time the reads themselves
/// take); when a read comes back late the schedule restarts from it rather than
/// bursting to catch up. Samples already in the window (the overlap) are kept.
///
/// # Errors
///
/// The sensor's error, as soon as a read fails; the samples read so far stay in the
/// window, so calling again resumes.
pub async fn fill_window<'w, S, C, D, const N: usize>(
    sensor: &mut S,
    clock: &C,
    delay: &mut D,
    window: &'w mut Window<'_, N>,
) -> Result<WindowView<'w, N>, S::Error>
where
    S: Sensor<N> + ?Sized,
    C: Clock + ?Sized,
    D: DelayNs + ?Sized,
{
    let period = window.period_us();
    let mut due: Option<Instant> = None;
    while !window.is_ready() {
        let now = clock.now();
        let slot = match due {
            Some(due) if now < due => {
                let wait = u32::try_from(due.micros_since(now)).unwrap_or(u32::MAX);
                delay.delay_us(wait).await;
                due
            }
            _ => now,
        };
        window.push(sensor.read().await?);
        due = Some(Instant(slot.0.saturating_add(period)));
    }
    Ok(window.view_and_rearm())
}

/// Reads `sensor` back to back into `window` until a window is ready, and returns it.
///
/// For sensors whose `read` itself waits for fresh data (a FIFO, a data-ready
/// interrupt) and for simulated sensors; reading a free-running chip this way
/// returns repeated samples.
///
/// # Errors
///
/// The sensor's error, as soon as a read fails; the samples read so far stay.
pub async fn fill_window_back_to_back<'w, S, const N: usize>(
    sensor: &mut S,
    window: &'w mut Window<'_, N>,
) -> Result<WindowView<'w, N>, S::Error>
where
    S: Sensor<N> + ?Sized,
{
    while !window.is_ready() {
        window.push(sensor.read().await?);
    }
    Ok(window.view_and_rearm())
}

/// A ring buffer collecting samples of `N` channels into fixed-length windows.
#[derive(Debug)]
pub struct Window<'a, const N: usize> {
    rows: &'a mut [[f32; N]],
    sample_rate_hz: f32,
    hop: usize,
    /// Rows holding samples (≤ `rows.len()`).
    filled: usize,
    /// Ring index the next sample is written to; the oldest row once full.
    next: usize,
    /// Samples still to push before the next window is ready.
    needed: usize,
    last_at: Instant,
    taken: u64,
}

impl<'a, const N: usize> Window<'a, N> {
    /// A window of `rows.len()` samples at `sample_rate_hz`, not overlapping
    /// (hop = length).
    ///
    /// # Errors
    ///
    /// [`WindowError::Empty`] for no rows (or `N == 0`), [`WindowError::BadSampleRate`]
    /// for a rate that is not finite and positive.
    pub fn new(rows: &'a mut [[f32; N]], sample_rate_hz: f32) -> Result<Self, WindowError> {
        if rows.is_empty() || N == 0 {
            return Err(WindowError::Empty);
        }
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(WindowError::BadSampleRate);
        }
        let len = rows.len();
        Ok(Self {
            rows,
            sample_rate_hz,
            hop: len,
            filled: 0,
            next: 0,
            needed: len,
            last_at: Instant(0),
            taken: 0,
        })
    }

    /// The same window, with a new one ready every `hop` samples after the first
    /// (`hop < len` overlaps consecutive windows by `len - hop` samples).
    ///
    /// # Errors
    ///
    /// [`WindowError::BadHop`] unless `1 <= hop <= len`.
    pub fn with_hop(mut self, hop: usize) -> Result<Self, WindowError> {
        if hop == 0 || hop > self.rows.len() {
            return Err(WindowError::BadHop {
                hop,
                len: self.rows.len(),
            });
        }
        self.hop = hop;
        Ok(self)
    }

    /// Samples per window.
    pub fn size(&self) -> usize {
        self.rows.len()
    }

    /// Samples between the starts of consecutive windows.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// The rate samples are pushed at, in hertz.
    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// The time one window spans, in microseconds (`size / rate`).
    pub fn duration_us(&self) -> u64 {
        (self.rows.len() as f64 * 1e6 / f64::from(self.sample_rate_hz)) as u64
    }

    /// Samples held so far (the window size once full).
    pub fn filled(&self) -> usize {
        self.filled
    }

    /// Whether a window is ready to [`take`](Self::take).
    pub fn is_ready(&self) -> bool {
        self.needed == 0
    }

    /// Windows taken so far.
    pub fn windows_taken(&self) -> u64 {
        self.taken
    }

    /// Adds one sample, overwriting the oldest once full; returns whether a window
    /// is now ready. A window not taken before the next is due is skipped: the
    /// buffer always holds the newest `size` samples.
    pub fn push(&mut self, sample: Sample<N>) -> bool {
        let len = self.rows.len();
        if let Some(row) = self.rows.get_mut(self.next) {
            *row = sample.values;
        }
        self.next = if self.next + 1 == len {
            0
        } else {
            self.next + 1
        };
        self.filled = (self.filled + 1).min(len);
        self.needed = self.needed.saturating_sub(1);
        self.last_at = sample.at;
        self.is_ready()
    }

    /// The ready window, oldest sample first, or `None` if not ready yet. Taking it
    /// starts counting `hop` samples towards the next one.
    pub fn take(&mut self) -> Option<WindowView<'_, N>> {
        if self.is_ready() {
            Some(self.view_and_rearm())
        } else {
            None
        }
    }

    /// Empties the window; the next one is ready after `size` samples.
    pub fn clear(&mut self) {
        self.filled = 0;
        self.next = 0;
        self.needed = self.rows.len();
    }

    /// Rotates the ring so the oldest row is first, then hands out the rows.
    fn view_and_rearm(&mut self) -> WindowView<'_, N> {
        self.rows.rotate_left(self.next);
        self.next = 0;
        self.needed = self.hop;
        let sequence = self.taken;
        self.taken += 1;
        WindowView {
            rows: &self.rows[..self.filled],
            sample_rate_hz: self.sample_rate_hz,
            ended_at: self.last_at,
            sequence,
        }
    }

    fn period_us(&self) -> u64 {
        ((1e6 / f64::from(self.sample_rate_hz)) as u64).max(1)
    }
}

/// One full window of samples, oldest first.
#[derive(Clone, Copy, Debug)]
pub struct WindowView<'w, const N: usize> {
    rows: &'w [[f32; N]],
    sample_rate_hz: f32,
    ended_at: Instant,
    sequence: u64,
}

impl<'w, const N: usize> WindowView<'w, N> {
    /// The samples, oldest first, one row of `N` channel values each.
    pub fn samples(&self) -> &'w [[f32; N]] {
        self.rows
    }

    /// The values of channel `channel`, oldest first.
    ///
    /// # Errors
    ///
    /// [`WindowError::NoSuchChannel`] if `channel >= N`.
    pub fn channel(
        &self,
        channel: usize,
    ) -> Result<impl Iterator<Item = f32> + use<'w, N>, WindowError> {
        if channel >= N {
            return Err(WindowError::NoSuchChannel { channel });
        }
        Ok(self
            .rows
            .iter()
            .map(move |row| row.get(channel).copied().unwrap_or(0.0)))
    }

    /// Copies channel `channel` into `out` (for an FFT), oldest first; returns how
    /// many values were copied (the shorter of the window and `out`).
    ///
    /// # Errors
    ///
    /// [`WindowError::NoSuchChannel`] if `channel >= N`.
    pub fn copy_channel(&self, channel: usize, out: &mut [f32]) -> Result<usize, WindowError> {
        let mut copied = 0;
        for (dst, v) in out.iter_mut().zip(self.channel(channel)?) {
            *dst = v;
            copied += 1;
        }
        Ok(copied)
    }

    /// Samples in the window.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the window holds no samples (never, for a window from [`Window`]).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rate the samples were taken at, in hertz.
    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// When the newest sample was taken.
    pub fn ended_at(&self) -> Instant {
        self.ended_at
    }

    /// When the oldest sample was taken, estimated from the newest and the rate.
    pub fn started_at(&self) -> Instant {
        let span = (self.rows.len().saturating_sub(1) as f64 * 1e6 / f64::from(self.sample_rate_hz))
            as u64;
        Instant(self.ended_at.0.saturating_sub(span))
    }

    /// This window's number: 0 for the first window taken, then 1, 2, …
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
}

/// A window that cannot be built or read as asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WindowError {
    /// No rows to hold samples, or samples of zero channels.
    Empty,
    /// The sample rate is not a finite, positive number of hertz.
    BadSampleRate,
    /// The hop is zero or longer than the window.
    BadHop {
        /// The hop asked for.
        hop: usize,
        /// The window's length.
        len: usize,
    },
    /// The channel index is not below `N`.
    NoSuchChannel {
        /// The channel asked for.
        channel: usize,
    },
}

impl core::fmt::Display for WindowError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Empty => f.write_str("window has no rows or no channels"),
            Self::BadSampleRate => f.write_str("sample rate must be finite and positive"),
            Self::BadHop { hop, len } => write!(f, "hop {hop} not in 1..={len}"),
            Self::NoSuchChannel { channel } => write!(f, "no channel {channel}"),
        }
    }
}

impl core::error::Error for WindowError {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;

    use core::cell::Cell;

    use super::*;
    use crate::sensor::{Channel, ErrorKind, Unit};

    fn s(i: u64) -> Sample<1> {
        Sample::new(Instant(i), [i as f32])
    }

    #[test]
    fn first_window_after_size_samples_then_every_hop() {
        let mut rows = [[0.0; 1]; 4];
        let mut w = Window::new(&mut rows, 10.0).unwrap().with_hop(3).unwrap();
        assert!(!w.push(s(0)) && !w.push(s(1)) && !w.push(s(2)));
        assert!(w.take().is_none());
        assert!(w.push(s(3)));
        let v = w.take().unwrap();
        assert_eq!(v.samples(), &[[0.0], [1.0], [2.0], [3.0]]);
        assert_eq!((v.sequence(), v.ended_at(), v.len()), (0, Instant(3), 4));
        assert!(!w.is_ready());
        for i in 4..7 {
            w.push(s(i));
        }
        let v = w.take().unwrap();
        assert_eq!(v.samples(), &[[3.0], [4.0], [5.0], [6.0]]);
        assert_eq!(v.sequence(), 1);
        assert_eq!(w.windows_taken(), 2);
    }

    #[test]
    fn an_untaken_window_keeps_the_newest_samples() {
        let mut rows = [[0.0; 1]; 3];
        let mut w = Window::new(&mut rows, 1.0).unwrap();
        for i in 0..8 {
            w.push(s(i));
        }
        assert_eq!(w.filled(), 3);
        assert_eq!(w.take().unwrap().samples(), &[[5.0], [6.0], [7.0]]);
        w.clear();
        assert_eq!(w.filled(), 0);
        assert!(!w.push(s(9)));
    }

    #[test]
    fn bad_shapes_are_typed_errors() {
        let mut none: [[f32; 2]; 0] = [];
        assert_eq!(Window::new(&mut none, 1.0).unwrap_err(), WindowError::Empty);
        let mut rows = [[0.0; 2]; 4];
        for rate in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert_eq!(
                Window::new(&mut rows, rate).unwrap_err(),
                WindowError::BadSampleRate
            );
        }
        for hop in [0, 5] {
            let err = Window::new(&mut rows, 1.0)
                .unwrap()
                .with_hop(hop)
                .unwrap_err();
            assert_eq!(err, WindowError::BadHop { hop, len: 4 });
        }
        let mut w = Window::new(&mut rows, 1.0).unwrap();
        for i in 0..4 {
            w.push(Sample::new(Instant(i), [1.0, 2.0]));
        }
        let v = w.take().unwrap();
        assert!(matches!(
            v.channel(2),
            Err(WindowError::NoSuchChannel { channel: 2 })
        ));
        let mut out = [0.0; 3];
        assert_eq!(v.copy_channel(1, &mut out), Ok(3));
        assert_eq!(out, [2.0; 3]);
    }

    #[test]
    fn timing_of_a_window() {
        let mut rows = [[0.0; 1]; 100];
        let mut w = Window::new(&mut rows, 400.0).unwrap();
        assert_eq!(w.duration_us(), 250_000);
        for i in 0..100 {
            w.push(Sample::new(Instant(1_000_000 + i * 2_500), [0.0]));
        }
        let v = w.take().unwrap();
        assert_eq!(v.ended_at(), Instant(1_247_500));
        assert_eq!(v.started_at(), Instant(1_000_000));
        assert_eq!(v.sample_rate_hz(), 400.0);
    }

    /// A clock the delay moves forward, and a sensor that takes 300 µs to read.
    struct FakeTime(Cell<u64>);
    impl Clock for &FakeTime {
        fn now(&self) -> Instant {
            Instant(self.0.get())
        }
    }
    struct FakeDelay<'a>(&'a FakeTime, std::vec::Vec<u32>);
    impl DelayNs for FakeDelay<'_> {
        async fn delay_ns(&mut self, ns: u32) {
            self.1.push(ns / 1_000);
            self.0.0.set(self.0.0.get() + u64::from(ns / 1_000));
        }
    }
    struct Slow<'a>(&'a FakeTime, u32);
    impl Sensor<1> for Slow<'_> {
        type Error = ErrorKind;
        async fn read(&mut self) -> Result<Sample<1>, ErrorKind> {
            self.1 += 1;
            if self.1 == 7 {
                return Err(ErrorKind::Bus);
            }
            let t = self.0.0.get() + 300;
            self.0.0.set(t);
            Ok(Sample::new(Instant(t), [self.1 as f32]))
        }
        fn sample_rate_hz(&self) -> f32 {
            1_000.0
        }
        fn channels(&self) -> [Channel; 1] {
            [Channel::new("n", Unit::Dimensionless)]
        }
    }
    #[test]
    fn fill_window_paces_reads_on_the_clock() {
        let time = FakeTime(Cell::new(5_000));
        let mut delay = FakeDelay(&time, std::vec::Vec::new());
        let mut sensor = Slow(&time, 0);
        let mut rows = [[0.0; 1]; 4];
        let mut w = Window::new(&mut rows, 1_000.0).unwrap();
        let v = embassy_futures::block_on(fill_window(&mut sensor, &&time, &mut delay, &mut w))
            .unwrap();
        // Reads start at 5000, 6000, 7000, 8000 µs: 700 µs of waiting between them.
        assert_eq!(v.samples(), &[[1.0], [2.0], [3.0], [4.0]]);
        assert_eq!(v.ended_at(), Instant(8_300));
        assert_eq!(delay.1, [700, 700, 700]);
        // The 7th read fails; the 5th and 6th stay in the window.
        let err = embassy_futures::block_on(fill_window(&mut sensor, &&time, &mut delay, &mut w))
            .unwrap_err();
        assert_eq!(err, ErrorKind::Bus);
        assert_eq!(w.filled(), 4);
        let v = embassy_futures::block_on(fill_window_back_to_back(&mut sensor, &mut w)).unwrap();
        assert_eq!(v.samples(), &[[5.0], [6.0], [8.0], [9.0]]);
    }
}
