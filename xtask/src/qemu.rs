//! Running a firmware ELF on a virtual board, with a time limit.

use std::{
    io::Read,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    Result,
    boards::{Board, Kind, QEMU_COMMON},
};

/// What one QEMU run produced.
#[derive(Debug)]
pub struct Run {
    /// Semihosting output (the firmware's console).
    pub stdout: String,
    /// QEMU's own diagnostics.
    pub stderr: String,
    /// The exit status, `None` if it was killed at the time limit.
    pub code: Option<i32>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

/// Runs `elf` on `board` for at most `limit`.
pub fn run(board: &Board, elf: &Path, limit: Duration) -> Result<Run> {
    run_with(board, elf, limit, &[])
}

/// Runs `elf` on `board` for at most `limit`, with `extra` QEMU options (e.g. the
/// network of `qemu_net`).
pub fn run_with(board: &Board, elf: &Path, limit: Duration, extra: &[String]) -> Result<Run> {
    let Kind::Virtual(machine) = board.kind else {
        return Err(format!("{} is not a virtual board", board.name));
    };
    let (program, machine_args) = machine.split_first().ok_or("empty QEMU command")?;
    let mut cmd = Command::new(program);
    cmd.args(machine_args)
        .args(QEMU_COMMON)
        .args(extra)
        .arg("-kernel")
        .arg(elf);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e} (run `cargo xtask doctor --install`)"))?;
    let mut out = child.stdout.take().ok_or("no stdout pipe")?;
    let mut err = child.stderr.take().ok_or("no stderr pipe")?;
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok(Run {
        stdout,
        stderr,
        code,
        elapsed: start.elapsed(),
    })
}
