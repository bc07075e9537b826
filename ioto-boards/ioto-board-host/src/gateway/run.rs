//! Running the gateway agent: the sample source, the broker link, the optional cloud
//! advisor and the progress output.

use std::cell::RefCell;
use std::time::{Duration, Instant as StdInstant};

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embedded_hal_async::delay::DelayNs;
use ioto_cloud::Secret;
use ioto_cloud::advisor::{AdvisorConfig, CloudAdvisor};
use ioto_cloud::client::{Api, Client as CloudClient, ClientConfig as CloudClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_core::advisor::Advisor;
use ioto_core::agent::{Agent, AgentConfig, EdgeState, Topics, VIBRATION_WATCH};
use ioto_core::backoff::Backoff;
use ioto_core::outbox::{Outbox, RamQueue};
use ioto_core::policy::{Action, PolicyConfig};
use ioto_core::sensor::Error as _;
use ioto_core::sensor::{Channel, ErrorKind, Sample, Sensor};
use ioto_core::sensor::{
    FaultPlan, Lis3dh, MachineProfile, MachineVibration, Window, fill_window_back_to_back,
};
use ioto_core::state::discovery::Discovery;
use ioto_core::uplink::{Delivery, Message, Uplink, UplinkEvent};
use ioto_core::{Clock, Instant};
use ioto_transport::mqtt::ProtocolVersion;
use ioto_transport::mqtt::client::{Buffers, Client, ClientConfig, SessionMode};
use ioto_transport::mqtt::connector::Connector;
use ioto_transport::mqtt::connector::TcpConnector;
use ioto_transport::tls::{READ_BUF_FULL, TlsBuffers, TlsMqttConnector};
use ioto_transport::uplink::MqttUplink;

use crate::platform::{self, HostClock, HostDelay, HostEntropy, OsRng, TokioNet, unix_time};
use crate::report::Point;

use super::*;

/// Where samples come from: the simulated machine behind the LIS3DH driver, or a
/// recording.
enum SourceSensor<S> {
    Simulated(S),
    Replay(crate::replay::ReplaySensor),
}

impl<S: Sensor<3>> Sensor<3> for SourceSensor<S> {
    type Error = ErrorKind;

    async fn read(&mut self) -> Result<Sample<3>, ErrorKind> {
        match self {
            SourceSensor::Simulated(s) => s.read().await.map_err(|e| e.kind()),
            SourceSensor::Replay(r) => r.read().await,
        }
    }

    fn sample_rate_hz(&self) -> f32 {
        match self {
            SourceSensor::Simulated(s) => s.sample_rate_hz(),
            SourceSensor::Replay(r) => r.sample_rate_hz(),
        }
    }

    fn channels(&self) -> [Channel; 3] {
        match self {
            SourceSensor::Simulated(s) => s.channels(),
            SourceSensor::Replay(r) => r.channels(),
        }
    }
}

/// Machine time for the LIS3DH driver, which reads the clock once per sample: each
/// reading is stamped one sample period after the one before (sample `k` at
/// `k / rate`, as a recording replays it).
#[derive(Clone, Copy, Debug)]
struct MachineClock<'a>(&'a core::cell::Cell<u64>);

impl Clock for MachineClock<'_> {
    fn now(&self) -> Instant {
        let t = self.0.get();
        self.0.set(t + SAMPLE_PERIOD_US);
        Instant(t)
    }
}

/// One sample period at [`SAMPLE_RATE_HZ`], µs.
const SAMPLE_PERIOD_US: u64 = 2_500;

/// The default policy of the demo machine.
pub fn demo_policy() -> PolicyConfig {
    PolicyConfig::default()
}

