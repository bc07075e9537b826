//! `cargo xtask bench transport`: MQTT throughput against rumqttc (same run), the code
//! size and per-connection state of the MQTT, HTTP, WebSocket and TLS clients on
//! thumbv7em, and the RAM a TLS session needs on the virtual boards.

use object::{Object, ObjectSymbol, read::archive::ArchiveFile};

use crate::{
    Result,
    bench::{self, Row},
    boards::{self, Board},
    build::{FirmwareBuild, run_checked},
    size::Footprint,
    toolchain, ui,
};

/// The target the code-size table is for (the nRF52840's).
const SIZE_TARGET: &str = "thumbv7em-none-eabihf";

/// `cargo xtask bench transport`.
pub fn run() -> Result {
    let step = ui::step("MQTT throughput through mosquitto: ioto-transport vs rumqttc");
    let out = toolchain::capture(toolchain::host_cargo().args([
        "run",
        "--release",
        "-p",
        "ioto-transport",
        "--features",
        "std",
        "--example",
        "mqtt_bench",
    ]))
    .ok_or("mqtt_bench failed")?;
    step.done();
    bench::write_table("transport_mqtt", &bench::parse_bench_lines(&out))?;
    let virt: Vec<&'static Board> = boards::virtual_boards().collect();
    let tls = bench::firmware_benches(&virt, "bench_tls", &[])?;
    bench::write_table("transport_tls", &tls)?;
    bench::write_table("transport_size", &sizes(&tls)?)
}

/// Code (`.text` + `.rodata`) and own state of each client on [`SIZE_TARGET`]; TLS
/// code is `bench_tls` minus the same firmware built without the session.
fn sizes(tls: &[Row]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (feature, what) in [
        (
            "mqtt",
            "MQTT 3.1.1+5 client (connect, subscribe, publish QoS 1, receive)",
        ),
        ("http", "HTTP/1.1 client (POST, streamed body)"),
        (
            "ws",
            "WebSocket client (handshake, send, receive, close; incl. HTTP head parser)",
        ),
    ] {
        let (code, state) = probe(feature)?;
        rows.push(vec![
            ("part".into(), feature.into()),
            ("code_bytes".into(), code.to_string()),
            (
                "state_bytes".into(),
                state.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("what".into(), what.into()),
        ]);
    }
    let board = boards::find("qemu-m4f")?;
    let baseline = bench::run_firmware(
        board,
        &FirmwareBuild {
            example: Some("bench_tls"),
            release: true,
            features: &["tls-baseline"],
            ..Default::default()
        },
    )?;
    let flash = |rows: &[Row]| -> Option<u64> {
        rows.iter()
            .filter(|r| r.iter().any(|(k, v)| k == "board" && v == board.name))
            .find_map(|r| r.iter().find(|(k, _)| k == "firmware_flash_bytes"))
            .and_then(|(_, v)| v.parse().ok())
    };
    let (with, without) = (
        flash(tls).ok_or("bench_tls printed no firmware_flash_bytes")?,
        flash(&baseline).ok_or("bench_tls (tls-baseline) printed no firmware_flash_bytes")?,
    );
    let ram = tls
        .iter()
        .filter(|r| r.iter().any(|(k, v)| k == "board" && v == board.name))
        .find_map(|r| r.iter().find(|(k, _)| k == "tls_ram_bytes"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    rows.push(vec![
        ("part".into(), "tls".into()),
        (
            "code_bytes".into(),
            with.saturating_sub(without).to_string(),
        ),
        ("state_bytes".into(), ram),
        (
            "what".into(),
            "TLS 1.3 + X.509 verification (state = record buffers + peak stack of a handshake)"
                .into(),
        ),
    ]);
    Ok(rows)
}

/// Builds `ioto-transport/size-probe` with one feature for [`SIZE_TARGET`] and returns
/// the probe object's code bytes and the `PROBE_<FEATURE>_STATE_BYTES` value, if any.
fn probe(feature: &str) -> Result<(u64, Option<u64>)> {
    let step = ui::step(&format!("size probe: {feature} on {SIZE_TARGET}"));
    let cross = toolchain::cross(SIZE_TARGET)?;
    let dir = toolchain::repo_root().join("ioto-transport/size-probe");
    let target_dir = toolchain::target_dir().join("size-probe").join(feature);
    let mut c = cross.command("build", &dir);
    c.args([
        "--release",
        "--target",
        SIZE_TARGET,
        "--features",
        feature,
        "--target-dir",
    ])
    .arg(&target_dir);
    run_checked(&mut c, &format!("building the {feature} size probe"))?;
    let lib = target_dir
        .join(SIZE_TARGET)
        .join("release/libioto_transport_size_probe.a");
    let bytes = std::fs::read(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    let archive = ArchiveFile::parse(&*bytes).map_err(|e| format!("{}: {e}", lib.display()))?;
    let symbol = format!("PROBE_{}_STATE_BYTES", feature.to_uppercase());
    for member in archive.members() {
        let member = member.map_err(|e| e.to_string())?;
        // The LTO'd probe object holds our code (and the `core` it uses); the
        // compiler_builtins members are the same for every build and left out.
        if !String::from_utf8_lossy(member.name()).starts_with("ioto_transport_size_probe") {
            continue;
        }
        // Copied out: archive members are not aligned for the ELF reader.
        let data = member.data(&*bytes).map_err(|e| e.to_string())?.to_vec();
        let file = object::File::parse(&*data).map_err(|e| e.to_string())?;
        let fp = Footprint::of_object(&file);
        let state = file
            .symbols()
            .find(|s| s.name() == Ok(symbol.as_str()))
            .and_then(|s| {
                let section = file.section_by_index(s.section_index()?).ok()?;
                let data = object::ObjectSection::data(&section).ok()?;
                let at = usize::try_from(s.address()).ok()?;
                let word = data.get(at..at + 4)?;
                Some(u64::from(u32::from_le_bytes(word.try_into().ok()?)))
            });
        step.done();
        return Ok((fp.text + fp.rodata, state));
    }
    Err(format!("{}: no size-probe object inside", lib.display()))
}
