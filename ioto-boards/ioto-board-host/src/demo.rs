//! `cargo xtask demo` / `ioto-host demo`: the anomaly-monitor agent against a
//! simulated machine, an embedded MQTT broker by default, a live progress line, a
//! summary table and an HTML report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::broker::EmbeddedBroker;
use crate::gateway::{self, BrokerAddr, GatewayOptions, RunSummary};
use crate::report::{DemoRun, DetectionLatency, FaultSpan, write_report};

/// Options of one demo run.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The gateway's options (seed, duration, speed-up...). Its broker is replaced
    /// by the embedded one unless [`DemoOptions::broker`] is set.
    pub gateway: GatewayOptions,
    /// An external broker (`mqtt://host:port`) instead of the embedded one.
    pub broker: Option<String>,
    /// Where the HTML report and `summary.json` go.
    pub out_dir: PathBuf,
    /// Wait for a line on stdin after the broker is up (so a test can subscribe first).
    pub start_on_stdin: bool,
}

/// Runs the demo; prints progress and the summary; writes the report.
pub fn run(opts: &DemoOptions) -> Result<RunSummary, String> {
    let mut gw = opts.gateway.clone();
    let _broker = match &opts.broker {
        Some(url) => {
            gw.broker = BrokerAddr::parse(url).map_err(|e| e.to_string())?;
            None
        }
        None => {
            let b = EmbeddedBroker::start().map_err(|e| format!("embedded broker: {e:?}"))?;
            gw.broker = BrokerAddr::plain("127.0.0.1", b.port());
            gw.shadow_prefix = gateway::EMBEDDED_SHADOW_PREFIX.into();
            Some(b)
        }
    };
    println!(
        "broker listening on mqtt://{}:{}",
        gw.broker.host, gw.broker.port
    );
    if opts.start_on_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("stdin: {e}"))?;
    }
    println!(
        "demo: seed {}, {:.0} s wall = {:.0} s of machine time (x{}), device {}",
        gw.seed,
        gw.duration.as_secs_f64(),
        gw.duration.as_secs_f64() * gw.speedup,
        gw.speedup,
        gw.device
    );
    let summary = gateway::run(&gw).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| e.to_string())?;
    let table = summary_rows(&summary);
    println!();
    for (k, v) in &table {
        println!("  {k:<34} {v}");
    }
    if let Some(ctx) = &summary.pending_context {
        if gw.ai.is_none() {
            println!(
                "\nno AI endpoint configured (--ai-endpoint URL, or OPENAI_API_KEY): {} escalation(s) stay queued.\nThe oldest one would be sent as POST /v1/chat/completions with this body:",
                summary.escalations_waiting
            );
            match gateway::request_preview(ctx) {
                Some(body) => println!("{body}"),
                None => println!("{ctx}"),
            }
        } else {
            println!(
                "\n{} escalation(s) still queued at the end",
                summary.escalations_waiting
            );
        }
    }
    let report = opts.out_dir.join("report.html");
    write_report(&report, &demo_run(&gw, &summary, table.clone())).map_err(|e| e.to_string())?;
    write_summary_json(&opts.out_dir.join("summary.json"), &summary)?;
    println!("\nreport: {}", report.display());
    Ok(summary)
}

