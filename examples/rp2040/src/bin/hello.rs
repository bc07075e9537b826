//! Hello firmware for the Raspberry Pi Pico W: blinks an LED on GP15 (the Pico W's own
//! LED sits behind the CYW43 radio, see `ioto_board_rp2040::led`), and every half
//! second logs the uptime and a fresh random number over RTT.
//!
//! ```text
//! cargo run --release --bin hello     # runner: probe-rs run --chip RP2040
//! ```
#![no_std]
#![no_main]

// The example crate links serde's `alloc` (through ioto-cloud, for the bins that call a
// cloud model), so every bin needs a global allocator; this one never allocates, so the
// allocator is left without memory (`heap::init` is not called).
#[allow(dead_code)]
#[path = "../../../common/heap.rs"]
mod heap;

use embassy_executor::Spawner;
use ioto_board_rp2040::{self as board, EmbassyClock, HwRng, led, time::Timer};
use ioto_core::{Clock, Entropy};

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let p = board::init();
    let mut rng = HwRng::new();
    let mut led = led::external_led(p.PIN_15);
    let clock = EmbassyClock;
    log::info!("hello from Ioto-rs on the RP2040");

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
