//! On-target smoke tests for the ESP32-C3 board crate, in embedded-test style.
//!
//! `probe-rs run --chip esp32c3 <elf>` (or `cargo run --release --bin hil_smoke`, or
//! `cargo xtask hil-test --board esp32c3 --probe`) flashes the binary once through the
//! chip's built-in USB-JTAG, then resets the chip for each test, runs it and reports
//! pass/fail by name.
#![no_std]
#![no_main]

ioto_board_esp32c3::app_descriptor!();

#[embedded_test::tests(default_timeout = 10, executor = esp_rtos::embassy::Executor::new())]
mod tests {
    use ioto_board_esp32c3::{
        self as board, EmbassyClock, HwRng,
        hal::peripherals::{ADC1, GPIO8, RNG},
        time::Timer,
    };
    use ioto_core::{Clock, selftest};

    /// What the tests get after the board is up and esp-rtos runs.
    struct Ctx {
        rng: RNG<'static>,
        adc1: ADC1<'static>,
        gpio8: GPIO8<'static>,
    }

    #[init]
    fn init() -> Ctx {
        let p = board::init();
        board::start_rtos(p.TIMG0, p.FROM_CPU_INTR0);
        Ctx {
            rng: p.RNG,
            adc1: p.ADC1,
            gpio8: p.GPIO8,
        }
    }

    #[test]
    async fn clock_follows_timer(_ctx: Ctx) {
        let clock = EmbassyClock;
        let before = clock.now();
        Timer::after_millis(50).await;
        let elapsed = clock.now().micros_since(before);
        // esp-rtos ticks at 1 MHz; allow for scheduling latency.
        assert!(
            (50_000..60_000).contains(&elapsed),
            "50 ms timer took {elapsed} us"
        );
    }

    #[test]
    fn clock_is_monotonic(_ctx: Ctx) {
        assert_eq!(selftest::clock_is_monotonic(&EmbassyClock, 10_000), Ok(()));
    }

    #[test]
    fn rng_bytes_vary(ctx: Ctx) {
        let mut rng = HwRng::new(ctx.rng, ctx.adc1);
        assert_eq!(selftest::entropy_varies(&mut rng), Ok(()));
    }

    #[test]
    fn rng_bits_are_balanced(ctx: Ctx) {
        let mut rng = HwRng::new(ctx.rng, ctx.adc1);
        assert_eq!(selftest::entropy_is_balanced(&mut rng), Ok(()));
    }

    #[test]
    fn led_pin_drives(ctx: Ctx) {
        let mut led = board::led::Led::active_low(ctx.gpio8);
        assert!(!led.is_on());
        led.on();
        assert!(led.is_on());
        led.off();
        assert!(!led.is_on());
    }
}
