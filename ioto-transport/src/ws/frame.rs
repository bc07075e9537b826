//! RFC 6455 frame headers: decoding (bounds-checked, every rule a client must
//! enforce on server frames) and encoding (always masked, as clients must).

use super::ProtocolViolation;

/// Longest frame header: 2 bytes + 8-byte length + 4-byte mask.
pub const MAX_HEADER_LEN: usize = 14;

/// Longest control-frame payload (RFC 6455 section 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Frame opcodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    /// Continues a fragmented message.
    Continuation,
    /// First (or only) frame of a UTF-8 text message.
    Text,
    /// First (or only) frame of a binary message.
    Binary,
    /// Close handshake.
    Close,
    /// Ping; answered with a pong carrying the same payload.
    Ping,
    /// Pong.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    const fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Whether this is a control frame (close, ping, pong).
    pub const fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last frame of the message.
    pub fin: bool,
    /// The opcode.
    pub opcode: Opcode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub len: u64,
}

/// Decodes a frame header from the start of `data`: `Ok(None)` if more bytes
/// are needed, else the header and its encoded length. Enforces: no reserved
/// bits (no extension was negotiated), known opcode, control frames unfragmented
/// and at most 125 bytes, 63-bit lengths.
pub fn decode_header(data: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolViolation> {
    let [b0, b1, ..] = *data else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(ProtocolViolation::ReservedBits);
    }
    let opcode = Opcode::from_bits(b0 & 0x0F).ok_or(ProtocolViolation::UnknownOpcode)?;
    let fin = b0 & 0x80 != 0;
    let masked = b1 & 0x80 != 0;
    let (len, mut pos) = match b1 & 0x7F {
        126 => match data.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match data.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len >> 63 != 0 {
        return Err(ProtocolViolation::LengthOverflow);
    }
    if opcode.is_control() && (!fin || len > MAX_CONTROL_PAYLOAD as u64) {
        return Err(ProtocolViolation::BadControlFrame);
    }
    let mask = if masked {
        let Some(key) = data
            .get(pos..pos + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
        else {
            return Ok(None);
        };
        pos += 4;
        Some(key)
    } else {
        None
    };
    Ok(Some((
        FrameHeader {
            fin,
            opcode,
            mask,
            len,
        },
        pos,
    )))
}

/// Encodes a masked client frame header into `out`; returns its length.
pub fn encode_header(
    out: &mut [u8; MAX_HEADER_LEN],
    fin: bool,
    opcode: Opcode,
    len: usize,
    mask: [u8; 4],
) -> usize {
    out[0] = (if fin { 0x80 } else { 0 }) | opcode.bits();
    let mut pos = match len {
        0..=125 => {
            out[1] = 0x80 | len as u8;
            2
        }
        126..=0xFFFF => {
            out[1] = 0x80 | 126;
            out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            out[1] = 0x80 | 127;
            out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            10
        }
    };
    out[pos..pos + 4].copy_from_slice(&mask);
    pos += 4;
    pos
}

/// XORs `data` with the mask, starting at payload offset `offset`.
pub fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[(offset + i) % 4];
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_all_length_forms() {
        for len in [0usize, 1, 125, 126, 65535, 65536, 1 << 20] {
            let mut out = [0u8; MAX_HEADER_LEN];
            let n = encode_header(&mut out, true, Opcode::Binary, len, [1, 2, 3, 4]);
            let (h, used) = decode_header(&out[..n]).unwrap().unwrap();
            assert_eq!(used, n);
            assert_eq!(
                (h.fin, h.opcode, h.len, h.mask),
                (true, Opcode::Binary, len as u64, Some([1, 2, 3, 4]))
            );
            assert_eq!(decode_header(&out[..n - 1]), Ok(None));
        }
    }

    #[test]
    fn rejects_what_rfc6455_forbids() {
        assert_eq!(
            decode_header(&[0xC1, 0]),
            Err(ProtocolViolation::ReservedBits)
        );
        assert_eq!(
            decode_header(&[0x83, 0]),
            Err(ProtocolViolation::UnknownOpcode)
        );
        assert_eq!(
            decode_header(&[0x09, 0]),
            Err(ProtocolViolation::BadControlFrame)
        );
        assert_eq!(
            decode_header(&[0x89, 126, 0, 126]),
            Err(ProtocolViolation::BadControlFrame)
        );
        let big = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode_header(&big), Err(ProtocolViolation::LengthOverflow));
    }
}
