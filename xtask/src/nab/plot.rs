//! A self-contained SVG of one series: values on top, anomaly scores and the threshold below,
//! the probationary period and the labelled windows shaded across both.

use std::fmt::Write as _;

use super::{Series, Window};

const WIDTH: f64 = 1200.0;
const HEIGHT: f64 = 600.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
/// Top and bottom of the value panel.
const VALUES: (f64, f64) = (70.0, 320.0);
/// Top and bottom of the score panel.
const SCORES: (f64, f64) = (360.0, 530.0);

/// Draws `series` with its per-row anomaly `scores` (same length), the detection `threshold`
/// (not drawn unless finite) and `windows` (usually `series.windows`), as a standalone SVG
/// document: title, value line, score line, dashed threshold line, detections (rows after
/// probation scoring ≥ the threshold) as red ticks, shaded and labelled windows, the shaded
/// probationary period, axes with labels.
pub fn plot_svg(series: &Series, scores: &[f64], threshold: f64, windows: &[Window]) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    svg.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let title = if threshold.is_finite() {
        format!("{} — threshold {threshold:.4}", series.name)
    } else {
        format!("{} — no threshold (nothing detected)", series.name)
    };
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(&title)
    );
    let n = series.len().min(scores.len());
    if n == 0 {
        svg.push_str(
            "<text x=\"600\" y=\"300\" text-anchor=\"middle\">empty series</text>\n</svg>\n",
        );
        return svg;
    }
    let secs = &series.seconds[..n];
    let (t0, t1) = (secs[0], secs[n - 1]);
    let span = if t1 > t0 { t1 - t0 } else { 1.0 };
    let x = |i: usize| LEFT + (secs[i] - t0) / span * (WIDTH - LEFT - RIGHT);
    let right_edge = WIDTH - RIGHT;

    // Shaded regions first, so the lines are drawn over them.
    let probation = series.probation().min(n);
    if probation > 0 {
        shade(&mut svg, LEFT, x(probation - 1), "#bbbbbb", "probation");
    }
    for (k, w) in windows.iter().enumerate() {
        if w.first < n {
            let x1 = x(w.last.min(n - 1));
            shade(
                &mut svg,
                x(w.first),
                x1,
                "#ff9900",
                &format!("window {}", k + 1),
            );
        }
    }

    let values = &series.values[..n];
    let (vmin, vmax) = range(values.iter().copied());
    let (vmin, vmax) = if vmax > vmin {
        (vmin, vmax)
    } else {
        (vmin - 1.0, vmax + 1.0)
    };
    let smax = range(scores[..n].iter().copied()).1.max(1.0);
    let (smin, smax) = (0.0_f64.min(range(scores[..n].iter().copied()).0), smax);

    for ((top, bottom), label, lo, hi) in [
        (VALUES, "value", vmin, vmax),
        (SCORES, "anomaly score", smin, smax),
    ] {
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{top}" width="{}" height="{}" fill="none" stroke="#444"/>"##,
            right_edge - LEFT,
            bottom - top
        );
        for f in [0.0, 0.5, 1.0] {
            let y = bottom - f * (bottom - top);
            let _ = writeln!(
                svg,
                r##"<line x1="{}" y1="{y:.1}" x2="{LEFT}" y2="{y:.1}" stroke="#444"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT - 4.0,
                LEFT - 6.0,
                y + 4.0,
                tick(lo + f * (hi - lo))
            );
        }
        let mid = (top + bottom) / 2.0;
        let _ = writeln!(
            svg,
            r#"<text x="18" y="{mid}" text-anchor="middle" transform="rotate(-90 18 {mid})">{label}</text>"#
        );
    }

    let y_value = |v: f64| VALUES.1 - (v - vmin) / (vmax - vmin) * (VALUES.1 - VALUES.0);
    let y_score = |v: f64| SCORES.1 - (v - smin) / (smax - smin) * (SCORES.1 - SCORES.0);
    polyline(&mut svg, values, &x, &y_value, "#1f77b4");
    polyline(&mut svg, &scores[..n], &x, &y_score, "#2ca02c");

    if threshold.is_finite() && (smin..=smax).contains(&threshold) {
        let y = y_score(threshold);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{right_edge}" y2="{y:.1}" stroke="#d62728" stroke-dasharray="6 4"/><text x="{}" y="{:.1}" text-anchor="end" fill="#d62728">threshold {threshold:.4}</text>"##,
            right_edge - 4.0,
            y - 4.0
        );
        let mut ticks = String::new();
        for (i, &s) in scores[..n].iter().enumerate().skip(probation) {
            if s >= threshold {
                let _ = write!(ticks, "M{:.1} {} v-12 ", x(i), VALUES.1);
            }
        }
        if !ticks.is_empty() {
            let _ = writeln!(
                svg,
                r##"<path d="{ticks}" stroke="#d62728" stroke-width="1.5"/>"##
            );
        }
    }

    // Time axis: five dates under the score panel.
    for k in 0..5 {
        let i = (n - 1) * k / 4;
        let date = series
            .timestamps
            .get(i)
            .map_or("", |t| t.get(..10).unwrap_or(t));
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#444"/><text x="{0:.1}" y="{3}" text-anchor="{5}">{4}</text>"##,
            x(i),
            SCORES.1,
            SCORES.1 + 4.0,
            SCORES.1 + 18.0,
            escape(date),
            match k {
                0 => "start",
                4 => "end",
                _ => "middle",
            }
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">time ({} rows)</text>"#,
        (LEFT + right_edge) / 2.0,
        SCORES.1 + 38.0,
        n
    );

    // Legend.
    let legend = [
        ("#1f77b4", "value", ""),
        ("#2ca02c", "anomaly score", ""),
        (
            "#d62728",
            "threshold / detections",
            r#" stroke-dasharray="6 4""#,
        ),
    ];
    for (k, (colour, label, dash)) in legend.iter().enumerate() {
        let lx = LEFT + k as f64 * 200.0;
        let ly = HEIGHT - 18.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}">{label}</text>"#,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A shaded band across both panels from `x0` to `x1`, labelled above the value panel.
