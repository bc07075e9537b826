//! The full anomaly monitor on an ESP32-C3 board: an LIS3DH on I²C0 (GPIO5 SDA / GPIO6
//! SCL) → features → detectors → policy → outbox in the flash's `outbox` partition →
//! MQTT over verified TLS through the Wi-Fi (DHCP); on escalation the cloud model over
//! verified HTTPS, its tool call applied and the new state reported.
//!
//! Wi-Fi, broker, login and API key come from the config partition or the build
//! environment, the CAs and the model endpoint from the build environment (see
//! `examples/common/anomaly_monitor_board.rs`), never from this file:
//!
//! ```text
//! IOTO_WIFI_SSID=lab IOTO_WIFI_PASSPHRASE=… IOTO_BROKER_HOST=broker.lan \
//! IOTO_BROKER_PORT=8883 IOTO_BROKER_CA_PEM="$(cat ca.pem)" \
//!     cargo run --release --bin anomaly_monitor
//! ```
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../../../common/blinky_agent.rs"]
#[allow(dead_code)] // only its start-up helpers (credentials, stop, seed)
mod blinky;
#[path = "../../../common/anomaly_monitor.rs"]
#[allow(dead_code)] // `Pacing::Compressed` is the virtual boards'
mod monitor;
#[path = "../../../common/anomaly_monitor_board.rs"]
mod on_board;

use blinky::Failure;
use ioto_board_esp32c3::{self as board, Board, Config};

board::app_descriptor!();

/// esp-rtos' executor; `Board::init` starts esp-rtos and gives esp-alloc the radio's
/// heap.
#[esp_rtos::main]
async fn main(spawner: embassy_executor::Spawner) {
    let Ok(mut b) = Board::init(Config::default()) else {
        blinky::stop(Failure::Board).await
    };
    // The cloud client's heap (the model's request and answer as JSON), a region of its
    // own beside the radio's.
    esp_alloc::heap_allocator!(size: 48 * 1024);
    let credentials = blinky::credentials(b.storage.config.clone()).await;
    let seed = blinky::seed(&mut b.rng);
    let net = match b.wifi.start(spawner, credentials, seed).await {
        Ok(net) => net,
        Err(e) => {
            log::error!("Wi-Fi: {e}");
            blinky::stop(Failure::Network).await
        }
    };
    let parts = on_board::BoardParts {
        device: "monitor-esp32c3",
        topics: ioto_core::agent_topics!("ioto/monitor-esp32c3", "monitor-esp32c3"),
        i2c: b.i2c,
        outbox: b.storage.outbox,
        credentials,
        rng: b.rng,
    };
    on_board::run(parts, &net).await
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    board::panic::halt(info)
}
