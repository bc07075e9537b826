//! Recorded accelerometer series for the gateway: `--record FILE.csv` writes what the
//! sensor delivered, `--replay FILE.csv` feeds a recording to the agent instead of
//! the simulated machine (a [`Sensor`] like any other).
//!
//! The format is CSV with a header `x_g,y_g,z_g` and one sample per line (g), at
//! the rate given with the recording (400 Hz for the LIS3DH default). Errors name
//! the line.

use std::fmt::Write as _;
use std::path::Path;

use ioto_core::Instant;
use ioto_core::sensor::{Channel, ErrorKind, Sample, Sensor, Unit};

/// The header line of a recording.
pub const HEADER: &str = "x_g,y_g,z_g";

/// Why a recording could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The file could not be read.
    Io(String),
    /// The first line is not [`HEADER`].
    Header(String),
    /// Line `line` is not three finite numbers.
    Row {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// No samples.
    Empty,
}

impl core::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReplayError::Io(e) => write!(f, "reading the recording: {e}"),
            ReplayError::Header(h) => write!(f, "line 1: expected header `{HEADER}`, found `{h}`"),
            ReplayError::Row { line, why } => write!(f, "line {line}: {why}"),
            ReplayError::Empty => f.write_str("the recording has no samples"),
        }
    }
}

impl std::error::Error for ReplayError {}

/// Parses a recording.
pub fn parse(text: &str) -> Result<Vec<[f32; 3]>, ReplayError> {
    let mut lines = text.lines();
    let head = lines.next().unwrap_or("").trim();
    if head != HEADER {
        return Err(ReplayError::Header(head.chars().take(64).collect()));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        let mut row = [0.0f32; 3];
        let mut fields = line.split(',');
        for (k, slot) in row.iter_mut().enumerate() {
            let field = fields.next().ok_or_else(|| ReplayError::Row {
                line: line_no,
                why: format!("expected 3 values, found {k}"),
            })?;
            let v: f32 = field.trim().parse().map_err(|_| ReplayError::Row {
                line: line_no,
                why: format!(
                    "`{}` is not a number",
                    field.trim().chars().take(32).collect::<String>()
                ),
            })?;
            if !v.is_finite() {
                return Err(ReplayError::Row {
                    line: line_no,
                    why: "value is not finite".into(),
                });
            }
            *slot = v;
        }
        if fields.next().is_some() {
            return Err(ReplayError::Row {
                line: line_no,
                why: "more than 3 values".into(),
            });
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ReplayError::Empty);
    }
    Ok(rows)
}

/// Reads a recording file.
pub fn read(path: &Path) -> Result<Vec<[f32; 3]>, ReplayError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReplayError::Io(e.to_string()))?;
    parse(&text)
}

/// Writes `rows` as a recording.
pub fn write(path: &Path, rows: &[[f32; 3]]) -> std::io::Result<()> {
    let mut out = String::with_capacity(rows.len() * 24 + 16);
    out.push_str(HEADER);
    out.push('\n');
    for r in rows {
        // `{}` prints the shortest text that reads back to the same f32.
        let _ = writeln!(out, "{},{},{}", r[0], r[1], r[2]);
    }
    std::fs::write(path, out)
}

/// A recording as a 3-axis accelerometer: one row per read, timestamped at
/// `sample_rate_hz`; at the end every read fails with [`ErrorKind::NotReady`].
#[derive(Debug)]
pub struct ReplaySensor {
    rows: Vec<[f32; 3]>,
    next: usize,
    period_us: f64,
}

impl ReplaySensor {
    /// Replays `rows` at `sample_rate_hz`.
    pub fn new(rows: Vec<[f32; 3]>, sample_rate_hz: f32) -> Self {
        Self {
            rows,
            next: 0,
            period_us: 1e6 / f64::from(sample_rate_hz.max(f32::MIN_POSITIVE)),
        }
    }

    /// Samples in the recording.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True for an empty recording.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

const CHANNELS: [Channel; 3] = [
    Channel::new("x", Unit::StandardGravity),
    Channel::new("y", Unit::StandardGravity),
    Channel::new("z", Unit::StandardGravity),
];

impl Sensor<3> for ReplaySensor {
    type Error = ErrorKind;

    async fn read(&mut self) -> Result<Sample<3>, ErrorKind> {
        let row = *self.rows.get(self.next).ok_or(ErrorKind::NotReady)?;
        let at = Instant((self.next as f64 * self.period_us) as u64);
        self.next += 1;
        Ok(Sample::new(at, row))
    }

    fn sample_rate_hz(&self) -> f32 {
        (1e6 / self.period_us) as f32
    }

    fn channels(&self) -> [Channel; 3] {
        CHANNELS
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly_and_names_bad_lines() {
        let rows = vec![[0.1f32, -0.25, 1.0], [1e-7, 3.5, -0.999_999_9]];
        let dir = std::env::temp_dir().join(format!("ioto-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("r.csv");
        write(&f, &rows).unwrap();
        assert_eq!(read(&f).unwrap(), rows);
        let _ = std::fs::remove_dir_all(&dir);

        assert_eq!(parse("a,b\n1,2,3"), Err(ReplayError::Header("a,b".into())));
        assert_eq!(parse(HEADER), Err(ReplayError::Empty));
        let bad = parse("x_g,y_g,z_g\n1,2,3\n1,2\n");
        assert!(
            matches!(bad, Err(ReplayError::Row { line: 3, .. })),
            "{bad:?}"
        );
        let bad = parse("x_g,y_g,z_g\n1,2,nan\n");
        assert!(
            matches!(bad, Err(ReplayError::Row { line: 2, .. })),
            "{bad:?}"
        );
        let bad = parse("x_g,y_g,z_g\n1,2,3,4\n");
        assert!(
            matches!(bad, Err(ReplayError::Row { line: 2, .. })),
            "{bad:?}"
        );
    }

    #[test]
    fn replays_rows_in_order_then_reports_the_end() {
        let mut s = ReplaySensor::new(vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 400.0);
        embassy_futures::block_on(async {
            let a = s.read().await.unwrap();
            let b = s.read().await.unwrap();
            assert_eq!((a.at, a.values), (Instant(0), [1.0, 2.0, 3.0]));
            assert_eq!((b.at, b.values), (Instant(2_500), [4.0, 5.0, 6.0]));
            assert_eq!(s.read().await.err(), Some(ErrorKind::NotReady));
        });
    }
}
