//! A minimal `log` backend for the host tools: one line per record on stderr, with
//! the time since start. The agent logs every decision with its reason through it
//! (ioto-core's `log` feature).

use std::sync::OnceLock;
use std::time::Instant;

struct StderrLog {
    start: Instant,
    level: log::LevelFilter,
}

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "[{:>8.3}s {:<5} {}] {}",
                self.start.elapsed().as_secs_f64(),
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

static LOGGER: OnceLock<StderrLog> = OnceLock::new();

/// Installs the logger at `level` (once per process; later calls change nothing).
pub fn init(level: log::LevelFilter) {
    let logger = LOGGER.get_or_init(|| StderrLog {
        start: Instant::now(),
        level,
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}