/// The agent's configuration for `topics`.
pub fn agent_config<'a>(
    device: &'a str,
    topics: &'a GatewayTopics,
    opts: &GatewayOptions,
) -> AgentConfig<'a> {
    let topics = Topics {
        telemetry: &topics.telemetry,
        events: &topics.events,
        state: &topics.state,
        metrics: &topics.metrics,
        advice: &topics.advice,
        delta: &topics.delta,
    };
    AgentConfig {
        machine: "rotating machine (induction motor, 1776 rpm), 3-axis accelerometer on the bearing housing",
        telemetry_every_s: opts.telemetry_every_s,
        metrics_every_s: opts.telemetry_every_s * 5,
        policy: demo_policy(),
        ack_timeout_ms: 10_000,
        ..AgentConfig::vibration(device, env!("CARGO_PKG_VERSION"), topics)
    }
}

/// Runs the agent for `opts.duration` on a current-thread tokio runtime.
pub fn run(opts: &GatewayOptions) -> Result<RunSummary, GatewayError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(GatewayError::Io)?;
    rt.block_on(run_async(opts))
}

/// Samples the run will simulate.
fn horizon_samples(opts: &GatewayOptions) -> u64 {
    (opts.duration.as_secs_f64() * opts.speedup * f64::from(SAMPLE_RATE_HZ)) as u64
}

async fn run_async(opts: &GatewayOptions) -> Result<RunSummary, GatewayError> {
    let topics = GatewayTopics::for_device(&opts.device, &opts.shadow_prefix);
    let config = agent_config(&opts.device, &topics, opts);
    let mut outbox_mem = vec![0u8; 1 << 20];
    let mut esc_mem = vec![0u8; 64 << 10];
    let outbox = RamQueue::new(&mut outbox_mem, 100_000);
    let escalations = RamQueue::new(&mut esc_mem, 64);
    let agent: Agent<'_, NoopRawMutex, _, _> =
        Agent::new(config, outbox, escalations).map_err(GatewayError::Agent)?;
    run_agent(opts, &topics, &agent).await
}

/// Runs `agent` (any outboxes) against the simulated machine and the broker.
pub async fn run_agent<O: Outbox, E: Outbox>(
    opts: &GatewayOptions,
    topics: &GatewayTopics,
    agent: &Agent<'_, NoopRawMutex, O, E>,
) -> Result<RunSummary, GatewayError> {
    static NET: TokioNet = TokioNet;
    let host = opts.broker.host.as_str();
    let tcp = TcpConnector::new(&NET, &NET, host, opts.broker.port);
    if !opts.broker.tls {
        return with_advisor(opts, topics, agent, &tcp).await;
    }
    let ca_path = opts.broker_ca.as_ref().ok_or_else(|| {
        GatewayError::Config(
            "an mqtts:// broker needs the CA that issued its certificate (--broker-ca FILE)".into(),
        )
    })?;
    let ca = std::fs::read(ca_path)
        .map_err(|e| GatewayError::Config(format!("{}: {e}", ca_path.display())))?;
    let (mut read, mut write) = (vec![0u8; READ_BUF_FULL], vec![0u8; 4096]);
    let buffers = TlsBuffers::new(&mut read, &mut write);
    let tls = TlsMqttConnector::new(tcp, &buffers, &ca, host, OsRng, unix_time);
    with_advisor(opts, topics, agent, &tls).await
}

/// Picks the advisor (none, plain HTTP to a local server, or HTTPS over verified TLS)
/// and runs the agent with it.
async fn with_advisor<O: Outbox, E: Outbox, C: Connector>(
    opts: &GatewayOptions,
    topics: &GatewayTopics,
    agent: &Agent<'_, NoopRawMutex, O, E>,
    connector: &C,
) -> Result<RunSummary, GatewayError> {
    let Some(ai) = opts.ai.as_ref() else {
        return run_agent_on::<_, _, _, HostAdvisor>(opts, topics, agent, connector, None).await;
    };
    if !ai.endpoint.starts_with("https://") {
        let mut adv = advisor(ai)?;
        return run_agent_on(opts, topics, agent, connector, Some(&mut adv)).await;
    }
    let ca_path = ai
        .ca
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(SYSTEM_CA_BUNDLE));
    let ca = std::fs::read(&ca_path)
        .map_err(|e| GatewayError::Config(format!("AI endpoint CA {}: {e}", ca_path.display())))?;
    let endpoint = Endpoint::new(&ai.endpoint)
        .map_err(|e| GatewayError::Config(format!("AI endpoint {}: {e:?}", ai.endpoint)))?;
    let (mut read, mut write) = (vec![0u8; READ_BUF_FULL], vec![0u8; 4096]);
    let buffers = TlsBuffers::new(&mut read, &mut write);
    let mut tls = platform::tls_connector(&buffers, &ca);
    let http = platform::https(&mut tls);
    let cfg = CloudClientConfig::new(endpoint, Api::OpenAi, Secret::new(&ai.key));
    let client = CloudClient::new(http, HostClock::new(), HostDelay, cfg);
    let mut adv = CloudAdvisor::new(client, AdvisorConfig::new(&ai.model));
    run_agent_on(opts, topics, agent, connector, Some(&mut adv)).await
}

