//! A small, bounded JSON pull reader for the shadow documents (internal).
//!
//! It never allocates, never recurses on input structure (values it does not want
//! are skipped iteratively, to a depth of [`MAX_DEPTH`]) and returns
//! [`StateError`]s for every malformed byte. Strings are returned raw (escapes
//! validated but left in place): keys with escapes simply do not match known names.

use super::StateError;

/// Deepest nesting of arrays/objects accepted anywhere in a document.
pub(crate) const MAX_DEPTH: usize = 16;

/// What the next value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// A pull reader over one JSON text.
pub(crate) struct Reader<'j> {
    b: &'j [u8],
    i: usize,
}

impl<'j> Reader<'j> {
    pub(crate) fn new(b: &'j [u8]) -> Self {
        Self { b, i: 0 }
    }

    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn syntax(&self) -> StateError {
        StateError::Syntax { at: self.i }
    }

    fn peek(&mut self) -> Result<u8, StateError> {
        self.ws();
        self.b.get(self.i).copied().ok_or(StateError::Truncated)
    }

    fn expect(&mut self, c: u8) -> Result<(), StateError> {
        if self.peek()? == c {
            self.i += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// The kind of the next value (without consuming it).
    pub(crate) fn kind(&mut self) -> Result<Kind, StateError> {
        Ok(match self.peek()? {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b'"' => Kind::String,
            b'-' | b'0'..=b'9' => Kind::Number,
            b't' | b'f' => Kind::Bool,
            b'n' => Kind::Null,
            _ => return Err(self.syntax()),
        })
    }

    /// Checks that only whitespace follows the document.
    pub(crate) fn finish(&mut self) -> Result<(), StateError> {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(StateError::Syntax { at: self.i })
        }
    }

    /// Walks the object that comes next, calling `f` with each key; `f` must consume
    /// exactly the value (e.g. with [`Reader::skip`]).
    pub(crate) fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, &'j str) -> Result<(), StateError>,
    ) -> Result<(), StateError> {
        self.expect(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return Err(self.syntax());
            }
            let key = self.string()?;
            self.expect(b':')?;
            f(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax()),
            }
        }
    }

    /// Reads a string; returns its raw (still escaped) contents.
    pub(crate) fn string(&mut self) -> Result<&'j str, StateError> {
        self.expect(b'"')?;
        let start = self.i;
        loop {
            let c = *self.b.get(self.i).ok_or(StateError::Truncated)?;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.b.get(self.i + 1).ok_or(StateError::Truncated)?;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            let hex = self
                                .b
                                .get(self.i + 2..self.i + 6)
                                .ok_or(StateError::Truncated)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(self.syntax());
                            }
                            self.i += 6;
                        }
                        _ => return Err(self.syntax()),
                    }
                }
                0..=0x1f => return Err(self.syntax()),
                _ => self.i += 1,
            }
        }
        let raw = &self.b[start..self.i];
        self.i += 1;
        core::str::from_utf8(raw).map_err(|_| StateError::Syntax { at: start })
    }

    /// Reads a number; returns its text (validated against the JSON grammar).
    pub(crate) fn number(&mut self) -> Result<&'j str, StateError> {
        self.ws();
        let start = self.i;
        let digits = |r: &mut Self| -> usize {
            let s = r.i;
            while r.b.get(r.i).is_some_and(u8::is_ascii_digit) {
                r.i += 1;
            }
            r.i - s
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            Some(_) => return Err(self.syntax()),
            None => return Err(StateError::Truncated),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.syntax());
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.syntax());
            }
        }
        // Only ASCII was accepted above.
        core::str::from_utf8(&self.b[start..self.i]).map_err(|_| StateError::Syntax { at: start })
    }

    /// Reads a number that must be a non-negative integer fitting `u64`.
    pub(crate) fn u64(&mut self) -> Result<u64, StateError> {
        if self.kind()? != Kind::Number {
            return Err(StateError::WrongType);
        }
        self.number()?.parse().map_err(|_| StateError::WrongType)
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), StateError> {
        self.ws();
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else if self.b.len() < self.i + word.len() {
            Err(StateError::Truncated)
        } else {
            Err(self.syntax())
        }
    }

    /// Reads `true`/`false`.
    pub(crate) fn bool(&mut self) -> Result<bool, StateError> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => Err(StateError::WrongType),
        }
    }

    /// Skips one value of any kind, iteratively, refusing nesting deeper than
    /// [`MAX_DEPTH`].
    pub(crate) fn skip(&mut self) -> Result<(), StateError> {
        // Bit i of `stack` set = the container at depth i is an object.
        let mut stack: u32 = 0;
        let mut depth = 0usize;
        loop {
            // One value.
            match self.kind()? {
                Kind::Object | Kind::Array => {
                    if depth == MAX_DEPTH {
                        return Err(StateError::TooDeep);
                    }
                    let is_obj = self.peek()? == b'{';
                    self.i += 1;
                    if is_obj {
                        stack |= 1 << depth;
                    } else {
                        stack &= !(1 << depth);
                    }
                    depth += 1;
                    let close = if is_obj { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.i += 1;
                        depth -= 1;
                    } else {
                        if is_obj {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        continue;
                    }
                }
                Kind::String => {
                    self.string()?;
                }
                Kind::Number => {
                    self.number()?;
                }
                Kind::Bool => {
                    self.bool()?;
                }
                Kind::Null => self.literal(b"null")?,
            }
            // After a value: close containers or move to the next element.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let is_obj = stack & (1 << (depth - 1)) != 0;
                let close = if is_obj { b'}' } else { b']' };
                let c = self.peek()?;
                if c == b',' {
                    self.i += 1;
                    if is_obj {
                        self.string()?;
                        self.expect(b':')?;
                    }
                    break;
                } else if c == close {
                    self.i += 1;
                    depth -= 1;
                } else {
                    return Err(self.syntax());
                }
            }
        }
    }
}
