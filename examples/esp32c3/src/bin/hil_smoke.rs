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
    use ioto_core::{Clock, Entropy};

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
        let clock = EmbassyClock;
        let mut last = clock.now();
        for _ in 0..10_000 {
            let now = clock.now();
            assert!(now >= last);
            last = now;
        }
    }

    #[test]
    fn rng_bytes_vary(ctx: Ctx) {
        let mut rng = HwRng::new(ctx.rng, ctx.adc1);
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut a);
        rng.fill_bytes(&mut b);
        assert_ne!(a, b);
        assert!(a.iter().chain(b.iter()).any(|&x| x != a[0]));
    }

    #[test]
    fn rng_bits_are_balanced(ctx: Ctx) {
        let mut rng = HwRng::new(ctx.rng, ctx.adc1);
        let mut buf = [0u8; 256];
        rng.fill_bytes(&mut buf);
        let ones: u32 = buf.iter().map(|b| b.count_ones()).sum();
        // 2048 fair bits: mean 1024, sd 22.6; +-6 sd.
        assert!((888..=1160).contains(&ones), "{ones} ones in 2048 bits");
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