/// [`run_agent`] over `connector` (plain TCP or verified TLS).
async fn run_agent_on<O: Outbox, E: Outbox, C: Connector, A: Advisor>(
    opts: &GatewayOptions,
    topics: &GatewayTopics,
    agent: &Agent<'_, NoopRawMutex, O, E>,
    connector: &C,
    mut advisor: Option<&mut A>,
) -> Result<RunSummary, GatewayError> {
    let replay = opts
        .replay
        .as_deref()
        .map(crate::replay::read)
        .transpose()
        .map_err(|e| GatewayError::Sensor(e.to_string()))?;
    let horizon = replay
        .as_ref()
        .map_or_else(|| horizon_samples(opts), |r| r.len() as u64);
    // A replay has no known faults: the plan is only the simulation's.
    let plan = if replay.is_some() {
        FaultPlan::healthy()
    } else {
        FaultPlan::random(opts.seed, horizon)
    };
    let machine = MachineVibration::new(MachineProfile::default(), plan, opts.seed)
        .and_then(|m| m.with_sample_rate_hz(SAMPLE_RATE_HZ))
        .map_err(|e| GatewayError::Sensor(format!("{e:?}")))?;
    let time = core::cell::Cell::new(0u64);
    let mut accel = Lis3dh::simulated(machine, MachineClock(&time));
    accel
        .init()
        .await
        .map_err(|e| GatewayError::Sensor(format!("{e:?}")))?;
    let replaying = replay.is_some();
    let mut sensor = match replay {
        Some(rows) => SourceSensor::Replay(crate::replay::ReplaySensor::new(rows, SAMPLE_RATE_HZ)),
        None => SourceSensor::Simulated(accel),
    };
    let recorded = RefCell::new(Vec::<[f32; 3]>::new());

    // MQTT uplink.
    let client_id = format!("ioto-{}", opts.device);
    let mut cfg = ClientConfig::new(ProtocolVersion::V3_1_1, &client_id);
    cfg.session = SessionMode::Persistent {
        expiry_secs: u32::MAX,
    };
    cfg.keep_alive_secs = 30;
    cfg.connect_timeout_ms = 3_000;
    cfg.backoff = Backoff {
        base_ms: 100,
        max_ms: 2_000,
    };
    let (mut rx, mut tx, mut inflight, mut ids, mut q) = (
        vec![0u8; 8192],
        vec![0u8; 8192],
        vec![0u8; 16 * 1024],
        vec![0u16; 16],
        vec![0u8; 4096],
    );
    let client = Client::new(
        cfg,
        connector,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        },
        ioto_core::outbox::OfflineQueue::new(
            RamQueue::new(&mut q, 16),
            ioto_core::outbox::QueuePolicy::Reject,
        ),
        HostDelay,
        HostClock::new(),
        HostEntropy::default(),
    );
    let filters = [topics.delta.as_str()];
    let mut uplink = MqttUplink::new(client, &filters);

    if opts.ha_discovery {
        announce_to_home_assistant(&mut uplink, &opts.device, topics).await?;
    }

    let mut detectors: Vec<Box<dyn ioto_core::detect::Detector>> = Vec::new();
    for _ in VIBRATION_WATCH {
        detectors.push(match opts.detector {
            crate::detectors::DetectorName::RobustZ => {
                Box::new(ioto_core::detect::RobustZ::with_config(MACHINE_BASELINE))
            }
            other => crate::detectors::build(other, None).map_err(GatewayError::Config)?,
        });
    }
    let edge_state = RefCell::new(EdgeState::default());
    let points = RefCell::new(Vec::<Point>::new());
    let wall = HostClock::new();
    let start = StdInstant::now();
    let period_us = (1e6 / f64::from(SAMPLE_RATE_HZ)) as u64;

    let sensing = async {
        let mut rows = vec![[0.0f32; 3]; WINDOW];
        let mut window = match Window::new(&mut rows, SAMPLE_RATE_HZ) {
            Ok(w) => w,
            Err(_) => {
                agent.stop();
                return;
            }
        };
        let mut scratch = vec![0.0f32; WINDOW];
        let window_us = WINDOW as u64 * period_us;
        let mut last_print = StdInstant::now();
        let mut taken = 0u64;
        while start.elapsed() < opts.duration && taken * (WINDOW as u64) < horizon {
            // Pace machine time to `speedup` × wall time.
            let machine_due = (start.elapsed().as_secs_f64() * opts.speedup * 1e6) as u64;
            if time.get() > machine_due {
                let ahead_ms = (time.get() - machine_due) as f64 / 1e3 / opts.speedup;
                HostDelay.delay_ms(ahead_ms.clamp(1.0, 50.0) as u32).await;
                continue;
            }
            let Ok(view) = fill_window_back_to_back(&mut sensor, &mut window).await else {
                break;
            };
            if opts.record.is_some() {
                recorded.borrow_mut().extend_from_slice(view.samples());
            }
            if agent.observe(&view, &mut scratch).await.is_err() {
                break;
            }
            taken += 1;
            if replaying {
                time.set(time.get() + window_us);
            }
            if opts.progress && last_print.elapsed() > Duration::from_secs(2) {
                last_print = StdInstant::now();
                print_progress(agent, &edge_state.borrow(), time.get());
            }
        }
        agent.stop();
    };
    let mut detectors: Vec<&mut dyn ioto_core::detect::Detector> =
        detectors.iter_mut().map(|d| d.as_mut()).collect();
    let edge = agent.run_edge_observed(&mut detectors, &edge_state, |s| {
        points.borrow_mut().push(Point {
            t_s: s.at.0 as f64 / 1e6,
            score: s.score,
            action: s.decision.map_or(Action::Ignore, |d| d.action),
        });
    });
    let up = agent.run_uplink(&mut uplink, &wall, 5_000, |_topic, _payload, _cmds| {});
    let advise = async {
        if let Some(a) = advisor.as_deref_mut() {
            let mut entropy = HostEntropy::default();
            agent
                .run_advisor(a, &mut HostDelay, &mut entropy, Backoff::default())
                .await;
        }
    };
    embassy_futures::join::join4(sensing, edge, up, advise).await;
    uplink.client().disconnect().await;
    if let Some(path) = &opts.record {
        crate::replay::write(path, &recorded.borrow())
            .map_err(|e| GatewayError::Sensor(format!("writing {}: {e}", path.display())))?;
    }

    let points = points.into_inner();
    let machine_s = time.get() as f64 / 1e6;
    let faults = plan
        .faults()
        .iter()
        .filter(|f| f.start < horizon)
        .map(|f| {
            let start_s = f.start as f64 / f64::from(SAMPLE_RATE_HZ);
            InjectedFault {
                kind: format!("{:?}", f.kind),
                start_s,
                full_s: (f.start + f.ramp) as f64 / f64::from(SAMPLE_RATE_HZ),
                detected_s: points
                    .iter()
                    .find(|p| p.t_s >= start_s && p.action != Action::Ignore)
                    .map(|p| p.t_s),
            }
        })
        .collect::<Vec<_>>();
    let first_onset = faults
        .iter()
        .map(|f| f.start_s)
        .fold(f64::INFINITY, f64::min);
    let false_alarms = count_episodes(points.iter().filter(|p| p.t_s < first_onset));
    let mut ctx = vec![0u8; 4096];
    let pending_context = agent
        .peek_escalation(&mut ctx)
        .await
        .and_then(|n| std::str::from_utf8(&ctx[8..n]).ok().map(str::to_string));
    Ok(RunSummary {
        metrics: agent.metrics(),
        points,
        faults,
        false_alarms,
        machine_s,
        escalations_waiting: agent.escalations_waiting().await,
        pending_context,
        topics: topics.clone(),
        queue_left: agent.queue_depth().await,
    })
}

