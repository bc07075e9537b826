//! The anomaly monitor (`anomaly_monitor.rs`, included beside this file as `monitor`)
//! on a physical board: the settings a device gets at build time or from its config
//! partition, the wall clock from SNTP, the outbox in the board's flash, and the run.
//!
//! Each board's `src/bin/anomaly_monitor.rs` brings its hardware and network up, then
//! calls [`run`]. Nothing secret is ever logged or written into this source:
//!
//! | what | where from |
//! |---|---|
//! | Wi-Fi, broker host and port, MQTT login, API key | config partition or build environment (`ioto_board_embassy::credentials`; set `IOTO_BROKER_PORT=8883`) |
//! | the CA of the broker's certificate | `IOTO_BROKER_CA_PEM` at build time (the PEM text) |
//! | the model endpoint and its CA | `IOTO_AI_ENDPOINT` (e.g. `https://api.openai.com/v1`), `IOTO_AI_CA_PEM`, `IOTO_AI_MODEL` (default `gpt-4.1-mini`); without them escalations stay queued |
//! | the time, for certificate validity | SNTP from `IOTO_NTP_SERVER` (default `pool.ntp.org`) |

use embassy_net::dns::{DnsQueryType, DnsSocket};
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{IpAddress, Stack};
use embassy_time::{Duration, Instant, with_timeout};
use embedded_hal_async::i2c::I2c;
use embedded_storage_async::nor_flash::MultiwriteNorFlash;
use ioto_board_embassy::{Credentials, EmbassyClock, Net};
use ioto_core::Entropy;
use ioto_core::agent::{RECORD_MAX, Topics};
use ioto_core::sensor::{Lis3dh, lis3dh};
use ioto_transport::storage::outbox::{FlashOutbox, StorageError};

use crate::monitor;

/// Seconds from 1900-01-01 (NTP's epoch) to 1970-01-01.
const NTP_TO_UNIX: u64 = 2_208_988_800;

/// Why the monitor did not start.
#[derive(Debug)]
pub enum Failure {
    /// No broker address: set it in the config partition or at build time.
    NoBroker,
    /// `IOTO_BROKER_CA_PEM` was not set at build time: the broker cannot be verified.
    NoBrokerCa,
    /// The time could not be had from SNTP (the log says why).
    NoTime,
    /// The outbox partition is unusable.
    Outbox,
    /// The monitor refused to start (see [`monitor::Failure`]).
    Monitor(monitor::Failure),
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Monitor(e) => write!(f, "the monitor stopped: {e:?}"),
            other => core::fmt::Debug::fmt(other, f),
        }
    }
}

/// What the monitor runs on, from the board.
pub struct BoardParts<'c, I, F, E> {
    /// The device's name: MQTT client id and thing name.
    pub device: &'static str,
    /// Where its records go.
    pub topics: Topics<'static>,
    /// The I²C bus with the LIS3DH (address 0x18).
    pub i2c: I,
    /// The outbox's flash partition.
    pub outbox: F,
    /// Broker, login and API key.
    pub credentials: &'c Credentials,
    /// The board's hardware RNG.
    pub rng: E,
}

