//! keyword-to-cloud on the nRF52840-DK: a PDM MEMS microphone (the chip's PDM
//! peripheral, 16 kHz mono) → micro_speech's front end → micro_speech → on "yes" or
//! "no", a Responses API request over the W5500 Ethernet module and verified TLS → the
//! model's tool call switches LED2 (actuator 0: "yes" on, "no" off in the instructions
//! the model gets).
//!
//! Wiring (the README's table): the microphone's CLK on P1.01 (Arduino D0), DATA on
//! P1.02 (D1), SEL to GND (left channel), 3V3 and GND. Build settings (model, key,
//! clock) are in `examples/common/keyword_to_cloud_board.rs`:
//!
//! ```text
//! IOTO_API_KEY=sk-… IOTO_UNIX_TIME=$(date +%s) cargo run --release --bin keyword_to_cloud
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

use embassy_executor::Spawner;
use ioto_board_nrf52840::hal::gpio::{Level, Output, OutputDrive};
use ioto_board_nrf52840::hal::pdm::{self, Frequency, Pdm, Ratio, SamplerState};
use ioto_board_nrf52840::hal::peripherals::{P1_01, P1_02, PDM};
use ioto_board_nrf52840::{Board, Config, hal, panic};

hal::bind_interrupts!(struct Irqs {
    PDM => pdm::InterruptHandler<PDM>;
});

/// Samples per PDM buffer: 100 ms, longer than the spotter's work on one buffer
/// (front end and one inference, ≈ 1.8 M instructions ≈ 28 ms at 64 MHz).
const BUFFER: usize = 1_600;

/// The PDM microphone at 16 kHz (1.280 MHz clock, decimation 80).
const _: () = assert!(1_280_000 / 80 == kw::SAMPLE_RATE);
struct PdmMic(Pdm<'static>);

impl kw::Microphone for PdmMic {
    type Error = pdm::Error;

    async fn listen(&mut self, mut sink: impl FnMut(&[i16]) -> bool) -> Result<(), pdm::Error> {
        let mut buffers = [[0i16; BUFFER]; 2];
        self.0
            .run_task_sampler(&mut buffers, |samples| {
                if sink(samples) {
                    SamplerState::Sampled
                } else {
                    SamplerState::Stopped
                }
            })
            .await
    }
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    heap::init();
    let board = blinky::or_stop(Board::init(Config::default()), blinky::Failure::Board).await;
    let Board {
        storage,
        mut rng,
        ethernet,
        spare,
        ..
    } = board;
    let credentials = blinky::credentials(storage.config.clone()).await;
    let up = ethernet.start(spawner, blinky::seed(&mut rng)).await;
    let net = blinky::or_stop(up, blinky::Failure::Network).await;

    // SAFETY: `Board::init` took the chip's peripherals and hands out neither the PDM
    // block nor P1.01 / P1.02 (see its wiring table): nothing else uses them.
    let (pdm_block, clk, din) = unsafe { (PDM::steal(), P1_01::steal(), P1_02::steal()) };
    let mut config = pdm::Config::default();
    config.frequency = Frequency::_1280k;
    config.ratio = Ratio::Ratio80;
    let mic = PdmMic(Pdm::new(pdm_block, Irqs, clk, din, config));

    let mut led2 = Output::new(spare.led2, Level::High, OutputDrive::Standard);
    // LED2 is active low: lit at any level above half.
    let light = move |level: f32| led2.set_level(Level::from(level <= 0.5));
    kw_board::run(mic, &net, credentials, rng, "keyword-nrf52840", light).await
}

#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    panic::halt(info)
}
