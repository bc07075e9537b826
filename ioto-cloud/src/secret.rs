//! Credentials: the one type that holds an API key or a bearer header value. It never
//! shows up in logs or `Debug` output, and its bytes are wiped with volatile writes
//! ([`zeroize`]) when it is dropped.

use alloc::vec::Vec;
use core::fmt;
use zeroize::Zeroize;

/// A secret string (an API key, or an `Authorization` value built from one). `Debug`
/// and `Display` print `[REDACTED]`; the bytes are overwritten with volatile writes
/// when it is dropped. Read it only with [`expose`](Secret::expose), at the point where
/// it goes into a request header.
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a key (copied into a buffer of exactly its length, so no reallocation
    /// leaves a copy behind).
    pub fn new(key: &str) -> Self {
        Self::from_parts(&[key])
    }

    /// The concatenation of `parts`, in one buffer allocated once at its final size.
    fn from_parts(parts: &[&str]) -> Self {
        let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            bytes.extend_from_slice(p.as_bytes());
        }
        Self(bytes)
    }

    /// The `Authorization` header value `Bearer <key>`, itself a secret.
    pub fn bearer(&self) -> Self {
        Self::from_parts(&["Bearer ", self.expose()])
    }

    /// The key itself. Never format this into a message.
    pub fn expose(&self) -> &str {
        // Built from `&str`s only, so always UTF-8.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The same as [`expose`](Secret::expose), for header lists written as
    /// `(name, value.as_str())`.
    pub fn as_str(&self) -> &str {
        self.expose()
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

impl Default for Secret {
    /// No key (local servers).
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Self::from_parts(&[self.expose()])
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
        // Volatile writes plus a compiler fence: the wipe is not optimised away
        // although the buffer is freed right after.
        self.0.as_mut_slice().zeroize();
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
        let b = s.bearer();
        assert_eq!(b.expose(), "Bearer sk-very-secret-123");
        assert_eq!(format!("{b:?}"), "Secret([REDACTED])");
    }
}
