//! Server-certificate verification: path building from the end-entity certificate to
//! the configured trust anchor, signatures, validity times, CA/usage constraints,
//! hostname, and the handshake's CertificateVerify signature.
//!
//! The handshake ([`super::handshake`]) hands it the Certificate message's chain and
//! the CertificateVerify signature.

use super::alert::{self, Fatal};
use super::algorithm::{Hash, PublicKey, SignatureAlgorithm};
use super::error::TlsError;
use super::name::{ServerName, verify_name};
use super::pem::for_each_anchor;
use super::signature::verify_signature;
use super::x509::{Certificate, KEY_USAGE_DIGITAL_SIGNATURE, KEY_USAGE_KEY_CERT_SIGN};

/// The most intermediate certificates accepted between the server certificate and the
/// configured CA.
pub const MAX_CHAIN_DEPTH: usize = 4;

/// Room for the end-entity public key kept between the Certificate and the
/// CertificateVerify messages: an uncompressed SEC1 P-256 point, with `tls-p384` a
/// P-384 one, with `tls-rsa` a 4096-bit RSA modulus.
#[cfg(not(any(feature = "tls-rsa", feature = "tls-p384")))]
const MAX_LEAF_KEY: usize = 65;
#[cfg(all(not(feature = "tls-rsa"), feature = "tls-p384"))]
const MAX_LEAF_KEY: usize = 97;
#[cfg(feature = "tls-rsa")]
const MAX_LEAF_KEY: usize = 512;

/// The kind of the stored end-entity key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LeafKind {
    P256,
    #[cfg(feature = "tls-p384")]
    P384,
    /// RSA with this public exponent (the modulus is the stored key).
    #[cfg(feature = "tls-rsa")]
    Rsa([u8; 4], usize),
}

/// The end-entity public key, copied out of the record buffer.
struct LeafKey {
    kind: LeafKind,
    bytes: [u8; MAX_LEAF_KEY],
    len: usize,
}

impl LeafKey {
    /// Copies `key`; keys that cannot be used for CertificateVerify (or whose
    /// algorithm is not built in) are [`TlsError::UnsupportedAlgorithm`].
    fn store(key: PublicKey<'_>) -> Result<Self, TlsError> {
        let (kind, material) = match key {
            PublicKey::P256(point) => (LeafKind::P256, point),
            #[cfg(feature = "tls-p384")]
            PublicKey::P384(point) => (LeafKind::P384, point),
            #[cfg(feature = "tls-rsa")]
            PublicKey::Rsa { modulus, exponent } => {
                let mut e = [0u8; 4];
                e.get_mut(..exponent.len())
                    .ok_or(TlsError::UnsupportedAlgorithm)?
                    .copy_from_slice(exponent);
                (LeafKind::Rsa(e, exponent.len()), modulus)
            }
            _ => return Err(TlsError::UnsupportedAlgorithm),
        };
        let mut bytes = [0u8; MAX_LEAF_KEY];
        bytes
            .get_mut(..material.len())
            .ok_or(TlsError::UnsupportedAlgorithm)?
            .copy_from_slice(material);
        Ok(Self {
            kind,
            bytes,
            len: material.len(),
        })
    }

    fn public_key(&self) -> PublicKey<'_> {
        let material = self.bytes.get(..self.len).unwrap_or(&[]);
        match &self.kind {
            LeafKind::P256 => PublicKey::P256(material),
            #[cfg(feature = "tls-p384")]
            LeafKind::P384 => PublicKey::P384(material),
            #[cfg(feature = "tls-rsa")]
            LeafKind::Rsa(e, len) => PublicKey::Rsa {
                modulus: material,
                exponent: e.get(..*len).unwrap_or(&[]),
            },
        }
    }
}

/// The certificate algorithm a TLS 1.3 CertificateVerify `scheme` means for `key`
/// (RFC 8446 §4.2.3: the ECDSA schemes fix the curve, PSS salts are the digest length).
fn certificate_verify_algorithm(
    scheme: u16,
    key: PublicKey<'_>,
) -> Result<SignatureAlgorithm, TlsError> {
    let pss = |hash: Hash| SignatureAlgorithm::RsaPss {
        hash,
        salt_len: hash.len() as u16,
    };
    match (scheme, key) {
        // ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384.
        (0x0403, PublicKey::P256(_)) => Ok(SignatureAlgorithm::Ecdsa(Hash::Sha256)),
        (0x0503, PublicKey::P384(_)) => Ok(SignatureAlgorithm::Ecdsa(Hash::Sha384)),
        // rsa_pss_rsae_sha256/384/512.
        (0x0804, PublicKey::Rsa { .. }) => Ok(pss(Hash::Sha256)),
        (0x0805, PublicKey::Rsa { .. }) => Ok(pss(Hash::Sha384)),
        (0x0806, PublicKey::Rsa { .. }) => Ok(pss(Hash::Sha512)),
        _ => Err(TlsError::UnsupportedAlgorithm),
    }
}

