//! RSA signature verification (RFC 8017) without allocation: the public operation
//! `s^e mod n` with our Montgomery multiplication on fixed arrays (`montgomery.rs`),
//! then EMSA-PKCS1-v1_5 (§9.2, DigestInfo with `NULL` parameters)
//! or EMSA-PSS with MGF1 (§9.1.2).
//!
//! Keys of 2048 to 4096 bits with a public exponent of at most 32 bits are accepted;
//! others are [`TlsError::UnsupportedAlgorithm`]. Only public data is processed, so the
//! exponentiation is plain square-and-multiply (not constant time) with no precomputed
//! table. Measured on qemu-m4f (crate README): one RSA-4096 verification takes ≈ 10.6 M
//! instructions and 9 KB of stack.

use super::algorithm::{Hash, SignatureAlgorithm};
use super::error::TlsError;
use super::montgomery::{Modulus, from_be_bytes, to_be_bytes};
use super::signature::digest;

/// The smallest modulus accepted, in bytes (2048 bits).
const MIN_MODULUS: usize = 256;
/// The largest modulus accepted, in bytes (4096 bits).
const MAX_MODULUS: usize = 512;

/// The DER `DigestInfo` header before the digest (RFC 8017 §9.2, note 1).
fn digest_info_prefix(hash: Hash) -> &'static [u8] {
    match hash {
        Hash::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        Hash::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        Hash::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// `signature^exponent mod modulus`, written big-endian into `out` (same length as
/// `modulus`). `modulus` must be odd and `signature` below it.
fn public_op(
    modulus: &[u8],
    exponent: u32,
    signature: &[u8],
    out: &mut [u8],
) -> Result<(), TlsError> {
    let n = Modulus::new(modulus).ok_or(TlsError::BadCertificate)?;
    let s = from_be_bytes(signature).ok_or(TlsError::BadSignature)?;
    to_be_bytes(&n.pow(&s, exponent), out);
    Ok(())
}

/// Checks an EMSA-PKCS1-v1_5 encoded message `em` against `hash` of the message.
fn check_pkcs1(em: &[u8], hash: Hash, message_hash: &[u8]) -> Result<(), TlsError> {
    let prefix = digest_info_prefix(hash);
    let t_len = prefix.len() + message_hash.len();
    let ps_end = em
        .len()
        .checked_sub(t_len + 1)
        .ok_or(TlsError::BadSignature)?;
    let (head, t) = em.split_at(ps_end);
    let ok = head.len() >= 10
        && head.first() == Some(&0)
        && head.get(1) == Some(&1)
        && head.iter().skip(2).all(|&b| b == 0xFF)
        && t.first() == Some(&0)
        && t.get(1..=prefix.len()) == Some(prefix)
        && t.get(1 + prefix.len()..) == Some(message_hash);
    if ok {
        Ok(())
    } else {
        Err(TlsError::BadSignature)
    }
}

/// Checks an EMSA-PSS encoded message (RFC 8017 §9.1.2). `em` is the `k`-byte output
/// of the public operation and `mod_bits` the exact modulus size.
fn check_pss(
    em: &mut [u8],
    mod_bits: usize,
    hash: Hash,
    salt_len: usize,
    message_hash: &[u8],
) -> Result<(), TlsError> {
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    // When emLen < k the leading octet of the k-octet output must be zero.
    let skip = em.len() - em_len;
    if em
        .get(..skip)
        .is_some_and(|lead| lead.iter().any(|&b| b != 0))
    {
        return Err(TlsError::BadSignature);
    }
    let em = em.get_mut(skip..).ok_or(TlsError::BadSignature)?;
    let h_len = hash.len();
    if em_len < h_len + salt_len + 2 || em.last() != Some(&0xBC) {
        return Err(TlsError::BadSignature);
    }
    let db_len = em_len - h_len - 1;
    let (db, rest) = em.split_at_mut(db_len);
    let h = rest.get(..h_len).ok_or(TlsError::BadSignature)?;
    let top_mask = 0xFFu8 >> (8 * em_len - em_bits);
    if db.first().is_some_and(|&b| b & !top_mask != 0) {
        return Err(TlsError::BadSignature);
    }
    // DB = maskedDB xor MGF1(H, dbLen).
    for (counter, block) in (0u32..).zip(db.chunks_mut(h_len)) {
        let mask = digest(hash, &[h, &counter.to_be_bytes()])?;
        for (b, m) in block.iter_mut().zip(mask.as_slice()) {
            *b ^= m;
        }
    }
    if let Some(first) = db.first_mut() {
        *first &= top_mask;
    }
    let one = db_len - salt_len - 1;
    let (padding, tail) = db.split_at(one);
    if padding.iter().any(|&b| b != 0) || tail.first() != Some(&1) {
        return Err(TlsError::BadSignature);
    }
    let salt = tail.get(1..).ok_or(TlsError::BadSignature)?;
    let expected = digest(hash, &[&[0u8; 8], message_hash, salt])?;
    if expected.as_slice() == h {
        Ok(())
    } else {
        Err(TlsError::BadSignature)
    }
}

/// Verifies an RSA `signature` over `signed` with the key (`modulus`, `exponent`).
///
/// # Errors
/// [`TlsError::UnsupportedAlgorithm`] for a key size or exponent outside the supported
/// range or an ECDSA algorithm, [`TlsError::BadCertificate`] for an even modulus,
/// [`TlsError::BadSignature`] when the signature does not verify.
// Not inlined: its big-integer temporaries would otherwise enlarge the stack frame of
// every caller, also on handshakes that never use this algorithm.
#[inline(never)]
pub(crate) fn verify(
    modulus: &[u8],
    exponent: &[u8],
    algorithm: SignatureAlgorithm,
    signed: &[u8],
    signature: &[u8],
) -> Result<(), TlsError> {
    let hash = match algorithm {
        SignatureAlgorithm::RsaPkcs1(hash) | SignatureAlgorithm::RsaPss { hash, .. } => hash,
        SignatureAlgorithm::Ecdsa(_) => return Err(TlsError::BadSignature),
    };
    let k = modulus.len();
    if !(MIN_MODULUS..=MAX_MODULUS).contains(&k) || exponent.len() > 4 {
        return Err(TlsError::UnsupportedAlgorithm);
    }
    let e = exponent
        .iter()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    let (Some(&lead), Some(&low)) = (modulus.first(), modulus.last()) else {
        return Err(TlsError::BadCertificate);
    };
    if low & 1 == 0 || lead == 0 {
        return Err(TlsError::BadCertificate);
    }
    if e < 3 || e & 1 == 0 {
        return Err(TlsError::UnsupportedAlgorithm);
    }
    // RFC 8017 §8.2.2 step 1 and §5.2.2: the signature has the modulus length and is
    // smaller than the modulus (equal-length big-endian strings compare as integers).
    if signature.len() != k || signature >= modulus {
        return Err(TlsError::BadSignature);
    }
    let mut em_buf = [0u8; MAX_MODULUS];
    let em = em_buf.get_mut(..k).ok_or(TlsError::UnsupportedAlgorithm)?;
    public_op(modulus, e, signature, em)?;
    let message_hash = digest(hash, &[signed])?;
    match algorithm {
        SignatureAlgorithm::RsaPss { salt_len, .. } => {
            let mod_bits = 8 * k - lead.leading_zeros() as usize;
            check_pss(
                em,
                mod_bits,
                hash,
                usize::from(salt_len),
                message_hash.as_slice(),
            )
        }
        _ => check_pkcs1(em, hash, message_hash.as_slice()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS1: SignatureAlgorithm = SignatureAlgorithm::RsaPkcs1(Hash::Sha256);

    /// An odd 2048-bit "modulus" (not a real key: only shapes are checked here).
    fn modulus() -> [u8; 256] {
        let mut n = [0xC5u8; 256];
        n[255] = 0x01;
        n
    }

    #[test]
    fn key_sizes_outside_2048_to_4096_bits_are_unsupported() {
        let small = [0xC5u8; 255];
        let large = [0xC5u8; 513];
        for n in [&small[..], &large[..]] {
            let sig = [1u8; 513];
            let sig = &sig[..n.len()];
            assert_eq!(
                verify(n, &[1, 0, 1], PKCS1, b"m", sig),
                Err(TlsError::UnsupportedAlgorithm)
            );
        }
    }

    #[test]
    fn exponents_that_are_even_tiny_or_wide_are_unsupported() {
        let n = modulus();
        let sig = [1u8; 256];
        for e in [&[1u8][..], &[2], &[1, 0, 0], &[1, 0, 0, 0, 1]] {
            assert_eq!(
                verify(&n, e, PKCS1, b"m", &sig),
                Err(TlsError::UnsupportedAlgorithm),
                "{e:?}"
            );
        }
    }

    #[test]
    fn even_modulus_is_a_bad_certificate() {
        let mut n = modulus();
        n[255] = 0x02;
        assert_eq!(
            verify(&n, &[1, 0, 1], PKCS1, b"m", &[1u8; 256]),
            Err(TlsError::BadCertificate)
        );
    }

    #[test]
    fn signatures_of_the_wrong_length_or_not_below_the_modulus_are_bad() {
        let n = modulus();
        for sig in [&[1u8; 255][..], &[1u8; 257], &n, &[0xFF; 256]] {
            assert_eq!(
                verify(&n, &[1, 0, 1], PKCS1, b"m", sig),
                Err(TlsError::BadSignature)
            );
        }
    }

    #[test]
    fn garbage_signatures_fail_both_paddings_without_panicking() {
        let n = modulus();
        let pss = SignatureAlgorithm::RsaPss {
            hash: Hash::Sha512,
            salt_len: 200,
        };
        for (i, alg) in [PKCS1, pss].into_iter().enumerate() {
            let sig = [(i as u8) + 2; 256];
            assert_eq!(
                verify(&n, &[1, 0, 1], alg, b"m", &sig),
                Err(TlsError::BadSignature)
            );
        }
    }

    #[test]
    fn ecdsa_algorithms_never_verify_with_rsa_keys() {
        assert_eq!(
            verify(
                &modulus(),
                &[3],
                SignatureAlgorithm::Ecdsa(Hash::Sha256),
                b"m",
                &[1u8; 256]
            ),
            Err(TlsError::BadSignature)
        );
    }
}
