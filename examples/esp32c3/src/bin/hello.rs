//! Hello firmware for the ESP32-C3: blinks the active-low LED on GPIO8 (see
//! `ioto_board_esp32c3::led` for boards with an RGB LED there), and every half second
//! logs the uptime and a fresh hardware random number on the USB-serial-JTAG / UART0.
//!
//! ```text
//! cargo run --release --bin hello     # runner: probe-rs run --chip esp32c3
//! espflash flash --monitor --chip esp32c3 <elf>
//! ```
#![no_std]
#![no_main]

use embassy_executor::Spawner;
use ioto_board_esp32c3::{self as board, EmbassyClock, HwRng, led::Led, time::Timer};
use ioto_core::{Clock, Entropy};

board::app_descriptor!();

#[esp_rtos::main]
async fn main(_spawner: Spawner) -> ! {
    let p = board::init();
    board::start_rtos(p.TIMG0, p.FROM_CPU_INTR0);
    let mut rng = HwRng::new(p.RNG, p.ADC1);
    let mut led = Led::active_low(p.GPIO8);
    let clock = EmbassyClock;
    log::info!("hello from Ioto-rs on the ESP32-C3");

    let mut blinks: u32 = 0;
    loop {
        led.toggle();
        log::info!(
            "blink {blinks}: uptime {} ms, random {:#010x}",
            clock.now().as_millis(),
            rng.next_u32()
        );
        blinks = blinks.wrapping_add(1);
        Timer::after_millis(500).await;
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    board::panic::halt(info)
}
