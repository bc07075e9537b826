//! The smallest agent, the same on every physical board: an LIS3DH accelerometer on the
//! board's I²C bus → window features → one `RobustZ` detector per watched feature →
//! the edge/cloud policy → a store-and-forward outbox in the board's flash → MQTT over
//! the board's `embassy-net` stack. The board's LED is lit while the policy says
//! something is wrong.
//!
//! Each board's `src/bin/blinky_agent.rs` brings its hardware up (buses, flash, network)
//! and includes this file as a module (`#[path = "../../../common/blinky_agent.rs"]`).
//!
//! The broker address and the network credentials come from the config partition or
//! the build environment (`ioto_board_embassy::credentials`); none is ever printed.

use core::cell::RefCell;

use embassy_futures::join::join3;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_time::{Delay, Duration, Timer};
use embedded_hal_async::i2c::I2c;
use embedded_storage_async::nor_flash::MultiwriteNorFlash;
use ioto_board_embassy::credentials::{Credentials, SCRATCH_LEN};
use ioto_board_embassy::{EmbassyClock, Net};
use ioto_core::Entropy;
use ioto_core::agent::{Agent, AgentConfig, EdgeState, RECORD_MAX, Topics, VIBRATION_WATCH};
use ioto_core::detect::RobustZ;
use ioto_core::device::Command;
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_core::policy::Action;
use ioto_core::sensor::{Error as _, Lis3dh, Window, fill_window, lis3dh};
use ioto_transport::mqtt::ProtocolVersion;
use ioto_transport::mqtt::client::{Buffers, Client, ClientConfig};
use ioto_transport::mqtt::connector::Connector;
use ioto_transport::storage::config::ConfigStore;
use ioto_transport::storage::outbox::{FlashOutbox, StorageError};
use ioto_transport::uplink::MqttUplink;
use static_cell::StaticCell;

/// Samples per window: 0.64 s at the LIS3DH's 400 Hz.
const WINDOW: usize = 256;

/// Why the agent could not start.
#[derive(Debug)]
pub enum Failure {
    /// The board could not be brought up.
    Board,
    /// The network did not start (the log says why).
    Network,
    /// The config partition could not be read, or a credential does not fit.
    Credentials,
    /// The broker's address is set neither in the config partition nor at build time.
    NoBroker,
    /// The outbox partition is unusable.
    Outbox,
    /// The agent's configuration was refused.
    Agent,
}

static CREDENTIALS: StaticCell<Credentials> = StaticCell::new();

/// The credentials from the config partition (`flash`, a partition of its own), or else
/// from the build environment, kept for the rest of the firmware's life (the Wi-Fi
/// link tasks rejoin with them). Logs where each came from, never a value; stops the
/// firmware if the partition cannot be read.
pub async fn credentials<F: MultiwriteNorFlash>(flash: F) -> &'static Credentials {
    let mut buf = [0u8; SCRATCH_LEN];
    let size = flash.capacity() as u32;
    let loaded = match ConfigStore::new(flash, 0..size, &mut buf) {
        Ok(mut store) => Credentials::load(&mut store).await.map_err(|e| {
            log::error!("credentials: {e}");
        }),
        Err(e) => {
            log::error!("config partition: {e}");
            Err(())
        }
    };
    let credentials = or_stop(loaded, Failure::Credentials).await;
    log::info!("credentials: {}", credentials.sources());
    match CREDENTIALS.try_init(credentials) {
        Some(credentials) => credentials,
        None => stop(Failure::Credentials).await,
    }
}

/// What the agent runs on.
pub struct Parts<'c, I, F, E, L> {
    /// The device's name: its MQTT client id.
    pub device: &'static str,
    /// Where its records go.
    pub topics: Topics<'static>,
    /// The I²C bus with the LIS3DH (address 0x18).
    pub i2c: I,
    /// The outbox's flash partition.
    pub outbox: F,
    /// The MQTT login (and the broker, for [`run`]).
    pub credentials: &'c Credentials,
    /// Client ids and reconnect jitter.
    pub entropy: E,
    /// Called with `true` while an anomaly lasts, `false` otherwise.
    pub led: L,
}