/// The TLS 1.3 CertificateVerify context string for servers (RFC 8446 §4.4.3).
const SERVER_VERIFY_CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify\x00";

/// Checks `cert`'s validity window against `now` (Unix seconds).
fn check_time(cert: &Certificate<'_>, now: u64) -> Result<(), TlsError> {
    if now < cert.not_before {
        Err(TlsError::NotYetValid)
    } else if now > cert.not_after {
        Err(TlsError::Expired)
    } else {
        Ok(())
    }
}

/// Checks that `issuer` may issue certificates at `depth` intermediates below it.
fn check_issuer(issuer: &Certificate<'_>, below: usize) -> Result<(), TlsError> {
    let may_sign = issuer
        .key_usage
        .is_none_or(|ku| ku & KEY_USAGE_KEY_CERT_SIGN != 0);
    if !issuer.is_ca || !may_sign {
        return Err(TlsError::BadCertificate);
    }
    match issuer.path_len {
        Some(limit) if below > usize::from(limit) => Err(TlsError::ChainTooLong),
        _ => Ok(()),
    }
}

/// Checks the end-entity certificate's own constraints (not its issuer).
fn check_end_entity(leaf: &Certificate<'_>) -> Result<(), TlsError> {
    let usable = leaf
        .key_usage
        .is_none_or(|ku| ku & KEY_USAGE_DIGITAL_SIGNATURE != 0);
    if leaf.is_ca || !usable || leaf.server_auth == Some(false) {
        return Err(TlsError::BadCertificate);
    }
    Ok(())
}

/// If `anchor_der` is a trust anchor whose subject is `cert`'s issuer, verifies the
/// signature. `None` when the names differ (or the anchor does not parse).
fn verify_by_anchor(anchor_der: &[u8], cert: &Certificate<'_>) -> Option<Result<(), TlsError>> {
    // A trust anchor is its name and key (RFC 5280 §6.1.1 (d)): its own validity and
    // extensions are not checked, as in webpki and most TLS stacks.
    let anchor = Certificate::from_der(anchor_der).ok()?;
    (anchor.subject == cert.issuer).then(|| {
        verify_signature(
            anchor.public_key,
            cert.signature_algorithm,
            cert.tbs,
            cert.signature,
        )
    })
}

/// Whether a trust anchor in `ca` issued `cert`: `Ok(true)` when one with `cert`'s
/// issuer name verifies its signature. Every anchor with that name is tried (two roots
/// may share a name, e.g. across a key rollover); when names match but no signature
/// verifies, the first such anchor's error is kept in `mismatch`.
fn issued_by_anchor(
    ca: &[u8],
    cert: &Certificate<'_>,
    mismatch: &mut Option<TlsError>,
) -> Result<bool, TlsError> {
    let found = for_each_anchor(ca, |anchor| match verify_by_anchor(anchor, cert) {
        Some(Ok(())) => Some(()),
        Some(Err(e)) => {
            mismatch.get_or_insert(e);
            None
        }
        None => None,
    })?;
    Ok(found.is_some())
}

/// Finds the issuer of `current` among the certificates the server sent after the
/// end-entity certificate (in any order), `below` intermediates above the end entity:
/// the first candidate with the right subject that may issue, is valid at `now` and
/// whose key verifies `current`'s signature. Certificates that do not parse are
/// skipped (an unused extra certificate must not fail the chain), and so are
/// candidates that fail a check when another one passes.
///
/// `Err` with the first candidate's failure, or the first parse error when no
/// candidate had the right name, or `None` when neither happened.
fn find_issuer<'c>(
    entries: &[&'c [u8]],
    current: &Certificate<'_>,
    below: usize,
    now: u64,
) -> Result<Certificate<'c>, Option<TlsError>> {
    let mut candidate_error = None;
    let mut parse_error = None;
    for der in entries.iter().skip(1) {
        let candidate = match Certificate::from_der(der) {
            Ok(c) => c,
            Err(e) => {
                parse_error.get_or_insert(e);
                continue;
            }
        };
        if candidate.subject != current.issuer || candidate.tbs == current.tbs {
            continue;
        }
        let checked = check_issuer(&candidate, below)
            .and_then(|()| check_time(&candidate, now))
            .and_then(|()| {
                verify_signature(
                    candidate.public_key,
                    current.signature_algorithm,
                    current.tbs,
                    current.signature,
                )
            });
        match checked {
            Ok(()) => return Ok(candidate),
            Err(e) => {
                candidate_error.get_or_insert(e);
            }
        }
    }
    Err(candidate_error.or(parse_error))
}

