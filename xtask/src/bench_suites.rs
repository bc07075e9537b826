//! The `ml` benchmark suite: side-by-side numbers against the peers (TFLM, LiteRT, MicroFlow),
//! measured in the same run.

use std::{path::Path, process::Command};

use crate::{
    Result,
    bench::{self, Row},
    boards::{self, Board},
    build::{FirmwareBuild, run_checked},
    doctor, toolchain, ui,
};

/// Models timed on the host against TFLM's Python runtime and LiteRT.
const HOST_MODELS: [&str; 4] = [
    "kws_ref_model",
    "person_detect",
    "ad01_int8",
    "micro_speech_quantized",
];

/// `cargo xtask bench ml`.
pub fn ml() -> Result {
    let virt: Vec<&'static Board> = boards::virtual_boards().collect();
    let mut rows = bench::firmware_benches(&virt, "bench_ml", &[])?;
    for row in &mut rows {
        let get = |k: &str| bench::field(row, k).and_then(|v| v.parse::<f64>().ok());
        if let (Some(i), Some(m)) = (get("instructions"), get("macs"))
            && m > 0.0
        {
            row.push(("instr_per_mac".into(), format!("{:.2}", i / m)));
        }
        push_cmsis_nn(row);
    }
    bench::write_table("ml_targets", &rows)?;
    bench::write_table("ml_engine_code", &engine_code(&virt)?)?;
    bench::write_table("ml_host", &host_vs_runtimes()?)?;
    bench::write_table("ml_vs_microflow", &vs_microflow()?)
}

/// TFLM + CMSIS-NN instructions per MAC on the emulated Cortex-M4, quoted from
/// `ioto-ml/TFLM-BASELINE.md` (that firmware is built outside this repository, so these
/// are not re-measured here).
const CMSIS_NN_QUOTED: [(&str, f64); 5] = [
    ("kws_ref_model", 2.90),
    ("person_detect", 3.20),
    ("ad01_int8", 2.21),
    ("micro_speech_quantized", 4.45),
    ("hello_world_int8", 12.22),
];

/// On `qemu-m4f` rows, the quoted TFLM + CMSIS-NN instructions per MAC
/// ([`CMSIS_NN_QUOTED`]) and `cmsis_nn_over_ioto_ml` (> 1: ioto-ml needs fewer
/// instructions).
fn push_cmsis_nn(row: &mut Row) {
    if bench::field(row, "board") != Some("qemu-m4f") {
        return;
    }
    let get = |k: &str| bench::field(row, k).and_then(|v| v.parse::<f64>().ok());
    let ours = get("instructions").zip(get("macs")).map(|(i, m)| i / m);
    let quoted = bench::field(row, "model")
        .and_then(|m| CMSIS_NN_QUOTED.iter().find(|(name, _)| *name == m))
        .map(|&(_, v)| v);
    if let (Some(theirs), Some(ours)) = (quoted, ours) {
        row.push((
            "cmsis_nn_instr_per_mac_quoted_tflm_baseline_md".into(),
            format!("{theirs:.2}"),
        ));
        row.push((
            "cmsis_nn_over_ioto_ml".into(),
            format!("{:.2}", theirs / ours),
        ));
    }
}

/// Code of the engine in each board's `bench_ml` firmware (built by the run above): the
/// sizes of the function symbols whose (mangled) path names the `ioto_ml` crate. LTO
/// inlines across crates, so this is close to, not exactly, the engine's share.
fn engine_code(boards: &[&'static Board]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for board in boards {
        let (code, functions) = ioto_ml_code(board, "bench_ml")?;
        rows.push(row(&[
            ("board", board.name.to_string()),
            ("target", board.target.to_string()),
            ("engine_code_bytes", code.to_string()),
            ("functions", functions.to_string()),
        ]));
    }
    Ok(rows)
}

/// Bytes and count of the `ioto_ml` function symbols in `board`'s release `bin`.
fn ioto_ml_code(board: &Board, bin: &str) -> Result<(u64, u32)> {
    use object::{Object, ObjectSymbol, SymbolKind};
    let elf = toolchain::target_dir()
        .join(board.target)
        .join("release")
        .join(bin);
    let bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
    let (mut code, mut functions) = (0u64, 0u32);
    for sym in file.symbols() {
        if sym.kind() == SymbolKind::Text && sym.name().is_ok_and(|n| n.contains("ioto_ml")) {
            code += sym.size();
            functions += 1;
        }
    }
    Ok((code, functions))
}

/// The models MicroFlow's own examples use, compared on `qemu-m4f`.
const MICROFLOW_MODELS: [&str; 2] = ["microflow_sine", "micro_speech_quantized"];
/// The ioto-ml operators those two models use.
const MICROFLOW_MODEL_OPS: [&str; 4] = [
    "ioto-ml/op-fully-connected",
    "ioto-ml/op-depthwise-conv-2d",
    "ioto-ml/op-reshape",
    "ioto-ml/op-softmax",
];

