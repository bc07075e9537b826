//! NAB's scoring rules (NAB's `sweeper.py`, `optimizer.py` and `runner.py`, reimplemented).
//!
//! For one series of `n` rows:
//!
//! - the first [`probation_rows`]`(n)` rows are probationary: nothing there counts, not even a
//!   window's miss when the whole window lies inside it;
//! - a row inside a window (rows `first..=last`, width `w`) is worth, if it is the window's
//!   first detection, `tpWeight · S(−(last − i + 1) / w) / S(−1)` where `S` is
//!   [`scaled_sigmoid`]: `tpWeight` at the window's first row, falling towards 0 at its end.
//!   Later detections in the same window add nothing. A window without detection costs
//!   `−fnWeight`;
//! - a detection outside every window costs `−fpWeight` when no window precedes it, and
//!   `fpWeight · S(|i − last| / (w − 1))` after a window (`last`, `w` of the closest
//!   preceding window): almost nothing right after the window, the full cost ≥ 3 widths on.
//!
//! A row is a detection when its anomaly score is ≥ the threshold. One threshold per profile
//! is applied to every series; it is the one that maximises the corpus's total score among
//! "detect nothing" and every distinct anomaly score of a non-probationary row (ties go to the
//! higher threshold). The total is normalised as `100 · (raw − null) / (perfect − null)`, with
//! `null` the total of detecting nothing (`−fnWeight` per window outside probation) and
//! `perfect` `tpWeight` per window.

use super::{Corpus, Profile, Series};
use crate::Result;

/// NAB's scaled sigmoid of a position relative to a window: `2 / (1 + e^(5x)) − 1` for
/// `x ≤ 3`, `−1` beyond. `x = −1` (a window's start) gives 0.98661, `x = 0` (its end) 0,
/// `x = 1` (one width past it) −0.98661.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// NAB's probationary period of a series of `rows` rows: `min(floor(0.15 · rows), 750)`,
/// computed in `f64` as NAB does (`750 = 0.15 · 5000`).
pub fn probation_rows(rows: usize) -> usize {
    let p = (0.15 * rows as f64).floor();
    // `p` is a non-negative whole number not above 0.15 · rows.
    (p as usize).min(750)
}

/// The score one profile gets at its chosen threshold, with its parts.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileScore {
    /// Profile name (`standard`, `reward_low_FP_rate`, `reward_low_FN_rate`).
    pub profile: String,
    /// The chosen threshold: rows scoring ≥ it are detections. `f64::INFINITY` when
    /// detecting nothing scores best.
    pub threshold: f64,
    /// The raw total score over the corpus at that threshold.
    pub raw: f64,
    /// The raw total of a detector that detects nothing.
    pub null: f64,
    /// The raw total of a perfect detector (`tpWeight` per window).
    pub perfect: f64,
    /// `100 · (raw − null) / (perfect − null)`: the number NAB publishes.
    pub normalized: f64,
    /// Windows (outside probation) with at least one detection.
    pub windows_detected: usize,
    /// Windows (outside probation) without any detection.
    pub windows_missed: usize,
    /// Detections outside every window (after probation).
    pub false_positives: usize,
    /// The raw score of each series at the threshold, in the corpus's series order
    /// ([`score_series_at_threshold`]); they add up to `raw`.
    pub per_series: Vec<f64>,
}

/// A detector's NAB scores, one per profile in the corpus's profile order.
#[derive(Clone, Debug, PartialEq)]
pub struct NabScores {
    /// One entry per profile.
    pub profiles: Vec<ProfileScore>,
}

impl NabScores {
    /// The score of profile `name`.
    pub fn get(&self, name: &str) -> Option<&ProfileScore> {
        self.profiles.iter().find(|p| p.profile == name)
    }
}

/// What a row contributes when it is a detection, before the profile's weights.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Row {
    /// In the probationary period: ignored.
    Probation,
    /// In window `window` (index within the series): TP credit relative to `tpWeight`.
    InWindow { window: usize, credit: f64 },
    /// Outside every window: FP cost relative to `fpWeight` (in `[−1, 0]`).
    Outside { cost: f64 },
}

