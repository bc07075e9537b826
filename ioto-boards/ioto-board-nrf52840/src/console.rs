//! The console: the [`log`] facade printed over RTT (SEGGER Real-Time Transfer), shared
//! with the other probe-flashed boards (`ioto_board_embassy::rtt_console`).

pub use ioto_board_embassy::rtt_console::{BUFFER_BYTES, init};
