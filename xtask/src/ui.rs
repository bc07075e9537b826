//! Progress and result output.

use std::time::Instant;

/// Prints a step banner and returns a guard that prints the step's duration.
pub fn step(name: &str) -> Step {
    eprintln!("\x1b[1;36m==>\x1b[0m {name}");
    Step {
        name: name.to_string(),
        start: Instant::now(),
    }
}

/// A running step; reports its duration when finished.
pub struct Step {
    name: String,
    start: Instant,
}

impl Step {
    /// Prints that the step finished and how long it took.
    pub fn done(self) {
        eprintln!(
            "    {} done in {:.1}s",
            self.name,
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Prints an informational line.
pub fn info(msg: &str) {
    eprintln!("    {msg}");
}

/// Prints an error.
pub fn error(msg: &str) {
    eprintln!("\x1b[1;31merror:\x1b[0m {msg}");
}
