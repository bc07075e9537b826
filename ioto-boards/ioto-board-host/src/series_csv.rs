//! Reading a time series from CSV (the NAB layout: a header, then `timestamp,value`
//! rows), row by row, with errors that name the line.
//!
//! ```
//! use ioto_board_host::series_csv::SeriesReader;
//!
//! let csv = "timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,2\n";
//! let mut rows = SeriesReader::new(csv.as_bytes(), "value").unwrap();
//! let first = rows.next().unwrap().unwrap();
//! assert_eq!((first.line, first.value), (2, 1.5));
//! assert_eq!(first.micros, 1_396_310_400_000_000);
//! let bad = "timestamp,value\n2014-04-01 00:00:00,abc\n";
//! let err = SeriesReader::new(bad.as_bytes(), "value").unwrap().next().unwrap().unwrap_err();
//! assert_eq!(err.to_string(), "line 2: `abc` in column `value` is not a number");
//! ```

use std::io::BufRead;

/// What is wrong with the CSV, and where.
#[derive(Debug, PartialEq, Eq)]
pub enum CsvError {
    /// The input could not be read.
    Io(String),
    /// No header line.
    Empty,
    /// The header has no column of this name.
    MissingColumn {
        /// The column asked for.
        column: String,
        /// The header as read.
        header: String,
    },
    /// The header has no `timestamp` column.
    MissingTimestamp,
    /// A row has fewer fields than the header needs.
    ShortRow {
        /// 1-based line number.
        line: usize,
    },
    /// A value is not a finite number.
    NotANumber {
        /// 1-based line number.
        line: usize,
        /// The column.
        column: String,
        /// The text found.
        text: String,
    },
    /// A timestamp is neither `YYYY-MM-DD HH:MM:SS[.ffffff]` nor a number of seconds.
    BadTimestamp {
        /// 1-based line number.
        line: usize,
        /// The text found.
        text: String,
    },
}

impl core::fmt::Display for CsvError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read the CSV: {e}"),
            Self::Empty => f.write_str("line 1: empty input, expected a header"),
            Self::MissingColumn { column, header } => {
                write!(f, "line 1: no column `{column}` in header `{header}`")
            }
            Self::MissingTimestamp => f.write_str("line 1: no column `timestamp` in the header"),
            Self::ShortRow { line } => write!(f, "line {line}: too few fields"),
            Self::NotANumber { line, column, text } => {
                write!(
                    f,
                    "line {line}: `{text}` in column `{column}` is not a number"
                )
            }
            Self::BadTimestamp { line, text } => write!(
                f,
                "line {line}: timestamp `{text}` is neither `YYYY-MM-DD HH:MM:SS` nor seconds"
            ),
        }
    }
}

impl std::error::Error for CsvError {}

/// One row of the series.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// 1-based line number in the file.
    pub line: usize,
    /// The timestamp as written.
    pub timestamp: String,
    /// The timestamp in microseconds since the Unix epoch (UTC).
    pub micros: u64,
    /// The value as written.
    pub value_text: String,
    /// The value.
    pub value: f32,
}

/// Rows of a CSV series, read lazily.
pub struct SeriesReader<R> {
    lines: std::io::Lines<R>,
    line: usize,
    ts_col: usize,
    val_col: usize,
    column: String,
}

impl<R: BufRead> SeriesReader<R> {
    /// Reads the header; `column` names the value column.
    pub fn new(input: R, column: &str) -> Result<Self, CsvError> {
        let mut lines = input.lines();
        let header = match lines.next() {
            None => return Err(CsvError::Empty),
            Some(h) => h.map_err(|e| CsvError::Io(e.to_string()))?,
        };
        let names: Vec<&str> = header
            .trim_end_matches('\r')
            .split(',')
            .map(str::trim)
            .collect();
        let ts_col = names
            .iter()
            .position(|n| *n == "timestamp")
            .ok_or(CsvError::MissingTimestamp)?;
        let val_col =
            names
                .iter()
                .position(|n| *n == column)
                .ok_or_else(|| CsvError::MissingColumn {
                    column: column.to_string(),
                    header: header.clone(),
                })?;
        Ok(Self {
            lines,
            line: 1,
            ts_col,
            val_col,
            column: column.to_string(),
        })
    }