/// Validates the chain `entries` (end-entity first, then intermediates in any order)
/// up to one of the anchors in `ca`, and checks `name` and `now`.
/// Returns the end-entity certificate.
pub(crate) fn verify_chain<'c>(
    ca: &[u8],
    entries: &[&'c [u8]],
    name: &ServerName<'_>,
    now: u64,
) -> Result<Certificate<'c>, TlsError> {
    let leaf_der = entries.first().ok_or(TlsError::MissingCertificate)?;
    let leaf = Certificate::from_der(leaf_der)?;
    check_end_entity(&leaf)?;
    check_time(&leaf, now)?;
    verify_name(leaf.subject_alt_names, name)?;

    let mut current = leaf;
    for below in 0..=MAX_CHAIN_DEPTH {
        let mut anchor_mismatch = None;
        if issued_by_anchor(ca, &current, &mut anchor_mismatch)? {
            return Ok(leaf);
        }
        if below == MAX_CHAIN_DEPTH {
            break;
        }
        current = match find_issuer(entries, &current, below, now) {
            Ok(issuer) => issuer,
            // A trust anchor has the issuer's name but not its key: a bad signature
            // (an impostor) rather than an unknown CA.
            Err(reason) => {
                return Err(anchor_mismatch.or(reason).unwrap_or(TlsError::UnknownCa));
            }
        };
    }
    Err(TlsError::ChainTooLong)
}

/// The certificate verifier of one handshake: what to trust and whom to expect, and
/// the end-entity key between Certificate and CertificateVerify.
pub(crate) struct Verifier<'a> {
    ca: &'a [u8],
    name: ServerName<'a>,
    now: u64,
    /// The end-entity key, kept for CertificateVerify.
    leaf_key: Option<LeafKey>,
}

impl<'a> Verifier<'a> {
    /// A verifier for chains to an anchor in `ca`, for `name`, at `now`.
    pub(crate) fn new(ca: &'a [u8], name: ServerName<'a>, now: u64) -> Self {
        Self {
            ca,
            name,
            now,
            leaf_key: None,
        }
    }

    /// Verifies the Certificate message's chain (end-entity first) and keeps the
    /// end-entity key.
    ///
    /// # Errors
    /// The first failed check.
    pub(crate) fn certificate(&mut self, ders: &[&[u8]]) -> Result<(), TlsError> {
        let leaf = verify_chain(self.ca, ders, &self.name, self.now)?;
        self.leaf_key = Some(LeafKey::store(leaf.public_key)?);
        Ok(())
    }

    /// Verifies the CertificateVerify `signature` with `scheme` over the transcript
    /// hash `hash` (up to the Certificate message) with the end-entity key.
    ///
    /// # Errors
    /// A signature that does not verify (`decrypt_error`, RFC 8446 §4.4.3), a scheme
    /// that does not fit the key, no Certificate before.
    pub(crate) fn certificate_verify(
        &self,
        scheme: u16,
        signature: &[u8],
        hash: &[u8; 32],
    ) -> Result<(), Fatal> {
        let key = self
            .leaf_key
            .as_ref()
            .ok_or(TlsError::MissingCertificate)?
            .public_key();
        let algorithm = certificate_verify_algorithm(scheme, key)?;
        // RFC 8446 §4.4.3: 64 spaces, the context string, the transcript hash.
        let mut message = [0x20u8; 64 + SERVER_VERIFY_CONTEXT.len() + 32];
        message[64..64 + SERVER_VERIFY_CONTEXT.len()].copy_from_slice(SERVER_VERIFY_CONTEXT);
        message[64 + SERVER_VERIFY_CONTEXT.len()..].copy_from_slice(hash);
        verify_signature(key, Some(algorithm), &message, signature).map_err(|e| match e {
            TlsError::BadSignature => Fatal::new(e, alert::DECRYPT_ERROR),
            e => e.into(),
        })
    }
}