/// The summary table: `(name, value)` rows.
pub fn summary_rows(s: &RunSummary) -> Vec<(String, String)> {
    let m = &s.metrics;
    let mut rows = vec![
        (
            "machine time simulated".into(),
            format!("{:.0} s", s.machine_s),
        ),
        ("samples".into(), m.samples.to_string()),
        ("windows scored".into(), m.inferences.to_string()),
    ];
    for f in &s.faults {
        let det = match f.detected_s {
            Some(t) => format!("detected after {:.1} s", t - f.start_s),
            None => "NOT detected".into(),
        };
        rows.push((format!("fault {} at {:.0} s", f.kind, f.start_s), det));
    }
    let detected = s.faults.iter().filter(|f| f.detected_s.is_some()).count();
    rows.push((
        "faults injected / detected".into(),
        format!("{} / {}", s.faults.len(), detected),
    ));
    rows.push((
        "false alarms (before the first fault)".into(),
        s.false_alarms.to_string(),
    ));
    rows.push((
        "decisions ignore/act/report/escalate".into(),
        format!(
            "{} / {} / {} / {}",
            m.decisions[0], m.decisions[1], m.decisions[2], m.decisions[3]
        ),
    ));
    rows.push(("escalations answered".into(), m.escalations.to_string()));
    rows.push((
        "escalation attempts failed".into(),
        m.escalation_failures.to_string(),
    ));
    rows.push((
        "escalations queued".into(),
        s.escalations_waiting.to_string(),
    ));
    rows.push(("messages delivered".into(), m.delivered.to_string()));
    rows.push((
        "bytes raw / sent".into(),
        format!(
            "{} / {} ({:.3} %)",
            m.raw_bytes,
            m.sent_bytes,
            ratio_pct(m.sent_bytes, m.raw_bytes)
        ),
    ));
    rows.push(("records dropped".into(), m.drops.to_string()));
    rows.push(("left in the outbox".into(), s.queue_left.to_string()));
    rows
}

fn ratio_pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

fn demo_run(gw: &GatewayOptions, s: &RunSummary, summary: Vec<(String, String)>) -> DemoRun {
    DemoRun {
        title: format!("Ioto-rs demo — {} (seed {})", gw.device, gw.seed),
        seed: gw.seed,
        duration_s: s.machine_s,
        points: s.points.clone(),
        faults: s
            .faults
            .iter()
            .map(|f| FaultSpan {
                kind: f.kind.clone(),
                start_s: f.start_s,
                end_s: None,
            })
            .collect(),
        latencies: s
            .faults
            .iter()
            .map(|f| DetectionLatency {
                kind: f.kind.clone(),
                start_s: f.start_s,
                latency_s: f.detected_s.map(|t| t - f.start_s),
            })
            .collect(),
        threshold: Some(gateway::demo_policy().thresholds.report_on),
        summary,
    }
}

/// Writes the counters a test compares with what a subscriber saw.
fn write_summary_json(path: &Path, s: &RunSummary) -> Result<(), String> {
    let m = &s.metrics;
    let mut out = String::from("{");
    let _ = write!(
        out,
        "\"samples\":{},\"inferences\":{},\"anomalies\":{},\"escalations\":{},\"commands_applied\":{},\"commands_rejected\":{},\"delivered\":{},\"raw_bytes\":{},\"sent_bytes\":{},\"drops\":{},\"escalations_waiting\":{},\"queue_left\":{},\"false_alarms\":{},",
        m.samples,
        m.inferences,
        m.anomalies,
        m.escalations,
        m.commands_applied,
        m.commands_rejected,
        m.delivered,
        m.raw_bytes,
        m.sent_bytes,
        m.drops,
        s.escalations_waiting,
        s.queue_left,
        s.false_alarms
    );
    let _ = write!(
        out,
        "\"decisions\":[{},{},{},{}],",
        m.decisions[0], m.decisions[1], m.decisions[2], m.decisions[3]
    );
    let _ = write!(out, "\"delivered_by_topic\":{{");
    let t = &s.topics;
    let names = [&t.telemetry, &t.events, &t.state, &t.metrics, &t.advice];
    for (i, (name, n)) in names.iter().zip(m.delivered_by_kind).enumerate() {
        let sep = if i > 0 { "," } else { "" };
        let _ = write!(
            out,
            "{sep}{}:{n}",
            serde_json::Value::String((*name).clone())
        );
    }
    let _ = write!(out, "}},\"faults\":[");
    for (i, f) in s.faults.iter().enumerate() {
        let sep = if i > 0 { "," } else { "" };
        let det = f
            .detected_s
            .map_or("null".to_string(), |d| format!("{:.3}", d - f.start_s));
        let _ = write!(
            out,
            "{sep}{{\"kind\":\"{}\",\"start_s\":{:.3},\"latency_s\":{det}}}",
            f.kind, f.start_s
        );
    }
    out.push_str("]}");
    std::fs::write(path, out).map_err(|e| e.to_string())
}

