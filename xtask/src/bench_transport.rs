//! `cargo xtask bench transport`: MQTT throughput against rumqttc (same run), the code
//! size and per-connection state of the MQTT, HTTP, WebSocket and TLS clients on
//! thumbv7em, and the RAM a TLS session needs on the virtual boards.
//!
//! TLS code is measured per feature set ([`TLS_SETS`]: the common profile, with
//! P-384, with RSA, with both) as the flash of the `bench_tls` firmware minus the same
//! firmware built with `tls-baseline` (no session), on qemu-m4f, against
//! [`TLS_AIM_BYTES`] for the common profile.

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
    bench::write_table("transport_size", &sizes()?)?;
    bench::write_table("transport_tls_size", &tls_sizes()?)
}

/// The TLS feature sets measured: name, firmware features (examples/qemu), what (no
/// commas: it is a CSV cell). All with `tls-compact-sha2`, as the device examples build
/// TLS.
const TLS_SETS: [(&str, &[&str], &str); 4] = [
    (
        "common",
        &["tls-compact-sha2"],
        "TLS 1.3 + X25519 + AES-128-GCM + SHA-256 + ECDSA P-256 (feature `tls`)",
    ),
    (
        "+p384",
        &["tls-compact-sha2", "tls-p384"],
        "common + ECDSA P-384 + SHA-384/512 (`tls-p384`)",
    ),
    (
        "+rsa",
        &["tls-compact-sha2", "tls-rsa"],
        "common + RSA 2048-4096 PKCS#1 v1.5/PSS + SHA-384/512 (`tls-rsa`)",
    ),
    (
        "all",
        &["tls-compact-sha2", "tls-p384", "tls-rsa"],
        "common + P-384 + RSA",
    ),
];

/// The code-size aim for the common profile (issue 13): 48 KB on thumbv7em.
const TLS_AIM_BYTES: u64 = 48 * 1024;

/// The board the TLS code and RAM are measured on (thumbv7em, like [`SIZE_TARGET`]).
const TLS_SIZE_BOARD: &str = "qemu-m4f";

/// The first `key` of the rows `bench_tls` printed on `board`, as a number.
fn tls_field(rows: &[Row], board: &Board, key: &str) -> Option<u64> {
    rows.iter()
        .filter(|r| bench::field(r, "board") == Some(board.name))
        .find_map(|r| bench::field(r, key))
        .and_then(|v| v.parse().ok())
}

/// One row per [`TLS_SETS`] entry: TLS code bytes (`bench_tls` minus its
/// `tls-baseline` build), RAM of one session, and the aim for the common profile.
fn tls_sizes() -> Result<Vec<Row>> {
    let board = boards::find(TLS_SIZE_BOARD)?;
    let run = |features: &[&str]| {
        bench::run_firmware(
            board,
            &FirmwareBuild {
                example: Some("bench_tls"),
                release: true,
                features,
                ..Default::default()
            },
        )
    };
    let baseline = tls_field(&run(&["tls-baseline"])?, board, "firmware_flash_bytes")
        .ok_or("bench_tls (tls-baseline) printed no firmware_flash_bytes")?;
    let mut rows = Vec::new();
    for (set, features, what) in TLS_SETS {
        let measured = run(features)?;
        let flash = tls_field(&measured, board, "firmware_flash_bytes")
            .ok_or("bench_tls printed no firmware_flash_bytes")?;
        let code = flash.saturating_sub(baseline);
        let ram = tls_field(&measured, board, "tls_ram_bytes")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let (aim, verdict) = if set == "common" {
            let met = if code <= TLS_AIM_BYTES {
                "met"
            } else {
                "not met"
            };
            (TLS_AIM_BYTES.to_string(), met.to_string())
        } else {
            (String::new(), "opt-in".to_string())
        };
        rows.push(vec![
            ("feature_set".into(), set.into()),
            ("code_bytes".into(), code.to_string()),
            ("ram_bytes".into(), ram),
            ("aim_code_bytes".into(), aim),
            ("aim".into(), verdict),
            ("features".into(), features.join("+")),
            ("what".into(), what.into()),
        ]);
    }
    Ok(rows)
}

/// Code (`.text` + `.rodata`) and own state of the MQTT, HTTP and WebSocket clients on
/// [`SIZE_TARGET`] (TLS: [`tls_sizes`]).
fn sizes() -> Result<Vec<Row>> {
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
