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

mod config;
mod journal;

use std::ops::Range;
use std::path::PathBuf;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use ioto_core::agent::{Agent, RECORD_MAX};
use ioto_core::outbox::Outbox;
use ioto_transport::storage::config::ConfigStore;
use ioto_transport::storage::outbox::{FlashOutbox, StorageError, StorageErrorKind};

pub use config::{
    ConfigError, FlashLayout, MIN_FLASH_PAGES, PAGE, SEGMENT, ServiceConfig, boot_seed,
};
pub use journal::{JournalOutbox, fnv1a64};

use crate::flash_file::{FileFlash, FileFlashError};
use crate::gateway::{self, GatewayError, GatewayTopics, RunSummary};

/// Key of the start counter in the configuration store.
const BOOT_KEY: u16 = 1;

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
