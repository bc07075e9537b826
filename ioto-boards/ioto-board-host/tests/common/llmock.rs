//! llmock (PyPI) on an ephemeral loopback port, over HTTP or HTTPS: the shared
//! `ioto_test_peers::llmock::Llmock`, failing the test (never skipping) when it cannot
//! start.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// `$IOTO_PYTHON` (else the workspace's `.venv`) with llmock; fails loudly without.
pub fn python() -> PathBuf {
    super::python_with("llmock")
}

/// llmock answering "hello" at once, calling tools when asked (`auto`), killed on drop.
pub struct Llmock {
    inner: ioto_test_peers::llmock::Llmock,
    /// The loopback port it listens on.
    pub port: u16,
}

impl Llmock {
    /// llmock's own server over plain HTTP.
    pub fn start() -> Self {
        Self::from(ioto_test_peers::llmock::Llmock::start(&python()))
    }

    /// llmock's app served over HTTPS by uvicorn with `cert` and `key`.
    pub fn start_tls(cert: &Path, key: &Path) -> Self {
        Self::from(ioto_test_peers::llmock::Llmock::start_tls(
            &python(),
            cert,
            key,
        ))
    }

    fn from(started: Result<ioto_test_peers::llmock::Llmock, String>) -> Self {
        let inner = started.unwrap_or_else(|e| panic!("{e}"));
        Self {
            port: inner.port(),
            inner,
        }
    }

    /// One HTTP/1.1 request to the control API of a plain-HTTP llmock (GET without a
    /// body, else POST).
    pub fn control(&self, path: &str, body: Option<&Value>) -> Value {
        self.inner
            .control(path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}
