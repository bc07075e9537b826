//! A scorer for the Numenta Anomaly Benchmark (NAB), written from NAB's published rules.
//!
//! The corpus lives in the repository at `data/nab` (see `data/README.md`): the labelled
//! series (`data/<category>/<series>.csv`, `timestamp,value`), their anomaly windows
//! (`combined_windows.json`), the cost profiles (`profiles.json`) and the published scores of
//! four NAB detectors (`results/<detector>/<category>/<detector>_<series>.csv`), which are the
//! oracle the tests check this scorer against.
//!
//! - [`Corpus::load`] reads the series, windows and profiles;
//! - [`Corpus::score`] scores one detector's per-row anomaly scores with NAB's rules
//!   (probation, one swept threshold per profile, scaled-sigmoid credit and cost,
//!   normalisation against the null and the perfect detector) — see [`score`], whose
//!   [`score::ProfileScore`] holds each profile's result;
//! - [`load_result_scores`] reads a published detector's scores;
//! - [`plot_svg`] draws one series, its scores, the threshold and the windows.

pub mod plot;
pub mod score;

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
};

use crate::Result;

pub use plot::plot_svg;
pub use score::{NabScores, probation_rows};

/// A labelled anomaly window of one series: an inclusive range of rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// The window's first timestamp as written in `combined_windows.json`.
    pub start: String,
    /// The window's last timestamp as written in `combined_windows.json`.
    pub end: String,
    /// Index of the first row inside the window (the first row at or after `start`).
    pub first: usize,
    /// Index of the last row inside the window (the last row at or before `end`).
    pub last: usize,
}

impl Window {
    /// Number of rows in the window (`last - first + 1`).
    pub fn width(&self) -> usize {
        self.last - self.first + 1
    }
}

/// One labelled series of the corpus.
#[derive(Clone, Debug)]
pub struct Series {
    /// Name relative to `data/`, e.g. `realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv`;
    /// the key of `combined_windows.json` and of the score maps.
    pub name: String,
    /// Timestamps as written in the CSV.
    pub timestamps: Vec<String>,
    /// Timestamps as seconds since 1970-01-01 00:00:00 (the files carry no time zone).
    pub seconds: Vec<f64>,
    /// The values.
    pub values: Vec<f64>,
    /// The labelled anomaly windows, in time order, not overlapping.
    pub windows: Vec<Window>,
}

impl Series {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series has no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Number of leading rows whose detections NAB ignores ([`probation_rows`]).
    pub fn probation(&self) -> usize {
        probation_rows(self.len())
    }
}

/// A cost profile from `profiles.json` (NAB's `CostMatrix`; `tnWeight` is unused by NAB).
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Profile name: `standard`, `reward_low_FP_rate` or `reward_low_FN_rate`.
    pub name: String,
    /// Credit for a detection at the very start of a window.
    pub tp_weight: f64,
    /// Cost of a false positive far from any window.
    pub fp_weight: f64,
    /// Cost of a window without any detection.
    pub fn_weight: f64,
}

/// The NAB corpus: series with their windows, and the cost profiles.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The directory it was loaded from (`data/nab`).
    pub root: PathBuf,
    /// The series, sorted by name.
    pub series: Vec<Series>,
    /// The profiles: `standard`, `reward_low_FP_rate`, `reward_low_FN_rate` first, in that
    /// order, then any others by name.
    pub profiles: Vec<Profile>,
}

/// The profile order NAB's README and ours report in.
const PROFILE_ORDER: [&str; 3] = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

impl Corpus {
    /// Loads `root/combined_windows.json` (which names the series), every series it names
    /// from `root/data/`, and `root/profiles.json`.
    pub fn load(root: &Path) -> Result<Corpus> {
        let windows_path = root.join("combined_windows.json");
        let labels: serde_json::Value = serde_json::from_str(&read(&windows_path)?)
            .map_err(|e| format!("{}: {e}", windows_path.display()))?;
        let labels = labels
            .as_object()
            .ok_or_else(|| format!("{}: not a JSON object", windows_path.display()))?;
        let mut series = Vec::with_capacity(labels.len());
        for (name, limits) in labels {
            let bad = || {
                format!(
                    "{}: `{name}`: expected [[start, end], …]",
                    windows_path.display()
                )
            };
            let mut pairs = Vec::new();
            for pair in limits.as_array().ok_or_else(bad)? {
                match pair.as_array().map(Vec::as_slice) {
                    Some([a, b]) => pairs.push((
                        a.as_str().ok_or_else(bad)?.to_string(),
                        b.as_str().ok_or_else(bad)?.to_string(),
                    )),
                    _ => return Err(bad()),
                }
            }
            series.push(load_series(root, name, &pairs)?);
        }
        series.sort_by(|a, b| a.name.cmp(&b.name));
        let profiles = load_profiles(&root.join("profiles.json"))?;
        Ok(Corpus {
            root: root.to_path_buf(),
            series,
            profiles,
        })
    }