/// Runs the monitor on `net` once it has an address (at most 30 s), the time from
/// SNTP and the outbox opened (a corrupted one is formatted), for ever. If it cannot
/// start, logs why and stops the firmware (the executor sleeps; a reset or the
/// watchdog starts over).
pub async fn run<I, F, E>(parts: BoardParts<'_, I, F, E>, net: &Net) -> !
where
    I: I2c,
    F: MultiwriteNorFlash + Clone,
    E: Entropy,
{
    let failure = start(parts, net).await;
    log::error!("anomaly_monitor stopped: {failure}");
    loop {
        core::future::pending::<()>().await;
    }
}

/// [`run`] up to the point where it fails.
async fn start<I, F, E>(parts: BoardParts<'_, I, F, E>, net: &Net) -> Failure
where
    I: I2c,
    F: MultiwriteNorFlash + Clone,
    E: Entropy,
{
    let BoardParts {
        device,
        topics,
        i2c,
        outbox,
        credentials,
        mut rng,
    } = parts;
    let Ok((host, port)) = credentials.broker::<()>() else {
        return Failure::NoBroker;
    };
    let Some(broker_ca) = option_env!("IOTO_BROKER_CA_PEM") else {
        return Failure::NoBrokerCa;
    };
    match net.wait_up(Duration::from_secs(30)).await {
        Ok(ip) => log::info!("network up: {}", ip.address),
        Err(e) => log::warn!("{e}; trying all the same"),
    }
    let stack = net.stack();
    let server = option_env!("IOTO_NTP_SERVER").unwrap_or("pool.ntp.org");
    let mut clock = None;
    for attempt in 1..=5 {
        match sntp(stack, server, rng.next_u32()).await {
            Ok(t) => {
                clock = Some(t);
                break;
            }
            Err(e) => log::warn!("SNTP from {server} (attempt {attempt}): {e}"),
        }
    }
    let Some(unix_at_boot) = clock else {
        return Failure::NoTime;
    };
    let unix_time = move || unix_at_boot + Instant::now().as_secs();
    let mut record = [0u8; RECORD_MAX];
    let size = outbox.capacity() as u32;
    let opened = match FlashOutbox::open(outbox.clone(), 0..size, &mut record).await {
        Err(StorageError::Corrupted) => {
            log::warn!("outbox partition corrupted: formatting it (its records are lost)");
            FlashOutbox::format(outbox, 0..size, &mut record).await
        }
        other => other,
    };
    let Ok(outbox) = opened.map_err(|e| log::error!("outbox partition: {e}")) else {
        return Failure::Outbox;
    };
    let api_key = credentials.api_key::<()>().map_or("", |k| k.expose());
    let cloud = match (
        option_env!("IOTO_AI_ENDPOINT"),
        option_env!("IOTO_AI_CA_PEM"),
    ) {
        (Some(endpoint), Some(ca)) => Some(monitor::Cloud {
            endpoint,
            model: option_env!("IOTO_AI_MODEL").unwrap_or("gpt-4.1-mini"),
            api_key,
            ca: ca.as_bytes(),
        }),
        _ => {
            log::warn!("IOTO_AI_ENDPOINT / IOTO_AI_CA_PEM not built in: escalations stay queued");
            None
        }
    };
    let (user, password) = credentials.mqtt_login();
    let accel = Lis3dh::new(
        i2c,
        EmbassyClock,
        lis3dh::Address::Primary,
        lis3dh::Config::default(),
    );
    let parts = monitor::Parts {
        config: monitor::config(device, topics),
        accel,
        pacing: monitor::Pacing::RealTime,
        outbox,
        broker: monitor::Broker {
            host,
            port,
            ca: broker_ca.as_bytes(),
            username: user,
            password,
        },
        cloud,
        mqtt_rng: monitor::tls_rng(&mut rng),
        https_rng: monitor::tls_rng(&mut rng),
        entropy: rng,
        unix_time,
        clock: EmbassyClock,
    };
    let dns = DnsSocket::new(stack);
    match monitor::run(parts, stack, &dns).await {
        Ok(_) => Failure::Monitor(monitor::Failure::Sensing),
        Err(e) => Failure::Monitor(e),
    }
}

/// Why SNTP gave no time.
#[derive(Debug)]
enum SntpError {
    /// The server's name did not resolve.
    Dns,
    /// The UDP socket failed.
    Socket,
    /// No answer within 5 s.
    Timeout,
    /// An answer that is not a server's reply to this request, or unsynchronised.
    BadReply,
}

impl core::fmt::Display for SntpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

/// The Unix time at boot (board time 0), from one SNTP (RFC 4330) exchange with
/// `server`; `nonce` goes out as the transmit timestamp and must come back as the
/// originate timestamp.
async fn sntp(stack: Stack<'static>, server: &str, nonce: u32) -> Result<u64, SntpError> {
    let addrs = stack
        .dns_query(server, DnsQueryType::A)
        .await
        .map_err(|_| SntpError::Dns)?;
    let addr: IpAddress = *addrs.first().ok_or(SntpError::Dns)?;
    let (mut rx_meta, mut tx_meta) = ([PacketMetadata::EMPTY; 1], [PacketMetadata::EMPTY; 1]);
    let (mut rx, mut tx) = ([0u8; 128], [0u8; 128]);
    let mut socket = UdpSocket::new(stack, &mut rx_meta, &mut rx, &mut tx_meta, &mut tx);
    socket.bind(0).map_err(|_| SntpError::Socket)?;
    let mut request = [0u8; 48];
    request[0] = 0x23; // LI 0, version 4, mode 3 (client)
    request[44..48].copy_from_slice(&nonce.to_be_bytes());
    socket
        .send_to(&request, (addr, 123))
        .await
        .map_err(|_| SntpError::Socket)?;
    let mut reply = [0u8; 48];
    let (n, _) = with_timeout(Duration::from_secs(5), socket.recv_from(&mut reply))
        .await
        .map_err(|_| SntpError::Timeout)?
        .map_err(|_| SntpError::Socket)?;
    let mode = reply[0] & 0x07;
    let stratum = reply[1];
    if n < 48 || mode != 4 || stratum == 0 || stratum > 15 || reply[28..32] != request[44..48] {
        return Err(SntpError::BadReply);
    }
    let secs = u64::from(u32::from_be_bytes([
        reply[40], reply[41], reply[42], reply[43],
    ]));
    let unix = secs.checked_sub(NTP_TO_UNIX).ok_or(SntpError::BadReply)?;
    Ok(unix.saturating_sub(Instant::now().as_secs()))
}
