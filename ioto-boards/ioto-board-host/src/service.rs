//! `ioto-host agent --config FILE`: the anomaly-monitor agent as a long-lived gateway
//! service whose outboxes live in a NOR flash image in a file ([`FileFlash`]), so a
//! record whose push returned is delivered at least once across crashes and restarts.
//!
//! The configuration is JSON:
//!
//! ```json
//! {"device": "press-7", "broker": "mqtt://127.0.0.1:1883",
//!  "flash": "/var/lib/ioto/flash.img", "flash_bytes": 262144,
//!  "seed": 1, "duration_s": 600, "speedup": 1.0, "telemetry_every_s": 60,
//!  "shadow_prefix": "$aws/things"}
//! ```
//!
//! `device`, `broker`, `flash` and `flash_bytes` are required; the others default to
//! seed 1, no duration (run until killed), speed-up 1, telemetry every 60 s and the
//! AWS shadow prefix. Unknown keys are refused (a typo would otherwise be ignored).
//!
//! The image is split into whole 4 KiB pages ([`FlashLayout`]): the record outbox,
//! the escalation outbox and a small configuration store holding a start counter.
//! Every start (and every hour of an unbounded run, see [`SEGMENT`]) simulates a new
//! stretch of the machine: its faults and noise are drawn from the configured seed
//! and the start counter, and machine time starts again at zero. Records queued by
//! an earlier start are sent first, in order. Nothing is done on SIGTERM: like a
//! power cut, it loses no record whose push returned (the outboxes are `fsync`ed
//! flash); a configured `duration_s` ends the run cleanly, draining the outbox.
//!
//! The record outbox is wrapped in a [`JournalOutbox`], which prints
//! `pushed <kind> <fnv1a-64 hex>` on stdout for every record the outbox accepted,
//! so a test can check that every acknowledged record reaches the broker.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use ioto_core::agent::{Agent, RECORD_MAX};
use ioto_core::outbox::Outbox;
use ioto_transport::storage::config::ConfigStore;
use ioto_transport::storage::outbox::{FlashOutbox, StorageError, StorageErrorKind};
use serde_json::{Map, Value};

use crate::flash_file::{FileFlash, FileFlashError};
use crate::gateway::{self, BrokerAddr, GatewayError, GatewayOptions, GatewayTopics, RunSummary};

/// Erase page of the flash image.
pub const PAGE: u32 = 4096;
/// Smallest image: two pages for each store and two more for records.
pub const MIN_FLASH_PAGES: u32 = 8;
/// Wall time of one simulated stretch when no `duration_s` is configured.
pub const SEGMENT: Duration = Duration::from_secs(3600);
/// Key of the start counter in the configuration store.
const BOOT_KEY: u16 = 1;

/// A bad configuration, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Not JSON.
    Syntax(String),
    /// JSON, but not an object.
    NotAnObject,
    /// A required field is absent.
    Missing(&'static str),
    /// A field this service does not know.
    Unknown(String),
    /// A field with a wrong type or value.
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl ConfigError {
    /// The field at fault, if one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Missing(f) | ConfigError::Invalid { field: f, .. } => Some(f),
            ConfigError::Unknown(f) => Some(f),
            ConfigError::Syntax(_) | ConfigError::NotAnObject => None,
        }
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::Syntax(e) => write!(f, "not JSON: {e}"),
            ConfigError::NotAnObject => f.write_str("the configuration must be a JSON object"),
            ConfigError::Missing(k) => write!(f, "`{k}` is required"),
            ConfigError::Unknown(k) => write!(f, "unknown field `{k}`"),
            ConfigError::Invalid { field, reason } => write!(f, "`{field}`: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The service's configuration (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    /// Device (thing) name.
    pub device: String,
    /// The broker.
    pub broker: BrokerAddr,
    /// The flash image (created erased when missing).
    pub flash: PathBuf,
    /// Size of the image; whole pages, at least [`MIN_FLASH_PAGES`].
    pub flash_bytes: u32,
    /// Seed of the simulated machine.
    pub seed: u64,
    /// Wall-clock length of the run; `None`: until killed.
    pub duration: Option<Duration>,
    /// Machine seconds per wall second.
    pub speedup: f64,
    /// Telemetry period, machine seconds.
    pub telemetry_every_s: u32,
    /// Prefix of the device-state (shadow) topics.
    pub shadow_prefix: String,
}

const FIELDS: [&str; 9] = [
    "device",
    "broker",
    "flash",
    "flash_bytes",
    "seed",
    "duration_s",
    "speedup",
    "telemetry_every_s",
    "shadow_prefix",
];

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// The field's value, `None` when absent or `null`.
fn get<'v>(obj: &'v Map<String, Value>, field: &str) -> Option<&'v Value> {
    obj.get(field).filter(|v| !v.is_null())
}

