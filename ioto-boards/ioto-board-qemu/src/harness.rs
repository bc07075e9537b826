//! A minimal on-target test harness.
//!
//! Output follows libtest's shape so that `cargo xtask hil-test` can report each test by
//! name:
//!
//! ```text
//! running 3 tests (smoke on qemu-m4f)
//! test arithmetic ... ok
//! test counter_advances ... ok
//! test result: ok. 3 passed; 0 failed
//! ```
//!
//! A failing test panics; the crate's panic handler prints `FAILED` and the panic
//! message after the test's name and exits QEMU with status 1.

use crate::{BOARD, counter, println};

/// One on-target test: a name and a function that panics on failure.
#[derive(Clone, Copy, Debug)]
pub struct Test {
    /// The name printed in the report.
    pub name: &'static str,
    /// The test body.
    pub run: fn(),
}

/// Builds a `&[Test]` from test functions, naming each after its path.
#[macro_export]
macro_rules! tests {
    ($($f:path),* $(,)?) => {
        &[$($crate::harness::Test { name: stringify!($f), run: $f }),*]
    };
}

/// Runs every test in order, prints the report and exits QEMU: status 0 when all
/// passed. A failure exits from the panic handler with status 1.
pub fn run(suite: &str, tests: &[Test]) -> ! {
    counter::start();
    // The first readings after start must already count forwards: wait for the
    // counter to move once and check it moved up.
    let first = counter::instructions();
    let mut next = first;
    while next == first {
        next = counter::instructions();
    }
    assert!(
        next > first,
        "instruction counter went back right after start: {} then {}",
        first,
        next
    );
    println!("running {} tests ({} on {})", tests.len(), suite, BOARD);
    for t in tests {
        crate::print!("test {} ... ", t.name);
        (t.run)();
        println!("ok");
    }
    println!("test result: ok. {} passed; 0 failed", tests.len());
    crate::exit(0)
}
