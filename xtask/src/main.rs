//! `cargo xtask` — the single entry point for Ioto-rs developers and CI.
//!
//! ```text
//! cargo xtask demo [--seed N] [--duration S]          the anomaly-monitor agent, simulated machine, embedded broker
//! cargo xtask doctor [--install]                      check (and install) what the project needs
//! cargo xtask build --board <b> [--example <e>] [--release|--debug]
//! cargo xtask hil-test [--board <b>] [--emulator|--probe]
//! cargo xtask size [--board <b>] [--all] [--markdown]  flash, model weights, RAM per example
//! cargo xtask bench <suite>                           numbers, never asserted
//! cargo xtask fuzz list|<target>|--all [--minutes N]   fuzz campaigns, reported like benches
//! cargo xtask test                                    everything a contributor keeps green
//! ```

mod args;
mod bench;
mod bench_agent;
mod bench_detect;
mod bench_suites;
mod bench_transport;
mod boards;
mod build;
mod demo;
mod doctor;
mod fuzz;
mod hil;
mod nab;
mod qemu;
mod qemu_net;
mod qemu_tls;
mod report;
mod size;
mod test_all;
mod toolchain;
mod ui;

use std::process::ExitCode;

/// What a step returns: `Err` carries a message for the user.
type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  demo [--seed N] [--duration S] [--broker mqtt://H:P]
                                             the anomaly-monitor agent against a simulated machine
                                             with an embedded MQTT broker; report in target/demo
  doctor [--install]                         check toolchains, QEMU, mosquitto, Python peers;
                                             --install installs what is missing (apt as root, .venv)
  build --board <b> [--example <e>] [--debug]
                                             cross-build the library crates for the board's target
                                             and its firmware (all bins, or just <e>)
  hil-test [--board <b>] [--emulator|--probe] [--timeout <s>]
                                             build and run the on-target test suites; --emulator
                                             (default) runs the qemu-* boards, --probe runs on
                                             hardware through `probe-rs run`
  size [--board <b>] [--all] [--markdown]    flash, model weights and RAM of each example
  bench <suite>                              benchmarks (report, not tests): `cargo xtask bench list`;
                                             `bench agent [--seeds N] [--duration S] [--speedup X]`
                                             measures issue 10's aims (bytes sent, faults, flash)
  fuzz list | <target>... | --all [--minutes N]
                                             fuzz campaigns from the committed seeds (cargo-fuzz,
                                             stable toolchain); table in target/bench/fuzz.csv,
                                             crashes kept in <crate>/tests/fuzz_regressions/
  test                                       doctor --install, fmt, clippy, host tests, cross
                                             builds, physical-board firmware, hil-test --emulator

boards: qemu-m4f qemu-m0 qemu-rv32 (virtual) | nrf52840 rp2040 esp32c3 (physical)
";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let outcome = match cmd.as_str() {
        "doctor" => doctor::cmd(rest),
        "build" => build::cmd(rest),
        "demo" => demo::cmd(rest),
        "hil-test" => hil::cmd(rest),
        "size" => size::cmd(rest),
        "bench" => bench::cmd(rest),
        "fuzz" => fuzz::cmd(rest),
        "test" => test_all::cmd(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            ui::error(&msg);
            ExitCode::FAILURE
        }
    }
}