fn string(obj: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ConfigError> {
    match get(obj, field) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(invalid(field, "must not be empty")),
        Some(v) => Err(invalid(field, format!("expected a string, got {v}"))),
    }
}

fn integer(
    obj: &Map<String, Value>,
    field: &'static str,
    range: Range<u64>,
) -> Result<Option<u64>, ConfigError> {
    let Some(v) = get(obj, field) else {
        return Ok(None);
    };
    let n = v
        .as_u64()
        .ok_or_else(|| invalid(field, format!("expected a whole number ≥ 0, got {v}")))?;
    if !range.contains(&n) {
        return Err(invalid(
            field,
            format!("{n} is outside {}..{}", range.start, range.end),
        ));
    }
    Ok(Some(n))
}

fn number(
    obj: &Map<String, Value>,
    field: &'static str,
    max: f64,
) -> Result<Option<f64>, ConfigError> {
    let Some(v) = get(obj, field) else {
        return Ok(None);
    };
    let x = v
        .as_f64()
        .ok_or_else(|| invalid(field, format!("expected a number, got {v}")))?;
    if !(x > 0.0 && x <= max) {
        return Err(invalid(field, format!("{x} is not in (0, {max}]")));
    }
    Ok(Some(x))
}

impl ServiceConfig {
    /// Parses the JSON configuration.
    pub fn parse(json: &str) -> Result<Self, ConfigError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        let Value::Object(obj) = value else {
            return Err(ConfigError::NotAnObject);
        };
        if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(ConfigError::Unknown(k.clone()));
        }
        let device = string(&obj, "device")?.ok_or(ConfigError::Missing("device"))?;
        if device.contains(['/', '+', '#']) {
            return Err(invalid("device", "must not contain `/`, `+` or `#`"));
        }
        let broker = string(&obj, "broker")?.ok_or(ConfigError::Missing("broker"))?;
        let broker = BrokerAddr::parse(&broker).map_err(|e| match e {
            GatewayError::Config(why) => invalid("broker", why),
            other => invalid("broker", other.to_string()),
        })?;
        let flash = string(&obj, "flash")?.ok_or(ConfigError::Missing("flash"))?;
        let max_bytes = u64::from(u32::MAX / PAGE * PAGE) + 1;
        let flash_bytes = integer(&obj, "flash_bytes", 0..max_bytes)?
            .ok_or(ConfigError::Missing("flash_bytes"))?;
        let flash_bytes =
            u32::try_from(flash_bytes).map_err(|_| invalid("flash_bytes", "too large"))?;
        FlashLayout::for_size(flash_bytes)?;
        let seed = integer(&obj, "seed", 0..u64::MAX)?.unwrap_or(1);
        let duration = number(&obj, "duration_s", 1e9)?.map(Duration::from_secs_f64);
        let speedup = number(&obj, "speedup", 10_000.0)?.unwrap_or(1.0);
        let telemetry_every_s = integer(&obj, "telemetry_every_s", 1..86_401)?.unwrap_or(60);
        let shadow_prefix = string(&obj, "shadow_prefix")?
            .unwrap_or_else(|| gateway::AWS_SHADOW_PREFIX.to_string());
        if shadow_prefix.ends_with('/') || shadow_prefix.contains(['+', '#']) {
            return Err(invalid(
                "shadow_prefix",
                "must not end with `/` or contain `+` or `#`",
            ));
        }
        Ok(Self {
            device,
            broker,
            flash: PathBuf::from(flash),
            flash_bytes,
            seed,
            duration,
            speedup,
            telemetry_every_s: u32::try_from(telemetry_every_s).unwrap_or(60),
            shadow_prefix,
        })
    }

    /// Reads and parses the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Self, ServiceError> {
        let text = std::fs::read_to_string(path).map_err(|error| ServiceError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&text).map_err(ServiceError::Config)
    }

    /// The gateway's options for the `boot`-th stretch of simulation.
    pub fn gateway_options(&self, boot: u32) -> GatewayOptions {
        GatewayOptions {
            device: self.device.clone(),
            broker: self.broker.clone(),
            seed: boot_seed(self.seed, boot),
            duration: self.duration.unwrap_or(SEGMENT),
            speedup: self.speedup,
            progress: false,
            telemetry_every_s: self.telemetry_every_s,
            shadow_prefix: self.shadow_prefix.clone(),
            ..GatewayOptions::default()
        }
    }
}