/// Default demo options (30 s, seed 1, embedded broker, report in `target/demo`).
pub fn default_options(out_dir: PathBuf) -> DemoOptions {
    DemoOptions {
        gateway: GatewayOptions {
            duration: Duration::from_secs(30),
            ..GatewayOptions::default()
        },
        broker: None,
        out_dir,
        start_on_stdin: false,
    }
}

/// Usage of the demo's options (shared by `cargo xtask demo` and `ioto-host demo`).
pub const DEMO_USAGE: &str =
    "options: [--seed N] [--duration SECONDS] [--speedup X] [--broker mqtt(s)://HOST:PORT [--broker-ca CA.pem]]
         [--device NAME] [--detector robust-z|contextual] [--out DIR]
         [--log] [--ha-discovery] [--replay FILE.csv] [--record FILE.csv] [--ai-endpoint URL] [--ai-ca CA.pem] [--ai-model NAME] (OPENAI_API_KEY is read from the environment) [--quiet] [--start-on-stdin]";

/// Parses the demo's options; `out_dir` is the default report directory.
pub fn parse_args(args: &[String], out_dir: PathBuf) -> Result<DemoOptions, String> {
    let mut o = default_options(out_dir);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value\n{DEMO_USAGE}"))
        };
        let bad = |v: &str| format!("bad value `{v}` for {a}\n{DEMO_USAGE}");
        match a.as_str() {
            "--seed" => {
                let v = value()?;
                o.gateway.seed = v.parse().map_err(|_| bad(&v))?;
            }
            "--duration" => {
                let v = value()?;
                let s: f64 = v.parse().map_err(|_| bad(&v))?;
                if !(s > 0.0 && s < 1e7) {
                    return Err(bad(&v));
                }
                o.gateway.duration = Duration::from_secs_f64(s);
            }
            "--speedup" => {
                let v = value()?;
                let x: f64 = v.parse().map_err(|_| bad(&v))?;
                if !(x > 0.0 && x <= 10_000.0) {
                    return Err(bad(&v));
                }
                o.gateway.speedup = x;
            }
            "--broker" => o.broker = Some(value()?),
            "--broker-ca" => o.gateway.broker_ca = Some(PathBuf::from(value()?)),
            "--detector" => {
                let v = value()?;
                o.gateway.detector =
                    crate::detectors::DetectorName::parse(&v).ok_or_else(|| bad(&v))?;
            }
            "--device" => o.gateway.device = value()?,
            "--out" => o.out_dir = PathBuf::from(value()?),
            "--quiet" => o.gateway.progress = false,
            "--ha-discovery" => o.gateway.ha_discovery = true,
            "--log" => crate::logger::init(log::LevelFilter::Info),
            "--replay" => o.gateway.replay = Some(PathBuf::from(value()?)),
            "--record" => o.gateway.record = Some(PathBuf::from(value()?)),
            "--ai-endpoint" => {
                let endpoint = value()?;
                let ai = o.gateway.ai.get_or_insert_with(default_ai);
                ai.endpoint = endpoint;
            }
            "--ai-ca" => {
                let ca = PathBuf::from(value()?);
                o.gateway.ai.get_or_insert_with(default_ai).ca = Some(ca);
            }
            "--ai-model" => {
                let model = value()?;
                o.gateway.ai.get_or_insert_with(default_ai).model = model;
            }
            "--start-on-stdin" => o.start_on_stdin = true,
            _ => return Err(format!("unknown argument `{a}`\n{DEMO_USAGE}")),
        }
    }
    if let Ok(key) = std::env::var("OPENAI_API_KEY")
        && !key.is_empty()
    {
        o.gateway.ai.get_or_insert_with(default_ai).key = key;
    }
    Ok(o)
}

/// The AI options when only some are given: OpenAI's endpoint, the default model.
fn default_ai() -> gateway::AiOptions {
    gateway::AiOptions {
        endpoint: "https://api.openai.com/v1".into(),
        key: String::new(),
        model: gateway::DEFAULT_MODEL.into(),
        ca: None,
    }
}