/// Classifies every row of `series` (NAB's `calcSweepScore`).
fn classify(series: &Series) -> Vec<Row> {
    let probation = series.probation();
    let max_tp = scaled_sigmoid(-1.0);
    let mut rows = Vec::with_capacity(series.len());
    let mut windows = series.windows.iter().enumerate().peekable();
    let mut current = None;
    let mut previous: Option<&super::Window> = None;
    for i in 0..series.len() {
        if current.is_none() && windows.peek().is_some_and(|(_, w)| w.first == i) {
            current = windows.next();
        }
        let row = match current {
            Some((k, w)) => {
                let position = -((w.last - i + 1) as f64) / w.width() as f64;
                Row::InWindow {
                    window: k,
                    credit: scaled_sigmoid(position) / max_tp,
                }
            }
            None => Row::Outside {
                cost: match previous {
                    None => -1.0,
                    // NAB divides by zero here; a one-row window is treated as infinitely
                    // narrow, so every later false positive costs in full.
                    Some(w) if w.width() <= 1 => -1.0,
                    Some(w) => scaled_sigmoid((i - w.last) as f64 / (w.width() - 1) as f64),
                },
            },
        };
        rows.push(if i < probation { Row::Probation } else { row });
        if let Some((_, w)) = current
            && w.last == i
        {
            previous = Some(w);
            current = None;
        }
    }
    rows
}

/// Windows of `series` with at least one row after probation: those a miss costs.
fn scorable_windows(series: &Series) -> usize {
    let probation = series.probation();
    series
        .windows
        .iter()
        .filter(|w| w.last >= probation)
        .count()
}

/// The raw score of one series at a fixed threshold, computed row by row (NAB's
/// `scoreDataSet`): the first detection in each window, every false positive.
pub fn score_series_at_threshold(
    series: &Series,
    scores: &[f64],
    profile: &Profile,
    threshold: f64,
) -> f64 {
    let mut first_credit: Vec<Option<f64>> = vec![None; series.windows.len()];
    let mut fp = 0.0;
    for (row, &score) in classify(series).into_iter().zip(scores) {
        if score < threshold {
            continue;
        }
        match row {
            Row::Probation => {}
            Row::InWindow { window, credit } => {
                first_credit[window].get_or_insert(credit);
            }
            Row::Outside { cost } => fp += profile.fp_weight * cost,
        }
    }
    let probation = series.probation();
    let windows: f64 = series
        .windows
        .iter()
        .zip(&first_credit)
        .filter(|(w, _)| w.last >= probation)
        .map(|(_, c)| c.map_or(-profile.fn_weight, |c| profile.tp_weight * c))
        .sum();
    windows + fp
}

/// A non-probationary row of the corpus, for the sweep.
struct SweepRow {
    score: f64,
    /// Corpus-wide window index, or `None` outside every window.
    window: Option<usize>,
    /// TP credit or FP cost, before weights.
    value: f64,
}

/// Scores the whole corpus: `all[k]` are the per-row scores of `corpus.series[k]`.
pub(super) fn score_corpus(corpus: &Corpus, all: &[Vec<f64>]) -> Result<NabScores> {
    let mut rows = Vec::new();
    let mut window_base = 0;
    let mut scorable = 0;
    for (series, scores) in corpus.series.iter().zip(all) {
        if scores.len() != series.len() {
            return Err(format!(
                "{}: {} anomaly scores for {} rows",
                series.name,
                scores.len(),
                series.len()
            ));
        }
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            return Err(format!(
                "{}: anomaly score of row {i} is not finite",
                series.name
            ));
        }
        for (row, &score) in classify(series).into_iter().zip(scores) {
            match row {
                Row::Probation => {}
                Row::InWindow { window, credit } => rows.push(SweepRow {
                    score,
                    window: Some(window_base + window),
                    value: credit,
                }),
                Row::Outside { cost } => rows.push(SweepRow {
                    score,
                    window: None,
                    value: cost,
                }),
            }
        }
        window_base += series.windows.len();
        scorable += scorable_windows(series);
    }
    debug_assert_eq!(window_base, corpus.window_count());
    if window_base == 0 {
        return Err("the corpus has no labelled windows: NAB scores are undefined".to_string());
    }
    rows.sort_by(|a, b| b.score.total_cmp(&a.score));
    let profiles = corpus
        .profiles
        .iter()
        .map(|p| {
            let mut score = sweep(p, &rows, window_base, scorable);
            score.per_series = corpus
                .series
                .iter()
                .zip(all)
                .map(|(s, scores)| score_series_at_threshold(s, scores, p, score.threshold))
                .collect();
            score
        })
        .collect();
    Ok(NabScores { profiles })
}

