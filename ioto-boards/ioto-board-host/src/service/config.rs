//! The service's JSON configuration and the flash layout it implies.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use super::ServiceError;
use crate::gateway::{self, BrokerAddr, GatewayError, GatewayOptions};

/// Erase page of the flash image.
pub const PAGE: u32 = 4096;
/// Smallest image: two pages for each store and two more for records.
pub const MIN_FLASH_PAGES: u32 = 8;
/// Wall time of one simulated stretch when no `duration_s` is configured.
pub const SEGMENT: Duration = Duration::from_secs(3600);

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

/// The service's configuration (see the [service docs](super)).
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
    range: core::ops::RangeInclusive<u64>,
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
            format!("{n} is outside {}..={}", range.start(), range.end()),
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
        let max_bytes = u64::from(u32::MAX / PAGE * PAGE);
        let flash_bytes = integer(&obj, "flash_bytes", 0..=max_bytes)?
            .ok_or(ConfigError::Missing("flash_bytes"))?;
        let flash_bytes =
            u32::try_from(flash_bytes).map_err(|_| invalid("flash_bytes", "too large"))?;
        FlashLayout::for_size(flash_bytes)?;
        let seed = integer(&obj, "seed", 0..=u64::MAX)?.unwrap_or(1);
        let duration = number(&obj, "duration_s", 1e9)?.map(Duration::from_secs_f64);
        let speedup = number(&obj, "speedup", 10_000.0)?.unwrap_or(1.0);
        let telemetry_every_s = integer(&obj, "telemetry_every_s", 1..=86_400)?.unwrap_or(60);
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const FULL: &str = r#"{"device": "press-7", "broker": "mqtt://10.0.0.2:1884",
        "flash": "/tmp/x.img", "flash_bytes": 262144, "seed": 9, "duration_s": 2.5,
        "speedup": 30, "telemetry_every_s": 3, "shadow_prefix": "ioto/things"}"#;

    #[test]
    fn service_config_parses_every_field_and_defaults_the_optional_ones() {
        let c = ServiceConfig::parse(FULL).unwrap();
        assert_eq!(c.device, "press-7");
        assert_eq!(c.broker, BrokerAddr::plain("10.0.0.2", 1884));
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
    fn service_boot_seed_keeps_the_first_and_varies_later() {
        assert_eq!(boot_seed(7, 0), 7);
        assert_ne!(boot_seed(7, 1), 7);
        assert_ne!(boot_seed(7, 1), boot_seed(7, 2));
    }
}
