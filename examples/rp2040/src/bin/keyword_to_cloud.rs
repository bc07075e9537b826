//! keyword-to-cloud on the Raspberry Pi Pico W: an analog microphone module (an
//! electret with an amplifier biased at half supply, e.g. MAX9814 or MAX4466) on ADC0
//! (GPIO26), sampled at 16 kHz → micro_speech's front end → micro_speech → on "yes"
//! or "no", a Responses API request over Wi-Fi (CYW43) and verified TLS → the model's
//! tool call switches the Pico W's LED (actuator 0).
//!
//! The ADC runs free at 16 kHz (48 MHz / 3 000) and DMA channel 2 copies its FIFO into
//! a ring in RAM, without interrupts and without gaps, however long the spotter takes
//! with a batch; the microphone hands out what arrived every 10 ms. Wiring (the
//! README's table): the module's OUT on GPIO26 (pin 31), VDD on 3V3(OUT) (pin 36), GND
//! on AGND (pin 33). Build settings (model, key, clock) are in
//! `examples/common/keyword_to_cloud_board.rs`:
//!
//! ```text
//! IOTO_WIFI_SSID=lab IOTO_WIFI_PASSPHRASE=… IOTO_API_KEY=sk-… IOTO_UNIX_TIME=$(date +%s) \
//!     cargo run --release --bin keyword_to_cloud
//! ```
#![no_std]
#![no_main]
// The main task's future nests deeply (spotter, tool loop, HTTP, TLS): its layout needs it.
#![recursion_limit = "256"]

extern crate alloc;

// The boards' shared start-up: credentials from the config partition or the build
// environment, the network seed, stopping with a reason (only these are used).
#[allow(dead_code)]
#[path = "../../../common/blinky_agent.rs"]
mod blinky;
#[path = "../../../common/heap.rs"]
mod heap;
#[path = "../../../common/keyword_to_cloud.rs"]
mod kw;
#[path = "../../../common/keyword_to_cloud_board.rs"]
mod kw_board;

const _: () = assert!(heap::BYTES >= kw::HEAP_BYTES);

use blinky::Failure;
use core::convert::Infallible;
use embassy_executor::Spawner;
use embassy_rp::Peri;
use embassy_rp::adc::{self, Adc};
use embassy_rp::gpio::Pull;
use embassy_rp::pac;
use embassy_rp::pac::dma::vals::{DataSize, TreqSel};
use embassy_rp::peripherals::DMA_CH2;
use embassy_time::Timer;
use ioto_board_rp2040 as board;

/// Samples in the DMA ring: 256 ms, longer than the spotter's work on one batch
/// (front end and one inference, ≈ 5 M instructions ≈ 40 ms at 125 MHz).
const RING: usize = 4_096;
/// The ring's size in bytes as a power of two (the DMA wraps its write address there).
const RING_BITS: u8 = 13;
/// ADC clock cycles per sample: 48 MHz / 3 000 = 16 kHz.
const ADC_CYCLES: u32 = 48_000_000 / kw::SAMPLE_RATE;
const _: () = assert!(RING * 2 == 1 << RING_BITS);

/// The DMA's ring, aligned to its size as the DMA's address wrapping requires.
#[repr(C, align(8192))]
struct Ring([u16; RING]);

static mut SAMPLES: Ring = Ring([0; RING]);

/// The analog microphone: ADC0 free-running, DMA channel 2 filling [`SAMPLES`].
struct AdcMic {
    /// Samples taken out so far (the DMA's count is the one put in).
    taken: u32,
    /// Running DC level (×256) of the amplifier's output, subtracted from each sample.
    dc: i32,
    _adc: Adc<'static, adc::Blocking>,
    _pin: adc::Channel<'static>,
    _dma: Peri<'static, DMA_CH2>,
}

impl AdcMic {
    /// Starts the ADC on GPIO26 and the DMA behind it.
    fn start(
        adc: Peri<'static, embassy_rp::peripherals::ADC>,
        pin: Peri<'static, embassy_rp::peripherals::PIN_26>,
        dma: Peri<'static, DMA_CH2>,
    ) -> Self {
        let adc = Adc::new_blocking(adc, adc::Config::default());
        let pin = adc::Channel::new_pin(pin, Pull::None);
        let ring = core::ptr::addr_of_mut!(SAMPLES) as u32;
        let ch = pac::DMA.ch(2);
        ch.read_addr().write_value(pac::ADC.fifo().as_ptr() as u32);
        ch.write_addr().write_value(ring);
        ch.trans_count().write_value(u32::MAX);
        ch.ctrl_trig().write(|w| {
            w.set_treq_sel(TreqSel::ADC);
            w.set_data_size(DataSize::SIZE_HALFWORD);
            w.set_incr_read(false);
            w.set_incr_write(true);
            w.set_ring_sel(true);
            w.set_ring_size(RING_BITS);
            w.set_chain_to(2);
            w.set_irq_quiet(true);
            w.set_en(true);
        });
        pac::ADC.div().write(|w| w.set_int((ADC_CYCLES - 1) as u16));
        pac::ADC.fcs().write(|w| {
            w.set_en(true);
            w.set_dreq_en(true);
            w.set_thresh(1);
        });
        pac::ADC.cs().modify(|w| {
            w.set_ainsel(0);
            w.set_start_many(true);
        });
        Self {
            taken: 0,
            dc: 2_048 << 8,
            _adc: adc,
            _pin: pin,
            _dma: dma,
        }
    }

    /// Samples the DMA has written so far (its transfer count runs down from `MAX`;
    /// at 16 kHz it lasts 74 hours, after which the firmware must be restarted).
    fn written() -> u32 {
        u32::MAX - pac::DMA.ch(2).trans_count().read()
    }
}

impl kw::Microphone for AdcMic {
    type Error = Infallible;

    async fn listen(&mut self, mut sink: impl FnMut(&[i16]) -> bool) -> Result<(), Infallible> {
        // What arrived while nobody listened is stale.
        self.taken = Self::written();
        let mut chunk = [0i16; 160];
        loop {
            Timer::after_millis(10).await;
            let written = Self::written();
            if written - self.taken > RING as u32 {
                log::warn!("microphone overrun: {} samples lost", written - self.taken);
                self.taken = written - RING as u32 / 2;
            }
            while self.taken < written {
                let n = ((written - self.taken) as usize).min(chunk.len());
                for (i, s) in chunk[..n].iter_mut().enumerate() {
                    let at = (self.taken as usize + i) % RING;
                    // SAFETY: a volatile read of a sample the DMA wrote at least a ring
                    // turn ago minus half a ring (see the overrun check above).
                    let raw =
                        unsafe { core::ptr::read_volatile(core::ptr::addr_of!(SAMPLES.0[at])) };
                    let x = i32::from(raw & 0x0fff) << 8;
                    self.dc += (x - self.dc) >> 10;
                    *s = ((x - self.dc) >> 4).clamp(-32_768, 32_767) as i16;
                }
                self.taken += n as u32;
                if !sink(&chunk[..n]) {
                    return Ok(());
                }
            }
        }
    }
}

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
    let mic = AdcMic::start(b.spare.adc, b.spare.pin_26, b.spare.dma_ch2);
    // The Pico W's LED hangs off the radio.
    let light = |level: f32| board::net::set_led(level > 0.5);
    kw_board::run(mic, &net, credentials, b.rng, "keyword-rp2040", light).await
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    board::panic::halt(info)
}
