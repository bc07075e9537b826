//! `cargo xtask demo`: the anomaly-monitor agent on this host against a simulated
//! machine, an embedded MQTT broker, a summary table and `target/demo/report.html`;
//! `--board qemu-m4f` (or another virtual board) runs the same agent as firmware on
//! the emulated chip instead (console only until the boards get networking).

use std::time::Duration;

use crate::build::{self, FirmwareBuild};
use crate::{Result, boards, qemu, toolchain};

/// Builds and runs `examples/qemu`'s `agent` firmware on the virtual `board`.
fn on_board(name: &str) -> Result {
    let board = boards::find(name)?;
    if !matches!(board.kind, boards::Kind::Virtual(_)) {
        return Err(format!(
            "--board {name}: the demo runs on the virtual boards (qemu-m4f, qemu-m0, qemu-rv32); flash a physical board with its example instead"
        ));
    }
    let fb = FirmwareBuild {
        release: true,
        example: Some("agent"),
        ..Default::default()
    };
    let elfs = build::firmware(board, &fb)?;
    let elf = elfs.first().ok_or("the agent firmware was not built")?;
    let run = qemu::run(board, elf, Duration::from_secs(120))?;
    print!("{}", run.stdout);
    match run.code {
        Some(0) => Ok(()),
        other => Err(format!(
            "the agent firmware on {name} ended with {other:?}\n{}",
            run.stderr
        )),
    }
}

/// Runs the demo with the given options (see `ioto_board_host::demo::DEMO_USAGE`).
pub fn cmd(args: &[String]) -> Result {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "usage: cargo xtask demo {}",
            ioto_board_host::demo::DEMO_USAGE
        );
        return Ok(());
    }
    if let Some(i) = args.iter().position(|a| a == "--board") {
        let name = args.get(i + 1).ok_or("--board needs a value")?;
        return on_board(name);
    }
    let out = toolchain::target_dir().join("demo");
    let opts = ioto_board_host::demo::parse_args(args, out)?;
    let summary = ioto_board_host::demo::run(&opts)?;
    if summary.metrics.inferences == 0 {
        return Err("the agent scored no window".into());
    }
    Ok(())
}
