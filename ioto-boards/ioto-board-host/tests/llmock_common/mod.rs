//! What the llmock-backed demo tests share.

use std::path::PathBuf;

/// `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3`; panics (never skips) if missing.
pub fn python() -> PathBuf {
    let p = std::env::var_os("IOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python3")
        });
    assert!(
        p.exists(),
        "Python with llmock not found at {} — run `cargo xtask doctor --install`",
        p.display()
    );
    p
}
