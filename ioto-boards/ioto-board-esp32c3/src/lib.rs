#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

pub mod console;
pub mod led;
pub mod net;
pub mod panic;
pub mod rng;
pub mod sensors;
pub mod storage;
pub mod time;

mod board;

pub use board::{Board, BoardError, Spare};
pub use ioto_board_embassy::{self as common, Credentials, Net, NetError};

pub use esp_bootloader_esp_idf;
pub use esp_hal as hal;
pub use esp_hal::peripherals::Peripherals;
pub use esp_rtos;
pub use rng::HwRng;
pub use time::EmbassyClock;

use esp_hal::{
    clock::CpuClock,
    peripherals::{FROM_CPU_INTR0, TIMG0},
    timer::timg::TimerGroup,
};

/// How [`init_with`] brings the chip up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The most verbose `log` level the console prints.
    pub log_level: log::LevelFilter,
}

impl Default for Config {
    /// `Info` log level.
    fn default() -> Self {
        Self {
            log_level: log::LevelFilter::Info,
        }
    }
}

/// Brings the board up with [`Config::default`]; see [`init_with`].
pub fn init() -> Peripherals {
    init_with(Config::default())
}

/// Brings the board up: installs the console logger, runs the CPU at its maximum
/// clock (160 MHz) and returns the chip's peripherals.
///
/// Time does not run until [`start_rtos`] is called with `p.TIMG0` and
/// `p.FROM_CPU_INTR0`; the board does not take them behind your back.
///
/// # Panics
///
/// If called twice (the peripherals can be taken only once).
pub fn init_with(config: Config) -> Peripherals {
    console::init(config.log_level);
    let p = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    log::debug!("ioto-board-esp32c3 up: {:?}", config);
    p
}

/// Starts esp-rtos: its scheduler and the `embassy-time` driver run on timer 0 of
/// TIMG0 and are woken through the `FROM_CPU_INTR0` software interrupt. Call it once,
/// right after [`init`] and before the first `.await` on a timer; the
/// `#[esp_rtos::main]` executor needs it as well.
pub fn start_rtos(timg0: TIMG0<'static>, int0: FROM_CPU_INTR0<'static>) {
    let timers = TimerGroup::new(timg0);
    esp_rtos::start(timers.timer0, int0);
}

/// Places the ESP-IDF application descriptor (name, version, build date, minimum
/// chip revision) that the ESP-IDF second-stage bootloader and `espflash` check.
/// Invoke it once, at the top level of the firmware binary.
#[macro_export]
macro_rules! app_descriptor {
    () => {
        $crate::esp_bootloader_esp_idf::esp_app_desc!();
    };
}
