//! The full anomaly monitor, the same on every board: an LIS3DH accelerometer → window
//! features → one `RobustZ` detector per watched feature → the edge/cloud policy → a
//! store-and-forward outbox → MQTT over verified TLS; on escalation, the cloud model
//! over HTTPS (ioto-cloud's `CloudAdvisor`, verified TLS) → its tool call, checked
//! against the device's limits, applied → the new device state reported (retained, on
//! the AWS IoT shadow topic).
//!
//! ```text
//!  LIS3DH ─▶ features ─▶ RobustZ ×4 ─▶ policy ─▶ outbox ─▶ MQTT/TLS ─▶ broker
//!                                        │                       ▲ state, advice
//!                                        └─▶ escalation ─▶ HTTPS ─▶ model ─▶ tool call
//! ```
//!
//! Generic over the board pieces: the accelerometer's bus (a real I²C bus, or the
//! simulated chip `SimAccel` on the virtual boards), the outbox (flash or RAM), the
//! `embassy-net` stack and a name resolver, the randomness of the TLS handshakes, the
//! wall clock certificates are checked against, and a monotonic clock. Each board's
//! `src/bin/anomaly_monitor.rs` brings these up and includes this file as a module
//! (`#[path = "../../../common/anomaly_monitor.rs"]`).

use core::cell::RefCell;

use embassy_futures::join::join4;
use embassy_net::Stack;
use embassy_net::tcp::client::{TcpClient, TcpClientState};
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_time::{Delay, Duration, Timer};
use embedded_hal_async::i2c::I2c;
use embedded_nal_async::Dns;
use ioto_cloud::Secret;
use ioto_cloud::advisor::{AdvisorConfig, CloudAdvisor};
use ioto_cloud::client::{Api, Client as CloudClient, ClientConfig as CloudConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::resilience::RetryPolicy;
use ioto_cloud::transport::IotoHttp;
use ioto_core::agent::{Agent, AgentConfig, EdgeState, Metrics, VIBRATION_WATCH};
use ioto_core::backoff::Backoff;
use ioto_core::detect::RobustZ;
use ioto_core::device::Command;
use ioto_core::outbox::{OfflineQueue, Outbox, QueuePolicy, RamQueue};
use ioto_core::sensor::{Error as _, Lis3dh, Window, fill_window, fill_window_back_to_back};
use ioto_core::{Clock, Entropy};
use ioto_transport::http::{ClockDelay, HttpClient, TcpConnector as HttpTcp};
use ioto_transport::mqtt::ProtocolVersion;
use ioto_transport::mqtt::client::{Buffers, Client, ClientConfig};
use ioto_transport::mqtt::connector::TcpConnector as MqttTcp;
use ioto_transport::tls::{
    CryptoRngCore, READ_BUF_FULL, TlsBuffers, TlsError, TlsHttpConnector, TlsMqttConnector,
    UnixTime,
};
use ioto_transport::uplink::MqttUplink;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// Samples per window: 0.64 s at the LIS3DH's 400 Hz.
pub const WINDOW: usize = 256;
/// The accelerometer's output data rate.
pub const SAMPLE_RATE_HZ: f32 = 400.0;
/// TLS write buffer per connection (larger writes go out as several records).
const TLS_WRITE: usize = 2048;
/// TCP buffers per connection, each way.
const TCP_BUFFER: usize = 2048;
/// Response-head buffer of the HTTPS client.
const HTTP_HEAD: usize = 2048;
/// Escalations that may wait for the model (RAM; each at most `RECORD_MAX`).
const ESCALATION_BYTES: usize = 2048;

/// How the sensing loop takes its windows.
#[derive(Clone, Copy, Debug)]
pub enum Pacing {
    /// Each sample when it is due at 400 Hz (a real chip), for ever; a failing chip is
    /// started again.
    RealTime,
    /// Windows back to back (a simulated chip, whose samples are stamped by its own
    /// clock), `gap` of board time between windows so the network tasks run; stops
    /// two windows after `done` first holds (so the last command's state is recorded),
    /// or after `max_windows`.
    Compressed {
        /// Board time between windows.
        gap: Duration,
        /// Windows at most.
        max_windows: u32,
        /// When the run has shown what it had to.
        done: fn(&Metrics) -> bool,
    },
}

/// The MQTT broker, reached over TLS.
#[derive(Clone, Copy, Debug)]
pub struct Broker<'a> {
    /// Host name (resolved, and verified against the certificate) or IP literal.
    pub host: &'a str,
    /// TCP port (8883 for MQTT over TLS).
    pub port: u16,
    /// The CA that issued the broker's certificate (DER, or PEM text).
    pub ca: &'a [u8],
    /// MQTT user name, if the broker wants one.
    pub username: Option<&'a str>,
    /// MQTT password (never logged).
    pub password: Option<&'a [u8]>,
}

