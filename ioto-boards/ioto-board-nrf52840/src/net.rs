//! IP for the nRF52840: a WIZnet W5500 Ethernet module on SPIM3, driven in MACRAW mode
//! by `embassy-net-wiznet`, under the `embassy-net` stack (DHCPv4, DNS, TCP).
//!
//! [`Ethernet::start`] resets the W5500, spawns its driver task and the stack's task,
//! and returns an [`ioto_board_embassy::Net`]; wait for the lease with
//! [`Net::wait_up`](ioto_board_embassy::Net::wait_up), then give the MQTT client
//! [`Net::mqtt`](ioto_board_embassy::Net::mqtt). The MAC address is a locally
//! administered one derived from the chip's FICR device id, so it is the same on every
//! boot (DHCP leases stay) and differs between chips.
//!
//! ## A cellular modem over PPP instead
//!
//! The stack does not care what carries its packets: any `embassy-net-driver` plugs
//! into [`ioto_board_embassy::net::stack`]. For a cellular modem (SIMCom, Quectel,
//! u-blox) on a UART, `embassy-net-ppp` 0.3 is that driver:
//!
//! 1. add `embassy-net-ppp = "0.3"` and enable `embassy-net`'s `medium-ip` feature;
//! 2. make a `BufferedUarte` (embassy-nrf) on UARTE0 to the modem's TX/RX (and RTS/CTS);
//! 3. bring the modem into data mode with AT commands on that UART (`AT+CGDCONT=1,"IP","<apn>"`,
//!    `ATD*99#`, wait for `CONNECT`);
//! 4. `let (device, runner) = embassy_net_ppp::new(STATE.init(State::<4, 4>::new()))`,
//!    `ioto_board_embassy::net::stack(device, seed)`, and spawn a task that runs
//!    `runner.run(uart, ppp_config, |ipv4| stack.set_config_v4(…))` — PPP hands out the
//!    address through that callback instead of DHCP (the `ppp` example of embassy shows
//!    the callback);
//! 5. `Net::new(stack)` as with Ethernet: the MQTT client and everything above stay
//!    the same.

use embassy_executor::Spawner;
use embassy_net::Runner;
use embassy_net_wiznet::chip::W5500;
use embassy_net_wiznet::{Device, State};
use embassy_nrf::gpio::{Input, Level, Output, OutputDrive, Pin, Pull};
use embassy_nrf::peripherals::SPI3;
use embassy_nrf::{Peri, spim};
use embassy_time::Delay;
use embedded_hal_bus::spi::ExclusiveDevice;
use ioto_board_embassy::{Net, NetError};
use static_cell::StaticCell;

use crate::Irqs;

/// The W5500 on its SPI bus with its chip select.
pub type W5500Spi = ExclusiveDevice<spim::Spim<'static>, Output<'static>, Delay>;
/// The W5500 driver's task state.
type WiznetRunner =
    embassy_net_wiznet::Runner<'static, W5500, W5500Spi, Input<'static>, Output<'static>>;

/// Frames buffered each way between the W5500 driver and the stack.
const FRAMES: usize = 4;

static STATE: StaticCell<State<FRAMES, FRAMES>> = StaticCell::new();

/// The W5500 module's pins, not started yet (see the wiring table in the crate docs).
pub struct Ethernet {
    spi: W5500Spi,
    int: Input<'static>,
    reset: Output<'static>,
}

impl Ethernet {
    /// The module on SPIM3 (mode 0, 16 MHz; the W5500 takes up to 33 MHz) with chip
    /// select `cs`, interrupt `int` (active low) and reset `reset` (active low).
    pub fn new(
        spim: Peri<'static, SPI3>,
        sck: Peri<'static, impl Pin>,
        miso: Peri<'static, impl Pin>,
        mosi: Peri<'static, impl Pin>,
        cs: Peri<'static, impl Pin>,
        int: Peri<'static, impl Pin>,
        reset: Peri<'static, impl Pin>,
    ) -> Self {
        let mut config = spim::Config::default();
        config.frequency = spim::Frequency::M16;
        let bus = spim::Spim::new(spim, Irqs, sck, miso, mosi, config);
        let cs = Output::new(cs, Level::High, OutputDrive::Standard);
        let spi = match ExclusiveDevice::new(bus, cs, Delay) {
            Ok(device) => device,
            Err(never) => match never {},
        };
        Self {
            spi,
            int: Input::new(int, Pull::Up),
            reset: Output::new(reset, Level::High, OutputDrive::Standard),
        }
    }

    /// Resets and configures the W5500, spawns its driver and the `embassy-net`
    /// stack on `spawner`, and returns the network (DHCP still running: wait with
    /// `Net::wait_up`). `seed` seeds the stack's TCP sequence numbers and ports: take
    /// it from the hardware RNG.
    ///
    /// # Errors
    ///
    /// [`NetError::Driver`] if the W5500 does not answer on SPI (wiring, power),
    /// [`NetError::AlreadyStarted`] on a second call, [`NetError::Spawn`] if the
    /// executor has no room for the two tasks.
    pub async fn start(self, spawner: Spawner, seed: u64) -> Result<Net, NetError> {
        let state = STATE
            .try_init(State::new())
            .ok_or(NetError::AlreadyStarted)?;
        let (device, runner) =
            embassy_net_wiznet::new(mac_address(), state, self.spi, self.int, self.reset)
                .await
                .map_err(|_| NetError::Driver)?;
        spawner.spawn(w5500_task(runner).map_err(|_| NetError::Spawn)?);
        let (stack, net_runner) = ioto_board_embassy::net::stack(device, seed)?;
        spawner.spawn(net_task(net_runner).map_err(|_| NetError::Spawn)?);
        log::info!("W5500 up, MAC {:02x?}; waiting for DHCP", mac_address());
        Net::new(stack)
    }
}

/// A locally administered unicast MAC from the FICR device id (unique per chip).
pub fn mac_address() -> [u8; 6] {
    /// FICR.DEVICEID[0] and [1] (nRF52840 product specification §4.4).
    const DEVICEID: [usize; 2] = [0x1000_0060, 0x1000_0064];
    // SAFETY: the FICR is read-only factory information, always mapped and readable;
    // the addresses are 4-byte aligned.
    let [id0, id1] = DEVICEID.map(|a| unsafe { core::ptr::read_volatile(a as *const u32) });
    let (id0, id1) = (id0.to_le_bytes(), id1.to_le_bytes());
    [0x02, id1[0], id0[3], id0[2], id0[1], id0[0]]
}

#[embassy_executor::task]
async fn w5500_task(runner: WiznetRunner) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Device<'static>>) -> ! {
    runner.run().await
}
