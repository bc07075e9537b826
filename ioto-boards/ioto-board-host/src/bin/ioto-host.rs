//! `ioto-host`: the gateway's command-line tools.
//!
//! ```text
//! ioto-host detect --csv FILE [--column value] [--detector NAME] [--model FILE.tflite]
//! ioto-host demo [--seed N] [--duration S] [--speedup X] [--broker mqtt://H:P] [--out DIR]
//! ioto-host agent --config FILE.json
//! ```
//!
//! `agent` runs the same agent as a gateway service: an external broker, its outboxes
//! in a flash image file so queued records survive restarts (see
//! `ioto_board_host::service` for the configuration); it prints
//! `pushed <kind> <fnv1a-64>` on stdout for each record queued.
//!
//! `demo` runs the anomaly-monitor agent against a simulated machine with an embedded
//! MQTT broker (see `ioto_board_host::demo`); `cargo xtask demo` calls the same code.
//!
//! `detect` streams a CSV series (NAB layout, `timestamp,value`) through a detector
//! exactly as firmware would, one sample at a time, and writes
//! `timestamp,value,anomaly_score` to stdout.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use ioto_board_host::detectors::{self, DetectorName};
use ioto_board_host::series_csv::SeriesReader;
use ioto_core::Instant;

const USAGE: &str = "usage: ioto-host demo [options] (ioto-host demo --help)
       ioto-host agent --config FILE.json
       ioto-host detect --csv FILE [--column value] [--detector NAME] [--model FILE.tflite]
detectors: robust-z, contextual (default), model (needs --model, an int8 autoencoder such as ad01)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("detect") => detect(&args[1..]),
        Some("demo") => ioto_board_host::demo::parse_args(&args[1..], "target/demo".into())
            .and_then(|o| ioto_board_host::demo::run(&o).map(|_| ())),
        Some("agent") => agent(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ioto-host: {e}");
            ExitCode::FAILURE
        }
    }
}

fn agent(args: &[String]) -> Result<(), String> {
    let path = match args {
        [flag, path] if flag == "--config" => path,
        _ => return Err(format!("agent takes --config FILE\n{USAGE}")),
    };
    let cfg = ioto_board_host::service::ServiceConfig::load(std::path::Path::new(path))
        .map_err(|e| e.to_string())?;
    ioto_board_host::service::run(&cfg)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn detect(args: &[String]) -> Result<(), String> {
    let (mut csv, mut column, mut name, mut model) = (None, "value".to_string(), None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--csv" => csv = Some(value()?),
            "--column" => column = value()?,
            "--detector" => name = Some(value()?),
            "--model" => model = Some(value()?),
            _ => return Err(format!("unknown argument `{a}`\n{USAGE}")),
        }
    }
    let csv = csv.ok_or_else(|| format!("--csv is required\n{USAGE}"))?;
    let name = match name {
        Some(n) => {
            DetectorName::parse(&n).ok_or_else(|| format!("unknown detector `{n}`\n{USAGE}"))?
        }
        None => DetectorName::Contextual,
    };
    let model_bytes = match model {
        Some(p) => Some(std::fs::read(&p).map_err(|e| format!("{p}: {e}"))?),
        None => None,
    };
    let mut detector = detectors::build(name, model_bytes.as_deref())?;
    let file = std::fs::File::open(&csv).map_err(|e| format!("{csv}: {e}"))?;
    let rows = SeriesReader::new(std::io::BufReader::new(file), &column)
        .map_err(|e| format!("{csv}: {e}"))?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| format!("stdout: {e}");
    writeln!(out, "timestamp,value,anomaly_score").map_err(io)?;
    for row in rows {
        let row = row.map_err(|e| format!("{csv}: {e}"))?;
        let score = detector.update(Instant(row.micros), row.value);
        writeln!(out, "{},{},{}", row.timestamp, row.value_text, score).map_err(io)?;
    }
    out.flush().map_err(io)
}
