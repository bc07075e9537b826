//! The full anomaly monitor on the Raspberry Pi Pico W: an LIS3DH on I²C0 (GP4 SDA /
//! GP5 SCL) → features → detectors → policy → outbox in the QSPI flash → MQTT over
//! verified TLS through the CYW43 Wi-Fi (DHCP); on escalation the cloud model over
//! verified HTTPS, its tool call applied and the new state reported.
//!
//! Wi-Fi, broker, login and API key come from the config partition or the build
//! environment, the CAs and the model endpoint from the build environment (see
//! `examples/common/anomaly_monitor_board.rs`), never from this file:
//!
//! ```text
//! IOTO_CYW43_FIRMWARE_DIR=… IOTO_WIFI_SSID=lab IOTO_WIFI_PASSPHRASE=… \
//! IOTO_BROKER_HOST=broker.lan IOTO_BROKER_PORT=8883 IOTO_BROKER_CA_PEM="$(cat ca.pem)" \
//!     cargo run --release --bin anomaly_monitor
//! ```
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../../../common/blinky_agent.rs"]
#[allow(dead_code)] // only its start-up helpers (credentials, or_stop, seed)
mod blinky;
#[path = "../../../common/heap.rs"]
mod heap;
#[path = "../../../common/anomaly_monitor.rs"]
#[allow(dead_code)] // `Pacing::Compressed` is the virtual boards'
mod monitor;
#[path = "../../../common/anomaly_monitor_board.rs"]
mod on_board;

use blinky::Failure;
use embassy_executor::Spawner;
use ioto_board_rp2040 as board;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    heap::init();
    let mut b = blinky::or_stop(board::Board::init(board::Config::pico_w()), Failure::Board).await;
    let credentials = blinky::credentials(b.storage.config.clone()).await;
    let seed = blinky::seed(&mut b.rng);
    let wifi = b
        .wifi
        .start(spawner, board::cyw43_firmware!(), credentials, seed);
    let net = blinky::or_stop(wifi.await, Failure::Network).await;
    let parts = on_board::BoardParts {
        device: "monitor-rp2040",
        topics: ioto_core::agent_topics!("ioto/monitor-rp2040", "monitor-rp2040"),
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
