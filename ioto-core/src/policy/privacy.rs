//! What may leave the device: [`Privacy`] per [`Field`], and [`JsonRecord`], the
//! no-heap JSON object writer every outgoing telemetry/event payload is built with.

use core::fmt::Write as _;

/// How much of a field's value may leave the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Privacy {
    /// Written in full.
    Public,
    /// Written only as an aggregate (no samples, no text).
    Summary,
    /// Never written.
    Private,
}

/// A named field of an outgoing record and its [`Privacy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Field {
    /// JSON key (escaped when written).
    pub name: &'static str,
    /// What of the value may be written.
    pub privacy: Privacy,
}

impl Field {
    /// A field with the given privacy.
    pub const fn new(name: &'static str, privacy: Privacy) -> Self {
        Self { name, privacy }
    }

    /// A [`Privacy::Public`] field.
    pub const fn public(name: &'static str) -> Self {
        Self::new(name, Privacy::Public)
    }

    /// A [`Privacy::Summary`] field.
    pub const fn summary(name: &'static str) -> Self {
        Self::new(name, Privacy::Summary)
    }

    /// A [`Privacy::Private`] field.
    pub const fn private(name: &'static str) -> Self {
        Self::new(name, Privacy::Private)
    }
}

/// Why a record could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecordError {
    /// The caller's buffer is too small for the field (or for `{}`).
    BufferTooSmall,
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RecordError::BufferTooSmall => f.write_str("record buffer too small"),
        }
    }
}

/// Writes one flat JSON object into a caller-owned buffer, honouring each field's
/// [`Privacy`]; every outgoing telemetry/event payload is built with it.
///
/// * [`Privacy::Private`] fields are never written (the call succeeds and writes
///   nothing).
/// * [`Privacy::Summary`] fields are written only as aggregates: a raw window becomes
///   `{"n":…,"mean":…,"rms":…,"min":…,"max":…}` (no samples), a string becomes
///   `{"len":…}` (its length in bytes, no text); numbers and booleans, already a single
///   value, are written as they are.
/// * [`Privacy::Public`] fields are written in full (a window as an array of samples).
///
/// Non-finite floats are written as `null`. A field that does not fit is not written
/// at all (the record stays valid) and [`RecordError::BufferTooSmall`] is returned.
///
/// ```
/// use ioto_core::policy::{Field, JsonRecord};
///
/// const SCORE: Field = Field::public("score");
/// const WINDOW: Field = Field::summary("window");
/// const OWNER: Field = Field::private("owner");
///
/// let mut buf = [0u8; 128];
/// let mut w = JsonRecord::new(&mut buf);
/// w.f32(&SCORE, 0.5)?.str(&OWNER, "Alice")?.window(&WINDOW, &[3.0, -3.0])?;
/// let bytes = w.finish()?;
/// assert_eq!(
///     bytes,
///     br#"{"score":0.5,"window":{"n":2,"mean":0,"rms":3,"min":-3,"max":3}}"#
/// );
/// # Ok::<(), ioto_core::policy::RecordError>(())
/// ```
///
/// One byte is always kept for the closing `}`, so [`JsonRecord::finish`] fails only
/// when not even `{}` fits.
pub struct JsonRecord<'b> {
    buf: &'b mut [u8],
    len: usize,
    fields: usize,
}

/// `core::fmt::Write` over the record's free space (all but the byte kept for `}`).
struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl core::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Cursor<'_> {
    fn f32(&mut self, v: f32) -> core::fmt::Result {
        if v.is_finite() {
            write!(self, "{v}")
        } else {
            self.write_str("null")
        }
    }

    fn f64(&mut self, v: f64) -> core::fmt::Result {
        // Summaries are computed in f64 but reported at f32 precision.
        self.f32(v as f32)
    }

    /// A JSON string literal, escaped (RFC 8259 §7).
    fn string(&mut self, s: &str) -> core::fmt::Result {
        self.write_str("\"")?;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let esc = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\u{8}' => "\\b",
                '\u{c}' => "\\f",
                c if u32::from(c) < 0x20 => "",
                _ => continue,
            };
            self.write_str(&s[start..i])?;
            if esc.is_empty() {
                write!(self, "\\u{:04x}", u32::from(c))?;
            } else {
                self.write_str(esc)?;
            }
            start = i + c.len_utf8();
        }
        self.write_str(&s[start..])?;
        self.write_str("\"")
    }
}

