//! Bounds-checked reading of TLS wire structures (RFC 8446 §3): big-endian integers
//! and length-prefixed vectors. Every length read from the wire is checked against the
//! bytes left, so a truncated or oversized field is [`TlsError::Protocol`] (sent to
//! the peer as `decode_error`), never a panic.

use super::error::TlsError;

/// A cursor over one received structure.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], TlsError> {
        if n > self.rest.len() {
            return Err(TlsError::Protocol);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// A big-endian unsigned integer of `n` ≤ 4 bytes.
    pub(crate) fn uint(&mut self, n: usize) -> Result<usize, TlsError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0, |acc, b| (acc << 8) | usize::from(*b)))
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Result<u8, TlsError> {
        Ok(self.uint(1)? as u8)
    }

    /// A two-byte integer.
    pub(crate) fn u16(&mut self) -> Result<u16, TlsError> {
        Ok(self.uint(2)? as u16)
    }

    /// A vector whose length is an `n`-byte prefix.
    pub(crate) fn vec(&mut self, n: usize) -> Result<&'a [u8], TlsError> {
        let len = self.uint(n)?;
        self.take(len)
    }

    /// Whether everything was read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Fails unless everything was read (trailing bytes are a decode error).
    pub(crate) fn finish(&self) -> Result<(), TlsError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(TlsError::Protocol)
        }
    }
}

/// A writer into a caller-owned buffer; overflowing it is [`TlsError::BufferTooSmall`].
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    /// Writes from the start of `buf`.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `bytes`.
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), TlsError> {
        let end = self.len + bytes.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(TlsError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends `value` as an `n`-byte big-endian integer.
    pub(crate) fn uint(&mut self, n: usize, value: usize) -> Result<(), TlsError> {
        let bytes = (value as u32).to_be_bytes();
        self.put(bytes.get(4 - n..).unwrap_or(&bytes))
    }

    /// Starts a vector with an `n`-byte length prefix; close it with [`Self::close`].
    pub(crate) fn open(&mut self, n: usize) -> Result<(usize, usize), TlsError> {
        self.uint(n, 0)?;
        Ok((self.len, n))
    }

    /// Fills in the length prefix of the vector `open` started.
    pub(crate) fn close(&mut self, (start, n): (usize, usize)) {
        let bytes = ((self.len - start) as u32).to_be_bytes();
        if let (Some(dst), Some(src)) = (self.buf.get_mut(start - n..start), bytes.get(4 - n..)) {
            dst.copy_from_slice(src);
        }
    }

    /// The bytes written so far.
    pub(crate) fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lengths_past_the_end_are_protocol_errors() {
        let mut r = Reader::new(&[0, 5, 1, 2]);
        assert_eq!(r.vec(2), Err(TlsError::Protocol));
        let mut r = Reader::new(&[3, 1, 2, 3, 9]);
        assert_eq!(r.vec(1).unwrap(), &[1, 2, 3]);
        assert_eq!(r.finish(), Err(TlsError::Protocol));
        assert_eq!(r.u16(), Err(TlsError::Protocol));
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff]).vec(3),
            Err(TlsError::Protocol)
        );
    }

    #[test]
    fn vectors_get_their_length_prefix() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        let v = w.open(2).unwrap();
        w.put(&[7, 8, 9]).unwrap();
        w.close(v);
        assert_eq!(w.written(), &[0, 3, 7, 8, 9]);
        assert_eq!(w.put(&[0; 4]), Err(TlsError::BufferTooSmall));
    }
}
