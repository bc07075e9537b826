//! Wi-Fi on the ESP32-C3 through `esp-radio` (station mode, WPA2-Personal or open),
//! under the `embassy-net` stack (DHCPv4, DNS, TCP).
//!
//! [`Wifi::start`] starts the radio with the network the [`Credentials`] name, spawns
//! the stack's task and a link task that joins, and rejoins whenever the access point
//! drops the station, and returns an [`ioto_board_embassy::Net`].
//!
//! esp-radio needs esp-rtos running (its scheduler; [`crate::Board::init`] starts it)
//! and a heap ([`crate::Board::init`] gives esp-alloc [`HEAP_BYTES`]). Its binary
//! blobs want optimisation level 2 or 3: the firmware's `Cargo.toml` sets
//! `[profile.release.package.esp-radio] opt-level = 3`.

use embassy_executor::Spawner;
use embassy_net::Runner;
use embassy_time::Timer;
use esp_hal::peripherals::WIFI;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{AuthenticationMethodConfig, Config, Interface, WifiController};
use ioto_board_embassy::{Credentials, Net, NetError};

/// Bytes of heap the radio gets (its buffers and the blobs' allocations).
pub const HEAP_BYTES: usize = 72 * 1024;

/// The radio, not started.
pub struct Wifi {
    device: WIFI<'static>,
}

impl Wifi {
    /// Takes the radio (`p.WIFI`).
    pub fn new(device: WIFI<'static>) -> Self {
        Self { device }
    }

    /// Starts the radio in station mode for the network the `credentials` name, spawns
    /// the stack's and the link's tasks on `spawner` and returns the network (joining
    /// and DHCP still running: wait with `Net::wait_up`). `seed` seeds the stack's TCP
    /// sequence numbers and ports.
    ///
    /// # Errors
    ///
    /// [`NetError::Credentials`] without an SSID or with one or a passphrase the radio
    /// does not take, [`NetError::Driver`] if the radio does not start,
    /// [`NetError::AlreadyStarted`] on a second call, [`NetError::Spawn`] if the
    /// executor has no room for the tasks.
    pub async fn start(
        self,
        spawner: Spawner,
        credentials: &'static Credentials,
        seed: u64,
    ) -> Result<Net, NetError> {
        let config = station(credentials)?;
        let mut controller = WifiController::new(self.device, Default::default()).map_err(|e| {
            log::error!("esp-radio: {e:?}");
            NetError::Driver
        })?;
        controller
            .set_config(&Config::Station(config))
            .map_err(|_| NetError::Credentials)?;
        let interface = Interface::try_station().ok_or(NetError::AlreadyStarted)?;
        let (stack, runner) = ioto_board_embassy::net::stack(interface, seed)?;
        spawner.spawn(net_task(runner).map_err(|_| NetError::Spawn)?);
        spawner.spawn(link_task(controller).map_err(|_| NetError::Spawn)?);
        Net::new(stack)
    }
}

/// The station configuration; the passphrase goes only into the radio's config.
fn station(credentials: &Credentials) -> Result<StationConfig, NetError> {
    let (ssid, passphrase) = credentials
        .wifi::<()>()
        .map_err(|_| NetError::Credentials)?;
    let ssid = ssid.try_into().map_err(|_| NetError::Credentials)?;
    let auth = if passphrase.is_empty() {
        AuthenticationMethodConfig::Open
    } else {
        AuthenticationMethodConfig::Wpa2Personal(
            passphrase.try_into().map_err(|_| NetError::Credentials)?,
        )
    };
    Ok(StationConfig::default()
        .with_ssid(ssid)
        .with_authentication(auth))
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Interface>) -> ! {
    runner.run().await
}

/// Joins, waits for the access point to drop the station, joins again.
#[embassy_executor::task]
async fn link_task(mut controller: WifiController<'static>) -> ! {
    loop {
        match controller.connect_async().await {
            Ok(_) => {
                log::info!("Wi-Fi joined");
                let _ = controller.wait_for_disconnect_async().await;
                log::warn!("Wi-Fi link lost; joining again");
            }
            Err(e) => {
                log::warn!("joining Wi-Fi failed: {e:?}; again in 5 s");
                Timer::after_secs(5).await;
            }
        }
    }
}
