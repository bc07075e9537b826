//! The anomaly-monitor agent on a Linux host (gateway mode): the simulated machine
//! behind the real LIS3DH driver → `ioto_core::agent` → an MQTT broker (embedded or
//! external) and, on escalation, a cloud model.
//!
//! Used by `cargo xtask demo` (a short run with a summary and an HTML report) and
//! by `ioto-host agent --config FILE` (a long-lived service).

use std::time::Duration;

use ioto_cloud::Secret;
use ioto_cloud::advisor::{AdvisorConfig, CloudAdvisor};
use ioto_cloud::client::{Api, Client as CloudClient, ClientConfig as CloudClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_core::agent::Metrics;

use crate::platform::{self, HostClock, HostDelay, PlainHttp};
use crate::report::Point;

/// `RobustZ` for a machine's window features: the baseline follows over about
/// 500 windows (5 minutes at 0.64 s), so a fault that grows over minutes is not
/// learned as normal before it is reported; 300 windows to learn the healthy machine.
pub const MACHINE_BASELINE: ioto_core::detect::RobustZConfig = ioto_core::detect::RobustZConfig {
    alpha: ALPHA,
    mad_alpha: MAD_ALPHA,
    z_on: 6.0,
    z_off: 3.0,
    learn: 300,
};
const ALPHA: f32 = 0.002;
const MAD_ALPHA: f32 = 0.002;

/// Samples per window (0.64 s at 400 Hz).
pub const WINDOW: usize = 256;
/// The simulated accelerometer's rate.
pub const SAMPLE_RATE_HZ: f32 = 400.0;

/// Where the agent's messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerAddr {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// MQTT over TLS (`mqtts://`), verified against [`GatewayOptions::broker_ca`].
    pub tls: bool,
}

impl BrokerAddr {
    /// A plain MQTT broker at `host:port`.
    pub fn plain(host: &str, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            tls: false,
        }
    }

    /// Parses `mqtt://host:port` (port 1883 when left out) or `mqtts://host:port`
    /// (8883).
    pub fn parse(url: &str) -> Result<Self, GatewayError> {
        let (rest, tls, default_port) = if let Some(r) = url.strip_prefix("mqtt://") {
            (r, false, 1883)
        } else if let Some(r) = url.strip_prefix("mqtts://") {
            (r, true, 8883)
        } else {
            return Err(GatewayError::Config(format!(
                "broker URL must start with mqtt:// or mqtts://: {url}"
            )));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse()
                    .map_err(|_| GatewayError::Config(format!("bad port in {url}")))?,
            ),
            None => (rest, default_port),
        };
        if host.is_empty() {
            return Err(GatewayError::Config(format!("no host in {url}")));
        }
        Ok(Self {
            host: host.to_string(),
            port,
            tls,
        })
    }
}

/// What one run does.
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// The device (thing) name; topics are `ioto/<device>/...`.
    pub device: String,
    /// The broker.
    pub broker: BrokerAddr,
    /// The CA (PEM or DER file) that issued an `mqtts://` broker's certificate.
    pub broker_ca: Option<std::path::PathBuf>,
    /// Draws the machine's faults (kind, start, ramp, severity) and its noise.
    pub seed: u64,
    /// Wall-clock length of the run.
    pub duration: Duration,
    /// Machine seconds simulated per wall second (the demo compresses an hour).
    pub speedup: f64,
    /// Print a progress line now and then.
    pub progress: bool,
    /// Telemetry summary period, machine seconds.
    pub telemetry_every_s: u32,
    /// The detector on each watched feature.
    pub detector: crate::detectors::DetectorName,
    /// Prefix of the device-state topics ([`AWS_SHADOW_PREFIX`] by default).
    pub shadow_prefix: String,
    /// The cloud model escalations go to; `None`: they stay queued.
    pub ai: Option<AiOptions>,
    /// Feed this recording ([`crate::replay`]) instead of the simulated machine.
    pub replay: Option<std::path::PathBuf>,
    /// Write what the sensor delivered to this recording.
    pub record: Option<std::path::PathBuf>,
    /// Publish Home Assistant MQTT discovery documents (retained) before starting,
    /// so a Home Assistant on the same broker shows the device's sensors.
    pub ha_discovery: bool,
}

/// An OpenAI-compatible endpoint for escalations.
#[derive(Clone)]
pub struct AiOptions {
    /// Base URL, e.g. `http://127.0.0.1:8080/v1` (plain HTTP only on loopback).
    pub endpoint: String,
    /// API key (may be empty for a local server). Never printed.
    pub key: String,
    /// Model name.
    pub model: String,
    /// CA certificates (PEM or DER file) an `https://` endpoint is verified against;
    /// `None`: the system bundle ([`SYSTEM_CA_BUNDLE`]).
    pub ca: Option<std::path::PathBuf>,
}

/// Where Debian keeps the system's trusted CA certificates.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

impl core::fmt::Debug for AiOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AiOptions")
            .field("endpoint", &self.endpoint)
            .field("key", &"[REDACTED]")
            .field("model", &self.model)
            .field("ca", &self.ca)
            .finish()
    }
}

/// The advisor the gateway uses for plain-HTTP (local) endpoints: ioto-cloud over
/// tokio TCP, so a model call never stalls the agent's other tasks.
pub type HostAdvisor = CloudAdvisor<PlainHttp, HostClock, HostDelay>;

