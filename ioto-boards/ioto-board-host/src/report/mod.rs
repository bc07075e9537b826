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

mod plot;

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