    fn row(&self, text: &str) -> Result<Row, CsvError> {
        let line = self.line;
        let fields: Vec<&str> = text.trim_end_matches('\r').split(',').collect();
        let (Some(ts), Some(v)) = (fields.get(self.ts_col), fields.get(self.val_col)) else {
            return Err(CsvError::ShortRow { line });
        };
        let (ts, v) = (ts.trim(), v.trim());
        let value = v
            .parse::<f32>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| CsvError::NotANumber {
                line,
                column: self.column.clone(),
                text: v.to_string(),
            })?;
        let micros = parse_timestamp(ts).ok_or_else(|| CsvError::BadTimestamp {
            line,
            text: ts.to_string(),
        })?;
        Ok(Row {
            line,
            timestamp: ts.to_string(),
            micros,
            value_text: v.to_string(),
            value,
        })
    }
}

impl<R: BufRead> Iterator for SeriesReader<R> {
    type Item = Result<Row, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = match self.lines.next()? {
                Ok(t) => t,
                Err(e) => return Some(Err(CsvError::Io(e.to_string()))),
            };
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            return Some(self.row(&text));
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with a `T`) as UTC, or plain seconds, in
/// microseconds since the Unix epoch.
pub fn parse_timestamp(s: &str) -> Option<u64> {
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then_some((secs * 1e6) as u64);
    }
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut frac = 0u64;
    if b.len() > 19 {
        let f = s.get(20..)?;
        if b[19] != b'.' || f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let digits = &f[..f.len().min(6)];
        frac = digits.parse::<u64>().ok()? * 10u64.pow(6 - digits.len() as u32);
    }
    let days = days_from_civil(y as i64, mo as i64, d as i64);
    let secs = days.checked_mul(86_400)? + (h * 3600 + mi * 60 + sec) as i64;
    u64::try_from(secs).ok().map(|s| s * 1_000_000 + frac)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rows(csv: &str, col: &str) -> Result<Vec<Row>, CsvError> {
        SeriesReader::new(csv.as_bytes(), col)?.collect()
    }

    #[test]
    fn timestamps() {
        // `date -u -d '2014-04-01 00:00:00' +%s` = 1396310400
        assert_eq!(
            parse_timestamp("2014-04-01 00:00:00"),
            Some(1_396_310_400_000_000)
        );
        // `date -u -d '2000-02-29 23:59:59' +%s` = 951868799
        assert_eq!(
            parse_timestamp("2000-02-29T23:59:59.5"),
            Some(951_868_799_500_000)
        );
        assert_eq!(parse_timestamp("1700000000"), Some(1_700_000_000_000_000));
        for bad in [
            "2014-13-01 00:00:00",
            "2014-04-01",
            "yesterday",
            "2014-04-01 00:00:00x",
            "-5",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(rows("", "value").unwrap_err(), CsvError::Empty);
        assert!(matches!(
            rows("timestamp,v\n", "value").unwrap_err(),
            CsvError::MissingColumn { .. }
        ));
        assert_eq!(
            rows("time,value\n", "value").unwrap_err(),
            CsvError::MissingTimestamp
        );
        let csv = "timestamp,value\n2014-04-01 00:00:00,1\n\n2014-04-01 00:05:00\n";
        assert_eq!(
            rows(csv, "value").unwrap_err(),
            CsvError::ShortRow { line: 4 }
        );
        let csv = "timestamp,value\n2014-04-01 00:00:00,nan\n";
        assert!(matches!(
            rows(csv, "value").unwrap_err(),
            CsvError::NotANumber { line: 2, .. }
        ));
        let csv = "timestamp,value\nnoon,1\n";
        assert!(matches!(
            rows(csv, "value").unwrap_err(),
            CsvError::BadTimestamp { line: 2, .. }
        ));
    }

    #[test]
    fn other_value_column() {
        let csv = "x,timestamp,temp\r\n1,10,21.5\r\n2,20,22\r\n";
        let r = rows(csv, "temp").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[1].line, r[1].micros, r[1].value), (3, 20_000_000, 22.0));
    }
}
