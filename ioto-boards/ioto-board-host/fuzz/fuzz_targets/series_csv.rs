//! Fuzzes the CSV reader of `ioto-host detect` (`series_csv::SeriesReader`): any
//! bytes as the file, read row by row for the `value` column. Every row is a value
//! or an error naming its line; accepted values are finite, line numbers increase,
//! and an accepted timestamp parses again to the same microseconds.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/series_csv.rs"]
mod series_csv;

use libfuzzer_sys::fuzz_target;
use series_csv::{CsvError, SeriesReader, parse_timestamp};

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = SeriesReader::new(data, "value") else {
        return;
    };
    let mut last_line = 1;
    for row in rows {
        match row {
            Ok(r) => {
                assert!(r.line > last_line);
                last_line = r.line;
                assert!(r.value.is_finite());
                assert_eq!(parse_timestamp(&r.timestamp), Some(r.micros));
                assert_eq!(r.value_text.parse::<f32>().ok(), Some(r.value));
            }
            Err(CsvError::Io(_)) => break,
            Err(
                CsvError::ShortRow { line }
                | CsvError::NotANumber { line, .. }
                | CsvError::BadTimestamp { line, .. },
            ) => {
                assert!(line > last_line);
                last_line = line;
            }
            Err(e) => panic!("a header error after the header: {e}"),
        }
    }
});