/// Connects `uplink` and publishes (retained, acknowledged) the Home Assistant
/// discovery document of every sensor of the device, pointing at its telemetry.
async fn announce_to_home_assistant<U: Uplink>(
    uplink: &mut U,
    device: &str,
    topics: &GatewayTopics,
) -> Result<(), GatewayError> {
    let fail = |what: &str| GatewayError::Config(format!("Home Assistant discovery: {what}"));
    let deadline = StdInstant::now() + Duration::from_secs(10);
    while !uplink.is_connected() {
        if StdInstant::now() > deadline {
            return Err(fail("the broker did not accept the connection"));
        }
        let _ = uplink.poll(100).await;
    }
    let mut d = Discovery::new(device, device, "Ioto-rs anomaly monitor", &topics.telemetry);
    d.sw_version = Some(env!("CARGO_PKG_VERSION"));
    for entity in d.entities() {
        let mut topic = [0u8; 256];
        let mut payload = [0u8; 1024];
        let topic = d
            .topic(entity, &mut topic)
            .map_err(|e| fail(&format!("{e:?}")))?;
        let n = d
            .payload(entity, &mut payload)
            .map_err(|e| fail(&format!("{e:?}")))?;
        let msg = Message {
            topic,
            payload: &payload[..n],
            delivery: Delivery::AtLeastOnce,
            retain: true,
        };
        let ticket = uplink
            .publish(&msg)
            .await
            .map_err(|e| fail(&format!("{e:?}")))?;
        while let Some(t) = ticket {
            if StdInstant::now() > deadline {
                return Err(fail("no acknowledgement"));
            }
            if let Ok(Some(UplinkEvent::Delivered(d))) = uplink.poll(100).await
                && d == t
            {
                break;
            }
        }
    }
    Ok(())
}

