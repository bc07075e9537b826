//! Bounds-checked primitives of the MQTT wire format: integers, variable byte
//! integers, UTF-8 strings and binary data, read from and written to byte slices.

/// Why a packet could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The packet ends before a field it announces.
    Truncated,
    /// A variable byte integer uses more than four bytes.
    BadVarInt,
    /// A string is not well-formed UTF-8 or contains U+0000.
    BadUtf8,
    /// The first byte names a reserved packet type.
    BadPacketType(u8),
    /// Fixed-header flags that the packet type forbids.
    BadFlags(u8),
    /// QoS 3, or a QoS a field does not allow.
    BadQos(u8),
    /// A property identifier this protocol version does not define.
    BadProperty(u8),
    /// A property that may appear once appears twice.
    DuplicateProperty(u8),
    /// A field holds a value the protocol forbids (named by the message).
    Invalid(&'static str),
    /// Bytes left over after the last field of the packet.
    TrailingBytes,
    /// The packet is larger than the receive buffer or the negotiated maximum.
    TooLarge(usize),
}

/// Why a packet could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The output buffer is too small for the packet.
    BufferTooSmall,
    /// A string, binary field or the whole packet exceeds what MQTT can carry.
    FieldTooLong,
    /// A value the protocol forbids (named by the message).
    Invalid(&'static str),
}

/// Largest value a variable byte integer can carry (268 435 455).
pub const MAX_VAR_INT: u32 = 268_435_455;

/// Bytes a variable byte integer takes for `value` (1 to 4).
pub const fn var_int_len(value: u32) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Decodes a variable byte integer from the start of `buf`.
/// `Ok(None)` means more bytes are needed; returns the value and its length.
pub fn decode_var_int(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value: u32 = 0;
    for i in 0..4 {
        let Some(&byte) = buf.get(i) else {
            return Ok(None);
        };
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    Err(DecodeError::BadVarInt)
}

fn check_utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    let s = core::str::from_utf8(bytes).map_err(|_| DecodeError::BadUtf8)?;
    if bytes.contains(&0) {
        return Err(DecodeError::BadUtf8);
    }
    Ok(s)
}

/// A cursor over the bytes of one packet; every read is bounds-checked.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub const fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Reads `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    /// Reads everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        out
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes(1)?[0])
    }

    /// Reads a big-endian two-byte integer.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a big-endian four-byte integer.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a variable byte integer.
    pub fn var_int(&mut self) -> Result<u32, DecodeError> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let (value, len) = decode_var_int(rest)?.ok_or(DecodeError::Truncated)?;
        self.pos += len;
        Ok(value)
    }

    /// Reads two-byte-length-prefixed binary data.
    pub fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// Reads a two-byte-length-prefixed UTF-8 string.
    pub fn string(&mut self) -> Result<&'a str, DecodeError> {
        check_utf8(self.binary()?)
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// A cursor writing into a caller-owned buffer; fails instead of overflowing.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Starts writing at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub const fn len(&self) -> usize {
        self.pos
    }

    /// True when nothing has been written.
    pub const fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Writes raw bytes.
    pub fn bytes(&mut self, data: &[u8]) -> Result<(), EncodeError> {
        let end = self
            .pos
            .checked_add(data.len())
            .ok_or(EncodeError::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(EncodeError::BufferTooSmall)?
            .copy_from_slice(data);
        self.pos = end;
        Ok(())
    }

    /// Writes one byte.
    pub fn u8(&mut self, v: u8) -> Result<(), EncodeError> {
        self.bytes(&[v])
    }

    /// Writes a big-endian two-byte integer.
    pub fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        self.bytes(&v.to_be_bytes())
    }

    /// Writes a big-endian four-byte integer.
    pub fn u32(&mut self, v: u32) -> Result<(), EncodeError> {
        self.bytes(&v.to_be_bytes())
    }

    /// Writes a variable byte integer.
    pub fn var_int(&mut self, mut v: u32) -> Result<(), EncodeError> {
        if v > MAX_VAR_INT {
            return Err(EncodeError::FieldTooLong);
        }
        loop {
            let mut byte = (v & 0x7F) as u8;
            v >>= 7;
            if v > 0 {
                byte |= 0x80;
            }
            self.u8(byte)?;
            if v == 0 {
                return Ok(());
            }
        }
    }

    /// Writes two-byte-length-prefixed binary data.
    pub fn binary(&mut self, data: &[u8]) -> Result<(), EncodeError> {
        let len = u16::try_from(data.len()).map_err(|_| EncodeError::FieldTooLong)?;
        self.u16(len)?;
        self.bytes(data)
    }

    /// Writes a two-byte-length-prefixed UTF-8 string (U+0000 is refused).
    pub fn string(&mut self, s: &str) -> Result<(), EncodeError> {
        if s.as_bytes().contains(&0) {
            return Err(EncodeError::Invalid("string contains U+0000"));
        }
        self.binary(s.as_bytes())
    }
}

/// Encoded size of a length-prefixed string or binary field.
pub const fn prefixed_len(data_len: usize) -> usize {
    2 + data_len
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn var_int_boundaries_round_trip() {
        for v in [
            0,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            MAX_VAR_INT,
        ] {
            let mut buf = [0u8; 4];
            let mut w = Writer::new(&mut buf);
            w.var_int(v).unwrap();
            let n = w.len();
            assert_eq!(n, var_int_len(v));
            assert_eq!(decode_var_int(&buf[..n]).unwrap(), Some((v, n)));
            assert_eq!(decode_var_int(&buf[..n - 1]).unwrap(), None);
        }
        assert_eq!(
            decode_var_int(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            Err(DecodeError::BadVarInt)
        );
    }

    #[test]
    fn strings_reject_nul_and_bad_utf8() {
        assert_eq!(
            Reader::new(&[0, 2, b'a', 0]).string(),
            Err(DecodeError::BadUtf8)
        );
        assert_eq!(
            Reader::new(&[0, 1, 0xFF]).string(),
            Err(DecodeError::BadUtf8)
        );
        assert_eq!(
            Reader::new(&[0, 3, b'a']).string(),
            Err(DecodeError::Truncated)
        );
        let mut buf = [0u8; 4];
        assert_eq!(Writer::new(&mut buf).string("ab"), Ok(()));
        assert_eq!(
            Writer::new(&mut buf).string("abc"),
            Err(EncodeError::BufferTooSmall)
        );
    }
}
