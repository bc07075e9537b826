//! `cargo xtask demo`: the anomaly-monitor agent on this host against a simulated
//! machine, an embedded MQTT broker, a summary table and `target/demo/report.html`.

use crate::Result;
use crate::toolchain;

/// Runs the demo with the given options (see `ioto_board_host::demo::DEMO_USAGE`).
pub fn cmd(args: &[String]) -> Result {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "usage: cargo xtask demo {}",
            ioto_board_host::demo::DEMO_USAGE
        );
        return Ok(());
    }
    let out = toolchain::target_dir().join("demo");
    let opts = ioto_board_host::demo::parse_args(args, out)?;
    let summary = ioto_board_host::demo::run(&opts)?;
    if summary.metrics.inferences == 0 {
        return Err("the agent scored no window".into());
    }
    Ok(())
}
