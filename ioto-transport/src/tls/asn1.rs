//! The DER reader of the certificate parser: exactly the subset of X.690 DER that
//! X.509 path validation reads, with the strictness of the `der` crate it replaces
//! (definite minimal lengths, low tag numbers, canonical BOOLEAN and INTEGER, a BIT
//! STRING's unused-bit count, UTCTime/GeneralizedTime in their DER forms). Borrowing
//! and allocation-free; every length is bounds-checked.
//!
//! Why not the `der` crate: generic decoding, its error formatting and date arithmetic
//! were ≈ 11 KB of a Cortex-M TLS client; this module is a small fraction of that
//! (`cargo xtask bench transport`).

/// A malformed or non-canonical DER encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Error;

/// An identifier octet (low tag numbers only: that is all X.509 uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag(u8);

// The universal tags by their ASN.1 names, as the `der` crate spells them.
#[allow(non_upper_case_globals)]
impl Tag {
    /// BOOLEAN.
    pub(crate) const Boolean: Tag = Tag(0x01);
    /// INTEGER.
    pub(crate) const Integer: Tag = Tag(0x02);
    /// BIT STRING.
    pub(crate) const BitString: Tag = Tag(0x03);
    /// OCTET STRING.
    pub(crate) const OctetString: Tag = Tag(0x04);
    /// NULL.
    pub(crate) const Null: Tag = Tag(0x05);
    /// OBJECT IDENTIFIER.
    pub(crate) const ObjectIdentifier: Tag = Tag(0x06);
    /// UTCTime.
    pub(crate) const UtcTime: Tag = Tag(0x17);
    /// GeneralizedTime.
    pub(crate) const GeneralizedTime: Tag = Tag(0x18);
    /// SEQUENCE (constructed).
    pub(crate) const Sequence: Tag = Tag(0x30);
}

impl From<Tag> for u8 {
    fn from(tag: Tag) -> u8 {
        tag.0
    }
}

/// One TLV: its tag and its contents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AnyRef<'a> {
    tag: Tag,
    value: &'a [u8],
}

impl<'a> AnyRef<'a> {
    /// The identifier octet.
    pub(crate) fn tag(&self) -> Tag {
        self.tag
    }

    /// The contents octets.
    pub(crate) fn value(&self) -> &'a [u8] {
        self.value
    }
}

/// Reads consecutive TLVs from a byte slice.
#[derive(Clone, Debug)]
pub(crate) struct SliceReader<'a> {
    rest: &'a [u8],
}

impl<'a> SliceReader<'a> {
    /// A reader over `bytes` (infallible; `Result` as in the `der` crate's API).
    pub(crate) fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        Ok(Self { rest: bytes })
    }

    /// Whether every byte has been read.
    pub(crate) fn is_finished(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next TLV, without reading it.
    pub(crate) fn peek_tag(&self) -> Result<Tag, Error> {
        match self.rest.first() {
            // 0x1F in the low bits announces a high tag number.
            Some(&octet) if octet & 0x1F != 0x1F => Ok(Tag(octet)),
            _ => Err(Error),
        }
    }

    /// Reads the next TLV: its tag, contents and whole encoding.
    fn tlv(&mut self) -> Result<(Tag, &'a [u8], &'a [u8]), Error> {
        let tag = self.peek_tag()?;
        let (&first, after) = self
            .rest
            .get(1..)
            .and_then(<[u8]>::split_first)
            .ok_or(Error)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            // Long form: 1 to 3 length octets (certificates are far below 16 MiB),
            // no leading zero, and only for lengths the short form cannot hold.
            let n = usize::from(first & 0x7F);
            let octets = after
                .get(..n)
                .filter(|_| (1..=3).contains(&n))
                .ok_or(Error)?;
            if octets.first() == Some(&0) {
                return Err(Error);
            }
            let len = octets
                .iter()
                .fold(0usize, |a, &b| (a << 8) | usize::from(b));
            if len < 0x80 {
                return Err(Error);
            }
            (len, 2 + n)
        };
        let end = header.checked_add(len).ok_or(Error)?;
        let tlv = self.rest.get(..end).ok_or(Error)?;
        let value = tlv.get(header..).ok_or(Error)?;
        self.rest = self.rest.get(end..).ok_or(Error)?;
        Ok((tag, value, tlv))
    }

    /// Reads the next TLV and returns its whole encoding.
    pub(crate) fn tlv_bytes(&mut self) -> Result<&'a [u8], Error> {
        self.tlv().map(|(_, _, tlv)| tlv)
    }

    /// Reads the next TLV as `T`.
    pub(crate) fn decode<T: Decode<'a>>(&mut self) -> Result<T, Error> {
        T::decode(self)
    }

    /// Reads the next TLV, an OCTET STRING, and returns its octets.
    pub(crate) fn octet_string(&mut self) -> Result<&'a [u8], Error> {
        self.contents(Tag::OctetString)
    }

    /// Reads the next TLV, which must have `tag`, and returns its contents.
    fn contents(&mut self, tag: Tag) -> Result<&'a [u8], Error> {
        match self.tlv()? {
            (found, value, _) if found == tag => Ok(value),
            _ => Err(Error),
        }
    }
}

