//! `cargo xtask bench <suite>`: numbers, reported and written to CSV, never asserted.
//!
//! Firmware benchmarks are the `bench_*` bins of a board's firmware crate. They run under
//! `-icount shift=0` (one instruction per virtual nanosecond) and print one line per
//! measurement: `BENCH key=value key=value …`. xtask collects those lines into a table
//! and `target/bench/<suite>.csv`.

use std::{collections::BTreeSet, time::Duration};

use crate::{
    Result,
    args::Args,
    boards::{self, Board},
    build::{self, FirmwareBuild},
    qemu, toolchain, ui,
};

/// The suites `cargo xtask bench` knows.
const SUITES: [(&str, &str); 5] = [
    (
        "agent",
        "demo runs over seeds (faults detected, bytes sent vs raw); agent firmware flash/RAM vs 64 KB",
    ),
    (
        "detect",
        "every detector over the NAB corpus (standard/low-FP/low-FN), state bytes, instr/sample on qemu-m0/m4f, SVG plots",
    ),
    (
        "firmware",
        "every bench_* firmware on every virtual board (instructions, exact under -icount)",
    ),
    (
        "ml",
        "ioto-ml: instructions/MAC per virtual board; host median vs TFLM's runtime, same run",
    ),
    (
        "transport",
        "MQTT QoS 0/1 throughput vs rumqttc; MQTT/HTTP/WS/TLS code and RAM on thumbv7em",
    ),
];

/// `cargo xtask bench <suite> [--board <b>]`; `detect` takes `--detector <name>` (one
/// detector) and `--host-only` (no firmware runs); `firmware` also takes `--bin <prefix>`
/// (only the `bench_*` bins starting with it) and `--features <a,b>` (firmware crate
/// features, e.g. `tls-rsa`); `agent` takes `--seeds N`, `--duration S`, `--speedup X`,
/// `--board <b>` and `--host-only`.
pub fn cmd(raw: &[String]) -> Result {
    let args = Args::parse(
        raw,
        &["--host-only"],
        &[
            "--board",
            "--bin",
            "--features",
            "--detector",
            "--seeds",
            "--duration",
            "--speedup",
        ],
    )?;
    let suite = args
        .positional
        .first()
        .map(String::as_str)
        .unwrap_or("list");
    match suite {
        "list" => {
            for (name, what) in SUITES {
                println!("{name:<10} {what}");
            }
            Ok(())
        }
        "firmware" => {
            let chosen: Vec<&Board> = match args.option("--board") {
                Some(b) => vec![boards::find(b)?],
                None => boards::virtual_boards().collect(),
            };
            let prefix = args.option("--bin").unwrap_or("bench_");
            if !prefix.starts_with("bench_") {
                return Err(format!(
                    "--bin {prefix}: benchmark bins start with `bench_`"
                ));
            }
            let features: Vec<&str> = args
                .option("--features")
                .map(|f| f.split(',').filter(|f| !f.is_empty()).collect())
                .unwrap_or_default();
            let rows = firmware_benches(&chosen, prefix, &features)?;
            write_table("firmware", &rows)
        }
        "agent" => crate::bench_agent::run(&args),
        "detect" => crate::bench_detect::run(args.option("--detector"), args.flag("--host-only")),
        "ml" => crate::bench_suites::ml(),
        "transport" => crate::bench_transport::run(),
        other => Err(format!(
            "unknown bench suite `{other}` (see `cargo xtask bench list`)"
        )),
    }
}

/// One `BENCH` line, as ordered key/value pairs, with the board it ran on first.
pub type Row = Vec<(String, String)>;

/// The value of `key` in `row`.
pub fn field<'r>(row: &'r Row, key: &str) -> Option<&'r str> {
    row.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Parses `BENCH key=value …` lines.
pub fn parse_bench_lines(output: &str) -> Vec<Row> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("BENCH "))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Builds and runs the bins starting with `prefix` on each board, with the firmware
/// crate's extra `features`; returns their rows.
pub fn firmware_benches(
    chosen: &[&'static Board],
    prefix: &str,
    features: &[&str],
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for &board in chosen {
        let fb = FirmwareBuild {
            only_prefix: Some(prefix),
            release: true,
            features,
            ..Default::default()
        };
        rows.extend(run_firmware(board, &fb)?);
    }
    Ok(rows)
}

/// Builds the firmware `fb` describes for `board`, runs each ELF under QEMU and
/// returns their `BENCH` rows (board first). A non-zero exit is an error.
pub fn run_firmware(board: &'static Board, fb: &FirmwareBuild<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for elf in build::firmware(board, fb)? {
        rows.extend(run_elf(board, &elf)?);
    }
    Ok(rows)
}

/// Runs one built firmware ELF on `board` under QEMU and returns its `BENCH` rows
/// (board first). A non-zero exit is an error.
pub fn run_elf(board: &'static Board, elf: &std::path::Path) -> Result<Vec<Row>> {
    let step = ui::step(&format!("bench {} on {}", elf.display(), board.name));
    let run = qemu::run(board, elf, Duration::from_secs(1800))?;
    if run.code != Some(0) {
        return Err(format!(
            "{} on {} exited {:?}:\n{}{}",
            elf.display(),
            board.name,
            run.code,
            run.stdout,
            run.stderr
        ));
    }
    let rows = parse_bench_lines(&run.stdout)
        .into_iter()
        .map(|mut row| {
            row.insert(0, ("board".into(), board.name.into()));
            row
        })
        .collect();
    step.done();
    Ok(rows)
}

/// Prints rows as an aligned table and writes `target/bench/<suite>.csv`.
pub fn write_table(suite: &str, rows: &[Row]) -> Result {
    let mut columns: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for row in rows {
        for (k, _) in row {
            if seen.insert(k.clone()) {
                columns.push(k.clone());
            }
        }
    }
    let cell = |row: &Row, c: &str| field(row, c).unwrap_or_default().to_string();
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| {
            rows.iter()
                .map(|r| cell(r, c).len())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let line = |vals: Vec<String>| {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(columns.clone()));
    for r in rows {
        println!("{}", line(columns.iter().map(|c| cell(r, c)).collect()));
    }
    let dir = toolchain::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut csv = columns.join(",") + "\n";
    for r in rows {
        csv += &(columns
            .iter()
            .map(|c| cell(r, c))
            .collect::<Vec<_>>()
            .join(",")
            + "\n");
    }
    let path = dir.join(format!("{suite}.csv"));
    std::fs::write(&path, csv).map_err(|e| e.to_string())?;
    ui::info(&format!("wrote {}", path.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_become_rows() {
        let rows = parse_bench_lines("noise\nBENCH model=kws instructions=123 macs=4\nBENCH x=1\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], ("model".to_string(), "kws".to_string()));
        assert_eq!(rows[0][2], ("macs".to_string(), "4".to_string()));
    }
}