/// ioto-ml (`bench_vs_microflow`) and MicroFlow (`examples/microflow-cmp`, the same two
/// models, `--features m4f,sine,micro-speech`) built and run on `qemu-m4f` in the same
/// run: instructions and activation RAM per model, then flash and RAM per firmware.
fn vs_microflow() -> Result<Vec<Row>> {
    let board = boards::find("qemu-m4f")?;
    // Every operator (default features).
    let (all_ops, all_ops_code) = ours_vs_microflow(board, None)?;
    // The same firmware with only the operators the two models use (TFLM users
    // register just those with an op resolver; MicroFlow generates just those).
    let (ours, ours_code) = ours_vs_microflow(board, Some(&MICROFLOW_MODEL_OPS))?;
    // The same models compiled ahead of time (`build.rs` + `ioto_ml::codegen`): no
    // parser, planner or prepare code, only the kernels the models name.
    let (compiled, compiled_code) = ours_vs_microflow(board, Some(&["ml-compiled"]))?;
    let theirs = bench::run_firmware(
        board,
        &FirmwareBuild {
            example: Some("microflow_bench"),
            release: true,
            crate_dir: Some("examples/microflow-cmp"),
            no_default_features: true,
            features: &["sine", "micro-speech"],
            ..Default::default()
        },
    )?;
    let find = |rows: &[Row], model: Option<&str>, key: &str| -> Result<u64> {
        rows.iter()
            .filter(|r| bench::field(r, "model") == model)
            .find_map(|r| bench::field(r, key).and_then(|v| v.parse().ok()))
            .ok_or_else(|| format!("no `{key}` for {model:?} in the MicroFlow comparison output"))
    };
    let ratio = |a: u64, b: u64| format!("{:.2}", a as f64 / b.max(1) as f64);
    let mut rows = Vec::new();
    for model in MICROFLOW_MODELS {
        let (oi, mi) = (
            find(&ours, Some(model), "instructions")?,
            find(&theirs, Some(model), "instructions")?,
        );
        // Activation RAM: ioto-ml's arena plus the stack its invoke used; MicroFlow keeps
        // every tensor on the stack.
        let or = find(&ours, Some(model), "arena_bytes")?
            + find(&ours, Some(model), "stack_peak_bytes")?;
        let mr = find(&theirs, Some(model), "stack_peak_bytes")?;
        rows.push(row(&[
            ("what", model.to_string()),
            ("ioto_ml", oi.to_string()),
            ("microflow", mi.to_string()),
            ("microflow_over_ioto_ml", ratio(mi, oi)),
            ("unit", "instructions/inference".into()),
        ]));
        rows.push(row(&[
            ("what", model.to_string()),
            ("ioto_ml", or.to_string()),
            ("microflow", mr.to_string()),
            ("microflow_over_ioto_ml", ratio(mr, or)),
            ("unit", "activation RAM bytes (arena + stack peak)".into()),
        ]));
        let ci = find(&compiled, Some(model), "instructions")?;
        let cr = find(&compiled, Some(model), "arena_bytes")?
            + find(&compiled, Some(model), "stack_peak_bytes")?;
        rows.push(row(&[
            ("what", format!("{model} (ioto-ml compiled)")),
            ("ioto_ml", ci.to_string()),
            ("microflow", mi.to_string()),
            ("microflow_over_ioto_ml", ratio(mi, ci)),
            ("unit", "instructions/inference".into()),
        ]));
        rows.push(row(&[
            ("what", format!("{model} (ioto-ml compiled)")),
            ("ioto_ml", cr.to_string()),
            ("microflow", mr.to_string()),
            ("microflow_over_ioto_ml", ratio(mr, cr)),
            (
                "unit",
                "activation RAM bytes (activations + stack peak)".into(),
            ),
        ]));
    }
    for (rows_of_ours, key, unit) in [
        (
            &ours,
            "firmware_flash_bytes",
            "firmware flash bytes (both models; ioto-ml with the 4 operators they use)",
        ),
        (
            &all_ops,
            "firmware_flash_bytes",
            "firmware flash bytes (both models; ioto-ml with all 18 operators)",
        ),
        (
            &compiled,
            "firmware_flash_bytes",
            "firmware flash bytes (both models; ioto-ml compiled ahead of time)",
        ),
        (
            &ours,
            "static_ram_bytes",
            "firmware static RAM bytes (.data + .bss)",
        ),
        (
            &compiled,
            "static_ram_bytes",
            "firmware static RAM bytes (.data + .bss; ioto-ml compiled)",
        ),
    ] {
        let (o, m) = (find(rows_of_ours, None, key)?, find(&theirs, None, key)?);
        rows.push(row(&[
            ("what", "firmware".to_string()),
            ("ioto_ml", o.to_string()),
            ("microflow", m.to_string()),
            ("microflow_over_ioto_ml", ratio(m, o)),
            ("unit", unit.into()),
        ]));
    }
    for (code, build) in [
        (all_ops_code, "all 18 operators"),
        (ours_code, "the 4 operators they use"),
        (compiled_code, "compiled ahead of time"),
    ] {
        rows.push(row(&[
            ("what", "engine code".to_string()),
            ("ioto_ml", code.to_string()),
            ("microflow", "-".into()),
            ("microflow_over_ioto_ml", "-".into()),
            (
                "unit",
                format!("bytes of ioto_ml functions in the firmware ({build})"),
            ),
        ]));
    }
    Ok(rows)
}

