//! The smallest agent on an ESP32-C3 board: an LIS3DH on I²C (GPIO5 / GPIO6) →
//! features → `RobustZ` detectors → policy → outbox in the flash (`ioto_outbox`
//! partition) → MQTT over Wi-Fi (esp-radio) with DHCP. The LED on GPIO8 is lit while an
//! anomaly lasts.
//!
//! Wi-Fi and broker come from the config partition (`ioto_config`) or the build
//! environment, never from this file:
//!
//! ```text
//! IOTO_WIFI_SSID=lab IOTO_WIFI_PASSPHRASE=… IOTO_BROKER_HOST=192.168.1.10 \
//!     cargo build --release --bin blinky_agent
//! espflash flash --monitor --chip esp32c3 --partition-table partitions.csv \
//!     ../../target/riscv32imc-unknown-none-elf/release/blinky_agent
//! ```
#![no_std]
#![no_main]

#[path = "../../../common/blinky_agent.rs"]
mod blinky;

use ioto_board_esp32c3::{self as board, Board, Config};

board::app_descriptor!();

/// esp-rtos' executor; `Board::init` starts esp-rtos and gives esp-radio its heap.
#[esp_rtos::main]
async fn main(spawner: embassy_executor::Spawner) {
    let Ok(mut b) = Board::init(Config::default()) else {
        blinky::stop(blinky::Failure::Board).await
    };
    let credentials = blinky::credentials(b.storage.config.clone()).await;
    let seed = blinky::seed(&mut b.rng);
    let net = match b.wifi.start(spawner, credentials, seed).await {
        Ok(net) => net,
        Err(e) => {
            log::error!("Wi-Fi: {e}");
            blinky::stop(blinky::Failure::Network).await
        }
    };
    let mut led = b.led;
    let parts = blinky::Parts {
        device: "blinky-esp32c3",
        topics: ioto_core::agent_topics!("ioto/blinky-esp32c3", "blinky-esp32c3"),
        i2c: b.i2c,
        outbox: b.storage.outbox,
        credentials,
        entropy: b.rng,
        led: |on| led.set(on),
    };
    blinky::run(parts, &net).await
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    board::panic::halt(info)
}