/// NAB's threshold sweep for one profile over `rows` sorted by descending score.
fn sweep(profile: &Profile, rows: &[SweepRow], windows: usize, scorable: usize) -> ProfileScore {
    let null = -profile.fn_weight * scorable as f64;
    let perfect = profile.tp_weight * windows as f64;
    // Per window: its best TP so far (None: missed).
    let mut best: Vec<Option<f64>> = vec![None; windows];
    let mut window_total = null;
    let mut fp_total = 0.0;
    let (mut detected, mut fps) = (0, 0);
    let mut chosen = (f64::INFINITY, null, 0, 0);
    let mut i = 0;
    while i < rows.len() {
        let threshold = rows[i].score;
        while i < rows.len() && rows[i].score == threshold {
            let row = &rows[i];
            match row.window {
                Some(k) => {
                    let credit = profile.tp_weight * row.value;
                    let old = best[k];
                    let old_part = old.unwrap_or(-profile.fn_weight);
                    let new_part = old_part.max(credit);
                    if old.is_none() {
                        detected += 1;
                    }
                    best[k] = Some(new_part);
                    window_total += new_part - old_part;
                }
                None => {
                    fp_total += profile.fp_weight * row.value;
                    fps += 1;
                }
            }
            i += 1;
        }
        let total = window_total + fp_total;
        if total > chosen.1 {
            chosen = (threshold, total, detected, fps);
        }
    }
    let (threshold, raw, windows_detected, false_positives) = chosen;
    ProfileScore {
        profile: profile.name.clone(),
        threshold,
        raw,
        null,
        perfect,
        normalized: 100.0 * (raw - null) / (perfect - null),
        windows_detected,
        windows_missed: scorable - windows_detected,
        false_positives,
        per_series: Vec::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use super::super::Window;
    use super::*;

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() < 1e-9
    }

    /// `n` rows five minutes apart with windows over the given inclusive row ranges.
    fn series(n: usize, windows: &[(usize, usize)]) -> Series {
        Series {
            name: "hand/made.csv".to_string(),
            timestamps: (0..n).map(|i| format!("row {i}")).collect(),
            seconds: (0..n).map(|i| i as f64 * 300.0).collect(),
            values: vec![0.0; n],
            windows: windows
                .iter()
                .map(|&(first, last)| Window {
                    start: format!("row {first}"),
                    end: format!("row {last}"),
                    first,
                    last,
                })
                .collect(),
        }
    }

    fn profile(tp: f64, fp: f64, fn_: f64) -> Profile {
        Profile {
            name: "p".to_string(),
            tp_weight: tp,
            fp_weight: fp,
            fn_weight: fn_,
        }
    }

    /// Scores with 1.0 at `hits`, 0.0 elsewhere.
    fn hits(n: usize, hits: &[usize]) -> Vec<f64> {
        let mut s = vec![0.0; n];
        for &h in hits {
            s[h] = 1.0;
        }
        s
    }

    // By hand: S(x) = 2 / (1 + e^(5x)) − 1.
    // S(−1)   = 2 / (1 + e^−5)    − 1 = 0.98661429815143
    // S(−0.5) = 2 / (1 + e^−2.5)  − 1 = 0.84828363995751
    // S(−0.8) = 2 / (1 + e^−4)    − 1 = 0.96402758007582
    // S(1/9)  = 2 / (1 + e^(5/9)) − 1 = −0.27084711851672
    // S(10/9) = 2 / (1 + e^(50/9))− 1 = −0.99229793528814
    const S_M1: f64 = 0.986_614_298_151_43;
    const S_M05: f64 = 0.848_283_639_957_51;
    const S_M08: f64 = 0.964_027_580_075_82;
    const S_1_9: f64 = -0.270_847_118_516_72;
    const S_10_9: f64 = -0.992_297_935_288_14;

    #[test]
    fn scaled_sigmoid_matches_nab_anchor_points() {
        assert!((scaled_sigmoid(-1.0) - S_M1).abs() < 1e-12);
        assert!((scaled_sigmoid(-0.5) - S_M05).abs() < 1e-12);
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(1.0) + S_M1).abs() < 1e-12);
        assert!((scaled_sigmoid(1.0 / 9.0) - S_1_9).abs() < 1e-12);
        // At 3 widths still the sigmoid (−0.99999939), beyond it exactly −1.
        assert!((scaled_sigmoid(3.0) + 0.999_999_388_195_5).abs() < 1e-12);
        assert_eq!(scaled_sigmoid(3.000_001), -1.0);
    }

    #[test]
    fn probation_is_15_percent_capped_at_750() {
        assert_eq!(probation_rows(0), 0);
        assert_eq!(probation_rows(19), 2); // 2.85
        assert_eq!(probation_rows(100), 15);
        assert_eq!(probation_rows(1000), 150);
        assert_eq!(probation_rows(4032), 604); // 604.8
        assert_eq!(probation_rows(4999), 749); // 749.85
        assert_eq!(probation_rows(5000), 750);
        assert_eq!(probation_rows(22_695), 750);
    }

    // 100 rows (probation: rows 0..15), one window over rows 40..=49 (width 10).
    const N: usize = 100;
    const WIN: (usize, usize) = (40, 49);

    #[test]
    fn window_credit_is_for_the_first_detection_only() {
        let s = series(N, &[WIN]);
        let p = profile(1.0, 0.11, 1.0);
        let at = |h: &[usize]| score_series_at_threshold(&s, &hits(N, h), &p, 0.5);
        // Nothing: one missed window.
        assert!(close(at(&[]), -1.0));
        // Row 40, the window's first row: position −10/10 = −1, full credit.
        assert!(close(at(&[40]), 1.0));
        // Row 45: position −(49 − 45 + 1)/10 = −0.5.
        assert!(close(at(&[45]), S_M05 / S_M1));
        // Rows 42 and 45: only row 42 counts, position −8/10.
        assert!(close(at(&[42, 45]), S_M08 / S_M1));
        assert!(close(at(&[45, 42, 49]), S_M08 / S_M1));
        // Row 49, the last row: position −1/10, still (a little) positive.
        let last = (2.0 / (1.0 + (-0.5f64).exp()) - 1.0) / S_M1;
        assert!(close(at(&[49]), last));
        // A lower tpWeight scales the credit.
        let half = profile(0.5, 0.11, 1.0);
        assert!(close(
            score_series_at_threshold(&s, &hits(N, &[45]), &half, 0.5),
            0.5 * S_M05 / S_M1
        ));
    }

    #[test]
    fn false_positives_cost_by_distance_from_the_preceding_window() {
        let s = series(N, &[WIN]);
        let p = profile(1.0, 0.11, 1.0);
        let at = |h: &[usize]| score_series_at_threshold(&s, &hits(N, h), &p, 0.5);
        // In probation: ignored (the window is still missed).
        assert!(close(at(&[5, 14]), -1.0));
        // Row 15, the first after probation, before any window: full cost.
        assert!(close(at(&[15]), -1.0 - 0.11));
        assert!(close(at(&[20, 39]), -1.0 - 0.22));
        // Row 50, right after the window: |49 − 50| / (10 − 1) = 1/9.
        assert!(close(at(&[50]), -1.0 + 0.11 * S_1_9));
        // Row 59: 10/9 widths on.
        assert!(close(at(&[59]), -1.0 + 0.11 * S_10_9));
        // Row 90: 41/9 > 3 widths on: full cost.
        assert!(close(at(&[90]), -1.0 - 0.11));
        // Every false positive counts, unlike detections in a window.
        assert!(close(at(&[40, 50, 90]), 1.0 + 0.11 * S_1_9 - 0.11));
    }

    #[test]
    fn false_positives_after_the_second_window_use_it() {
        // Windows 20..=29 (width 10) and 60..=64 (width 5); row 66 is 2/4 past the second.
        let s = series(N, &[(20, 29), (60, 64)]);
        let p = profile(1.0, 0.11, 1.0);
        let got = score_series_at_threshold(&s, &hits(N, &[66]), &p, 0.5);
        let s_half = 2.0 / (1.0 + 2.5f64.exp()) - 1.0;
        assert!(close(got, -2.0 + 0.11 * s_half));
        // Row 30, 1/9 past the first window (in the gap before the second).
        let got = score_series_at_threshold(&s, &hits(N, &[30]), &p, 0.5);
        assert!(close(got, -2.0 + 0.11 * S_1_9));
    }

    #[test]
    fn a_window_inside_probation_is_neither_credited_nor_missed() {
        // Rows 2..=5 are all probationary (15 rows); the window at 40..=49 is missed.
        let s = series(N, &[(2, 5), WIN]);
        let p = profile(1.0, 0.11, 1.0);
        assert!(close(
            score_series_at_threshold(&s, &hits(N, &[3]), &p, 0.5),
            -1.0
        ));
        assert_eq!(scorable_windows(&s), 1);
    }

    fn corpus(series: Vec<Series>, profiles: Vec<Profile>) -> Corpus {
        Corpus {
            root: PathBuf::new(),
            series,
            profiles,
        }
    }

    #[test]
    fn sweep_picks_the_best_threshold_and_normalises() {
        let c = corpus(
            vec![series(N, &[WIN])],
            vec![profile(1.0, 0.11, 1.0), profile(1.0, 0.11, 2.0)],
        );
        let mut scores = vec![0.0; N];
        scores[5] = 0.95; // probation: not a candidate threshold
        scores[42] = 0.9; // TP at −0.8
        scores[20] = 0.8; // FP before the window: −0.11
        scores[70] = 0.3; // FP 21/9 widths after the window
        // Candidates: nothing → −1; 0.9 → S(−0.8)/S(−1) = 0.97711; 0.8 → 0.86711;
        // 0.3 → 0.75711; 0.0 → every row detected, far worse. Best: 0.9.
        let got = c.score(&|_| Some(scores.clone())).unwrap();
        let standard = &got.profiles[0];
        assert_eq!(standard.threshold, 0.9);
        assert!(close(standard.raw, S_M08 / S_M1));
        assert_eq!((standard.null, standard.perfect), (-1.0, 1.0));
        // 100 · (0.97711 + 1) / (1 + 1) = 98.8553
        assert!(close(
            standard.normalized,
            100.0 * (S_M08 / S_M1 + 1.0) / 2.0
        ));
        assert!((standard.normalized - 98.855_342).abs() < 1e-6);
        assert_eq!(
            (
                standard.windows_detected,
                standard.windows_missed,
                standard.false_positives
            ),
            (1, 0, 0)
        );
        // fnWeight 2: null −2, perfect 1 → 100 · (0.97711 + 2) / 3 = 99.2369.
        let low_fn = &got.profiles[1];
        assert_eq!(low_fn.threshold, 0.9);
        assert!((low_fn.normalized - 99.236_895).abs() < 1e-6);
    }

    #[test]
    fn sweep_detects_nothing_when_everything_costs() {
        // Only false positives: the best is detecting nothing, which normalises to 0.
        let c = corpus(vec![series(N, &[WIN])], vec![profile(1.0, 0.11, 1.0)]);
        let mut scores = vec![0.0; N];
        scores[20] = 0.9;
        scores[80] = 0.7;
        let got = c.score(&|_| Some(scores.clone())).unwrap();
        assert_eq!(got.profiles[0].threshold, f64::INFINITY);
        assert_eq!(got.profiles[0].normalized, 0.0);
        // A perfect detector (a hit at the window's start only) scores 100.
        let got = c.score(&|_| Some(hits(N, &[40]))).unwrap();
        assert_eq!(got.profiles[0].threshold, 1.0);
        assert!(close(got.profiles[0].normalized, 100.0));
    }

    #[test]
    fn sweep_ties_keep_the_higher_threshold() {
        // Row 42 (0.9) and a FP at 0.5 that costs nothing extra cannot exist, so build a tie:
        // the window's first row at 0.9 and a later window row at 0.6 add the same total.
        let c = corpus(vec![series(N, &[WIN])], vec![profile(1.0, 0.11, 1.0)]);
        let mut scores = vec![0.0; N];
        scores[40] = 0.9;
        scores[45] = 0.6;
        let got = c.score(&|_| Some(scores.clone())).unwrap();
        assert_eq!(got.profiles[0].threshold, 0.9);
        assert!(close(got.profiles[0].raw, 1.0));
    }
}
