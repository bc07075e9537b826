//! The TLS 1.3 record layer (RFC 8446 §5), sans I/O: record headers, the record size
//! limits, and record protection with AES-128-GCM — the per-record nonce is the
//! traffic IV XOR the 64-bit sequence number (§5.3), the additional data the record
//! header, and the inner plaintext ends with the real content type and optional zero
//! padding (§5.2).

use aes_gcm::{AeadInPlace as _, Aes128Gcm, KeyInit as _};

use super::alert::{self, Fatal};
use super::error::TlsError;
use super::schedule::{Secret, traffic_key, updated};

/// Content type `change_cipher_spec` (only the middlebox-compatibility record).
pub(crate) const CHANGE_CIPHER_SPEC: u8 = 20;
/// Content type `alert`.
pub(crate) const ALERT: u8 = 21;
/// Content type `handshake`.
pub(crate) const HANDSHAKE: u8 = 22;
/// Content type `application_data` (also the outer type of every protected record).
pub(crate) const APPLICATION_DATA: u8 = 23;
/// The record header: type, legacy version, length.
pub(crate) const HEADER: usize = 5;
/// The AES-GCM tag.
pub(crate) const TAG: usize = 16;
/// The largest plaintext fragment (2^14).
pub(crate) const MAX_PLAINTEXT: usize = 16_384;
/// What protection adds to a fragment when sending: the inner content type and the tag.
pub(crate) const OVERHEAD: usize = HEADER + 1 + TAG;

/// Parses a record header; `limit` is the largest body accepted (2^14 + 256 for a
/// protected record, less after max_fragment_length). A longer record is
/// `record_overflow`.
///
/// # Errors
/// An unknown content type (`unexpected_message`), a length over `limit`.
pub(crate) fn parse_header(header: &[u8; HEADER], limit: usize) -> Result<(u8, usize), Fatal> {
    let [kind, major, _, hi, lo] = *header;
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if !(CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&kind) || major != 3 {
        return Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE));
    }
    if len > limit {
        return Err(Fatal::protocol(alert::RECORD_OVERFLOW));
    }
    Ok((kind, len))
}

/// Writes the header of a record of type `kind` with a `len`-byte body into `out`.
pub(crate) fn header(kind: u8, len: usize, out: &mut [u8]) {
    let [hi, lo] = (len as u16).to_be_bytes();
    // The ClientHello goes out as TLS 1.0 (legacy_record_version, RFC 8446 §5.1).
    let minor = if kind == HANDSHAKE { 1 } else { 3 };
    if let Some(h) = out.get_mut(..HEADER) {
        h.copy_from_slice(&[kind, 3, minor, hi, lo]);
    }
}

/// One direction's record protection: the AEAD key, the IV, the sequence number and
/// the traffic secret (for KeyUpdate).
pub(crate) struct Cipher {
    aead: Aes128Gcm,
    iv: [u8; 12],
    seq: u64,
    secret: Secret,
}

impl Cipher {
    /// Protection with the keys of the traffic secret `secret`, from sequence number 0.
    pub(crate) fn new(secret: &Secret) -> Self {
        let (key, iv) = traffic_key(secret);
        Self {
            aead: Aes128Gcm::new(&key.into()),
            iv,
            seq: 0,
            secret: *secret,
        }
    }

    /// Moves to the next traffic secret (RFC 8446 §7.2).
    pub(crate) fn update(&mut self) {
        *self = Self::new(&updated(&self.secret));
    }

    /// The next record's nonce; the sequence number must not wrap (§5.3).
    fn nonce(&mut self) -> Result<[u8; 12], Fatal> {
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq = self
            .seq
            .checked_add(1)
            .ok_or(Fatal::protocol(alert::INTERNAL_ERROR))?;
        Ok(nonce)
    }

    /// Protects the `len` content bytes of type `kind` at `record[HEADER..]`: appends
    /// the type and the tag and writes the header. Returns the record's length.
    ///
    /// # Errors
    /// [`TlsError::BufferTooSmall`] when `record` has no room for the overhead.
    pub(crate) fn seal(&mut self, kind: u8, record: &mut [u8], len: usize) -> Result<usize, Fatal> {
        let body = len + 1 + TAG;
        if record.len() < HEADER + body {
            return Err(TlsError::BufferTooSmall.into());
        }
        let (head, rest) = record.split_at_mut(HEADER);
        header(APPLICATION_DATA, body, head);
        let (inner, tail) = rest.split_at_mut(len + 1);
        if let Some(last) = inner.last_mut() {
            *last = kind;
        }
        let nonce = self.nonce()?;
        let tag = self
            .aead
            .encrypt_in_place_detached(&nonce.into(), head, inner)
            .map_err(|_| Fatal::protocol(alert::INTERNAL_ERROR))?;
        if let Some(t) = tail.get_mut(..TAG) {
            t.copy_from_slice(&tag);
        }
        Ok(HEADER + body)
    }

