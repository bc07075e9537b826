//! API keys that never show up in logs, `Debug` output or error messages.

use alloc::vec::Vec;
use core::fmt;

/// A secret string (an API key). `Debug` and `Display` print `[REDACTED]`; the bytes
/// are overwritten when it is dropped. Read it only with [`expose`](Secret::expose),
/// at the point where it goes into a request header.
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a key.
    pub fn new(key: &str) -> Self {
        Self(key.as_bytes().to_vec())
    }

    /// The key itself. Never format this into a message.
    pub fn expose(&self) -> &str {
        // Built from a `&str` only, so always UTF-8.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// True when the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replaces every occurrence of the key in `text` with `[REDACTED]` (for
    /// server messages that echo what they were sent).
    pub fn scrub(&self, text: &str) -> alloc::string::String {
        let key = self.expose();
        if key.len() < 4 {
            return text.into();
        }
        text.replace(key, "[REDACTED]")
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY-free zeroing; the fence keeps the stores from being elided.
            *b = 0;
        }
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn debug_and_display_redact() {
        let s = Secret::new("sk-very-secret-123");
        assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
        assert_eq!(format!("{s}"), "[REDACTED]");
        assert_eq!(s.expose(), "sk-very-secret-123");
        assert_eq!(
            s.scrub("bad key sk-very-secret-123!"),
            "bad key [REDACTED]!"
        );
    }
}
