//! `cargo xtask bench detect`: every detector over every NAB series, scored by the
//! project's NAB scorer; state bytes and instructions per sample on the virtual boards;
//! SVG plots of a few series in `target/bench/`.
//!
//! Each series runs through `ioto-host detect` — the same path a gateway user runs —
//! so the bench scores exactly what the command prints.

use std::{collections::HashMap, path::Path, process::Command};

use crate::{
    Result,
    bench::{self, Row},
    boards, nab, toolchain, ui,
};

/// The detectors `ioto-host detect` knows, in report order.
pub const DETECTORS: [&str; 3] = ["robust-z", "contextual", "model"];

/// Series plotted to `target/bench/detect-<detector>-<series>.svg`.
const PLOTTED: [&str; 3] = [
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
    "realAdExchange/exchange-2_cpc_results.csv",
];

/// The model the `model` detector runs (MLPerf Tiny ad01, 640 int8 inputs).
pub fn ad01_model() -> std::path::PathBuf {
    toolchain::repo_root().join("ioto-ml/tests/golden/ad01_int8/model.tflite")
}

/// Builds `ioto-host` (release) and returns its path.
pub fn build_ioto_host() -> Result<std::path::PathBuf> {
    crate::build::run_checked(
        toolchain::host_cargo().args([
            "build",
            "--release",
            "-q",
            "-p",
            "ioto-board-host",
            "--bin",
            "ioto-host",
        ]),
        "cargo build -p ioto-board-host --bin ioto-host",
    )?;
    Ok(toolchain::target_dir().join("release/ioto-host"))
}

/// Runs `ioto-host detect` on `csv` with `detector`; returns the score column.
pub fn scores_of(host: &Path, csv: &Path, detector: &str) -> Result<Vec<f64>> {
    let mut c = Command::new(host);
    c.args(["detect", "--detector", detector, "--csv"]).arg(csv);
    if detector == "model" {
        c.arg("--model").arg(ad01_model());
    }
    let out = c
        .output()
        .map_err(|e| format!("cannot run {}: {e}", host.display()))?;
    if !out.status.success() {
        return Err(format!(
            "ioto-host detect {} --detector {detector}: {}",
            csv.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .skip(1)
        .map(|l| {
            l.rsplit(',')
                .next()
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or_else(|| format!("bad ioto-host output line `{l}`"))
        })
        .collect()
}

/// Scores of `detector` for every series of `corpus`, two series at a time.
fn corpus_scores(
    host: &Path,
    corpus: &nab::Corpus,
    detector: &str,
) -> Result<HashMap<String, Vec<f64>>> {
    let data = corpus_root().join("data");
    let names: Vec<&str> = corpus.series.iter().map(|s| s.name.as_str()).collect();
    let results: Vec<Result<(String, Vec<f64>)>> = std::thread::scope(|scope| {
        let chunks: Vec<&[&str]> = names.chunks(names.len().div_ceil(2).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let data = &data;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|n| Ok((n.to_string(), scores_of(host, &data.join(n), detector)?)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("thread panicked".into())])
            })
            .collect()
    });
    results.into_iter().collect()
}

/// `data/nab` in the repository.
pub fn corpus_root() -> std::path::PathBuf {
    toolchain::repo_root().join("data/nab")
}

/// `cargo xtask bench detect [--detector <name>] [--host-only]`.
pub fn run(only: Option<&str>, host_only: bool) -> Result {
    if let Some(d) = only
        && !DETECTORS.contains(&d)
    {
        return Err(format!("unknown detector `{d}`: one of {DETECTORS:?}"));
    }
    let corpus = nab::Corpus::load(&corpus_root())?;
    let host = build_ioto_host()?;
    let mut rows: Vec<Row> = Vec::new();
    let firmware = if host_only {
        HashMap::new()
    } else {
        firmware_rows()?
    };
    for published in ["numenta", "contextOSE", "ARTime", "windowedGaussian"] {
        let map = nab::load_result_scores(&corpus.results_dir(), published)?;
        let s = corpus.score_map(&map)?;
        rows.push(score_row(&format!("{published} (published)"), &s, None));
    }
    let bench_dir = toolchain::target_dir().join("bench");
    std::fs::create_dir_all(&bench_dir).map_err(|e| e.to_string())?;
    for d in DETECTORS
        .into_iter()
        .filter(|d| only.is_none_or(|o| o == *d))
    {
        let step = ui::step(&format!("detector {d} over {} series", corpus.series.len()));
        let map = corpus_scores(&host, &corpus, d)?;
        let s = corpus.score_map(&map)?;
        step.done();
        let fw = firmware.get(d);
        rows.push(score_row(d, &s, fw));
        let threshold = s.get("standard").map(|p| p.threshold).unwrap_or(1.0);
        for name in PLOTTED {
            if let (Some(series), Some(scores)) = (corpus.series(name), map.get(name)) {
                let svg = nab::plot_svg(series, scores, threshold, &series.windows);
                let file = name
                    .rsplit('/')
                    .next()
                    .unwrap_or(name)
                    .trim_end_matches(".csv");
                let path = bench_dir.join(format!("detect-{d}-{file}.svg"));
                std::fs::write(&path, svg).map_err(|e| e.to_string())?;
            }
        }
    }
    ui::info(&format!("plots in {}", bench_dir.display()));
    bench::write_table("detect", &rows)
}

fn score_row(name: &str, s: &nab::NabScores, fw: Option<&FirmwareCost>) -> Row {
    let get = |p: &str| {
        s.get(p)
            .map(|x| format!("{:.2}", x.normalized))
            .unwrap_or_default()
    };
    let std = s.get("standard");
    let mut row: Row = vec![
        ("detector".into(), name.into()),
        ("standard".into(), get("standard")),
        ("low_fp".into(), get("reward_low_FP_rate")),
        ("low_fn".into(), get("reward_low_FN_rate")),
        (
            "windows_hit".into(),
            std.map(|p| {
                format!(
                    "{}/{}",
                    p.windows_detected,
                    p.windows_detected + p.windows_missed
                )
            })
            .unwrap_or_default(),
        ),
        (
            "fp".into(),
            std.map(|p| p.false_positives.to_string())
                .unwrap_or_default(),
        ),
    ];
    if let Some(fw) = fw {
        row.push(("state_bytes".into(), fw.state_bytes.clone()));
        for (board, per) in &fw.per_sample {
            row.push((format!("instr/sample {board}"), per.clone()));
        }
    }
    row
}

/// State size and instructions per sample of one detector, from `bench_detect`.
#[derive(Default)]
struct FirmwareCost {
    state_bytes: String,
    per_sample: Vec<(String, String)>,
}

/// Runs `bench_detect` on qemu-m0 and qemu-m4f.
fn firmware_rows() -> Result<HashMap<String, FirmwareCost>> {
    let mut out: HashMap<String, FirmwareCost> = HashMap::new();
    let chosen = [boards::find("qemu-m0")?, boards::find("qemu-m4f")?];
    for row in bench::firmware_benches(&chosen, "bench_detect", &[])? {
        let get = |k: &str| bench::field(&row, k).unwrap_or_default().to_string();
        let e = out.entry(get("detector")).or_default();
        e.state_bytes = get("state_bytes");
        e.per_sample.push((get("board"), get("instr_per_sample")));
    }
    Ok(out)
}
