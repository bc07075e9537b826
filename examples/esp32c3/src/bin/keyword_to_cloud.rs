//! keyword-to-cloud on an ESP32-C3 board: an I²S MEMS microphone (INMP441 or
//! ICS-43434; 24-bit samples in 32-bit slots, left channel) on the chip's I2S
//! peripheral at 16 kHz, streamed by DMA → micro_speech's front end → micro_speech →
//! on "yes" or "no", a Responses API request over Wi-Fi and verified TLS → the model's
//! tool call switches the board's LED (actuator 0).
//!
//! Wiring (the README's table): SCK on GPIO4, WS on GPIO7, SD on GPIO10, L/R to GND,
//! VDD on 3V3, GND. Build settings (model, key, clock) are in
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
#[path = "../../../common/keyword_to_cloud.rs"]
mod kw;
#[path = "../../../common/keyword_to_cloud_board.rs"]
mod kw_board;

use esp_hal::Async;
use esp_hal::dma::DmaRxStreamBuf;
use esp_hal::i2s::master::{Channels, DataFormat, Error, I2s, I2sRx, TdmConfig};
use esp_hal::peripherals::{DMA_CH0, I2S0};
use esp_hal::time::Rate;
use ioto_board_esp32c3::{self as board, Board, Config};

board::app_descriptor!();

/// Samples handed to the spotter at a time (10 ms).
const CHUNK: usize = 160;

/// The I²S microphone: its receiver and DMA ring (256 ms), parked between listens.
struct I2sMic(Option<(I2sRx<'static, Async>, DmaRxStreamBuf)>);

impl kw::Microphone for I2sMic {
    type Error = Error;

    /// Starts the stream afresh (what arrived while nobody listened is stale, and a
    /// full ring stops the DMA), and hands out the left channel's top 16 bits.
    async fn listen(&mut self, mut sink: impl FnMut(&[i16]) -> bool) -> Result<(), Error> {
        let (rx, ring) = self.0.take().ok_or(Error::Unknown)?;
        let mut transfer = match rx.read(ring) {
            Ok(transfer) => transfer,
            Err((e, rx, ring)) => {
                self.0 = Some((rx, ring));
                return Err(e);
            }
        };
        let (mut bytes, mut samples) = ([0u8; 4 * CHUNK], [0i16; CHUNK]);
        let result = 'stream: loop {
            if let Err(e) = transfer.wait_for_available_async().await {
                break Err(Error::DmaError(e));
            }
            loop {
                // Whole 32-bit slots only; the ring's descriptors hold whole slots.
                let n = transfer.pop(&mut bytes) / 4;
                if n == 0 {
                    break;
                }
                for (s, slot) in samples.iter_mut().zip(bytes.chunks_exact(4)) {
                    let word = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
                    *s = (word >> 16) as i16;
                }
                if !sink(&samples[..n]) {
                    break 'stream Ok(());
                }
            }
        };
        self.0 = Some(transfer.stop());
        result
    }
}

/// esp-rtos' executor; `Board::init` starts esp-rtos and gives esp-radio its heap.
#[esp_rtos::main]
async fn main(spawner: embassy_executor::Spawner) {
    let Ok(mut b) = Board::init(Config::default()) else {
        blinky::stop(blinky::Failure::Board).await
    };
    // The cloud client's heap, a region of its own beside the radio's.
    esp_alloc::heap_allocator!(size: kw::HEAP_BYTES);
    let credentials = blinky::credentials(b.storage.config.clone()).await;
    let seed = blinky::seed(&mut b.rng);
    let net = match b.wifi.start(spawner, credentials, seed).await {
        Ok(net) => net,
        Err(e) => {
            log::error!("Wi-Fi: {e}");
            blinky::stop(blinky::Failure::Network).await
        }
    };
    // SAFETY: `Board::init` took the chip's peripherals and hands out neither I2S0 nor
    // DMA channel 0 (see its `Spare`): nothing else uses them.
    let (i2s0, dma) = unsafe { (I2S0::steal(), DMA_CH0::steal()) };
    let config = TdmConfig::new_tdm_philips()
        .with_sample_rate(Rate::from_hz(kw::SAMPLE_RATE))
        .with_data_format(DataFormat::Data32Channel32)
        .with_channels(Channels::LEFT);
    let i2s = match I2s::new(i2s0, dma, config) {
        Ok(i2s) => i2s.into_async(),
        Err(e) => {
            log::error!("I2S: {e:?}");
            blinky::stop(blinky::Failure::Board).await
        }
    };
    let rx = i2s
        .i2s_rx
        .with_bclk(b.spare.gpio4)
        .with_ws(b.spare.gpio7)
        .with_din(b.spare.gpio10)
        .build();
    let ring = esp_hal::dma_rx_stream_buffer!(16 * 4 * CHUNK, 4 * CHUNK);
    let mut led = b.led;
    let light = move |level: f32| led.set(level > 0.5);
    let mic = I2sMic(Some((rx, ring)));
    kw_board::run(mic, &net, credentials, b.rng, "keyword-esp32c3", light).await
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    board::panic::halt(info)
}
