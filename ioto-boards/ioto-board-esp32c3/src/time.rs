//! Time on the ESP32-C3: `embassy-time` is driven by esp-rtos (1 MHz ticks) on timer 0
//! of TIMG0, started by [`crate::start_rtos`] (or [`crate::Board::init`]). The board's
//! [`ioto_core::Clock`] is [`EmbassyClock`] from `ioto-core` (one clock for every
//! embassy board); it reads 0 until esp-rtos runs.

pub use embassy_time::{Delay, Duration, Instant as EmbassyInstant, Ticker, Timer};
pub use ioto_core::embassy_clock::EmbassyClock;
