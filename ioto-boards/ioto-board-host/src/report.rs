//! The demo's HTML report: one self-contained file (inline CSS and SVG, no script,
//! no network) with the anomaly score over time, the injected fault spans, the
//! report/escalate decisions, the detection latencies and a summary table.
//!
//! The document is also well-formed XML (every element closed, all text escaped),
//! so it can be checked with an XML parser.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

pub use ioto_core::policy::Action;

/// One scored sample of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Seconds since the start of the run.
    pub t_s: f64,
    /// The detector's anomaly score.
    pub score: f32,
    /// What the policy decided for this sample.
    pub action: Action,
}

/// An injected fault: `kind` from `start_s` to `end_s` (`None`: still active at the end).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpan {
    /// Fault name, e.g. `"stuck_sensor"`.
    pub kind: String,
    /// Start, seconds since the start of the run.
    pub start_s: f64,
    /// End, seconds since the start of the run; `None` if it never ended.
    pub end_s: Option<f64>,
}

/// How long after a fault began the first report/escalate decision came.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectionLatency {
    /// Fault name (as in [`FaultSpan::kind`]).
    pub kind: String,
    /// Fault start, seconds since the start of the run.
    pub start_s: f64,
    /// Seconds from the fault's start to its detection; `None`: not detected.
    pub latency_s: Option<f64>,
}

/// Everything the report shows about one demo run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoRun {
    /// Page and plot title.
    pub title: String,
    /// The seed the run was generated from.
    pub seed: u64,
    /// Length of the run, seconds (the plot's x range is at least this).
    pub duration_s: f64,
    /// The score samples, in time order. Non-finite times or scores are left out of the plot.
    pub points: Vec<Point>,
    /// Injected faults, shaded on the plot.
    pub faults: Vec<FaultSpan>,
    /// Per-fault detection latencies, tabulated below the plot.
    pub latencies: Vec<DetectionLatency>,
    /// Optional policy threshold drawn as a dashed line (e.g. `report_on`).
    pub threshold: Option<f32>,
    /// Summary rows `(name, value)`, tabulated last.
    pub summary: Vec<(String, String)>,
}

/// Writes the report for `run` to `path` as one HTML file.
pub fn write_report(path: &Path, run: &DemoRun) -> io::Result<()> {
    std::fs::write(path, render_html(run))
}