impl<'b> JsonRecord<'b> {
    /// An empty record over `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            fields: 0,
        }
    }

    /// Bytes written so far (without the closing `}`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no field has been written yet.
    pub fn is_empty(&self) -> bool {
        self.fields == 0
    }

    /// Writes `"name":` then the value via `body`, all or nothing. Private fields
    /// never reach `body`.
    fn field(
        &mut self,
        field: &Field,
        body: impl FnOnce(&mut Cursor<'_>, Privacy) -> core::fmt::Result,
    ) -> Result<&mut Self, RecordError> {
        if field.privacy == Privacy::Private {
            return Ok(self);
        }
        let room = self.buf.len().saturating_sub(1);
        let mut c = Cursor {
            buf: &mut self.buf[..room],
            len: self.len,
        };
        let wrote = c
            .write_str(if self.fields == 0 { "{" } else { "," })
            .and_then(|()| c.string(field.name))
            .and_then(|()| c.write_str(":"))
            .and_then(|()| body(&mut c, field.privacy));
        match wrote {
            Ok(()) => {
                self.len = c.len;
                self.fields += 1;
                Ok(self)
            }
            // Nothing of the field is kept: `len` was not moved.
            Err(core::fmt::Error) => Err(RecordError::BufferTooSmall),
        }
    }

    /// Writes an `f32` (`null` when not finite).
    pub fn f32(&mut self, field: &Field, value: f32) -> Result<&mut Self, RecordError> {
        self.field(field, |c, _| c.f32(value))
    }

    /// Writes a `u32`.
    pub fn u32(&mut self, field: &Field, value: u32) -> Result<&mut Self, RecordError> {
        self.field(field, |c, _| write!(c, "{value}"))
    }

    /// Writes a `u64`.
    pub fn u64(&mut self, field: &Field, value: u64) -> Result<&mut Self, RecordError> {
        self.field(field, |c, _| write!(c, "{value}"))
    }

    /// Writes an `i32`.
    pub fn i32(&mut self, field: &Field, value: i32) -> Result<&mut Self, RecordError> {
        self.field(field, |c, _| write!(c, "{value}"))
    }

    /// Writes a `bool`.
    pub fn bool(&mut self, field: &Field, value: bool) -> Result<&mut Self, RecordError> {
        self.field(field, |c, _| {
            c.write_str(if value { "true" } else { "false" })
        })
    }

    /// Writes a string, escaped; a [`Privacy::Summary`] field writes only `{"len":n}`.
    pub fn str(&mut self, field: &Field, value: &str) -> Result<&mut Self, RecordError> {
        self.field(field, |c, privacy| match privacy {
            Privacy::Summary => write!(c, "{{\"len\":{}}}", value.len()),
            _ => c.string(value),
        })
    }

    /// Writes a raw window: all samples when [`Privacy::Public`]; only
    /// `{"n","mean","rms","min","max"}` when [`Privacy::Summary`] (fields are `null`
    /// for an empty window or when a sample is not finite).
    pub fn window(&mut self, field: &Field, samples: &[f32]) -> Result<&mut Self, RecordError> {
        self.field(field, |c, privacy| match privacy {
            Privacy::Summary => {
                let s = summarize(samples);
                write!(c, "{{\"n\":{},\"mean\":", samples.len())?;
                c.f64(s.mean)?;
                c.write_str(",\"rms\":")?;
                c.f64(s.rms)?;
                c.write_str(",\"min\":")?;
                c.f64(s.min)?;
                c.write_str(",\"max\":")?;
                c.f64(s.max)?;
                c.write_str("}")
            }
            _ => {
                c.write_str("[")?;
                for (i, &v) in samples.iter().enumerate() {
                    if i > 0 {
                        c.write_str(",")?;
                    }
                    c.f32(v)?;
                }
                c.write_str("]")
            }
        })
    }

    /// Closes the object and returns the bytes written (`{}` when no field was).
    pub fn finish(self) -> Result<&'b [u8], RecordError> {
        let buf = self.buf;
        let mut len = self.len;
        if self.fields == 0 {
            *buf.first_mut().ok_or(RecordError::BufferTooSmall)? = b'{';
            len = 1;
        }
        *buf.get_mut(len).ok_or(RecordError::BufferTooSmall)? = b'}';
        Ok(&buf[..=len])
    }
}

/// Aggregates of a window, in `f64`; NaN when empty or a sample is not finite.
struct WindowSummary {
    mean: f64,
    rms: f64,
    min: f64,
    max: f64,
}

fn summarize(samples: &[f32]) -> WindowSummary {
    if samples.is_empty() || samples.iter().any(|v| !v.is_finite()) {
        return WindowSummary {
            mean: f64::NAN,
            rms: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let (mut sum, mut sq) = (0.0f64, 0.0f64);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in samples {
        let v = f64::from(v);
        sum += v;
        sq += v * v;
        min = min.min(v);
        max = max.max(v);
    }
    let n = samples.len() as f64;
    WindowSummary {
        mean: sum / n,
        rms: libm::sqrt(sq / n),
        min,
        max,
    }
}