/// The cloud model escalations go to (OpenAI-compatible Chat Completions over HTTPS).
#[derive(Clone, Copy)]
pub struct Cloud<'a> {
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub endpoint: &'a str,
    /// Model name.
    pub model: &'a str,
    /// API key (may be empty for a local server; never logged).
    pub api_key: &'a str,
    /// The CA(s) the endpoint's chain must end in (DER, or PEM text).
    pub ca: &'a [u8],
}

impl core::fmt::Debug for Cloud<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cloud")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// What the monitor runs on.
pub struct Parts<'a, I, S, O, R1, R2, E, U, K> {
    /// Records, topics, policy and limits (see [`config`]).
    pub config: AgentConfig<'a>,
    /// The accelerometer (the real driver, on a real or simulated bus).
    pub accel: Lis3dh<I, S>,
    /// How windows are taken.
    pub pacing: Pacing,
    /// Where records wait until the broker acknowledged them.
    pub outbox: O,
    /// The broker.
    pub broker: Broker<'a>,
    /// The model; `None`: escalations stay queued.
    pub cloud: Option<Cloud<'a>>,
    /// Randomness of the broker's TLS handshakes.
    pub mqtt_rng: R1,
    /// Randomness of the model's TLS handshakes.
    pub https_rng: R2,
    /// MQTT client ids, reconnect and retry jitter.
    pub entropy: E,
    /// Seconds since the Unix epoch, for certificate validity.
    pub unix_time: U,
    /// Monotonic board time (MQTT keep-alive, HTTP timeouts).
    pub clock: K,
}

/// Why the monitor could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The agent refused its configuration.
    Agent,
    /// The model's endpoint URL is not a valid `https://` URL.
    Endpoint,
    /// The window buffer could not be set up.
    Window,
    /// The simulated run ended: a sensor read or a window's features failed.
    Sensing,
}

/// What a run that ended ([`Pacing::Compressed`]) did.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    /// The agent's counters.
    pub metrics: Metrics,
    /// The edge task's last state (sensitivity, actuator, last decision).
    pub edge: EdgeState,
    /// Records not delivered.
    pub queue_left: usize,
    /// Escalations not answered.
    pub escalations_waiting: usize,
    /// Windows taken.
    pub windows: u32,
    /// The last TLS failure of the broker connection.
    pub mqtt_tls: Option<TlsError>,
    /// The last TLS failure of the model connection.
    pub https_tls: Option<TlsError>,
}

/// The monitor's agent configuration for `device`: the library's vibration monitor
/// ([`AgentConfig::vibration`]) reporting to `topics`.
pub fn config<'a>(device: &'a str, topics: ioto_core::agent::Topics<'a>) -> AgentConfig<'a> {
    AgentConfig {
        machine: "rotating machine, 3-axis accelerometer (LIS3DH) on the bearing housing",
        ..AgentConfig::vibration(device, env!("CARGO_PKG_VERSION"), topics)
    }
}