    /// Decrypts the protected record `body` (with its `header`) in place. Returns the
    /// inner content type and the content length (the content starts at `body[0]`).
    ///
    /// # Errors
    /// `bad_record_mac` when it does not decrypt, `record_overflow` for more than 2^14
    /// bytes of content, `unexpected_message` for a record that is all padding.
    pub(crate) fn open(
        &mut self,
        header: &[u8; HEADER],
        body: &mut [u8],
    ) -> Result<(u8, usize), Fatal> {
        let bad_mac = Fatal::protocol(alert::BAD_RECORD_MAC);
        let split = body.len().checked_sub(TAG).ok_or(bad_mac)?;
        let (inner, tag) = body.split_at_mut(split);
        let tag: [u8; TAG] = (&*tag).try_into().map_err(|_| bad_mac)?;
        let nonce = self.nonce()?;
        self.aead
            .decrypt_in_place_detached(&nonce.into(), header, inner, &tag.into())
            .map_err(|_| bad_mac)?;
        let end = inner
            .iter()
            .rposition(|b| *b != 0)
            .ok_or(Fatal::protocol(alert::UNEXPECTED_MESSAGE))?;
        if end > MAX_PLAINTEXT {
            return Err(Fatal::protocol(alert::RECORD_OVERFLOW));
        }
        Ok((inner.get(end).copied().unwrap_or(0), end))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::schedule::tests::unhex;
    use super::*;

    #[test]
    fn seal_then_open_round_trips_with_padding_stripped() {
        let secret = [7u8; 32];
        let (mut tx, mut rx) = (Cipher::new(&secret), Cipher::new(&secret));
        for round in 0..3 {
            let mut record = [0u8; 64];
            record[HEADER..HEADER + 5].copy_from_slice(b"hello");
            let n = tx.seal(APPLICATION_DATA, &mut record, 5).unwrap();
            assert_eq!(n, HEADER + 5 + 1 + TAG, "round {round}");
            let header: [u8; HEADER] = record[..HEADER].try_into().unwrap();
            let (kind, len) = rx.open(&header, &mut record[HEADER..n]).unwrap();
            assert_eq!(
                (kind, &record[HEADER..HEADER + len]),
                (APPLICATION_DATA, &b"hello"[..])
            );
        }
    }

    #[test]
    fn a_flipped_bit_or_a_replayed_record_is_bad_record_mac() {
        let secret = [9u8; 32];
        let mut tx = Cipher::new(&secret);
        let mut record = [0u8; 40];
        let n = tx.seal(HANDSHAKE, &mut record, 3).unwrap();
        let header: [u8; HEADER] = record[..HEADER].try_into().unwrap();
        let mut flipped = record;
        flipped[HEADER + 1] ^= 1;
        let bad = Err(Fatal::protocol(alert::BAD_RECORD_MAC));
        assert_eq!(
            Cipher::new(&secret).open(&header, &mut flipped[HEADER..n]),
            bad
        );
        let mut rx = Cipher::new(&secret);
        rx.seq = 1;
        assert_eq!(rx.open(&header, &mut record[HEADER..n]), bad);
        assert_eq!(Cipher::new(&secret).open(&header, &mut [0u8; 10]), bad);
    }

    #[test]
    fn headers_over_the_limit_or_of_unknown_type_are_refused() {
        assert_eq!(
            parse_header(&[23, 3, 3, 0x41, 0x00], 16_640),
            Ok((23, 0x4100))
        );
        assert_eq!(
            parse_header(&[23, 3, 3, 0x41, 0x01], 16_640),
            Err(Fatal::protocol(alert::RECORD_OVERFLOW))
        );
        assert_eq!(
            parse_header(&[24, 3, 3, 0, 1], 16_640),
            Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE))
        );
    }

    /// RFC 8448 §3: the client's Finished, protected under the client handshake
    /// traffic key at sequence number 0 (the published record bytes).
    #[test]
    fn rfc8448_client_finished_record() {
        let c_hs = unhex::<32>("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
        let mut record = [0u8; HEADER + 36 + 1 + TAG];
        record[HEADER..HEADER + 4].copy_from_slice(&[0x14, 0, 0, 0x20]);
        record[HEADER + 4..HEADER + 36].copy_from_slice(&unhex::<32>(
            "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61",
        ));
        let n = Cipher::new(&c_hs).seal(HANDSHAKE, &mut record, 36).unwrap();
        assert_eq!(
            record[..n],
            unhex::<58>(
                "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546"
            )
        );
    }
}
