//! The smallest agent on the Pico W: an LIS3DH on I²C (GP4 / GP5) → features →
//! `RobustZ` detectors → policy → outbox in the QSPI flash → MQTT over Wi-Fi (CYW43439)
//! with DHCP. The Pico W's own LED is lit while an anomaly lasts.
//!
//! Wi-Fi and broker come from the config partition or the build environment, never from
//! this file; the radio firmware from `IOTO_CYW43_FIRMWARE_DIR` (see
//! `ioto_board_rp2040::net`):
//!
//! ```text
//! IOTO_WIFI_SSID=lab IOTO_WIFI_PASSPHRASE=… IOTO_BROKER_HOST=192.168.1.10 \
//! IOTO_CYW43_FIRMWARE_DIR=…/embassy/cyw43-firmware cargo run --release --bin blinky_agent
//! ```
#![no_std]
#![no_main]

// The example crate links serde's `alloc` (through ioto-cloud, for the bins that call a
// cloud model), so every bin needs a global allocator; this one never allocates, so the
// allocator is left without memory (`heap::init` is not called).
#[allow(dead_code)]
#[path = "../../../common/heap.rs"]
mod heap;

#[path = "../../../common/blinky_agent.rs"]
mod blinky;

use blinky::Failure;
use embassy_executor::Spawner;
use ioto_board_rp2040 as board;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let mut b = blinky::or_stop(board::Board::init(board::Config::pico_w()), Failure::Board).await;
    let credentials = blinky::credentials(b.storage.config.clone()).await;
    let seed = blinky::seed(&mut b.rng);
    let wifi = b
        .wifi
        .start(spawner, board::cyw43_firmware!(), credentials, seed);
    let net = blinky::or_stop(wifi.await, Failure::Network).await;
    // The Pico W's LED hangs off the radio: it follows the anomaly once Wi-Fi runs.
    blinky::run(
        blinky::Parts {
            device: "blinky-rp2040",
            topics: ioto_core::agent_topics!("ioto/blinky-rp2040", "blinky-rp2040"),
            i2c: b.i2c,
            outbox: b.storage.outbox,
            credentials,
            entropy: b.rng,
            led: board::net::set_led,
        },
        &net,
    )
    .await
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    board::panic::halt(info)
}
