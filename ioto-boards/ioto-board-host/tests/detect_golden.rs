//! Golden anomaly scores for the on-target `detect` suite (`examples/qemu`).
//!
//! The firmware runs every detector over `examples/qemu/fixtures/detect/series.f32` and
//! compares each score, bit for bit, with the `scores-<detector>.f32` files committed
//! next to it. This test recomputes those files on the host with the same library code
//! (and the same `Instant`s: one row every 5 minutes) and asserts that they are still
//! what is committed, so a change in a detector's arithmetic cannot silently leave the
//! firmware comparing against stale numbers.
//!
//! `IOTO_WRITE_GOLDEN=1 cargo test -p ioto-board-host --test detect_golden` rewrites
//! the series (from the NAB CSV) and the three score files instead.
#![allow(clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use ioto_board_host::detectors::{self, DetectorName};
use ioto_board_host::series_csv::SeriesReader;
use ioto_core::Instant;

/// The NAB series the fixture is cut from (under `data/nab/data/`).
const SOURCE: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
/// First data row of the slice (0-based, header not counted): the labelled window
/// starts at row 1 526, so the slice begins early enough to learn before it.
const FIRST_ROW: usize = 500;
/// Rows in the slice.
const ROWS: usize = 1_500;
/// Time between two rows on target: 5 minutes, in microseconds.
const STEP_MICROS: u64 = 300_000_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    repo().join("examples/qemu/fixtures/detect")
}

fn writing() -> bool {
    std::env::var_os("IOTO_WRITE_GOLDEN").is_some_and(|v| v == "1")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (regenerate with IOTO_WRITE_GOLDEN=1 cargo test -p ioto-board-host --test detect_golden)",
            path.display()
        )
    })
}

fn to_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_bytes(path: &Path, bytes: &[u8]) -> Vec<f32> {
    assert!(
        bytes.len().is_multiple_of(4),
        "{}: {} bytes is not a whole number of f32",
        path.display(),
        bytes.len()
    );
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The slice of the NAB CSV, parsed exactly as `ioto-host detect` parses it.
fn series_from_csv() -> Vec<f32> {
    let path = repo().join("data/nab/data").join(SOURCE);
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let rows = SeriesReader::new(std::io::BufReader::new(file), "value")
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let values: Vec<f32> = rows
        .skip(FIRST_ROW)
        .take(ROWS)
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .value
        })
        .collect();
    assert_eq!(values.len(), ROWS, "{} is too short", path.display());
    values
}

/// The recorded series: regenerated from the CSV when writing, else the committed file
/// (which must still equal the CSV slice). Once per process (the tests run in parallel).
fn series() -> &'static [f32] {
    static SERIES: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    SERIES.get_or_init(load_series)
}

fn load_series() -> Vec<f32> {
    let path = fixtures().join("series.f32");
    let csv = series_from_csv();
    if writing() {
        std::fs::create_dir_all(fixtures()).expect("create the fixtures directory");
        std::fs::write(&path, to_bytes(&csv)).expect("write series.f32");
        return csv;
    }
    let committed = from_bytes(&path, &read(&path));
    assert_eq!(
        to_bytes(&committed),
        to_bytes(&csv),
        "{} no longer equals rows {FIRST_ROW}..{} of {SOURCE}",
        path.display(),
        FIRST_ROW + ROWS
    );
    committed
}

fn model_bytes() -> Vec<u8> {
    read(&repo().join("ioto-ml/tests/golden/ad01_int8/model.tflite"))
}

/// Scores of `name` over `series`, as the firmware computes them.
fn scores(name: DetectorName, series: &[f32]) -> Vec<f32> {
    let model = model_bytes();
    let mut d = detectors::build(name, Some(&model)).expect("detector");
    series
        .iter()
        .enumerate()
        .map(|(i, &v)| d.update(Instant(i as u64 * STEP_MICROS), v))
        .collect()
}

fn check(name: DetectorName) {
    let series = series();
    let got = scores(name, series);
    assert!(got.iter().all(|s| (0.0..=1.0).contains(s)));
    let path = fixtures().join(format!("scores-{}.f32", name.as_str()));
    if writing() {
        std::fs::write(&path, to_bytes(&got)).expect("write scores");
        let hot = got.iter().filter(|&&s| s >= 0.5).count();
        eprintln!(
            "wrote {} ({} scores, max {}, {hot} ≥ 0.5)",
            path.display(),
            got.len(),
            got.iter().copied().fold(0.0f32, f32::max)
        );
        return;
    }
    let want = from_bytes(&path, &read(&path));
    assert_eq!(
        want.len(),
        got.len(),
        "{}: {} scores committed, {} computed",
        path.display(),
        want.len(),
        got.len()
    );
    if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
        panic!(
            "{}: score {i} differs: committed {} ({:#010x}), computed {} ({:#010x}); \
             if the detector changed on purpose, rerun with IOTO_WRITE_GOLDEN=1",
            path.display(),
            want[i],
            want[i].to_bits(),
            got[i],
            got[i].to_bits()
        );
    }
}

#[test]
fn robust_z_scores_are_golden() {
    check(DetectorName::RobustZ);
}

#[test]
fn contextual_scores_are_golden() {
    check(DetectorName::Contextual);
}

#[test]
fn model_scores_are_golden() {
    check(DetectorName::Model);
}