/// Episodes (runs of non-ignore decisions) among `points`.
fn count_episodes<'p>(points: impl Iterator<Item = &'p Point>) -> u64 {
    let mut n = 0;
    let mut inside = false;
    for p in points {
        let on = p.action != Action::Ignore;
        if on && !inside {
            n += 1;
        }
        inside = on;
    }
    n
}

fn print_progress<O: Outbox, E: Outbox>(
    agent: &Agent<'_, NoopRawMutex, O, E>,
    s: &EdgeState,
    machine_us: u64,
) {
    let m = agent.metrics();
    let decision = s.decision.map_or("-".to_string(), |d| d.to_string());
    println!(
        "t={:>7.1}s score={:.3} {:<40} windows={} events={} escalations={} raw={}B sent={}B ({:.2}%)",
        machine_us as f64 / 1e6,
        s.score,
        decision,
        m.inferences,
        m.decisions[1] + m.decisions[2] + m.decisions[3],
        m.decisions[3],
        m.raw_bytes,
        m.sent_bytes,
        if m.raw_bytes > 0 {
            100.0 * m.sent_bytes as f64 / m.raw_bytes as f64
        } else {
            0.0
        },
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn episodes_count_rising_edges() {
        let p = |a| Point {
            t_s: 0.0,
            score: 0.0,
            action: a,
        };
        let pts = [
            p(Action::Ignore),
            p(Action::Report),
            p(Action::Report),
            p(Action::Ignore),
            p(Action::Escalate),
        ];
        assert_eq!(count_episodes(pts.iter()), 2);
    }
}
