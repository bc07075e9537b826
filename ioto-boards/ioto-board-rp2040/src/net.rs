//! Wi-Fi on the Pico W: the CYW43439 radio on its PIO-driven half-duplex SPI (`cyw43` +
//! `cyw43-pio`), under the `embassy-net` stack (DHCPv4, DNS, TCP).
//!
//! [`Wifi::start`] loads the radio's firmware, joins the network named by the
//! [`Credentials`] (WPA2/WPA3, or open without a passphrase), spawns the driver's, the
//! stack's and the radio's tasks and returns an [`ioto_board_embassy::Net`]. The radio
//! task rejoins when the link drops and drives the Pico W's LED (it hangs off the
//! radio's `WL_GPIO0`): [`set_led`].
//!
//! ## The CYW43 firmware
//!
//! The radio runs a firmware blob (`43439A0.bin`, ≈ 225 KB), a country/regulatory table
//! (`43439A0_clm.bin`) and the board's NVRAM settings (`nvram_rp2040.bin`) that the
//! driver uploads at start-up. They are not open source (Infineon's, redistributed by
//! Raspberry Pi under their own licence), so Ioto-rs does not ship them: take them from
//! the `cyw43-firmware` folder of the embassy repository (with its licence file) and
//! point the firmware build at that folder:
//!
//! ```text
//! IOTO_CYW43_FIRMWARE_DIR=/path/to/embassy/cyw43-firmware cargo xtask build --board rp2040
//! ```
//!
//! `examples/rp2040/build.rs` copies the three files into the build; without the
//! variable it builds with empty blobs, and [`Wifi::start`] then fails with
//! [`NetError::NoFirmware`] instead of starting the radio. Build your own firmware the
//! same way and pass the blobs as a [`Firmware`] ([`cyw43_firmware!`](crate::cyw43_firmware)).

use cyw43::{A4, Aligned, Control, JoinOptions, PowerManagementMode};
use cyw43_pio::{DEFAULT_CLOCK_DIVIDER, PioSpi};
use embassy_executor::Spawner;
use embassy_futures::select::{Either, select};
use embassy_net::{Runner, Stack};
use embassy_rp::Peri;
use embassy_rp::dma::Channel;
use embassy_rp::gpio::{Level, Output};
use embassy_rp::peripherals::{DMA_CH0, PIN_23, PIN_24, PIN_25, PIN_29, PIO0};
use embassy_rp::pio::Pio;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Timer;
use ioto_board_embassy::{Credentials, Net, NetError};
use static_cell::StaticCell;

use crate::Irqs;

pub use cyw43;

/// The radio's firmware, regulatory table and NVRAM (see the module docs).
#[derive(Clone, Copy)]
pub struct Firmware {
    /// `43439A0.bin`.
    pub wifi: &'static Aligned<A4, [u8]>,
    /// `43439A0_clm.bin`.
    pub clm: &'static [u8],
    /// `nvram_rp2040.bin`.
    pub nvram: &'static Aligned<A4, [u8]>,
}

impl Firmware {
    /// Whether all three blobs are there (a build without `IOTO_CYW43_FIRMWARE_DIR`
    /// has empty ones).
    pub fn is_present(&self) -> bool {
        !self.wifi.is_empty() && !self.clm.is_empty() && !self.nvram.is_empty()
    }
}

/// The [`Firmware`] from `43439A0.bin`, `43439A0_clm.bin` and `nvram_rp2040.bin` in the
/// calling crate's `OUT_DIR` (its build script puts them there; see the module docs).
#[macro_export]
macro_rules! cyw43_firmware {
    () => {{
        use $crate::net::cyw43::{A4, Aligned};
        static WIFI: &Aligned<A4, [u8]> =
            &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/43439A0.bin")));
        static CLM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/43439A0_clm.bin"));
        static NVRAM: &Aligned<A4, [u8]> = &Aligned(*include_bytes!(concat!(
            env!("OUT_DIR"),
            "/nvram_rp2040.bin"
        )));
        $crate::net::Firmware {
            wifi: WIFI,
            clm: CLM,
            nvram: NVRAM,
        }
    }};
}

/// The radio's SPI: PIO0 state machine 0 on the Pico W's radio pins.
type RadioSpi = PioSpi<'static, PIO0, 0>;
/// The radio driver's task state.
type RadioRunner = cyw43::Runner<'static, cyw43::SpiBus<Output<'static>, RadioSpi>>;

/// Attempts to join before [`Wifi::start`] gives up (the radio task keeps trying).
pub const JOIN_ATTEMPTS: u32 = 3;

static STATE: StaticCell<cyw43::State> = StaticCell::new();
static LED: Signal<CriticalSectionRawMutex, bool> = Signal::new();