/// Waits (at most 30 s) for `net`'s DHCP lease, then runs the agent against the
/// broker the credentials name ([`run_with`]); stops the firmware if the agent cannot
/// start.
pub async fn run<I, F, E, L>(parts: Parts<'_, I, F, E, L>, net: &Net) -> !
where
    I: I2c,
    F: MultiwriteNorFlash + Clone,
    E: Entropy,
    L: FnMut(bool),
{
    let Ok((host, port)) = parts.credentials.broker::<()>() else {
        stop(Failure::NoBroker).await
    };
    match net.wait_up(Duration::from_secs(30)).await {
        Ok(ip) => log::info!("network up: {}", ip.address),
        Err(e) => log::warn!("{e}; the MQTT client keeps trying"),
    }
    stop(run_with(parts, &net.mqtt(host, port)).await).await
}

/// Runs the agent: samples from the LIS3DH, records kept in the outbox partition (a
/// corrupted one is formatted) until the broker acknowledged them, MQTT through
/// `connector`.
///
/// Returns only if it cannot start; afterwards it runs for ever (sensor and broker
/// failures are retried).
pub async fn run_with<I, F, E, L, C>(parts: Parts<'_, I, F, E, L>, connector: &C) -> Failure
where
    I: I2c,
    F: MultiwriteNorFlash + Clone,
    E: Entropy,
    L: FnMut(bool),
    C: Connector,
{
    let Parts {
        device,
        topics,
        i2c,
        outbox: outbox_flash,
        credentials,
        entropy,
        mut led,
    } = parts;
    let mut record_buf = [0u8; RECORD_MAX];
    let size = outbox_flash.capacity() as u32;
    let opened = match FlashOutbox::open(outbox_flash.clone(), 0..size, &mut record_buf).await {
        Err(StorageError::Corrupted) => {
            log::warn!("outbox partition corrupted: formatting it (its records are lost)");
            FlashOutbox::format(outbox_flash, 0..size, &mut record_buf).await
        }
        other => other,
    };
    let outbox = match opened {
        Ok(outbox) => outbox,
        Err(e) => {
            log::error!("outbox partition: {e}");
            return Failure::Outbox;
        }
    };
    let mut escalations = [0u8; 1024];
    let config = AgentConfig::vibration(device, env!("CARGO_PKG_VERSION"), topics);
    let Ok(agent) =
        Agent::<'_, NoopRawMutex, _, _>::new(config, outbox, RamQueue::new(&mut escalations, 2))
    else {
        return Failure::Agent;
    };

    let (user, password) = credentials.mqtt_login();
    let mut mqtt = ClientConfig::new(ProtocolVersion::V3_1_1, device);
    mqtt.username = user;
    mqtt.password = password;
    mqtt.keep_alive_secs = 60;
    let (mut rx, mut tx, mut inflight, mut ids, mut offline) =
        ([0u8; 1024], [0u8; 1024], [0u8; 1024], [0u16; 4], [0u8; 256]);
    let client = Client::new(
        mqtt,
        connector,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        },
        OfflineQueue::new(RamQueue::new(&mut offline, 2), QueuePolicy::Reject),
        Delay,
        EmbassyClock,
        entropy,
    );
    let filters = [topics.delta];
    let mut uplink = MqttUplink::new(client, &filters);

    let mut accel = Lis3dh::new(
        i2c,
        EmbassyClock,
        lis3dh::Address::Primary,
        lis3dh::Config::default(),
    );
    let mut detectors = [RobustZ::new(); VIBRATION_WATCH.len()];
    let edge = RefCell::new(EdgeState::default());
    let show = |s: &EdgeState| led(s.decision.is_some_and(|d| d.action != Action::Ignore));
    let no_commands = |_: &str, _: &[u8], _: &mut [Option<Command>; 4]| {};

    let sensing = async {
        let mut rows = [[0.0f32; 3]; WINDOW];
        let mut scratch = [0.0f32; WINDOW];
        let Ok(mut window) = Window::new(&mut rows, 400.0) else {
            return;
        };
        loop {
            while let Err(e) = accel.init().await {
                log::warn!("LIS3DH: {:?}; retrying in 2 s", e.kind());
                Timer::after_secs(2).await;
            }
            log::info!("LIS3DH up; sensing");
            loop {
                let Ok(view) =
                    fill_window(&mut accel, &EmbassyClock, &mut Delay, &mut window).await
                else {
                    log::warn!("LIS3DH read failed; starting it again");
                    window.clear();
                    break;
                };
                if let Err(e) = agent.observe(&view, &mut scratch).await {
                    log::warn!("window skipped: {e:?}");
                }
            }
        }
    };
    join3(
        sensing,
        agent.run_edge_observed(&mut detectors, &edge, show),
        agent.run_uplink(&mut uplink, &EmbassyClock, 0, no_commands),
    )
    .await;
    Failure::Agent
}

/// A seed for the network stack (TCP sequence numbers, ports) from the board's RNG.
pub fn seed(entropy: &mut impl Entropy) -> u64 {
    let mut bytes = [0u8; 8];
    entropy.fill_bytes(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// The value, or (after logging the error) [`stop`] with `failure`.
pub async fn or_stop<T, E: core::fmt::Debug>(result: Result<T, E>, failure: Failure) -> T {
    match result {
        Ok(value) => value,
        Err(e) => {
            log::error!("{failure:?}: {e:?}");
            stop(failure).await
        }
    }
}

/// Stops the firmware after logging why; the executor sleeps from here on (a reset
/// or the watchdog starts over).
pub async fn stop(failure: Failure) -> ! {
    log::error!("blinky_agent stopped: {failure:?}");
    loop {
        core::future::pending::<()>().await;
    }
}