/// Builds and runs ioto-ml's `bench_vs_microflow` on `board`, with the default features
/// or, given `only`, with just those; returns its rows and its `ioto_ml` code bytes.
fn ours_vs_microflow(board: &'static Board, only: Option<&[&str]>) -> Result<(Vec<Row>, u64)> {
    let rows = bench::run_firmware(
        board,
        &FirmwareBuild {
            example: Some("bench_vs_microflow"),
            release: true,
            no_default_features: only.is_some(),
            features: only.unwrap_or_default(),
            ..Default::default()
        },
    )?;
    Ok((rows, ioto_ml_code(board, "bench_vs_microflow")?.0))
}

/// A bench row from string pairs.
fn row(cells: &[(&str, String)]) -> Row {
    cells
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The last `median_us=` value a command prints.
fn median_us(cmd: &mut Command, what: &str) -> Result<f64> {
    let out = toolchain::capture(cmd).ok_or_else(|| format!("{what} failed"))?;
    out.lines()
        .rev()
        .find_map(|l| l.strip_prefix("median_us="))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("{what}: no `median_us=` line in its output"))
}

/// Median invoke time of `ioto-ml bench`, TFLM's Python runtime and LiteRT (XNNPACK,
/// one thread) on the same model and input, same run. A model LiteRT refuses (it checks
/// quantization parameters TFLM accepts) gets `-` in its columns.
fn host_vs_runtimes() -> Result<Vec<Row>> {
    let root = toolchain::repo_root();
    let step = ui::step("host: ioto-ml CLI (release) vs TFLM Python runtime and LiteRT");
    run_checked(
        toolchain::host_cargo().args(["build", "--release", "-p", "ioto-ml", "--features", "cli"]),
        "building the ioto-ml CLI",
    )?;
    let cli = toolchain::target_dir().join("release/ioto-ml");
    let tools = root.join("ioto-ml/tools");
    let mut rows = Vec::new();
    for model in HOST_MODELS {
        let dir = root.join("ioto-ml/tests/golden").join(model);
        let tflite = dir.join("model.tflite");
        let input = first_case(&dir)?;
        let ours = median_us(
            Command::new(&cli)
                .arg("bench")
                .arg(&tflite)
                .args(["--runs", "200"]),
            &format!("ioto-ml bench {model}"),
        )?;
        let peer = |script: &str| {
            median_us(
                Command::new(doctor::python())
                    .arg(tools.join(script))
                    .arg(&tflite)
                    .args(["--runs", "200", "--input"])
                    .arg(&input),
                &format!("{script} {model}"),
            )
        };
        let tflm = peer("bench_tflm.py")?;
        let litert = if LITERT_REFUSES.contains(&model) {
            None
        } else {
            Some(peer("bench_litert.py")?)
        };
        let or_dash = |v: Option<f64>, f: fn(f64) -> String| v.map_or("-".to_string(), f);
        rows.push(vec![
            ("model".into(), model.into()),
            ("ioto_ml_median_us".into(), format!("{ours:.1}")),
            ("tflm_median_us".into(), format!("{tflm:.1}")),
            ("tflm_over_ioto_ml".into(), format!("{:.2}", tflm / ours)),
            (
                "litert_median_us".into(),
                or_dash(litert, |v| format!("{v:.1}")),
            ),
            (
                "ioto_ml_over_litert".into(),
                or_dash(litert.map(|l| ours / l), |v| format!("{v:.2}")),
            ),
        ]);
    }
    step.done();
    Ok(rows)
}

/// Host models LiteRT refuses at load: person_detect's per-tensor filters carry
/// `quantized_dimension` 3, which TFLM ignores and LiteRT rejects ("quantized_dimension
/// must be in range [0, 1)").
const LITERT_REFUSES: [&str; 1] = ["person_detect"];

/// Writes the first golden input case of a model to `target/bench/` and returns it.
fn first_case(dir: &Path) -> Result<std::path::PathBuf> {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("meta.json"))
            .map_err(|e| format!("{}: {e}", dir.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let bytes: usize = meta["inputs"]
        .as_array()
        .map(|ins| ins.iter().filter_map(|i| i["bytes"].as_u64()).sum::<u64>() as usize)
        .ok_or("meta.json has no inputs")?;
    let all = std::fs::read(dir.join("input.bin")).map_err(|e| e.to_string())?;
    let case = all.get(..bytes).ok_or("input.bin shorter than one case")?;
    let out_dir = toolchain::target_dir().join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = out_dir.join(format!("{name}.in.bin"));
    std::fs::write(&path, case).map_err(|e| e.to_string())?;
    Ok(path)
}