/// Runs the monitor on `stack`, names resolved by `dns`. With [`Pacing::RealTime`]
/// it runs for ever (sensor, broker and model failures are retried); with
/// [`Pacing::Compressed`] it returns what it did once its windows are taken and the
/// outbox is drained.
pub async fn run<I, S, O, R1, R2, E, U, K, D>(
    parts: Parts<'_, I, S, O, R1, R2, E, U, K>,
    stack: Stack<'_>,
    dns: &D,
) -> Result<Report, Failure>
where
    I: I2c,
    S: Clock,
    O: Outbox,
    R1: CryptoRngCore,
    R2: CryptoRngCore,
    E: Entropy,
    U: UnixTime + Copy,
    K: Clock + Copy,
    D: Dns,
{
    let Parts {
        config,
        mut accel,
        pacing,
        outbox,
        broker,
        cloud,
        mqtt_rng,
        https_rng,
        mut entropy,
        unix_time,
        clock,
    } = parts;
    let mut escalation_mem = [0u8; ESCALATION_BYTES];
    let agent: Agent<'_, NoopRawMutex, _, _> =
        Agent::new(config, outbox, RamQueue::new(&mut escalation_mem, 2))
            .map_err(|_| Failure::Agent)?;
    let mut jitter = Jitter(entropy.next_u32() | 1);

    // MQTT over TLS, on a TCP connection of its own.
    let mqtt_tcp_state: TcpClientState<1, TCP_BUFFER, TCP_BUFFER> = TcpClientState::new();
    let mqtt_tcp = TcpClient::new(stack, &mqtt_tcp_state);
    let (mut mqtt_read, mut mqtt_write) = ([0u8; READ_BUF_FULL], [0u8; TLS_WRITE]);
    let mqtt_buffers = TlsBuffers::new(&mut mqtt_read, &mut mqtt_write);
    let tcp = MqttTcp::new(&mqtt_tcp, dns, broker.host, broker.port);
    let mqtts = TlsMqttConnector::new(
        tcp,
        &mqtt_buffers,
        broker.ca,
        broker.host,
        mqtt_rng,
        unix_time,
    );
    let mut mqtt = ClientConfig::new(ProtocolVersion::V3_1_1, config.device);
    mqtt.username = broker.username;
    mqtt.password = broker.password;
    mqtt.keep_alive_secs = 60;
    mqtt.connect_timeout_ms = 10_000;
    let (mut rx, mut tx, mut inflight, mut ids, mut offline) =
        ([0u8; 1024], [0u8; 1024], [0u8; 1024], [0u16; 4], [0u8; 256]);
    let client = Client::new(
        mqtt,
        &mqtts,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        },
        OfflineQueue::new(RamQueue::new(&mut offline, 2), QueuePolicy::Reject),
        Delay,
        clock,
        entropy,
    );
    let filters = [config.topics.delta];
    let mut uplink = MqttUplink::new(client, &filters);

    // The model over HTTPS, on another TCP connection.
    let https_tcp_state: TcpClientState<1, TCP_BUFFER, TCP_BUFFER> = TcpClientState::new();
    let https_tcp = TcpClient::new(stack, &https_tcp_state);
    let (mut https_read, mut https_write) = ([0u8; READ_BUF_FULL], [0u8; TLS_WRITE]);
    let https_buffers = TlsBuffers::new(&mut https_read, &mut https_write);
    let ca = cloud.map_or(&[][..], |c| c.ca);
    let mut https = TlsHttpConnector::new(
        HttpTcp::new(&https_tcp, dns),
        &https_buffers,
        ca,
        https_rng,
        unix_time,
    );
    let mut advisor = match cloud {
        Some(c) => {
            let endpoint = Endpoint::new(c.endpoint).map_err(|_| Failure::Endpoint)?;
            let mut cfg = CloudConfig::new(endpoint, Api::OpenAi, Secret::new(c.api_key));
            // The agent retries a failed escalation itself (with its own backoff).
            cfg.retry = RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            };
            cfg.limits.max_response_bytes = 16 * 1024;
            cfg.jitter_seed = u64::from(jitter.next_u32());
            let timer = ClockDelay {
                clock,
                delay: Delay,
            };
            let http = IotoHttp::new(HttpClient::new(&mut https, timer), HTTP_HEAD);
            let client = CloudClient::new(http, clock, Delay, cfg);
            // The answer comes back as a server-sent event stream, accumulated as it
            // arrives and checked whole.
            let mut cfg = AdvisorConfig::new(c.model);
            cfg.stream = true;
            Some(CloudAdvisor::new(client, cfg))
        }
        None => None,
    };

    let mut detectors = [RobustZ::new(); VIBRATION_WATCH.len()];
    let edge = RefCell::new(EdgeState::default());
    let windows = core::cell::Cell::new(0u32);
    let mut rows = [[0.0f32; 3]; WINDOW];
    let mut scratch = [0.0f32; WINDOW];
    let mut window = Window::new(&mut rows, SAMPLE_RATE_HZ).map_err(|_| Failure::Window)?;
    let sensing = async {
        let ok = match pacing {
            Pacing::RealTime => {
                sense_real_time(&agent, &mut accel, &mut window, &mut scratch, &clock).await
            }
            Pacing::Compressed {
                gap,
                max_windows,
                done,
            } => {
                let mut extra = None::<u32>;
                let mut ok = true;
                while windows.get() < max_windows && extra != Some(0) {
                    let Ok(view) = fill_window_back_to_back(&mut accel, &mut window).await else {
                        ok = false;
                        break;
                    };
                    if agent.observe(&view, &mut scratch).await.is_err() {
                        ok = false;
                        break;
                    }
                    windows.set(windows.get() + 1);
                    extra = match extra {
                        Some(n) => Some(n - 1),
                        None if done(&agent.metrics()) => Some(2),
                        None => None,
                    };
                    Timer::after(gap).await;
                }
                ok
            }
        };
        agent.stop();
        ok
    };
    let no_commands = |_: &str, _: &[u8], _: &mut [Option<Command>; 4]| {};
    let advise = async {
        if let Some(a) = advisor.as_mut() {
            agent
                .run_advisor(a, &mut Delay, &mut jitter, Backoff::default())
                .await;
        }
    };
    let (sensed, (), (), ()) = join4(
        sensing,
        agent.run_edge(&mut detectors, &edge),
        agent.run_uplink(&mut uplink, &clock, 10_000, no_commands),
        advise,
    )
    .await;
    uplink.client().disconnect().await;
    drop(advisor);
    if !sensed {
        return Err(Failure::Sensing);
    }
    Ok(Report {
        metrics: agent.metrics(),
        edge: *edge.borrow(),
        queue_left: agent.queue_depth().await,
        escalations_waiting: agent.escalations_waiting().await,
        windows: windows.get(),
        mqtt_tls: mqtts.last_error(),
        https_tls: https.last_error(),
    })
}

