//! TLS footprint and cost on the virtual boards: one full TLS 1.3 handshake with
//! certificate verification plus one request/response, replayed from a session
//! recorded against `openssl s_server` (`fixtures/tls/`). Prints
//!
//! `BENCH tls_ram_bytes=… tls_stack_bytes=… tls_buffer_bytes=… tls_state_bytes=…
//! tls_handshake_instructions=… firmware_flash_bytes=…`
//!
//! * `tls_ram_bytes` = the two record buffers + the deepest stack the session
//!   reached. The stack is measured by painting it; it includes the connection state
//!   (`tls_state_bytes`), which lives in the future on the stack.
//! * `tls_future_bytes`: the size of the whole session's future (connect + one
//!   exchange), part of the stack figure.
//! * `firmware_flash_bytes` = text + rodata + data of this image, from the linker's
//!   symbols; the TLS share is this minus the `smoke` firmware (see
//!   `ioto-transport/README.md`).
#![no_std]
#![no_main]
#![cfg_attr(feature = "tls-baseline", allow(dead_code, unused_imports))]

#[path = "tls_common/replay.rs"]
mod replay;

use core::hint::black_box;
use ioto_board_qemu::footprint::{StackProbe, firmware_flash_bytes};
use ioto_board_qemu::{entry, exit, instructions, println};
use ioto_transport::tls::TlsStream;
use replay::{READ_BUF, RECORDING, ReplayStream, WRITE_BUF};

/// How deep below the caller the stack is painted.
const PAINT_DEPTH: usize = 48 * 1024;

static mut READ: [u8; READ_BUF] = [0; READ_BUF];
static mut WRITE: [u8; WRITE_BUF] = [0; WRITE_BUF];

/// `--features tls-baseline`: everything but the TLS session, for the flash baseline.
#[cfg(feature = "tls-baseline")]
#[entry]
fn main() -> ! {
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    let recording = black_box(RECORDING);
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(replay::SEED);
    ioto_board_qemu::counter::start();
    let probe = StackProbe::paint(PAINT_DEPTH);
    let start = instructions();
    let sum: usize = [recording.ca, recording.client, recording.server]
        .iter()
        .map(|b| b.len())
        .sum();
    let spent = instructions() - start;
    println!(
        "BENCH tls_baseline=1 bytes={} rng={} stack={} instructions={} firmware_flash_bytes={}",
        sum + recording.now_unix as usize,
        rng.next_u32(),
        probe.used(),
        spent,
        firmware_flash_bytes()
    );
    exit(0)
}

#[cfg(not(feature = "tls-baseline"))]
#[entry]
fn main() -> ! {
    ioto_board_qemu::counter::start();
    // SAFETY: the only references to the buffers, taken once.
    let (read_buf, write_buf) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(READ),
            &mut *core::ptr::addr_of_mut!(WRITE),
        )
    };
    let probe = StackProbe::paint(PAINT_DEPTH);
    let start = instructions();
    let (result, finished) = replay::run_session_with(black_box(RECORDING), read_buf, write_buf);
    let spent = instructions() - start;
    let stack = probe.used();
    if result.is_err() || !finished || stack >= PAINT_DEPTH - 1024 {
        println!(
            "bench_tls FAILED: {:?}, finished={}, stack={}",
            result, finished, stack
        );
        exit(1)
    }
    let buffers = READ_BUF + WRITE_BUF;
    let state = core::mem::size_of::<TlsStream<'static, &mut ReplayStream<'static>>>();
    let future = {
        let mut stream = ReplayStream::new(RECORDING);
        let fut = replay::session(
            &mut stream,
            RECORDING.ca,
            RECORDING.now_unix,
            read_buf,
            write_buf,
        );
        core::mem::size_of_val(&fut)
    };
    println!(
        "BENCH tls_ram_bytes={} tls_stack_bytes={} tls_buffer_bytes={} tls_state_bytes={} tls_future_bytes={} tls_handshake_instructions={} firmware_flash_bytes={}",
        buffers + stack,
        stack,
        buffers,
        state,
        future,
        spent,
        firmware_flash_bytes()
    );
    exit(0)
}
