//! On-target smoke tests for the nRF52840 board crate, in embedded-test style.
//!
//! `probe-rs run --chip nRF52840_xxAA <elf>` (or `cargo run --release --bin hil_smoke`,
//! or `cargo xtask hil-test --board nrf52840 --probe`) flashes the binary once, then
//! resets the chip for each test, runs it and reports pass/fail by name.
#![no_std]
#![no_main]

// The example crate links serde's `alloc` (through ioto-cloud, for the bins that call a
// cloud model), so every bin needs a global allocator; this one never allocates, so the
// allocator is left without memory (`heap::init` is not called).
#[allow(dead_code)]
#[path = "../../../common/heap.rs"]
mod heap;

#[embedded_test::tests(default_timeout = 10)]
mod tests {
    use ioto_board_nrf52840::{self as board, EmbassyClock, HwRng, Peripherals, time::Timer};
    use ioto_core::{Clock, selftest};

    #[init]
    fn init() -> Peripherals {
        board::init()
    }

    #[test]
    async fn clock_follows_timer(_p: Peripherals) {
        let clock = EmbassyClock;
        let before = clock.now();
        Timer::after_millis(50).await;
        let elapsed = clock.now().micros_since(before);
        // RTC1 ticks at 32 768 Hz: 50 ms is 1 638 ticks; allow one tick of rounding and
        // some scheduling latency.
        assert!(
            (49_900..60_000).contains(&elapsed),
            "50 ms timer took {elapsed} us"
        );
    }

    #[test]
    fn clock_is_monotonic(_p: Peripherals) {
        assert_eq!(selftest::clock_is_monotonic(&EmbassyClock, 10_000), Ok(()));
    }

    #[test]
    fn rng_bytes_vary(p: Peripherals) {
        let mut rng = HwRng::new(p.RNG);
        assert_eq!(selftest::entropy_varies(&mut rng), Ok(()));
    }

    #[test]
    fn rng_bits_are_balanced(p: Peripherals) {
        let mut rng = HwRng::new(p.RNG);
        assert_eq!(selftest::entropy_is_balanced(&mut rng), Ok(()));
    }

    #[test]
    fn led_pin_drives(p: Peripherals) {
        let mut led = board::led::user_led(p.P0_13);
        assert!(!led.is_on());
        led.on();
        assert!(led.is_on());
        led.off();
        assert!(!led.is_on());
    }
}