/// Samples each 2.5 ms as the chip has them, for ever; a failing chip is set up again.
/// Returns `false` only if a window's features cannot be computed.
async fn sense_real_time<I: I2c, S: Clock, O: Outbox, E: Outbox, K: Clock>(
    agent: &Agent<'_, NoopRawMutex, O, E>,
    accel: &mut Lis3dh<I, S>,
    window: &mut Window<'_, 3>,
    scratch: &mut [f32],
    clock: &K,
) -> bool {
    loop {
        while let Err(e) = accel.init().await {
            log::warn!("LIS3DH: {:?}; retrying in 2 s", e.kind());
            Timer::after_secs(2).await;
        }
        log::info!("LIS3DH up; sensing");
        loop {
            let Ok(view) = fill_window(accel, clock, &mut Delay, window).await else {
                log::warn!("LIS3DH read failed; starting it again");
                window.clear();
                break;
            };
            if agent.observe(&view, scratch).await.is_err() {
                return false;
            }
        }
    }
}

/// A generator for the TLS handshakes (ChaCha20 on `rand_core` 0.6, the traits
/// `ioto_transport::tls::connect` takes), seeded with 32 bytes of `entropy` (the
/// board's hardware RNG).
pub fn tls_rng(entropy: &mut impl Entropy) -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    entropy.fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}

/// xorshift32: the advisor's backoff jitter, seeded from the board's entropy (not for
/// secrets). The seed must not be 0.
pub struct Jitter(pub u32);

impl Entropy for Jitter {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            *b = self.0 as u8;
        }
    }
}
