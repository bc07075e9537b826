//! The smallest agent on the nRF52840-DK: an LIS3DH on I²C (P0.26 / P0.27) → features
//! → `RobustZ` detectors → policy → outbox in the internal flash → MQTT over a W5500
//! Ethernet module (SPIM3) with DHCP. LED1 is lit while an anomaly lasts.
//!
//! The broker comes from the config partition or the build environment, never from
//! this file:
//!
//! ```text
//! IOTO_BROKER_HOST=192.168.1.10 cargo run --release --bin blinky_agent
//! ```
//!
//! The wiring table is in `ioto_board_nrf52840`'s docs.
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

use embassy_executor::Spawner;
use ioto_board_nrf52840::{Board, Config, panic};

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let board = blinky::or_stop(Board::init(Config::default()), blinky::Failure::Board).await;
    let Board {
        i2c,
        storage,
        mut rng,
        mut led,
        ethernet,
        ..
    } = board;
    let credentials = blinky::credentials(storage.config.clone()).await;
    // Ethernet needs no credentials: the cable is the network.
    let up = ethernet.start(spawner, blinky::seed(&mut rng)).await;
    let net = blinky::or_stop(up, blinky::Failure::Network).await;
    let device = "blinky-nrf52840";
    let topics = ioto_core::agent_topics!("ioto/blinky-nrf52840", "blinky-nrf52840");
    let outbox = storage.outbox;
    let led = |on| led.set(on);
    let parts = blinky::Parts {
        device,
        topics,
        i2c,
        outbox,
        credentials,
        entropy: rng,
        led,
    };
    blinky::run(parts, &net).await
}

#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    panic::halt(info)
}