/// A type read from one TLV.
pub(crate) trait Decode<'a>: Sized {
    /// Reads one `Self` from `r`.
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error>;

    /// Reads one `Self` that must fill `bytes` exactly.
    fn from_der(bytes: &'a [u8]) -> Result<Self, Error> {
        let mut r = SliceReader::new(bytes)?;
        let value = Self::decode(&mut r)?;
        if r.is_finished() {
            Ok(value)
        } else {
            Err(Error)
        }
    }
}

impl<'a> Decode<'a> for AnyRef<'a> {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        let (tag, value, _) = r.tlv()?;
        Ok(Self { tag, value })
    }
}

impl<'a> Decode<'a> for bool {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        match r.contents(Tag::Boolean)? {
            [0x00] => Ok(false),
            [0xFF] => Ok(true),
            _ => Err(Error),
        }
    }
}

/// A non-negative INTEGER in canonical form, as its magnitude (leading zero removed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct UintRef<'a>(&'a [u8]);

impl<'a> UintRef<'a> {
    /// The big-endian magnitude, without the sign octet.
    pub(crate) fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl<'a> Decode<'a> for UintRef<'a> {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        match r.contents(Tag::Integer)? {
            // Negative.
            [first, ..] if first & 0x80 != 0 => Err(Error),
            // A zero octet only where the next one would read as negative.
            [0, rest @ ..] if rest.first().is_some_and(|&b| b & 0x80 != 0) => Ok(Self(rest)),
            [0, _, ..] | [] => Err(Error),
            value => Ok(Self(value)),
        }
    }
}

impl<'a> Decode<'a> for u8 {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        match *UintRef::decode(r)?.as_bytes() {
            [b] => Ok(b),
            _ => Err(Error),
        }
    }
}

impl<'a> Decode<'a> for u16 {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        match *UintRef::decode(r)?.as_bytes() {
            [b] => Ok(u16::from(b)),
            [hi, lo] => Ok(u16::from_be_bytes([hi, lo])),
            _ => Err(Error),
        }
    }
}

/// A BIT STRING: its unused-bit count (0–7) and its octets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BitStringRef<'a> {
    unused: u8,
    bytes: &'a [u8],
}

impl<'a> BitStringRef<'a> {
    /// The octets, if the bit string is a whole number of them.
    pub(crate) fn as_bytes(&self) -> Option<&'a [u8]> {
        (self.unused == 0).then_some(self.bytes)
    }

    /// The octets, including a partly used last one.
    pub(crate) fn raw_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl<'a> Decode<'a> for BitStringRef<'a> {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        match r.contents(Tag::BitString)? {
            [unused, bytes @ ..] if *unused <= 7 && (*unused == 0 || !bytes.is_empty()) => {
                Ok(Self {
                    unused: *unused,
                    bytes,
                })
            }
            _ => Err(Error),
        }
    }
}

/// The longest OBJECT IDENTIFIER encoding accepted (as in the `der` crate).
const MAX_OID: usize = 39;

/// An OBJECT IDENTIFIER, kept as its contents octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ObjectIdentifier {
    bytes: [u8; MAX_OID],
    len: usize,
}