    /// The series called `name` (relative to `data/`).
    pub fn series(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }

    /// `root/results`, where the published detectors' scores are.
    pub fn results_dir(&self) -> PathBuf {
        self.root.join("results")
    }

    /// Total number of labelled windows.
    pub fn window_count(&self) -> usize {
        self.series.iter().map(|s| s.windows.len()).sum()
    }

    /// Scores one detector: `scores(name)` gives the per-row anomaly scores of series `name`
    /// (as many as it has rows). Every series must have scores. See [`score`] for the rules.
    pub fn score(&self, scores: &dyn Fn(&str) -> Option<Vec<f64>>) -> Result<NabScores> {
        let mut all = Vec::with_capacity(self.series.len());
        for s in &self.series {
            let row_scores =
                scores(&s.name).ok_or_else(|| format!("no anomaly scores for {}", s.name))?;
            all.push(row_scores);
        }
        score::score_corpus(self, &all)
    }

    /// [`Corpus::score`] with the scores in a map keyed by series name (as
    /// [`load_result_scores`] returns them).
    pub fn score_map(&self, scores: &HashMap<String, Vec<f64>>) -> Result<NabScores> {
        self.score(&|name| scores.get(name).cloned())
    }
}

/// Reads a published detector's scores: every
/// `results_dir/<detector>/<category>/<detector>_<series>.csv` (`timestamp,anomaly_score`),
/// keyed by the series name `<category>/<series>.csv`.
pub fn load_result_scores(results_dir: &Path, detector: &str) -> Result<HashMap<String, Vec<f64>>> {
    let dir = results_dir.join(detector);
    let prefix = format!("{detector}_");
    let mut out = HashMap::new();
    for category in sorted_entries(&dir)? {
        if !category.is_dir() {
            continue;
        }
        let cat_name = file_name(&category)?;
        for file in sorted_entries(&category)? {
            let fname = file_name(&file)?;
            let Some(series) = fname.strip_prefix(&prefix) else {
                continue;
            };
            if !series.ends_with(".csv") {
                continue;
            }
            let rows = read_csv(&file, "anomaly_score")?;
            let scores: Vec<f64> = rows.into_iter().map(|(_, v)| v).collect();
            out.insert(format!("{cat_name}/{series}"), scores);
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no `{prefix}*.csv` score files", dir.display()));
    }
    Ok(out)
}

fn load_series(root: &Path, name: &str, limits: &[(String, String)]) -> Result<Series> {
    let path = root.join("data").join(name);
    let rows = read_csv(&path, "value")?;
    let mut timestamps = Vec::with_capacity(rows.len());
    let mut seconds = Vec::with_capacity(rows.len());
    let mut values = Vec::with_capacity(rows.len());
    for (ts, v) in rows {
        let secs = parse_timestamp(&ts).map_err(|e| format!("{}: {e}", path.display()))?;
        // NAB's files repeat a timestamp where clocks went back (e.g. a DST change).
        if seconds.last().is_some_and(|&prev| secs < prev) {
            return Err(format!(
                "{}: timestamps go backwards at {ts}",
                path.display()
            ));
        }
        timestamps.push(ts);
        seconds.push(secs);
        values.push(v);
    }
    if values.is_empty() {
        return Err(format!("{}: no rows", path.display()));
    }
    let mut windows: Vec<Window> = Vec::with_capacity(limits.len());
    for (start, end) in limits {
        let window = resolve_window(&seconds, start, end)
            .map_err(|e| format!("{name}: window [{start}, {end}]: {e}"))?;
        if windows.last().is_some_and(|w| window.first <= w.last) {
            return Err(format!(
                "{name}: window [{start}, {end}] overlaps or precedes the one before it"
            ));
        }
        windows.push(window);
    }
    let series = Series {
        name: name.to_string(),
        timestamps,
        seconds,
        values,
        windows,
    };
    debug_assert!(!series.is_empty());
    Ok(series)
}

/// The rows of a window: from the first row at or after `start` to the first row stamped
/// `end` (NAB's sweeper ends a window at the first row whose timestamp equals its end, which
/// matters only where a timestamp repeats), or the last row before `end` if none is.
fn resolve_window(seconds: &[f64], start: &str, end: &str) -> Result<Window> {
    let t1 = parse_timestamp(start)?;
    let t2 = parse_timestamp(end)?;
    let first = seconds.partition_point(|&t| t < t1);
    let at_end = seconds.partition_point(|&t| t < t2);
    let after = if seconds.get(at_end) == Some(&t2) {
        at_end + 1
    } else {
        at_end
    };
    if after <= first {
        return Err("contains no rows".to_string());
    }
    Ok(Window {
        start: start.to_string(),
        end: end.to_string(),
        first,
        last: after - 1,
    })
}

fn load_profiles(path: &Path) -> Result<Vec<Profile>> {
    let json: serde_json::Value =
        serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let obj = json
        .as_object()
        .ok_or_else(|| format!("{}: not a JSON object", path.display()))?;
    let mut profiles = Vec::with_capacity(obj.len());
    for (name, p) in obj {
        let weight = |key: &str| {
            p.get("CostMatrix")
                .and_then(|m| m.get(key))
                .and_then(serde_json::Value::as_f64)
                .ok_or_else(|| format!("{}: `{name}`: no CostMatrix.{key}", path.display()))
        };
        profiles.push(Profile {
            name: name.clone(),
            tp_weight: weight("tpWeight")?,
            fp_weight: weight("fpWeight")?,
            fn_weight: weight("fnWeight")?,
        });
    }
    let rank = |n: &str| {
        PROFILE_ORDER
            .iter()
            .position(|&o| o == n)
            .unwrap_or(PROFILE_ORDER.len())
    };
    profiles.sort_by(|a, b| (rank(&a.name), &a.name).cmp(&(rank(&b.name), &b.name)));
    Ok(profiles)
}

/// `timestamp,<column>` rows of a CSV file.
fn read_csv(path: &Path, column: &str) -> Result<Vec<(String, f64)>> {
    let text = read(path)?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().trim();
    if header != format!("timestamp,{column}") {
        return Err(format!(
            "{}: header `{header}`, expected `timestamp,{column}`",
            path.display()
        ));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || format!("{}:{}: bad row `{line}`", path.display(), i + 2);
        let (ts, v) = line.split_once(',').ok_or_else(bad)?;
        let v: f64 = v.trim().parse().map_err(|_| bad())?;
        if !v.is_finite() {
            return Err(bad());
        }
        rows.push((ts.trim().to_string(), v));
    }
    Ok(rows)
}

/// Seconds since 1970-01-01 of `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with `T`): the same
/// reader `ioto-host detect` uses.
fn parse_timestamp(s: &str) -> Result<f64> {
    ioto_board_host::series_csv::parse_timestamp(s)
        .map(|us| us as f64 / 1e6)
        .ok_or_else(|| format!("bad timestamp `{s}` (want YYYY-MM-DD HH:MM:SS)"))
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| format!("{}: not a UTF-8 file name", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// `data/nab` in the repository.
    fn corpus_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/nab")
    }

    fn load_corpus() -> Corpus {
        let root = corpus_root();
        assert!(
            root.join("combined_windows.json").is_file(),
            "NAB corpus missing: {} must hold data/, results/, combined_windows.json and \
             profiles.json (see data/README.md)",
            root.display()
        );
        Corpus::load(&root).unwrap_or_else(|e| panic!("loading the NAB corpus: {e}"))
    }

    #[test]
    fn timestamps_parse_to_unix_seconds() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00").unwrap(), 0.0);
        // 2014-02-14 14:30:00 UTC is 1392388200.
        assert_eq!(
            parse_timestamp("2014-02-14 14:30:00").unwrap(),
            1_392_388_200.0
        );
        assert_eq!(
            parse_timestamp("2014-02-26 13:45:00.000000").unwrap(),
            parse_timestamp("2014-02-26 13:45:00").unwrap()
        );
        assert_eq!(
            parse_timestamp("2000-03-01T00:00:00.5").unwrap(),
            951_868_800.5
        );
        assert!(parse_timestamp("2014-13-01 00:00:00").is_err());
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn windows_resolve_to_inclusive_rows() {
        let secs: Vec<f64> = (0..10).map(|i| f64::from(i) * 300.0).collect();
        // 1970-01-01 00:05 .. 00:20 are rows 1..=4.
        let w = resolve_window(&secs, "1970-01-01 00:05:00", "1970-01-01 00:20:00").unwrap();
        assert_eq!((w.first, w.last, w.width()), (1, 4, 4));
        // Bounds between rows take the rows inside.
        let w = resolve_window(&secs, "1970-01-01 00:04:00", "1970-01-01 00:21:00").unwrap();
        assert_eq!((w.first, w.last), (1, 4));
        assert!(resolve_window(&secs, "1970-01-01 00:06:00", "1970-01-01 00:07:00").is_err());
        // A repeated end timestamp: the window ends at its first row.
        let secs = [0.0, 300.0, 600.0, 600.0, 600.0, 900.0];
        let w = resolve_window(&secs, "1970-01-01 00:05:00", "1970-01-01 00:10:00").unwrap();
        assert_eq!((w.first, w.last), (1, 2));
    }

    #[test]
    fn corpus_loads_34_series_50_windows_3_profiles() {
        let corpus = load_corpus();
        assert_eq!(corpus.series.len(), 34);
        assert_eq!(corpus.window_count(), 50);
        let names: Vec<&str> = corpus.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, PROFILE_ORDER);
        assert_eq!(corpus.profiles[0].fp_weight, 0.11);
        let s = corpus
            .series("realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv")
            .unwrap();
        assert_eq!(s.timestamps[0], "2014-02-14 14:30:00");
        assert_eq!(s.values[0], 0.132);
        assert_eq!(s.windows.len(), 2);
        assert_eq!(s.timestamps[s.windows[0].first], "2014-02-26 13:45:00");
        assert_eq!(s.timestamps[s.windows[0].last], "2014-02-27 06:25:00");
        for s in &corpus.series {
            assert_eq!(s.timestamps.len(), s.len());
            assert_eq!(s.seconds.len(), s.len());
        }
    }

    /// The normative table of `data/nab/README.md`: standard, reward low FP, reward low FN.
    const PUBLISHED: [(&str, [f64; 3]); 4] = [
        ("numenta", [73.5599, 68.3589, 77.0400]),
        ("contextOSE", [71.7246, 68.1465, 75.1498]),
        ("ARTime", [71.0519, 62.3819, 76.0346]),
        ("windowedGaussian", [35.0244, 16.6617, 43.3496]),
    ];

    #[test]
    fn published_results_score_as_published() {
        let corpus = load_corpus();
        let mut failures = Vec::new();
        for (detector, want) in PUBLISHED {
            let scores = load_result_scores(&corpus.results_dir(), detector).unwrap();
            assert_eq!(scores.len(), 34, "{detector}: score files");
            let got = corpus.score_map(&scores).unwrap();
            for (p, want) in got.profiles.iter().zip(want) {
                println!(
                    "{detector:<17} {:<19} {:>10.6} (want {want:.4}) threshold {}",
                    p.profile, p.normalized, p.threshold
                );
                if (p.normalized - want).abs() >= 5e-5 {
                    failures.push(format!(
                        "{detector} {}: got {:.6}, want {want:.4}",
                        p.profile, p.normalized
                    ));
                }
                // The sweep's total equals the series scored one by one at its threshold.
                let per_series: f64 = p.per_series.iter().sum();
                assert!(
                    (per_series - p.raw).abs() < 1e-9,
                    "{detector} {}: sweep {} vs per series {per_series}",
                    p.profile,
                    p.raw
                );
            }
        }
        assert!(
            failures.is_empty(),
            "NAB scores differ:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn missing_or_short_scores_are_errors() {
        let corpus = load_corpus();
        let err = corpus.score(&|_| None).unwrap_err();
        assert!(err.contains("no anomaly scores"), "{err}");
        let err = corpus.score(&|_| Some(vec![0.0; 3])).unwrap_err();
        assert!(err.contains("rows"), "{err}");
    }
}
