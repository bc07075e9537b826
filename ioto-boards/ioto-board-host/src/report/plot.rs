//! The inline SVG line plot of a demo run.
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
