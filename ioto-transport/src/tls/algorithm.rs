//! Signature algorithm identifiers and subject public keys (RFC 5280 §4.1.1.2 and
//! §4.1.2.7, RFC 5480 for ECDSA, RFC 4055 / RFC 8017 for RSA), parsed from DER into
//! the forms the verifier implements. An algorithm that is well-formed but not
//! implemented parses to `None` / [`PublicKey::Unsupported`], so the verifier can report
//! [`TlsError::UnsupportedAlgorithm`]; malformed DER is [`TlsError::BadCertificate`].

use super::asn1::{AnyRef, BitStringRef, Decode, ObjectIdentifier, SliceReader, Tag, UintRef};

use super::error::TlsError;
use super::x509::{bad, expect, expect_octet, finish, next_tag_is};

/// `ecdsa-with-SHA256` (RFC 5758).
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// `ecdsa-with-SHA384` (RFC 5758).
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// `ecdsa-with-SHA512` (RFC 5758).
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
/// `sha256WithRSAEncryption` (RFC 4055).
const RSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// `sha384WithRSAEncryption` (RFC 4055).
const RSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
/// `sha512WithRSAEncryption` (RFC 4055).
const RSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
/// `id-RSASSA-PSS` (RFC 4055).
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// `id-mgf1` (RFC 4055).
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
/// `id-sha256`.
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// `id-sha384`.
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
/// `id-sha512`.
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
/// `id-ecPublicKey` (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `rsaEncryption` (RFC 8017).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `prime256v1` / `secp256r1` (RFC 5480).
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1` (RFC 5480).
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// A message digest used by a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    /// The digest length in bytes.
    pub(crate) const fn len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            o if o == SHA256 => Some(Self::Sha256),
            o if o == SHA384 => Some(Self::Sha384),
            o if o == SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// A signature algorithm this verifier implements (whether the key type matches is
/// checked when verifying).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignatureAlgorithm {
    /// ECDSA (P-256 or P-384 key) over the given digest; a DER `ECDSA-Sig-Value`.
    Ecdsa(Hash),
    /// RSASSA-PKCS1-v1_5 over the given digest.
    RsaPkcs1(Hash),
    /// RSASSA-PSS with MGF1 over the same digest, trailer field 1.
    RsaPss {
        /// The digest of the message and of MGF1.
        hash: Hash,
        /// The salt length in bytes.
        salt_len: u16,
    },
}

/// A subject public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PublicKey<'a> {
    /// An uncompressed or compressed SEC1 P-256 point.
    P256(&'a [u8]),
    /// An uncompressed or compressed SEC1 P-384 point.
    P384(&'a [u8]),
    /// An RSA public key (the big-endian integers without leading zeros; their sizes
    /// are checked when verifying).
    Rsa {
        /// The modulus `n`.
        modulus: &'a [u8],
        /// The public exponent `e`.
        exponent: &'a [u8],
    },
    /// A key of an algorithm or curve that is not implemented (Ed25519, P-521, an
    /// RSA-PSS-only key...).
    Unsupported,
}

/// Reads an optional `NULL` parameter and checks that nothing follows.
fn null_or_absent(r: &mut SliceReader<'_>) -> Result<bool, TlsError> {
    if next_tag_is(r, 0x05) {
        expect(r, Tag::Null)?;
    }
    Ok(r.is_finished())
}

/// Parses a `HashAlgorithm` (an `AlgorithmIdentifier` with absent or `NULL`
/// parameters); `None` if not implemented.
fn hash_algorithm(any: AnyRef<'_>) -> Result<Option<Hash>, TlsError> {
    let mut r = SliceReader::new(any.value()).map_err(bad)?;
    let oid: ObjectIdentifier = r.decode().map_err(bad)?;
    let well_formed = null_or_absent(&mut r)?;
    Ok(Hash::from_oid(oid).filter(|_| well_formed))
}

/// Parses `RSASSA-PSS-params` (RFC 4055 §3.1). The SHA-1 defaults, a mask generation
/// other than MGF1 with the message digest and a trailer field other than 1 are not
/// implemented (`None`).
fn pss_params(r: &mut SliceReader<'_>) -> Result<Option<SignatureAlgorithm>, TlsError> {
    let params = expect(r, Tag::Sequence)?;
    finish(r)?;
    let mut p = SliceReader::new(params.value()).map_err(bad)?;
    if !next_tag_is(&p, 0xA0) {
        return Ok(None); // SHA-1
    }
    let hash_wrapper = expect_octet(&mut p, 0xA0)?;
    let hash = {
        let mut w = SliceReader::new(hash_wrapper.value()).map_err(bad)?;
        let alg = expect(&mut w, Tag::Sequence)?;
        finish(&w)?;
        hash_algorithm(alg)?
    };
    let Some(hash) = hash else { return Ok(None) };
    if !next_tag_is(&p, 0xA1) {
        return Ok(None); // MGF1 with SHA-1
    }
    let mgf_wrapper = expect_octet(&mut p, 0xA1)?;
    let mut w = SliceReader::new(mgf_wrapper.value()).map_err(bad)?;
    let mgf = expect(&mut w, Tag::Sequence)?;
    finish(&w)?;
    let mut m = SliceReader::new(mgf.value()).map_err(bad)?;
    let mgf_oid: ObjectIdentifier = m.decode().map_err(bad)?;
    let mgf_hash = hash_algorithm(expect(&mut m, Tag::Sequence)?)?;
    finish(&m)?;
    if mgf_oid != MGF1 || mgf_hash != Some(hash) {
        return Ok(None);
    }
    let mut salt_len = 20u16;
    if next_tag_is(&p, 0xA2) {
        let wrapper = expect_octet(&mut p, 0xA2)?;
        salt_len = Decode::from_der(wrapper.value()).map_err(bad)?;
    }
    if next_tag_is(&p, 0xA3) {
        let wrapper = expect_octet(&mut p, 0xA3)?;
        let trailer: u8 = Decode::from_der(wrapper.value()).map_err(bad)?;
        if trailer != 1 {
            return Ok(None);
        }
    }
    finish(&p)?;
    Ok(Some(SignatureAlgorithm::RsaPss { hash, salt_len }))
}

/// Signature algorithms whose identifier fixes the digest: `(oid, is ECDSA, digest)`;
/// the others are PKCS#1 v1.5.
const FIXED_DIGEST: [(ObjectIdentifier, bool, Hash); 6] = [
    (ECDSA_WITH_SHA256, true, Hash::Sha256),
    (ECDSA_WITH_SHA384, true, Hash::Sha384),
    (ECDSA_WITH_SHA512, true, Hash::Sha512),
    (RSA_WITH_SHA256, false, Hash::Sha256),
    (RSA_WITH_SHA384, false, Hash::Sha384),
    (RSA_WITH_SHA512, false, Hash::Sha512),
];

/// Parses an `AlgorithmIdentifier` of a signature; `None` if not implemented.
pub(crate) fn signature_algorithm(any: AnyRef<'_>) -> Result<Option<SignatureAlgorithm>, TlsError> {
    let mut r = SliceReader::new(any.value()).map_err(bad)?;
    let oid: ObjectIdentifier = r.decode().map_err(bad)?;
    let Some(&(_, ecdsa, hash)) = FIXED_DIGEST.iter().find(|(known, ..)| *known == oid) else {
        return if oid == RSASSA_PSS {
            pss_params(&mut r)
        } else {
            Ok(None)
        };
    };
    Ok(if ecdsa {
        // ECDSA identifiers have absent parameters (RFC 5758 §3.2).
        r.is_finished().then_some(SignatureAlgorithm::Ecdsa(hash))
    } else {
        // NULL parameters (RFC 4055 §5); absent ones are tolerated as by most stacks.
        null_or_absent(&mut r)?.then_some(SignatureAlgorithm::RsaPkcs1(hash))
    })
}

/// Parses an `RSAPublicKey` (RFC 8017 §A.1.1) from the subject key bits.
fn rsa_public_key(bits: &[u8]) -> Result<PublicKey<'_>, TlsError> {
    let mut r = SliceReader::new(bits).map_err(bad)?;
    let seq = expect(&mut r, Tag::Sequence)?;
    finish(&r)?;
    let mut s = SliceReader::new(seq.value()).map_err(bad)?;
    let modulus: UintRef<'_> = s.decode().map_err(bad)?;
    let exponent: UintRef<'_> = s.decode().map_err(bad)?;
    finish(&s)?;
    Ok(PublicKey::Rsa {
        modulus: modulus.as_bytes(),
        exponent: exponent.as_bytes(),
    })
}

/// Parses a `SubjectPublicKeyInfo`.
pub(crate) fn public_key<'a>(any: AnyRef<'a>) -> Result<PublicKey<'a>, TlsError> {
    let mut r = SliceReader::new(any.value()).map_err(bad)?;
    let alg = expect(&mut r, Tag::Sequence)?;
    let bits: BitStringRef<'a> = r.decode().map_err(bad)?;
    finish(&r)?;
    let key = bits.as_bytes().ok_or(TlsError::BadCertificate)?;
    let mut a = SliceReader::new(alg.value()).map_err(bad)?;
    let oid: ObjectIdentifier = a.decode().map_err(bad)?;
    if oid == RSA_ENCRYPTION {
        return if null_or_absent(&mut a)? {
            rsa_public_key(key)
        } else {
            Err(TlsError::BadCertificate)
        };
    }
    if oid != EC_PUBLIC_KEY
        || a.is_finished()
        || a.peek_tag().map_err(bad)? != Tag::ObjectIdentifier
    {
        return Ok(PublicKey::Unsupported);
    }
    let curve: ObjectIdentifier = a.decode().map_err(bad)?;
    Ok(match curve {
        c if c == SECP256R1 => PublicKey::P256(key),
        c if c == SECP384R1 => PublicKey::P384(key),
        _ => PublicKey::Unsupported,
    })
}
