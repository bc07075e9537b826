//! [`JsonOut`]: a small JSON object writer into a caller-owned buffer, for the
//! agent's own documents (metrics, escalation context). Field values that carry
//! sensor data go through the policy's privacy-aware writer instead.

use core::fmt::Write;

/// The buffer is too small for the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JsonFull;

/// Writes one flat JSON object (nested objects and arrays by explicit calls).
#[derive(Debug)]
pub struct JsonOut<'b> {
    buf: &'b mut [u8],
    len: usize,
    first: bool,
}

impl<'b> JsonOut<'b> {
    /// A writer over `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            first: true,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The document written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends raw bytes.
    pub fn raw(&mut self, s: &str) -> Result<(), JsonFull> {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(JsonFull)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }

    /// `{`
    pub fn begin(&mut self) -> Result<(), JsonFull> {
        self.first = true;
        self.raw("{")
    }

    /// `}`
    pub fn end(&mut self) -> Result<(), JsonFull> {
        self.first = false;
        self.raw("}")
    }

    /// Writes `"name":` (with the separating comma).
    pub fn key(&mut self, name: &str) -> Result<(), JsonFull> {
        if !self.first {
            self.raw(",")?;
        }
        self.first = false;
        self.string(name)?;
        self.raw(":")
    }

    /// Starts a nested object under `name`.
    pub fn object(&mut self, name: &str) -> Result<(), JsonFull> {
        self.key(name)?;
        self.begin()
    }

    /// A quoted, escaped string value.
    pub fn string(&mut self, s: &str) -> Result<(), JsonFull> {
        self.raw("\"")?;
        for c in s.chars() {
            match c {
                '"' => self.raw("\\\"")?,
                '\\' => self.raw("\\\\")?,
                c if (c as u32) < 0x20 => {
                    write!(self, "\\u{:04x}", c as u32).map_err(|_| JsonFull)?
                }
                c => {
                    let mut b = [0u8; 4];
                    self.raw(c.encode_utf8(&mut b))?;
                }
            }
        }
        self.raw("\"")
    }

    /// `"name":"value"`.
    pub fn str(&mut self, name: &str, value: &str) -> Result<(), JsonFull> {
        self.key(name)?;
        self.string(value)
    }

    /// `"name":n`.
    pub fn u64(&mut self, name: &str, value: u64) -> Result<(), JsonFull> {
        self.key(name)?;
        write!(self, "{value}").map_err(|_| JsonFull)
    }

    /// `"name":x` with 4 significant decimals; `null` when not finite.
    pub fn f32(&mut self, name: &str, value: f32) -> Result<(), JsonFull> {
        self.key(name)?;
        if value.is_finite() {
            write!(self, "{value:.4}").map_err(|_| JsonFull)
        } else {
            self.raw("null")
        }
    }
}

impl Write for JsonOut<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.raw(s).map_err(|_| core::fmt::Error)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_escaped_objects_and_refuses_overflow() {
        let mut buf = [0u8; 128];
        let mut j = JsonOut::new(&mut buf);
        j.begin().unwrap();
        j.str("a", "q\"\\\n").unwrap();
        j.object("o").unwrap();
        j.u64("n", 7).unwrap();
        j.f32("x", f32::NAN).unwrap();
        j.end().unwrap();
        j.f32("y", 0.5).unwrap();
        j.end().unwrap();
        assert_eq!(
            core::str::from_utf8(j.as_bytes()).unwrap(),
            r#"{"a":"q\"\\\u000a","o":{"n":7,"x":null},"y":0.5000}"#
        );
        let mut small = [0u8; 4];
        let mut j = JsonOut::new(&mut small);
        assert_eq!(j.str("abc", "d"), Err(JsonFull));
    }
}