/// The machine seed of the `boot`-th start: the configured seed on the first, a
/// different (deterministic) one on each later start.
pub fn boot_seed(seed: u64, boot: u32) -> u64 {
    seed ^ u64::from(boot).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Where each store lives in the image (byte ranges, whole pages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashLayout {
    /// The agent's records: the rest.
    pub records: Range<u32>,
    /// Escalation contexts: a quarter of what the state leaves (at least two pages).
    pub escalations: Range<u32>,
    /// The configuration store (start counter): the last two pages.
    pub state: Range<u32>,
}

impl FlashLayout {
    /// The layout of a `flash_bytes` image.
    pub fn for_size(flash_bytes: u32) -> Result<Self, ConfigError> {
        if !flash_bytes.is_multiple_of(PAGE) || flash_bytes / PAGE < MIN_FLASH_PAGES {
            return Err(invalid(
                "flash_bytes",
                format!(
                    "{flash_bytes} is not a whole number of {PAGE}-byte pages, at least {MIN_FLASH_PAGES}"
                ),
            ));
        }
        let pages = flash_bytes / PAGE;
        let queues = pages - 2;
        let esc = (queues / 4).max(2);
        let rec = queues - esc;
        Ok(Self {
            records: 0..rec * PAGE,
            escalations: rec * PAGE..queues * PAGE,
            state: queues * PAGE..flash_bytes,
        })
    }
}

/// Why the service stopped.
#[derive(Debug)]
pub enum ServiceError {
    /// A bad configuration.
    Config(ConfigError),
    /// The configuration file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The flash image could not be opened (or has another size).
    Flash {
        /// The image.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A flash store failed.
    Storage {
        /// Which store.
        store: &'static str,
        /// Why.
        error: StorageError<FileFlashError>,
    },
    /// The gateway (sensor, agent, runtime) failed.
    Gateway(GatewayError),
}

impl core::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ServiceError::Config(e) => write!(f, "configuration: {e}"),
            ServiceError::Read { path, error } => write!(f, "{}: {error}", path.display()),
            ServiceError::Flash { path, error } => {
                write!(f, "flash image {}: {error}", path.display())
            }
            ServiceError::Storage { store, error } => write!(f, "{store} store: {error}"),
            ServiceError::Gateway(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ServiceError {}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An [`Outbox`] that reports each record the inner outbox accepted.
///
/// After the inner `push_back` returned `Ok(true)` it writes
/// `pushed <kind> <hash>` (the record's first byte in decimal, then the FNV-1a-64 of
/// the rest as 16 hex digits) and flushes. When a push found the outbox full, the
/// record the queue then evicts is reported as `evicted <kind> <hash>`. Write errors
/// are ignored: the journal never changes what the outbox does.
#[derive(Debug)]
pub struct JournalOutbox<O, W = std::io::Stdout> {
    inner: O,
    out: W,
    /// The last push found the outbox full: the next pop is an eviction.
    full: bool,
    scratch: Vec<u8>,
}

impl<O: Outbox> JournalOutbox<O> {
    /// Journals to stdout.
    pub fn new(inner: O) -> Self {
        Self::with_writer(inner, std::io::stdout())
    }
}

impl<O: Outbox, W: Write> JournalOutbox<O, W> {
    /// Journals to `out`.
    pub fn with_writer(inner: O, out: W) -> Self {
        Self {
            inner,
            out,
            full: false,
            scratch: vec![0; RECORD_MAX],
        }
    }

    /// The inner outbox and the writer.
    pub fn into_parts(self) -> (O, W) {
        (self.inner, self.out)
    }

    fn line(&mut self, what: &str, record: &[u8]) {
        let (kind, body) = record.split_first().map_or((0, record), |(k, b)| (*k, b));
        let _ = writeln!(self.out, "{what} {kind} {:016x}", fnv1a64(body));
        let _ = self.out.flush();
    }
}

impl<O: Outbox, W: Write> Outbox for JournalOutbox<O, W> {
    type Error = O::Error;

    async fn push_back(&mut self, record: &[u8]) -> Result<bool, Self::Error> {
        let pushed = self.inner.push_back(record).await?;
        self.full = !pushed;
        if pushed {
            self.line("pushed", record);
        }
        Ok(pushed)
    }

    async fn read_front(&mut self, out: &mut [u8]) -> Result<Option<usize>, Self::Error> {
        self.inner.read_front(out).await
    }

    async fn pop_front(&mut self) -> Result<bool, Self::Error> {
        if !self.full {
            return self.inner.pop_front().await;
        }
        self.full = false;
        let mut scratch = core::mem::take(&mut self.scratch);
        let front = self.inner.read_front(&mut scratch).await;
        let popped = self.inner.pop_front().await;
        if let (Ok(Some(n)), Ok(true)) = (&front, &popped)
            && let Some(record) = scratch.get(..*n)
        {
            self.line("evicted", record);
        }
        self.scratch = scratch;
        popped
    }

    fn len(&self) -> usize {
        self.inner.len()
    }

    fn can_ever_hold(&self, len: usize) -> bool {
        self.inner.can_ever_hold(len)
    }
}

/// Runs the service until `duration_s` has passed (or forever); returns the last
/// stretch's summary.
pub fn run(cfg: &ServiceConfig) -> Result<RunSummary, ServiceError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ServiceError::Gateway(GatewayError::Io(e)))?;
    rt.block_on(run_async(cfg))
}

fn open_image(cfg: &ServiceConfig) -> Result<FileFlash, ServiceError> {
    FileFlash::open(&cfg.flash, cfg.flash_bytes as usize).map_err(|error| ServiceError::Flash {
        path: cfg.flash.clone(),
        error,
    })
}

/// Opens the outbox on `range`; a range corrupted beyond repair is formatted (its
/// records are lost, which is said on stderr).
async fn open_outbox<'a, 'f>(
    flash: &'f mut FileFlash,
    range: Range<u32>,
    buf: &'a mut [u8],
    store: &'static str,
) -> Result<FlashOutbox<'a, &'f mut FileFlash>, ServiceError> {
    // Opened once to look, so a corrupted range can be formatted with the same flash.
    let looked = FlashOutbox::open(&mut *flash, range.clone(), &mut *buf)
        .await
        .map(|_| ());
    let opened = match looked {
        Err(e) if e.kind() == StorageErrorKind::Corrupted => {
            eprintln!("ioto-host agent: the {store} outbox is corrupted; formatting it");
            FlashOutbox::format(flash, range, buf).await
        }
        _ => FlashOutbox::open(flash, range, buf).await,
    };
    opened.map_err(|error| ServiceError::Storage { store, error })
}

/// Counts this start in the configuration store; returns the count before it.
async fn next_boot(flash: FileFlash, range: Range<u32>) -> Result<u32, ServiceError> {
    let err = |error| ServiceError::Storage {
        store: "state",
        error,
    };
    let mut buf = [0u8; 64];
    let mut store = ConfigStore::new(flash, range, &mut buf).map_err(err)?;
    let boot = store
        .fetch::<u32>(BOOT_KEY)
        .await
        .map_err(err)?
        .unwrap_or(0);
    store
        .store(BOOT_KEY, &boot.wrapping_add(1))
        .await
        .map_err(err)?;
    Ok(boot)
}

async fn run_async(cfg: &ServiceConfig) -> Result<RunSummary, ServiceError> {
    let layout = FlashLayout::for_size(cfg.flash_bytes).map_err(ServiceError::Config)?;
    // One file handle per store: the ranges are disjoint.
    let mut rec_flash = open_image(cfg)?;
    let mut esc_flash = open_image(cfg)?;
    let (mut rec_buf, mut esc_buf) = (vec![0u8; RECORD_MAX], vec![0u8; RECORD_MAX]);
    let records = open_outbox(
        &mut rec_flash,
        layout.records.clone(),
        &mut rec_buf,
        "records",
    );
    let mut records = JournalOutbox::new(records.await?);
    let mut escalations = open_outbox(
        &mut esc_flash,
        layout.escalations.clone(),
        &mut esc_buf,
        "escalations",
    )
    .await?;
    let topics = GatewayTopics::for_device(&cfg.device, &cfg.shadow_prefix);
    loop {
        let boot = next_boot(open_image(cfg)?, layout.state.clone()).await?;
        let opts = cfg.gateway_options(boot);
        eprintln!(
            "ioto-host agent: start {boot}, machine seed {}, {} record(s) and {} escalation(s) waiting in {}",
            opts.seed,
            records.len(),
            escalations.len(),
            cfg.flash.display()
        );
        let config = gateway::agent_config(&cfg.device, &topics, &opts);
        let agent: Agent<'_, NoopRawMutex, _, _> =
            Agent::new(config, &mut records, &mut escalations)
                .map_err(|e| ServiceError::Gateway(GatewayError::Agent(e)))?;
        let summary = gateway::run_agent(&opts, &topics, &agent)
            .await
            .map_err(ServiceError::Gateway)?;
        drop(agent);
        let m = &summary.metrics;
        eprintln!(
            "ioto-host agent: {:.0} machine s, {} delivered, {} dropped, {} left in the outbox",
            summary.machine_s, m.delivered, m.drops, summary.queue_left
        );
        if cfg.duration.is_some() {
            return Ok(summary);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use embassy_futures::block_on;
    use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};

    const FULL: &str = r#"{"device": "press-7", "broker": "mqtt://10.0.0.2:1884",
        "flash": "/tmp/x.img", "flash_bytes": 262144, "seed": 9, "duration_s": 2.5,
        "speedup": 30, "telemetry_every_s": 3, "shadow_prefix": "ioto/things"}"#;

    #[test]
    fn service_config_parses_every_field_and_defaults_the_optional_ones() {
        let c = ServiceConfig::parse(FULL).unwrap();
        assert_eq!(c.device, "press-7");
        assert_eq!(
            c.broker,
            BrokerAddr {
                host: "10.0.0.2".into(),
                port: 1884
            }
        );
        assert_eq!(c.flash, PathBuf::from("/tmp/x.img"));
        assert_eq!(c.flash_bytes, 262_144);
        assert_eq!(c.seed, 9);
        assert_eq!(c.duration, Some(Duration::from_millis(2500)));
        assert_eq!(c.speedup, 30.0);
        assert_eq!(c.telemetry_every_s, 3);
        assert_eq!(c.shadow_prefix, "ioto/things");

        let min = r#"{"device": "d", "broker": "mqtt://h", "flash": "f", "flash_bytes": 32768,
            "duration_s": null}"#;
        let c = ServiceConfig::parse(min).unwrap();
        assert_eq!(c.broker.port, 1883);
        assert_eq!(
            (c.seed, c.duration, c.speedup, c.telemetry_every_s),
            (1, None, 1.0, 60)
        );
        assert_eq!(c.shadow_prefix, "$aws/things");
        let o = c.gateway_options(0);
        assert_eq!((o.seed, o.duration, o.progress), (1, SEGMENT, false));
    }

    /// `FULL` with `field` replaced by `value` (raw JSON), or removed (`None`).
    fn with(field: &str, value: Option<&str>) -> String {
        let mut v: Value = serde_json::from_str(FULL).unwrap();
        let obj = v.as_object_mut().unwrap();
        match value {
            Some(raw) => {
                obj.insert(field.into(), serde_json::from_str(raw).unwrap());
            }
            None => {
                obj.remove(field);
            }
        }
        v.to_string()
    }

    #[test]
    fn service_config_errors_name_the_bad_field() {
        assert!(matches!(
            ServiceConfig::parse("{\"device\": "),
            Err(ConfigError::Syntax(_))
        ));
        assert_eq!(ServiceConfig::parse("[1]"), Err(ConfigError::NotAnObject));
        for field in ["device", "broker", "flash", "flash_bytes"] {
            let e = ServiceConfig::parse(&with(field, None)).unwrap_err();
            assert_eq!(e, ConfigError::Missing(field), "{field}");
        }
        let e = ServiceConfig::parse(&with("telemetry_every", Some("5"))).unwrap_err();
        assert_eq!(e, ConfigError::Unknown("telemetry_every".into()));
        assert_eq!(e.field(), Some("telemetry_every"));
        let bad = [
            ("device", "7"),
            ("device", "\"\""),
            ("device", "\"a/b\""),
            ("broker", "\"http://h:1\""),
            ("broker", "\"mqtt://h:port\""),
            ("flash", "[]"),
            ("flash_bytes", "1000"),       // not whole pages
            ("flash_bytes", "28672"),      // 7 pages
            ("flash_bytes", "-4096"),      // negative
            ("flash_bytes", "4096.5"),     // fractional
            ("flash_bytes", "8589934592"), // 8 GiB
            ("seed", "\"one\""),
            ("duration_s", "0"),
            ("duration_s", "-3"),
            ("speedup", "0"),
            ("speedup", "20000"),
            ("speedup", "\"fast\""),
            ("telemetry_every_s", "0"),
            ("telemetry_every_s", "1.5"),
            ("shadow_prefix", "\"things/\""),
        ];
        for (field, value) in bad {
            match ServiceConfig::parse(&with(field, Some(value))) {
                Err(ConfigError::Invalid { field: f, reason }) => {
                    assert_eq!(f, field, "{field} = {value}: {reason}");
                    assert!(!reason.is_empty());
                }
                other => panic!("{field} = {value}: {other:?}"),
            }
        }
    }

    #[test]
    fn service_load_reports_a_missing_file() {
        let e = ServiceConfig::load(Path::new("/nonexistent/ioto.json")).unwrap_err();
        assert!(matches!(e, ServiceError::Read { .. }), "{e:?}");
    }

    #[test]
    fn service_layout_splits_whole_pages() {
        // 64 pages: 2 for the state, 62 / 4 = 15 for escalations, 47 for records.
        assert_eq!(
            FlashLayout::for_size(262_144).unwrap(),
            FlashLayout {
                records: 0..47 * 4096,
                escalations: 47 * 4096..62 * 4096,
                state: 62 * 4096..262_144,
            }
        );
        // The smallest image: 4 + 2 + 2 pages.
        assert_eq!(
            FlashLayout::for_size(8 * 4096).unwrap(),
            FlashLayout {
                records: 0..4 * 4096,
                escalations: 4 * 4096..6 * 4096,
                state: 6 * 4096..8 * 4096,
            }
        );
        assert!(FlashLayout::for_size(7 * 4096).is_err());
    }

    #[test]
    fn service_fnv1a64_matches_the_reference_vectors() {
        // From the FNV reference test suite (Fowler/Noll/Vo, test_fnv.c).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn service_boot_seed_keeps_the_first_and_varies_later() {
        assert_eq!(boot_seed(7, 0), 7);
        assert_ne!(boot_seed(7, 1), 7);
        assert_ne!(boot_seed(7, 1), boot_seed(7, 2));
    }

    #[test]
    fn service_journal_reports_accepted_and_evicted_records() {
        let mut mem = [0u8; 64];
        let mut journal = JournalOutbox::with_writer(RamQueue::new(&mut mem, 2), Vec::new());
        block_on(async {
            let mut q = OfflineQueue::new(&mut journal, QueuePolicy::DropOldest);
            q.push(&[1, b'a']).await.unwrap();
            q.push(&[2]).await.unwrap();
            // Full (two records): the oldest goes, then the new one is stored.
            q.push(&[5, b'f', b'o', b'o', b'b', b'a', b'r'])
                .await
                .unwrap();
            // A delivery's pop is not an eviction.
            assert!(q.pop().await.unwrap());
        });
        let (_, out) = journal.into_parts();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "pushed 1 af63dc4c8601ec8c\n\
             pushed 2 cbf29ce484222325\n\
             evicted 1 af63dc4c8601ec8c\n\
             pushed 5 85944171f73967e8\n"
        );
    }
}