/// Escapes `&`, `<`, `>`, `"` and `'` as HTML entities (safe in text and attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {
        let _ = write!($out, $($arg)*);
    };
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:1.4em}table{border-collapse:collapse;margin:12px 0}\
th,td{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f3f3f3}\
svg{background:#fff;border:1px solid #ddd}.axis{stroke:#444}.grid{stroke:#eee}\
.tick{font-size:11px;fill:#444}.score{fill:none;stroke:#1f5fbf;stroke-width:1.5}\
.fault,.fault-swatch{fill:#e8a33d;fill-opacity:0.18}.fault-label{font-size:11px;fill:#9a5a00}\
.threshold{stroke:#888;stroke-dasharray:6 4}.report{fill:#f08c00}\
.escalate{fill:#d62828}.legend{font-size:12px;fill:#222}";

/// Renders the whole report as an HTML string (what [`write_report`] writes).
pub fn render_html(run: &DemoRun) -> String {
    let mut out = String::with_capacity(16 * 1024 + run.points.len() * 40);
    let title = escape(&run.title);
    w!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p>Seed {seed} · duration {dur} s · {n} samples · {f} faults</p>\n",
        seed = run.seed,
        dur = num(run.duration_s, 1),
        n = run.points.len(),
        f = run.faults.len(),
    );
    plot::svg(&mut out, run);
    latency_table(&mut out, &run.latencies);
    out.push_str("<h2>Summary</h2>\n<table class=\"summary\">\n");
    for (k, v) in &run.summary {
        w!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape(k),
            escape(v)
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}

fn latency_table(out: &mut String, rows: &[DetectionLatency]) {
    out.push_str(
        "<h2>Detection latency</h2>\n<table class=\"latency\">\n\
         <tr><th>Fault</th><th>Starts at (s)</th><th>Detected after (s)</th></tr>\n",
    );
    for r in rows {
        let lat = r
            .latency_s
            .map_or_else(|| "missed".to_string(), |l| num(l, 3));
        w!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&r.kind),
            num(r.start_s, 2),
            lat
        );
    }
    out.push_str("</table>\n");
}

/// `v` with `decimals` decimals; non-finite values as `-`.
fn num(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "-".to_string()
    }
}

mod plot {
    //! The inline SVG line plot.
    use super::{Action, DemoRun, escape, num};
    use std::fmt::Write as _;

    const W: f64 = 960.0;
    const H: f64 = 380.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 944.0;
    const TOP: f64 = 24.0;
    const BOTTOM: f64 = 310.0;

    /// A linear map from a data range onto a pixel range.
    struct Scale {
        lo: f64,
        hi: f64,
        px_lo: f64,
        px_hi: f64,
    }

    impl Scale {
        fn at(&self, v: f64) -> f64 {
            self.px_lo + (v - self.lo) / (self.hi - self.lo) * (self.px_hi - self.px_lo)
        }
    }

    /// A "nice" step (1, 2 or 5 × 10^k) near `raw`.
    fn nice_step(raw: f64) -> f64 {
        if !(raw.is_finite() && raw > 0.0) {
            return 1.0;
        }
        let e = 10f64.powf(raw.log10().floor());
        let f = raw / e;
        let m = if f <= 1.0 {
            1.0
        } else if f <= 2.0 {
            2.0
        } else if f <= 5.0 {
            5.0
        } else {
            10.0
        };
        m * e
    }

    /// Decimals needed to print multiples of `step`.
    fn decimals(step: f64) -> usize {
        let d = -step.log10().floor();
        if d.is_finite() && d > 0.0 {
            d as usize
        } else {
            0
        }
    }

    /// Tick values of `[lo, hi]`, both multiples of `step`.
    fn ticks(lo: f64, hi: f64, step: f64) -> impl Iterator<Item = f64> {
        let n = ((hi - lo) / step).round().clamp(0.0, 100.0) as usize;
        (0..=n).map(move |i| lo + step * i as f64)
    }

    /// Data ranges: x from 0 to the run's end; y over the scores and threshold
    /// (including 0), widened to whole ticks.
    fn ranges(run: &DemoRun) -> ((f64, f64, f64), (f64, f64, f64)) {
        let mut xmax = if run.duration_s.is_finite() {
            run.duration_s
        } else {
            0.0
        };
        let (mut ylo, mut yhi) = (0.0f64, f64::MIN);
        for p in run.points.iter().filter(|p| finite(p)) {
            xmax = xmax.max(p.t_s);
            ylo = ylo.min(f64::from(p.score));
            yhi = yhi.max(f64::from(p.score));
        }
        for f in &run.faults {
            for t in [Some(f.start_s), f.end_s].into_iter().flatten() {
                if t.is_finite() {
                    xmax = xmax.max(t);
                }
            }
        }
        if let Some(th) = run.threshold.map(f64::from).filter(|t| t.is_finite()) {
            ylo = ylo.min(th);
            yhi = yhi.max(th);
        }
        if xmax <= 0.0 {
            xmax = 1.0;
        }
        if yhi <= ylo {
            yhi = ylo + 1.0;
        }
        let xs = nice_step(xmax / 8.0);
        let ys = nice_step((yhi - ylo) / 5.0);
        (
            (0.0, (xmax / xs).ceil() * xs, xs),
            ((ylo / ys).floor() * ys, (yhi / ys).ceil() * ys, ys),
        )
    }

    fn finite(p: &super::Point) -> bool {
        p.t_s.is_finite() && p.score.is_finite()
    }

    /// Appends the `<svg>` element for `run`.
    pub(super) fn svg(out: &mut String, run: &DemoRun) {
        let ((x0, x1, xs), (y0, y1, ys)) = ranges(run);
        let sx = Scale {
            lo: x0,
            hi: x1,
            px_lo: LEFT,
            px_hi: RIGHT,
        };
        let sy = Scale {
            lo: y0,
            hi: y1,
            px_lo: BOTTOM,
            px_hi: TOP,
        };
        w!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
             viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">\n",
            escape(&format!("Anomaly score over time: {}", run.title))
        );
        // Grid, ticks and labels.
        let (xd, yd) = (decimals(xs), decimals(ys));
        for v in ticks(y0, y1, ys) {
            let y = sy.at(v);
            w!(
                out,
                "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.2}\" x2=\"{RIGHT}\" y2=\"{y:.2}\"/>\
                 <text class=\"tick\" x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\">{}</text>\n",
                LEFT - 6.0,
                y + 4.0,
                num(v, yd)
            );
        }
        for v in ticks(x0, x1, xs) {
            let x = sx.at(v);
            w!(
                out,
                "<line class=\"axis\" x1=\"{x:.2}\" y1=\"{BOTTOM}\" x2=\"{x:.2}\" y2=\"{:.2}\"/>\
                 <text class=\"tick\" x=\"{x:.2}\" y=\"{:.2}\" text-anchor=\"middle\">{}</text>\n",
                BOTTOM + 5.0,
                BOTTOM + 18.0,
                num(v, xd)
            );
        }
        w!(
            out,
            "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{RIGHT}\" y2=\"{BOTTOM}\"/>\
             <line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{BOTTOM}\"/>\n\
             <text class=\"tick\" x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\">time (s)</text>\n\
             <text class=\"tick\" x=\"14\" y=\"{:.2}\" text-anchor=\"middle\" \
             transform=\"rotate(-90 14 {:.2})\">anomaly score</text>\n",
            (LEFT + RIGHT) / 2.0,
            BOTTOM + 36.0,
            (TOP + BOTTOM) / 2.0,
            (TOP + BOTTOM) / 2.0
        );
        // Fault spans.
        for f in run.faults.iter().filter(|f| f.start_s.is_finite()) {
            let end = f.end_s.filter(|e| e.is_finite()).unwrap_or(x1);
            let (a, b) = (sx.at(f.start_s.clamp(x0, x1)), sx.at(end.clamp(x0, x1)));
            let kind = escape(&f.kind);
            let until = f.end_s.map_or_else(|| "end".to_string(), |e| num(e, 2));
            w!(
                out,
                "<rect class=\"fault\" x=\"{a:.2}\" y=\"{TOP}\" width=\"{:.2}\" height=\"{:.2}\">\
                 <title>{kind}: {} s to {until}</title></rect>\
                 <text class=\"fault-label\" x=\"{:.2}\" y=\"{:.2}\">{kind}</text>\n",
                (b - a).max(0.0),
                BOTTOM - TOP,
                num(f.start_s, 2),
                a + 3.0,
                TOP + 12.0
            );
        }
        if let Some(th) = run.threshold.map(f64::from).filter(|t| t.is_finite()) {
            let y = sy.at(th);
            w!(
                out,
                "<line class=\"threshold\" x1=\"{LEFT}\" y1=\"{y:.2}\" x2=\"{RIGHT}\" y2=\"{y:.2}\"/>\n"
            );
        }
        // The score line.
        out.push_str("<polyline class=\"score\" points=\"");
        for (i, p) in run.points.iter().filter(|p| finite(p)).enumerate() {
            let sep = if i == 0 { "" } else { " " };
            w!(
                out,
                "{sep}{:.2},{:.2}",
                sx.at(p.t_s),
                sy.at(f64::from(p.score))
            );
        }
        out.push_str("\"/>\n");
        // Decision markers.
        for p in run.points.iter().filter(|p| finite(p)) {
            let (x, y) = (sx.at(p.t_s), sy.at(f64::from(p.score)));
            let tip = format!(
                "{} at {} s, score {}",
                p.action.as_str(),
                num(p.t_s, 2),
                p.score
            );
            match p.action {
                Action::Report => {
                    w!(
                        out,
                        "<circle class=\"marker report\" cx=\"{x:.2}\" cy=\"{y:.2}\" r=\"4\">\
                         <title>{tip}</title></circle>\n"
                    );
                }
                Action::Escalate => {
                    w!(
                        out,
                        "<polygon class=\"marker escalate\" points=\"{:.2},{:.2} {:.2},{:.2} {:.2},{:.2}\">\
                         <title>{tip}</title></polygon>\n",
                        x,
                        y - 6.0,
                        x - 5.0,
                        y + 4.0,
                        x + 5.0,
                        y + 4.0
                    );
                }
                Action::Ignore | Action::ActLocally => {}
            }
        }
        out.push_str(LEGEND);
        out.push_str("</svg>\n");
    }

    /// The legend row under the axis label (fixed layout, y = H - 12).
    const LEGEND: &str = "<g class=\"legend\">\
        <line class=\"score\" x1=\"64\" y1=\"368\" x2=\"88\" y2=\"368\"/>\
        <text class=\"legend\" x=\"94\" y=\"372\">score</text>\
        <rect class=\"fault-swatch\" x=\"154\" y=\"363\" width=\"20\" height=\"10\"/>\
        <text class=\"legend\" x=\"180\" y=\"372\">fault</text>\
        <line class=\"threshold\" x1=\"234\" y1=\"368\" x2=\"258\" y2=\"368\"/>\
        <text class=\"legend\" x=\"264\" y=\"372\">threshold</text>\
        <circle class=\"report\" cx=\"344\" cy=\"368\" r=\"4\"/>\
        <text class=\"legend\" x=\"354\" y=\"372\">report</text>\
        <polygon class=\"escalate\" points=\"414,362 409,372 419,372\"/>\
        <text class=\"legend\" x=\"426\" y=\"372\">escalate</text></g>\n";
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::{BytesStart, Event};

    #[test]
    fn escape_replaces_the_five_specials() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
        assert_eq!(escape("plain é"), "plain é");
    }

    fn pt(t_s: f64, score: f32, action: Action) -> Point {
        Point { t_s, score, action }
    }

    fn fault(kind: &str, start_s: f64, end_s: Option<f64>) -> FaultSpan {
        FaultSpan {
            kind: kind.into(),
            start_s,
            end_s,
        }
    }

    fn lat(kind: &str, start_s: f64, latency_s: Option<f64>) -> DetectionLatency {
        DetectionLatency {
            kind: kind.into(),
            start_s,
            latency_s,
        }
    }

    fn sample_run() -> DemoRun {
        use Action::*;
        let scores = [0.1, 0.2, 0.9, 0.95, 0.3, 0.1, 0.2, 0.4, 0.8, 0.7, 0.6];
        let actions = [
            Ignore, Ignore, Report, Escalate, ActLocally, Ignore, Ignore, Ignore, Report, Ignore,
            Ignore,
        ];
        DemoRun {
            title: r#"Demo <run> & "quotes""#.into(),
            seed: 42,
            duration_s: 10.0,
            points: (0..11)
                .map(|i| pt(f64::from(i), scores[i as usize], actions[i as usize]))
                .collect(),
            faults: vec![
                fault("stuck<sensor>", 2.0, Some(4.0)),
                fault("drift", 8.0, None),
            ],
            latencies: vec![
                lat("stuck<sensor>", 2.0, Some(0.0)),
                lat("never", 9.0, None),
            ],
            threshold: Some(0.75),
            summary: vec![
                ("reports".into(), "2".into()),
                ("escalations & calls".into(), "1 < 2".into()),
                ("seed".into(), "42".into()),
            ],
        }
    }

    /// What the XML parser saw in a document.
    #[derive(Default)]
    struct Parsed {
        svg: usize,
        polyline_points: Vec<(f64, f64)>,
        report_markers: usize,
        escalate_markers: usize,
        fault_rects: Vec<(f64, f64)>,
        summary_rows: usize,
        texts: Vec<String>,
    }

    fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
        e.try_get_attribute(name)
            .unwrap()
            .map(|a| a.unescape_value().unwrap().into_owned())
    }

    fn num_attr(e: &BytesStart<'_>, name: &str) -> f64 {
        attr(e, name).unwrap().parse().unwrap()
    }

    /// Parses the whole document with quick-xml (end tags are checked against
    /// start tags); panics on any syntax error.
    fn parse(doc: &str) -> Parsed {
        let mut r = Reader::from_str(doc);
        r.config_mut().trim_text(true);
        let mut p = Parsed::default();
        let mut in_summary = false;
        loop {
            match r.read_event().unwrap() {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    let class = attr(&e, "class").unwrap_or_default();
                    match e.name().as_ref() {
                        b"svg" => p.svg += 1,
                        b"table" => in_summary = class == "summary",
                        b"tr" if in_summary => p.summary_rows += 1,
                        b"polyline" if class == "score" => {
                            let pts = attr(&e, "points").unwrap();
                            p.polyline_points = pts
                                .split_whitespace()
                                .map(|xy| {
                                    let (x, y) = xy.split_once(',').unwrap();
                                    (x.parse().unwrap(), y.parse().unwrap())
                                })
                                .collect();
                        }
                        b"circle" if class == "marker report" => p.report_markers += 1,
                        b"polygon" if class == "marker escalate" => p.escalate_markers += 1,
                        b"rect" if class == "fault" => {
                            p.fault_rects
                                .push((num_attr(&e, "x"), num_attr(&e, "width")));
                        }
                        _ => {}
                    }
                }
                Event::Text(t) => p.texts.push(t.unescape().unwrap().into_owned()),
                _ => {}
            }
        }
        p
    }

    fn temp_path(name: &str) -> std::path::PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        std::env::temp_dir().join(format!("ioto-{name}-{}-{nanos}.html", std::process::id()))
    }

    #[test]
    fn report_file_is_well_formed_and_complete() {
        let run = sample_run();
        let path = temp_path("report");
        write_report(&path, &run).unwrap();
        let doc = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);

        assert!(doc.starts_with("<!doctype html>"));
        assert_eq!(doc.matches("<svg").count(), 1);
        assert!(doc.contains("Demo &lt;run&gt; &amp; &quot;quotes&quot;"));
        assert!(!doc.contains("<run>") && !doc.contains("stuck<sensor>"));

        let p = parse(&doc);
        assert_eq!(p.svg, 1);
        assert_eq!(p.polyline_points.len(), 11);
        assert_eq!((p.report_markers, p.escalate_markers), (2, 1));
        assert_eq!(p.summary_rows, 3);
        // The parser unescapes the text back to the original strings.
        assert!(p.texts.iter().any(|t| t == r#"Demo <run> & "quotes""#));
        assert!(p.texts.iter().any(|t| t == "stuck<sensor>"));
        assert!(p.texts.iter().any(|t| t == "escalations & calls"));
        assert!(p.texts.iter().any(|t| t == "missed"));

        // x grows with time, y falls as the score rises (SVG y points down).
        let xy = &p.polyline_points;
        assert!(xy.windows(2).all(|w| w[1].0 > w[0].0));
        let scores: Vec<f32> = run.points.iter().map(|q| q.score).collect();
        for i in 0..xy.len() {
            for j in 0..xy.len() {
                if scores[i] > scores[j] {
                    assert!(xy[i].1 < xy[j].1, "score {} vs {}", scores[i], scores[j]);
                }
            }
        }
        // Fault spans scale like the line: t = 0 and t = 10 are the first and
        // last points, so [2, 4] spans 20 % of that width starting 20 % in, and the
        // open-ended drift runs from 80 % to the end.
        let (x0, x10) = (xy[0].0, xy[10].0);
        let span = x10 - x0;
        assert_eq!(p.fault_rects.len(), 2);
        let close = |a: f64, b: f64| (a - b).abs() < 0.02;
        assert!(close(p.fault_rects[0].0, x0 + 0.2 * span));
        assert!(close(p.fault_rects[0].1, 0.2 * span));
        assert!(close(p.fault_rects[1].0, x0 + 0.8 * span));
        assert!(close(p.fault_rects[1].0 + p.fault_rects[1].1, x10));
    }

    /// No reference to anything outside the file except the SVG namespace name.
    fn no_remote(doc: &str) -> bool {
        doc.replace("http://www.w3.org/2000/svg", "")
            .matches("http")
            .count()
            == 0
    }

    #[test]
    fn report_is_self_contained() {
        let doc = render_html(&sample_run());
        assert!(!doc.contains("<script"));
        assert!(!doc.contains("<link"));
        assert!(no_remote(&doc));
    }

    #[test]
    fn non_finite_samples_are_left_out() {
        let mut run = sample_run();
        run.points[1].score = f32::NAN;
        run.points[5].t_s = f64::INFINITY;
        run.points[2].score = f32::INFINITY; // was a report
        let p = parse(&render_html(&run));
        assert_eq!(p.polyline_points.len(), 8);
        assert_eq!(p.report_markers, 1);
        assert!(
            p.polyline_points
                .iter()
                .all(|(x, y)| x.is_finite() && y.is_finite())
        );
    }

    #[test]
    fn empty_run_still_renders() {
        let p = parse(&render_html(&DemoRun::default()));
        assert_eq!(p.svg, 1);
        assert!(p.polyline_points.is_empty());
        assert_eq!(
            (p.report_markers, p.escalate_markers, p.summary_rows),
            (0, 0, 0)
        );
    }
}