/// Builds the advisor for `ai` (an endpoint on loopback: `http://127.0.0.1:...`).
pub fn advisor(ai: &AiOptions) -> Result<HostAdvisor, GatewayError> {
    let endpoint = if ai.endpoint.starts_with("http://") {
        Endpoint::local(&ai.endpoint)
    } else {
        Endpoint::new(&ai.endpoint)
    }
    .map_err(|e| GatewayError::Config(format!("AI endpoint {}: {e:?}", ai.endpoint)))?;
    if ai.endpoint.starts_with("https://") {
        return Err(GatewayError::Config(
            "an https:// AI endpoint goes through run_agent's TLS path".into(),
        ));
    }
    let cfg = CloudClientConfig::new(endpoint, Api::OpenAi, Secret::new(&ai.key));
    let client = CloudClient::new(platform::plain_http(), HostClock::new(), HostDelay, cfg);
    Ok(CloudAdvisor::new(client, AdvisorConfig::new(&ai.model)))
}

/// The exact JSON body the advisor would send for `context` to the default
/// OpenAI endpoint (shown by the demo when no endpoint is configured).
pub fn request_preview(context: &str) -> Option<String> {
    let ai = AiOptions {
        endpoint: "http://127.0.0.1:1/v1".into(),
        key: String::new(),
        model: DEFAULT_MODEL.into(),
        ca: None,
    };
    advisor(&ai).ok()?.request_preview(context).ok()
}

/// Model asked when none is configured.
pub const DEFAULT_MODEL: &str = "gpt-4.1-mini";

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            device: "demo-machine".into(),
            broker: BrokerAddr::plain("127.0.0.1", 1883),
            broker_ca: None,
            seed: 1,
            duration: Duration::from_secs(30),
            speedup: 120.0,
            progress: true,
            telemetry_every_s: 60,
            detector: crate::detectors::DetectorName::RobustZ,
            shadow_prefix: AWS_SHADOW_PREFIX.into(),
            ai: None,
            replay: None,
            record: None,
            ha_discovery: false,
        }
    }
}

/// Why a run failed.
#[derive(Debug)]
pub enum GatewayError {
    /// Bad options.
    Config(String),
    /// The simulated machine or sensor could not be set up.
    Sensor(String),
    /// The agent refused its configuration.
    Agent(ioto_core::agent::AgentError),
    /// The runtime could not start.
    Io(std::io::Error),
}

impl core::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GatewayError::Config(s) => write!(f, "configuration: {s}"),
            GatewayError::Sensor(s) => write!(f, "sensor: {s}"),
            GatewayError::Agent(e) => write!(f, "agent: {e:?}"),
            GatewayError::Io(e) => write!(f, "I/O: {e}"),
        }
    }
}

impl std::error::Error for GatewayError {}

/// A fault the simulation injected.
#[derive(Clone, Debug, PartialEq)]
pub struct InjectedFault {
    /// Its kind (`bearing wear`, ...).
    pub kind: String,
    /// Onset, machine seconds.
    pub start_s: f64,
    /// Full severity reached, machine seconds.
    pub full_s: f64,
    /// First reported decision at or after the onset, machine seconds.
    pub detected_s: Option<f64>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// The agent's counters at the end.
    pub metrics: Metrics,
    /// Every scored window.
    pub points: Vec<Point>,
    /// The injected faults and when they were detected.
    pub faults: Vec<InjectedFault>,
    /// Episodes started before the first fault's onset.
    pub false_alarms: u64,
    /// Machine seconds simulated.
    pub machine_s: f64,
    /// Escalations still queued (no advisor, or not yet answered).
    pub escalations_waiting: usize,
    /// The oldest queued escalation's context, if any.
    pub pending_context: Option<String>,
    /// The topics used.
    pub topics: GatewayTopics,
    /// Records left in the outbox at the end.
    pub queue_left: usize,
}

/// The topics of one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayTopics {
    /// Telemetry.
    pub telemetry: String,
    /// Events.
    pub events: String,
    /// Reported state (AWS IoT shadow update).
    pub state: String,
    /// Metrics.
    pub metrics: String,
    /// The model's advice.
    pub advice: String,
    /// Desired-state deltas (AWS IoT shadow).
    pub delta: String,
}

/// Where the device-state (shadow) topics live.
pub const AWS_SHADOW_PREFIX: &str = "$aws/things";

/// The shadow prefix used with the embedded broker: rumqttd 0.20 neither routes nor
/// accepts subscriptions to topics starting with `$`, so the same document layout
/// goes under `ioto/things/<thing>/shadow/...` there.
pub const EMBEDDED_SHADOW_PREFIX: &str = "ioto/things";

impl GatewayTopics {
    /// The topics of `device`, its shadow under `shadow_prefix` (normally
    /// [`AWS_SHADOW_PREFIX`], the AWS IoT Device Shadow layout).
    pub fn for_device(device: &str, shadow_prefix: &str) -> Self {
        Self {
            telemetry: format!("ioto/{device}/telemetry"),
            events: format!("ioto/{device}/events"),
            state: format!("{shadow_prefix}/{device}/shadow/update"),
            metrics: format!("ioto/{device}/metrics"),
            advice: format!("ioto/{device}/advice"),
            delta: format!("{shadow_prefix}/{device}/shadow/update/delta"),
        }
    }
}

mod run;
pub use run::{agent_config, demo_policy, run, run_agent};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_parse_or_fail_typed() {
        assert_eq!(
            BrokerAddr::parse("mqtt://127.0.0.1:1884").ok(),
            Some(BrokerAddr::plain("127.0.0.1", 1884))
        );
        assert_eq!(
            BrokerAddr::parse("mqtt://broker").map(|b| b.port).ok(),
            Some(1883)
        );
        assert!(BrokerAddr::parse("http://x").is_err());
        let tls = BrokerAddr::parse("mqtts://broker.example").unwrap();
        assert!(tls.tls && tls.port == 8883 && tls.host == "broker.example");
        assert!(BrokerAddr::parse("mqtt://:1").is_err());
        assert!(BrokerAddr::parse("mqtt://h:x").is_err());
    }
}