impl ObjectIdentifier {
    /// Encodes a dotted OID at compile time. A malformed string gives an empty OID,
    /// which no decoded OID equals (unit-tested for every constant in use).
    pub(crate) const fn new_unwrap(dotted: &str) -> Self {
        const EMPTY: ObjectIdentifier = ObjectIdentifier {
            bytes: [0; MAX_OID],
            len: 0,
        };
        let s = dotted.as_bytes();
        let mut arcs = [0u64; MAX_OID];
        let (mut count, mut i, mut digits) = (0, 0, 0);
        while i <= s.len() {
            if i == s.len() || s[i] == b'.' {
                if digits == 0 || count == MAX_OID {
                    return EMPTY;
                }
                count += 1;
                digits = 0;
            } else if s[i].is_ascii_digit() && digits < 18 {
                arcs[count] = arcs[count] * 10 + (s[i] - b'0') as u64;
                digits += 1;
            } else {
                return EMPTY;
            }
            i += 1;
        }
        if count < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
            return EMPTY;
        }
        let mut out = EMPTY;
        let mut arc = 1;
        while arc < count {
            let value = if arc == 1 {
                arcs[0] * 40 + arcs[1]
            } else {
                arcs[arc]
            };
            // Base-128, most significant group first, continuation bit on all but last.
            let mut groups = 1;
            while groups < 10 && value >> (7 * groups) != 0 {
                groups += 1;
            }
            if out.len + groups > MAX_OID {
                return EMPTY;
            }
            let mut g = groups;
            while g > 0 {
                g -= 1;
                let more = if g > 0 { 0x80 } else { 0 };
                out.bytes[out.len] = ((value >> (7 * g)) & 0x7F) as u8 | more;
                out.len += 1;
            }
            arc += 1;
        }
        out
    }

    /// The contents octets.
    #[cfg(test)]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl<'a> Decode<'a> for ObjectIdentifier {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        let value = r.contents(Tag::ObjectIdentifier)?;
        // Non-empty, the last octet ends a sub-identifier, and no sub-identifier
        // starts with a padding octet (0x80).
        let canonical = value.last().is_some_and(|&b| b & 0x80 == 0)
            && value.first() != Some(&0x80)
            && value
                .windows(2)
                .all(|w| !matches!(w, [prev, 0x80] if prev & 0x80 == 0));
        let mut oid = ObjectIdentifier {
            bytes: [0; MAX_OID],
            len: value.len(),
        };
        match oid.bytes.get_mut(..value.len()) {
            Some(dst) if canonical => {
                dst.copy_from_slice(value);
                Ok(oid)
            }
            _ => Err(Error),
        }
    }
}

/// A UTCTime or GeneralizedTime, as seconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Time(pub(crate) u64);

impl<'a> Decode<'a> for Time {
    fn decode(r: &mut SliceReader<'a>) -> Result<Self, Error> {
        let tag = r.peek_tag()?;
        let value = r.contents(tag)?;
        // DER: `YYMMDDHHMMSSZ` (RFC 5280: 1950–2049) or `YYYYMMDDHHMMSSZ`.
        let (year, rest) = match (tag, value) {
            (Tag::UtcTime, [y @ .., b'Z']) if y.len() == 12 => {
                let yy = digits(y.get(..2))?;
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, y.get(2..))
            }
            (Tag::GeneralizedTime, [y @ .., b'Z']) if y.len() == 14 => {
                (digits(y.get(..2))? * 100 + digits(y.get(2..4))?, y.get(4..))
            }
            _ => return Err(Error),
        };
        let rest = rest.ok_or(Error)?;
        let field = |i: usize| digits(rest.get(i..i + 2));
        let (month, day) = (field(0)?, field(2)?);
        let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let month_days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            1..=12 => 31,
            _ => 0,
        };
        if year < 1970 || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
            return Err(Error);
        }
        Ok(Self(
            days_since_epoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second,
        ))
    }
}

/// Two ASCII digits as a number.
fn digits(pair: Option<&[u8]>) -> Result<u64, Error> {
    match pair {
        Some(&[a, b]) if a.is_ascii_digit() && b.is_ascii_digit() => {
            Ok(u64::from(a - b'0') * 10 + u64::from(b - b'0'))
        }
        _ => Err(Error),
    }
}

