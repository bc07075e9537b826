//! Prepared operator records: the integer-only parameters computed at prepare time,
//! stored as little-endian `i32` words at the front of the arena.

use crate::error::{Error, Load, Result, fault};

/// The most inputs one operator (and so one record) may have.
pub(crate) const MAX_INPUTS: usize = 8;

/// Writes words into the arena header, or only counts them (`buf == None`).
pub(crate) struct Writer<'b> {
    buf: Option<&'b mut [u8]>,
    pos: usize,
}

impl<'b> Writer<'b> {
    /// A writer that only measures.
    pub(crate) fn counting() -> Self {
        Writer { buf: None, pos: 0 }
    }

    /// A writer into `buf`.
    pub(crate) fn into(buf: &'b mut [u8]) -> Self {
        Writer {
            buf: Some(buf),
            pos: 0,
        }
    }

    /// Bytes written (or counted) so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Appends one word.
    #[inline(never)]
    pub(crate) fn push(&mut self, v: i32) -> Load<()> {
        if let Some(buf) = self.buf.as_deref_mut() {
            let dst = buf
                .get_mut(self.pos..self.pos + 4)
                .ok_or(fault!(Limit("record space")))?;
            dst.copy_from_slice(&v.to_le_bytes());
        }
        self.pos += 4;
        Ok(())
    }

    /// Appends `words` (one loop instead of a bounds check per field, for flash).
    #[inline(never)]
    pub(crate) fn push_all(&mut self, words: &[i32]) -> Load<()> {
        for &v in words {
            self.push(v)?;
        }
        Ok(())
    }

    /// Overwrites the word at byte position `at` (no-op when counting).
    pub(crate) fn patch(&mut self, at: usize, v: i32) -> Load<()> {
        if let Some(buf) = self.buf.as_deref_mut() {
            let dst = buf
                .get_mut(at..at + 4)
                .ok_or(fault!(Limit("record space")))?;
            dst.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
}

/// Reads words back from a record.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
}

impl<'b> Reader<'b> {
    pub(crate) fn new(buf: &'b [u8], pos: usize) -> Self {
        Reader { buf, pos }
    }

    /// Reads the next word.
    pub(crate) fn word(&mut self) -> Result<i32> {
        let b = self
            .buf
            .get(self.pos..self.pos + 4)
            .ok_or(Error::Malformed("record"))?;
        self.pos += 4;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Fills `words` from the next `words.len()` words.
    #[inline(never)]
    pub(crate) fn read_into(&mut self, words: &mut [i32]) -> Result<()> {
        for w in words {
            *w = self.word()?;
        }
        Ok(())
    }

    /// Takes the next `n` words as a [`Words`] view.
    pub(crate) fn words(&mut self, n: usize) -> Result<Words<'b>> {
        let end = n
            .checked_mul(4)
            .and_then(|b| b.checked_add(self.pos))
            .ok_or(Error::Malformed("record"))?;
        let w = self
            .buf
            .get(self.pos..end)
            .ok_or(Error::Malformed("record"))?;
        self.pos = end;
        Ok(Words(w))
    }
}

/// A run of little-endian `i32` words (per-channel multipliers and shifts).
#[derive(Clone, Copy)]
pub(crate) struct Words<'b>(&'b [u8]);

impl Words<'_> {
    /// Word `i` (0 when out of range, which prepare rules out).
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> i32 {
        match self.0.get(4 * i..4 * i + 4) {
            Some(b) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            None => 0,
        }
    }
}

/// A parameter struct declared with [`params!`], read back from a record.
pub(crate) trait Params: Sized {
    /// Reads the fields back.
    fn read(r: &mut Reader<'_>) -> Result<Self>;
}

/// Declares a parameter struct of `i32` fields with record (de)serialisation: a
/// `#[repr(C)]` struct of `i32`s only, so its fields are its words in order (one
/// loop writes or reads them all, for every struct).
macro_rules! params {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident),* $(,)? }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default)]
        pub(crate) struct $name { $($(#[$fm])* pub(crate) $f: i32),* }
        impl $name {
            /// Number of fields (words).
            const WORDS: usize = core::mem::size_of::<Self>() / 4;
            /// Appends the fields to a record.
            pub(crate) fn write(&self, w: &mut $crate::record::Writer<'_>) -> $crate::error::Load<()> {
                // SAFETY: `#[repr(C)]` with `i32` fields only: `WORDS` consecutive,
                // aligned `i32`s without padding, borrowed for the call.
                let words = unsafe {
                    core::slice::from_raw_parts(core::ptr::from_ref(self).cast::<i32>(), Self::WORDS)
                };
                w.push_all(words)
            }
            /// Reads the fields back.
            pub(crate) fn read(r: &mut $crate::record::Reader<'_>) -> $crate::error::Result<Self> {
                let mut words = [$({ let _ = stringify!($f); 0i32 }),*];
                r.read_into(&mut words)?;
                let [$($f),*] = words;
                Ok(Self { $($f),* })
            }
        }
        impl $crate::record::Params for $name {
            fn read(r: &mut $crate::record::Reader<'_>) -> $crate::error::Result<Self> {
                $name::read(r)
            }
        }
    };
}
pub(crate) use params;

/// Where a tensor's bytes live: in the model (constant) or in the activation arena.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Loc {
    /// Byte offset in the model (constant) or activation area.
    pub(crate) start: u32,
    /// Byte length.
    pub(crate) len: u32,
    /// Whether the bytes are in the model.
    pub(crate) constant: bool,
}

impl Loc {
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Load<()> {
        let tag = if self.constant { 1u32 << 31 } else { 0 };
        if self.start >= 1 << 31 {
            return Err(fault!(Limit("offset over 2 GiB")));
        }
        w.push_all(&[(self.start | tag) as i32, self.len as i32])
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self> {
        let s = r.word()? as u32;
        let len = r.word()? as u32;
        Ok(Loc {
            start: s & !(1 << 31),
            len,
            constant: s & (1 << 31) != 0,
        })
    }

    pub(crate) fn range(&self) -> core::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}
