//! # ioto-board-esp32c3
//!
//! Board support for the Espressif **ESP32-C3** (RV32IMC at 160 MHz, 400 KB SRAM,
//! 4 MB flash on most modules), written against [`esp_hal`] 1.2 and [`esp_rtos`] 0.4.
//!
//! What the board provides to Ioto-rs:
//!
//! | need | provided by |
//! |---|---|
//! | start-up, clocks, peripherals | [`init`] / [`init_with`] (160 MHz CPU clock) |
//! | scheduler and time | [`start_rtos`]: esp-rtos on TIMG0, which is also the `embassy-time` driver (1 MHz ticks); [`EmbassyClock`] is an [`ioto_core::Clock`] |
//! | console / log | the `log` facade through `esp-println` on the USB-serial-JTAG (or UART0 when no USB host is attached) ([`console`]) |
//! | randomness | the RNG peripheral fed by ADC noise as [`HwRng`] ([`ioto_core::Entropy`], `rand_core` 0.9 `CryptoRng`) |
//! | LEDs | [`led`] (plain GPIO LEDs; GPIO8 on most small C3 boards) |
//! | bootloader | [`app_descriptor!`]: the ESP-IDF app descriptor the 2nd-stage bootloader checks |
//! | panics | [`panic::halt`], to call from the firmware's `#[panic_handler]` |
//!
//! ```no_run
//! #![no_std]
//! #![no_main]
//! use embassy_executor::Spawner;
//! use ioto_board_esp32c3 as board;
//! use ioto_core::{Clock, Entropy};
//!
//! board::app_descriptor!();
//!
//! #[esp_rtos::main]
//! async fn main(_spawner: Spawner) {
//!     let p = board::init();
//!     board::start_rtos(p.TIMG0, p.FROM_CPU_INTR0);
//!     let mut rng = board::HwRng::new(p.RNG, p.ADC1);
//!     let mut led = board::led::Led::active_low(p.GPIO8);
//!     log::info!("boot at {} us, random {:08x}", board::EmbassyClock.now().as_micros(), rng.next_u32());
//!     loop {
//!         led.toggle();
//!         board::time::Timer::after_millis(500).await;
//!     }
//! }
//!
//! #[panic_handler]
//! fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
//!     board::panic::halt(info)
//! }
//! ```
//!
//! The crate only builds for `riscv32imc-unknown-none-elf`; esp-hal's build script
//! adds the linker scripts (`-Tlinkall.x`), so firmware needs no `memory.x`.
#![no_std]
#![deny(missing_docs)]

pub mod console;
pub mod led;
pub mod panic;
pub mod rng;
pub mod time;

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
