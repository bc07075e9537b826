//! The full anomaly monitor on the nRF52840-DK: an LIS3DH on I²C (P0.26 / P0.27) →
//! features → detectors → policy → outbox in the internal flash → MQTT over verified
//! TLS through a W5500 Ethernet module (SPIM3, DHCP); on escalation the cloud model
//! over verified HTTPS, its tool call applied and the new state reported.
//!
//! Broker, login and API key come from the config partition or the build environment,
//! the CAs and the model endpoint from the build environment (see
//! `examples/common/anomaly_monitor_board.rs`), never from this file:
//!
//! ```text
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
use ioto_board_nrf52840::{Board, Config, panic};

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    heap::init();
    let board = blinky::or_stop(Board::init(Config::default()), Failure::Board).await;
    let Board {
        i2c,
        storage,
        mut rng,
        ethernet,
        ..
    } = board;
    let credentials = blinky::credentials(storage.config.clone()).await;
    // Ethernet needs no credentials: the cable is the network.
    let up = ethernet.start(spawner, blinky::seed(&mut rng)).await;
    let net = blinky::or_stop(up, Failure::Network).await;
    let parts = on_board::BoardParts {
        device: "monitor-nrf52840",
        topics: ioto_core::agent_topics!("ioto/monitor-nrf52840", "monitor-nrf52840"),
        i2c,
        outbox: storage.outbox,
        credentials,
        rng,
    };
    on_board::run(parts, &net).await
}

#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    panic::halt(info)
}