/// The radio, not started: PIO0, its pins (power GP23, chip select GP25, data GP24,
/// clock GP29) and DMA channel 0.
pub struct Wifi {
    power: Output<'static>,
    spi: RadioSpi,
}

impl Wifi {
    /// Takes the Pico W's radio pins.
    pub fn new(
        pio0: Peri<'static, PIO0>,
        power: Peri<'static, PIN_23>,
        cs: Peri<'static, PIN_25>,
        dio: Peri<'static, PIN_24>,
        clk: Peri<'static, PIN_29>,
        dma: Peri<'static, DMA_CH0>,
    ) -> Self {
        let mut pio = Pio::new(pio0, Irqs);
        let spi = PioSpi::new(
            &mut pio.common,
            pio.sm0,
            DEFAULT_CLOCK_DIVIDER,
            pio.irq0,
            Output::new(cs, Level::High),
            dio,
            clk,
            Channel::new(dma, Irqs),
        );
        Self {
            power: Output::new(power, Level::Low),
            spi,
        }
    }

    /// Uploads `firmware`, joins the network the `credentials` name, spawns the
    /// radio's, the stack's and the rejoin/LED tasks on `spawner` and returns the
    /// network (DHCP still running: wait with `Net::wait_up`). `seed` seeds the stack's
    /// TCP sequence numbers and ports.
    ///
    /// # Errors
    ///
    /// [`NetError::NoFirmware`] without the blobs, [`NetError::Credentials`] without an
    /// SSID, [`NetError::Join`] after [`JOIN_ATTEMPTS`] failed joins,
    /// [`NetError::AlreadyStarted`] on a second call, [`NetError::Spawn`] if the
    /// executor has no room for the tasks.
    pub async fn start(
        self,
        spawner: Spawner,
        firmware: Firmware,
        credentials: &'static Credentials,
        seed: u64,
    ) -> Result<Net, NetError> {
        if !firmware.is_present() {
            log::error!("built without the CYW43 firmware: set IOTO_CYW43_FIRMWARE_DIR");
            return Err(NetError::NoFirmware);
        }
        credentials
            .wifi::<()>()
            .map_err(|_| NetError::Credentials)?;
        let state = STATE
            .try_init(cyw43::State::new())
            .ok_or(NetError::AlreadyStarted)?;
        let (device, mut control, runner) =
            cyw43::new(state, self.power, self.spi, firmware.wifi, firmware.nvram).await;
        spawner.spawn(radio_task(runner).map_err(|_| NetError::Spawn)?);
        control.init(firmware.clm).await;
        control
            .set_power_management(PowerManagementMode::PowerSave)
            .await;
        let (stack, net_runner) = ioto_board_embassy::net::stack(device, seed)?;
        spawner.spawn(net_task(net_runner).map_err(|_| NetError::Spawn)?);
        let mut joined = Err(NetError::Join);
        for _ in 0..JOIN_ATTEMPTS {
            joined = join(&mut control, credentials).await;
            if joined.is_ok() {
                break;
            }
        }
        spawner.spawn(link_task(control, stack, credentials).map_err(|_| NetError::Spawn)?);
        joined?;
        Net::new(stack)
    }
}

/// Lights (`true`) or darkens the Pico W's LED; takes effect once [`Wifi::start`] has
/// started the radio.
pub fn set_led(on: bool) {
    LED.signal(on);
}

/// One join attempt; logs the outcome, never the passphrase.
async fn join(control: &mut Control<'static>, credentials: &Credentials) -> Result<(), NetError> {
    let (ssid, passphrase) = credentials
        .wifi::<()>()
        .map_err(|_| NetError::Credentials)?;
    let options = if passphrase.is_empty() {
        JoinOptions::new_open()
    } else {
        JoinOptions::new(passphrase.as_bytes())
    };
    match control.join(ssid, options).await {
        Ok(()) => {
            log::info!("joined Wi-Fi network {ssid:?}");
            Ok(())
        }
        Err(e) => {
            log::warn!("joining {ssid:?} failed: {e:?}");
            Err(NetError::Join)
        }
    }
}

#[embassy_executor::task]
async fn radio_task(runner: RadioRunner) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, cyw43::NetDriver<'static>>) -> ! {
    runner.run().await
}

/// Drives the LED and rejoins (every 10 s while the link is down).
#[embassy_executor::task]
async fn link_task(
    mut control: Control<'static>,
    stack: Stack<'static>,
    credentials: &'static Credentials,
) -> ! {
    loop {
        match select(LED.wait(), Timer::after_secs(10)).await {
            Either::First(on) => control.gpio_set(0, on).await,
            Either::Second(()) if !stack.is_link_up() => {
                let _ = join(&mut control, credentials).await;
            }
            Either::Second(()) => {}
        }
    }
}