fn shade(svg: &mut String, x0: f64, x1: f64, colour: &str, label: &str) {
    let w = (x1 - x0).max(1.0);
    for (top, bottom) in [VALUES, SCORES] {
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{top}" width="{w:.1}" height="{}" fill="{colour}" fill-opacity="0.25"/>"#,
            bottom - top
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
        x0 + w / 2.0,
        VALUES.0 - 6.0,
        escape(label)
    );
}

/// The values as a polyline, reduced to each pixel column's first, lowest, highest and last
/// point when there are more rows than pixels.
fn polyline(
    svg: &mut String,
    ys: &[f64],
    x: &dyn Fn(usize) -> f64,
    y: &dyn Fn(f64) -> f64,
    colour: &str,
) {
    let bucket = ys.len().div_ceil((WIDTH - LEFT - RIGHT) as usize).max(1);
    let mut keep = Vec::new();
    for start in (0..ys.len()).step_by(bucket) {
        let end = (start + bucket).min(ys.len());
        let chunk = &ys[start..end];
        let lo = (0..chunk.len()).min_by(|&a, &b| chunk[a].total_cmp(&chunk[b]));
        let hi = (0..chunk.len()).max_by(|&a, &b| chunk[a].total_cmp(&chunk[b]));
        let mut idx = vec![0, chunk.len() - 1];
        idx.extend(lo);
        idx.extend(hi);
        idx.sort_unstable();
        idx.dedup();
        keep.extend(idx.into_iter().map(|i| start + i));
    }
    let mut points = String::new();
    for i in keep {
        let _ = write!(points, "{:.1},{:.1} ", x(i), y(ys[i]));
    }
    let _ = writeln!(
        svg,
        r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1"/>"#,
        points.trim_end()
    );
}

/// Minimum and maximum of the finite values (`(0, 0)` when there are none).
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo <= hi { (lo, hi) } else { (0.0, 0.0) }
}

/// A short axis label.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(0.01..1e6).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_lines_windows_threshold_and_labels() {
        let n = 3000;
        let series = Series {
            name: "hand/a&b.csv".to_string(),
            timestamps: (0..n)
                .map(|i| format!("2014-01-{:02} 00:00:00", 1 + i / 288))
                .collect(),
            seconds: (0..n).map(|i| i as f64 * 300.0).collect(),
            values: (0..n).map(|i| (i as f64 / 50.0).sin()).collect(),
            windows: vec![Window {
                start: "a".to_string(),
                end: "b".to_string(),
                first: 2000,
                last: 2200,
            }],
        };
        let mut scores = vec![0.1; n];
        scores[2050] = 0.9;
        let svg = plot_svg(&series, &scores, 0.5, &series.windows);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("hand/a&amp;b.csv"), "title escaped");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("window 1") && svg.contains("probation"));
        assert!(svg.contains("threshold 0.5000"));
        assert!(svg.contains(">value<") && svg.contains(">anomaly score<"));
        assert!(svg.contains("2014-01-01") && svg.contains("v-12"));
        // Decimated: far fewer points than 2 × 3000.
        assert!(svg.len() < 120_000, "{} bytes", svg.len());
        // No threshold: no dashed threshold line.
        let svg = plot_svg(&series, &scores, f64::INFINITY, &series.windows);
        assert!(!svg.contains("threshold 0.") && svg.contains("nothing detected"));
    }
}
