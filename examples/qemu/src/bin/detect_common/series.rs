//! The recorded NAB series the `detect` suite and `bench_detect` run the detectors
//! over (`fixtures/detect/series.f32`), read as the host's golden generator reads it.

/// The recorded series: f32 little-endian, one value every 5 minutes.
pub static SERIES: &[u8] = include_bytes!("../../../fixtures/detect/series.f32");

/// Time between two samples, as on the host: 5 minutes in microseconds.
pub const STEP_MICROS: u64 = 300_000_000;

/// The window of the model detector: ad01's 640 inputs.
pub const WINDOW: usize = 640;

/// Sample `i` of a little-endian f32 file.
pub fn f32_at(bytes: &[u8], i: usize) -> f32 {
    let b = &bytes[4 * i..4 * i + 4];
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