/// Days from 1970-01-01 to the given date (proleptic Gregorian, `year` ≥ 1970; the
/// "days from civil" algorithm, H. Hinnant).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// Parses a DER `ECDSA-Sig-Value` (`SEQUENCE { r INTEGER, s INTEGER }`, nothing after
/// it) into the magnitudes of `r` and `s`.
pub(crate) fn ecdsa_signature(der: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let mut outer = SliceReader::new(der)?;
    let mut seq = SliceReader::new(outer.contents(Tag::Sequence)?)?;
    let r: UintRef<'_> = seq.decode()?;
    let s: UintRef<'_> = seq.decode()?;
    if seq.is_finished() && outer.is_finished() {
        Ok((r.as_bytes(), s.as_bytes()))
    } else {
        Err(Error)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn oid_constants_encode_as_in_x690() {
        // 2.5.29.17, 1.2.840.10045.2.1 and 1.3.6.1.5.5.7.3.1 as openssl encodes them.
        for (dotted, der) in [
            ("2.5.29.17", &[0x55, 0x1D, 0x11][..]),
            (
                "1.2.840.10045.2.1",
                &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01],
            ),
            (
                "1.3.6.1.5.5.7.3.1",
                &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01],
            ),
            ("2.5.29.37.0", &[0x55, 0x1D, 0x25, 0x00]),
        ] {
            assert_eq!(
                ObjectIdentifier::new_unwrap(dotted).as_bytes(),
                der,
                "{dotted}"
            );
        }
        for bad in ["", "1", "1.", "3.1", "1.40", "1.2.x"] {
            assert!(
                ObjectIdentifier::new_unwrap(bad).as_bytes().is_empty(),
                "{bad}"
            );
        }
    }

    #[test]
    fn lengths_must_be_definite_minimal_and_in_bounds() {
        let read = |b: &[u8]| SliceReader::new(b).unwrap().tlv_bytes().map(<[u8]>::len);
        assert_eq!(read(&[0x04, 0x01, 0xAA]), Ok(3));
        assert_eq!(read(&[0x04, 0x02, 0xAA]), Err(Error));
        assert_eq!(read(&[0x04, 0x80, 0x00, 0x00]), Err(Error));
        assert_eq!(read(&[0x04, 0x81, 0x01, 0xAA]), Err(Error));
        assert_eq!(read(&[0x04, 0x82, 0x00, 0x80]), Err(Error));
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        assert_eq!(read(&long), Ok(0x83));
        assert_eq!(read(&[0x1F, 0x01, 0x00]), Err(Error));
        assert_eq!(read(&[0x04]), Err(Error));
    }

    #[test]
    fn booleans_and_integers_must_be_canonical() {
        assert_eq!(bool::from_der(&[0x01, 0x01, 0xFF]), Ok(true));
        assert_eq!(bool::from_der(&[0x01, 0x01, 0x01]), Err(Error));
        assert_eq!(u8::from_der(&[0x02, 0x01, 0x7F]), Ok(0x7F));
        assert_eq!(u8::from_der(&[0x02, 0x02, 0x00, 0x80]), Ok(0x80));
        assert_eq!(u8::from_der(&[0x02, 0x02, 0x00, 0x7F]), Err(Error));
        assert_eq!(u8::from_der(&[0x02, 0x01, 0x80]), Err(Error));
        assert_eq!(u8::from_der(&[0x02, 0x00]), Err(Error));
        assert_eq!(u16::from_der(&[0x02, 0x02, 0x01, 0x00]), Ok(256));
        assert_eq!(u16::from_der(&[0x02, 0x03, 0x01, 0x00, 0x00]), Err(Error));
        assert_eq!(
            ecdsa_signature(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x05]),
            Ok((&[0x80][..], &[0x05][..]))
        );
        assert_eq!(
            ecdsa_signature(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x05, 0x00]),
            Err(Error)
        );
    }

    #[test]
    fn times_are_unix_seconds_and_validated() {
        let time = |tag: u8, s: &str| {
            let mut b = vec![tag, s.len() as u8];
            b.extend(s.as_bytes());
            Time::from_der(&b).map(|t| t.0)
        };
        // `date -u -d 2049-12-31T23:59:59 +%s` and friends.
        assert_eq!(time(0x17, "491231235959Z"), Ok(2_524_607_999));
        assert_eq!(time(0x17, "700101000000Z"), Ok(0));
        assert_eq!(time(0x18, "20240229120000Z"), Ok(1_709_208_000));
        assert_eq!(time(0x18, "99991231235959Z"), Ok(253_402_300_799));
        for bad in [
            "230229000000Z",
            "231301000000Z",
            "230101240000Z",
            "2301010000Z",
        ] {
            assert_eq!(time(0x17, bad), Err(Error), "{bad}");
        }
        assert_eq!(time(0x17, "690101000000Z"), Err(Error));
        assert_eq!(time(0x18, "20240101000000.5Z"), Err(Error));
        assert_eq!(time(0x04, "20240101000000Z"), Err(Error));
    }
}
