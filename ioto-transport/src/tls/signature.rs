//! Signature verification for certificates and CertificateVerify: ECDSA on P-256
//! ([`super::ecdsa_p256`]), with the `tls-p384` feature also on P-384
//! ([`super::ecdsa_p384`]), and with the `tls-rsa`
//! feature RSASSA-PKCS1-v1_5 and RSASSA-PSS ([`super::rsa`]). The digest is SHA-256;
//! SHA-384 and SHA-512 come with `tls-p384` or `tls-rsa` (their code is ≈ 28 KB on a
//! Cortex-M). Everything else is [`TlsError::UnsupportedAlgorithm`].

use sha2::Sha256;
#[cfg(any(feature = "tls-p384", feature = "tls-rsa"))]
use sha2::{Sha384, Sha512};

use super::algorithm::{Hash, PublicKey, SignatureAlgorithm};
use super::error::TlsError;

/// A message digest of up to 64 bytes (SHA-512).
pub(crate) struct Digest {
    bytes: [u8; 64],
    len: usize,
}

impl Digest {
    /// The digest bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&self.bytes)
    }
}

fn finish_into<D: sha2::Digest>(hasher: D, out: &mut [u8; 64]) -> usize {
    let result = hasher.finalize();
    let n = result.len().min(out.len());
    if let (Some(dst), Some(src)) = (out.get_mut(..n), result.get(..n)) {
        dst.copy_from_slice(src);
    }
    n
}

fn hash_all<D: sha2::Digest>(parts: &[&[u8]], out: &mut [u8; 64]) -> usize {
    let mut hasher = D::new();
    for part in parts {
        hasher.update(part);
    }
    finish_into(hasher, out)
}

/// Hashes the concatenation of `parts` with `hash`.
///
/// # Errors
/// [`TlsError::UnsupportedAlgorithm`] for SHA-384/512 without `tls-p384` or `tls-rsa`.
pub(crate) fn digest(hash: Hash, parts: &[&[u8]]) -> Result<Digest, TlsError> {
    let mut bytes = [0u8; 64];
    let len = match hash {
        Hash::Sha256 => hash_all::<Sha256>(parts, &mut bytes),
        #[cfg(any(feature = "tls-p384", feature = "tls-rsa"))]
        Hash::Sha384 => hash_all::<Sha384>(parts, &mut bytes),
        #[cfg(any(feature = "tls-p384", feature = "tls-rsa"))]
        Hash::Sha512 => hash_all::<Sha512>(parts, &mut bytes),
        #[cfg(not(any(feature = "tls-p384", feature = "tls-rsa")))]
        Hash::Sha384 | Hash::Sha512 => return Err(TlsError::UnsupportedAlgorithm),
    };
    Ok(Digest { bytes, len })
}

/// Verifies `signature` over `signed` made by `key` with `algorithm` (`None`: an
/// algorithm identifier that is not implemented).
///
/// # Errors
/// [`TlsError::UnsupportedAlgorithm`] for an algorithm or key that is not implemented
/// (RSA without `tls-rsa`, P-384 without `tls-p384`, SHA-384/512 without either);
/// [`TlsError::BadCertificate`] for a malformed key;
/// [`TlsError::BadSignature`] when the signature does not verify or does not fit the
/// key type.
pub(crate) fn verify_signature(
    key: PublicKey<'_>,
    algorithm: Option<SignatureAlgorithm>,
    signed: &[u8],
    signature: &[u8],
) -> Result<(), TlsError> {
    let algorithm = algorithm.ok_or(TlsError::UnsupportedAlgorithm)?;
    match (key, algorithm) {
        (PublicKey::Unsupported, _) => Err(TlsError::UnsupportedAlgorithm),
        (PublicKey::P256(point), SignatureAlgorithm::Ecdsa(hash)) => {
            super::ecdsa_p256::verify(point, digest(hash, &[signed])?.as_slice(), signature)
        }
        #[cfg(feature = "tls-p384")]
        (PublicKey::P384(point), SignatureAlgorithm::Ecdsa(hash)) => {
            super::ecdsa_p384::verify(point, digest(hash, &[signed])?.as_slice(), signature)
        }
        #[cfg(not(feature = "tls-p384"))]
        (PublicKey::P384(_), _) => Err(TlsError::UnsupportedAlgorithm),
        #[cfg(feature = "tls-rsa")]
        (PublicKey::Rsa { modulus, exponent }, algorithm) => {
            super::rsa::verify(modulus, exponent, algorithm, signed, signature)
        }
        #[cfg(not(feature = "tls-rsa"))]
        (PublicKey::Rsa { .. }, _) => Err(TlsError::UnsupportedAlgorithm),
        #[cfg(not(feature = "tls-rsa"))]
        (_, SignatureAlgorithm::RsaPkcs1(_) | SignatureAlgorithm::RsaPss { .. }) => {
            Err(TlsError::UnsupportedAlgorithm)
        }
        // An RSA signature algorithm with an EC key: it cannot have been made by it.
        #[cfg(feature = "tls-rsa")]
        (PublicKey::P256(_), _) => Err(TlsError::BadSignature),
        #[cfg(all(feature = "tls-rsa", feature = "tls-p384"))]
        (PublicKey::P384(_), _) => Err(TlsError::BadSignature),
    }
}
