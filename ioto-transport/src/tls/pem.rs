//! Trust anchors given as DER or PEM (RFC 7468), decoded without allocation.

use super::error::TlsError;

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

/// The largest DER certificate a PEM trust anchor may decode to. ECDSA CA
/// certificates are ≈ 0.5 KB, RSA-4096 ones (ISRG Root X1, GTS Root R1) ≈ 1.4 KB;
/// 2 KiB leaves room for long names and extensions.
/// (A DER anchor is used in place and has no such limit.)
pub const MAX_PEM_CA_DER: usize = 2048;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes standard base64 (whitespace ignored, `=` padding only at the end) into
/// `out`; returns the decoded length.
pub(crate) fn base64_decode(text: &[u8], out: &mut [u8]) -> Result<usize, TlsError> {
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut len = 0usize;
    let mut padding = 0usize;
    for &c in text {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return Err(TlsError::InvalidCa);
        }
        let v = sextet(c).ok_or(TlsError::InvalidCa)?;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let slot = out.get_mut(len).ok_or(TlsError::InvalidCa)?;
            *slot = (acc >> bits) as u8;
            len += 1;
        }
    }
    if padding > 2 || (acc & ((1 << bits) - 1)) != 0 {
        return Err(TlsError::InvalidCa);
    }
    Ok(len)
}

/// The trust anchors in `ca`: one DER certificate, or every `CERTIFICATE` block of a
/// PEM text. Calls `each` with the DER of every anchor until it returns `Some`.
pub(crate) fn for_each_anchor<T>(
    ca: &[u8],
    mut each: impl FnMut(&[u8]) -> Option<T>,
) -> Result<Option<T>, TlsError> {
    if ca.first() == Some(&0x30) {
        // DER: used in place, no copy.
        return Ok(each(ca));
    }
    for_each_pem_anchor(ca, &mut each)
}

/// The PEM case of [`for_each_anchor`], out of line so that DER anchors do not pay for
/// its decoding buffer on the stack.
#[inline(never)]
fn for_each_pem_anchor<T>(
    ca: &[u8],
    each: &mut dyn FnMut(&[u8]) -> Option<T>,
) -> Result<Option<T>, TlsError> {
    let mut rest = ca;
    let mut found_any = false;
    let mut scratch = [0u8; MAX_PEM_CA_DER];
    while let Some(start) = find(rest, BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let end = find(body, END).ok_or(TlsError::InvalidCa)?;
        let len = base64_decode(&body[..end], &mut scratch)?;
        found_any = true;
        if let Some(result) = each(&scratch[..len]) {
            return Ok(Some(result));
        }
        rest = &body[end + END.len()..];
    }
    if found_any {
        Ok(None)
    } else {
        Err(TlsError::InvalidCa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_vectors() {
        let mut out = [0u8; 16];
        assert_eq!(base64_decode(b"Zm9vYmFy", &mut out), Ok(6));
        assert_eq!(&out[..6], b"foobar");
        assert_eq!(base64_decode(b"Zm9vYg==", &mut out), Ok(4));
        assert_eq!(&out[..4], b"foob");
        assert_eq!(base64_decode(b"Zm9v\nYmE=", &mut out), Ok(5));
        assert_eq!(&out[..5], b"fooba");
    }

    #[test]
    fn base64_rejects_garbage_and_overflow() {
        let mut out = [0u8; 2];
        assert_eq!(base64_decode(b"Zm9v", &mut out), Err(TlsError::InvalidCa));
        let mut out = [0u8; 16];
        assert_eq!(base64_decode(b"Zm9v!", &mut out), Err(TlsError::InvalidCa));
        assert_eq!(base64_decode(b"Zm=9v", &mut out), Err(TlsError::InvalidCa));
        assert_eq!(
            base64_decode(b"Zm9vYh==", &mut out),
            Err(TlsError::InvalidCa)
        );
    }

    #[test]
    fn pem_without_blocks_is_invalid() {
        assert_eq!(
            for_each_anchor(b"hello", |_| Some(())),
            Err(TlsError::InvalidCa)
        );
        let unterminated = b"-----BEGIN CERTIFICATE-----\nZm9v\n";
        assert_eq!(
            for_each_anchor(unterminated, |_| Some(())),
            Err(TlsError::InvalidCa)
        );
    }
}
