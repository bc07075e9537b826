//! A bounded, borrowing X.509 v3 certificate parser (RFC 5280) on our DER reader
//! ([`super::asn1`]).
//!
//! It extracts exactly what path validation needs — the signed bytes, the signature and
//! its algorithm, issuer and subject names (as DER, compared byte for byte), the
//! validity window, the subject public key and the extensions that constrain use —
//! and rejects anything it cannot interpret safely (an unknown *critical* extension,
//! an algorithm mismatch between the inner and outer signature fields). No allocation;
//! every length comes from the DER reader, which bounds-checks it.

use super::asn1::{AnyRef, BitStringRef, Decode, Error, ObjectIdentifier, SliceReader, Tag, Time};

use super::algorithm::{PublicKey, SignatureAlgorithm, public_key, signature_algorithm};
use super::error::TlsError;

/// `id-ce-subjectAltName`.
const EXT_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// `id-ce-basicConstraints`.
const EXT_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// `id-ce-keyUsage`.
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// `id-ce-extKeyUsage`.
const EXT_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
/// `id-kp-serverAuth`.
const KP_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
/// `anyExtendedKeyUsage`.
const KP_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// `keyUsage` bit `keyCertSign` (bit 5, counted from the most significant bit).
pub(crate) const KEY_USAGE_KEY_CERT_SIGN: u16 = 1 << (15 - 5);
/// `keyUsage` bit `digitalSignature` (bit 0).
pub(crate) const KEY_USAGE_DIGITAL_SIGNATURE: u16 = 1 << 15;

/// The parts of one certificate that path validation uses, borrowed from its DER.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Certificate<'a> {
    /// The whole `tbsCertificate` TLV: the bytes the issuer signed.
    pub tbs: &'a [u8],
    /// The outer `signatureAlgorithm`; `None` when not implemented.
    pub signature_algorithm: Option<SignatureAlgorithm>,
    /// The `signatureValue` bits (a DER ECDSA-Sig-Value for ECDSA).
    pub signature: &'a [u8],
    /// The issuer `Name`, as its DER TLV.
    pub issuer: &'a [u8],
    /// The subject `Name`, as its DER TLV.
    pub subject: &'a [u8],
    /// `notBefore` in seconds since the Unix epoch.
    pub not_before: u64,
    /// `notAfter` in seconds since the Unix epoch.
    pub not_after: u64,
    /// The subject public key.
    pub public_key: PublicKey<'a>,
    /// The `GeneralNames` value of `subjectAltName` (its contents), if present.
    pub subject_alt_names: Option<&'a [u8]>,
    /// `basicConstraints.cA`.
    pub is_ca: bool,
    /// `basicConstraints.pathLenConstraint`, if present.
    pub path_len: Option<u8>,
    /// The `keyUsage` bits (MSB-first), if the extension is present.
    pub key_usage: Option<u16>,
    /// `Some(true)` if `extKeyUsage` allows TLS server authentication, `Some(false)` if
    /// it is present and does not, `None` if it is absent.
    pub server_auth: Option<bool>,
}

/// Any DER decoding error is a malformed certificate.
pub(super) fn bad(_: Error) -> TlsError {
    TlsError::BadCertificate
}

/// Reads one TLV and checks its tag.
pub(super) fn expect<'a>(r: &mut SliceReader<'a>, tag: Tag) -> Result<AnyRef<'a>, TlsError> {
    let any: AnyRef<'a> = r.decode().map_err(bad)?;
    if any.tag() != tag {
        return Err(TlsError::BadCertificate);
    }
    Ok(any)
}

/// Reads one TLV whose tag octet is `tag` (context-specific tags included).
pub(super) fn expect_octet<'a>(r: &mut SliceReader<'a>, tag: u8) -> Result<AnyRef<'a>, TlsError> {
    let any: AnyRef<'a> = r.decode().map_err(bad)?;
    if u8::from(any.tag()) != tag {
        return Err(TlsError::BadCertificate);
    }
    Ok(any)
}

/// Reads the TLV bytes of the next element and checks its tag.
fn expect_tlv<'a>(r: &mut SliceReader<'a>, tag: Tag) -> Result<&'a [u8], TlsError> {
    if r.peek_tag().map_err(bad)? != tag {
        return Err(TlsError::BadCertificate);
    }
    r.tlv_bytes().map_err(bad)
}

/// Whether the next element's tag octet is `octet`.
pub(super) fn next_tag_is(r: &SliceReader<'_>, octet: u8) -> bool {
    !r.is_finished() && r.peek_tag().map(u8::from).ok() == Some(octet)
}

/// Checks that the reader has no bytes left.
pub(super) fn finish(r: &SliceReader<'_>) -> Result<(), TlsError> {
    if r.is_finished() {
        Ok(())
    } else {
        Err(TlsError::BadCertificate)
    }
}

/// Parses a `Time` (UTCTime or GeneralizedTime) into Unix seconds.
fn time(r: &mut SliceReader<'_>) -> Result<u64, TlsError> {
    r.decode::<Time>().map(|t| t.0).map_err(bad)
}

/// Applies one extension to `cert`; unknown critical extensions are an error.
fn extension<'a>(cert: &mut Certificate<'a>, ext: AnyRef<'a>) -> Result<(), TlsError> {
    let mut r = SliceReader::new(ext.value()).map_err(bad)?;
    let oid: ObjectIdentifier = r.decode().map_err(bad)?;
    let critical = if next_tag_is(&r, 0x01) {
        r.decode::<bool>().map_err(bad)?
    } else {
        false
    };
    let value = r.octet_string().map_err(bad)?;
    finish(&r)?;
    let mut v = SliceReader::new(value).map_err(bad)?;
    if oid == EXT_SUBJECT_ALT_NAME {
        cert.subject_alt_names = Some(expect(&mut v, Tag::Sequence)?.value());
    } else if oid == EXT_BASIC_CONSTRAINTS {
        let seq = expect(&mut v, Tag::Sequence)?;
        let mut s = SliceReader::new(seq.value()).map_err(bad)?;
        if next_tag_is(&s, 0x01) {
            cert.is_ca = s.decode::<bool>().map_err(bad)?;
        }
        if !s.is_finished() {
            cert.path_len = Some(s.decode::<u8>().map_err(bad)?);
        }
        finish(&s)?;
    } else if oid == EXT_KEY_USAGE {
        let bits: BitStringRef<'a> = v.decode().map_err(bad)?;
        let raw = bits.raw_bytes();
        let first = u16::from(raw.first().copied().unwrap_or(0)) << 8;
        cert.key_usage = Some(first | u16::from(raw.get(1).copied().unwrap_or(0)));
    } else if oid == EXT_EXTENDED_KEY_USAGE {
        let seq = expect(&mut v, Tag::Sequence)?;
        let mut s = SliceReader::new(seq.value()).map_err(bad)?;
        let mut allowed = false;
        while !s.is_finished() {
            let purpose: ObjectIdentifier = s.decode().map_err(bad)?;
            allowed |= purpose == KP_SERVER_AUTH || purpose == KP_ANY;
        }
        cert.server_auth = Some(allowed);
    } else if critical {
        // Name constraints, policy constraints and the like: not implemented, so a
        // certificate that depends on them cannot be accepted (RFC 5280 §4.2).
        return Err(TlsError::BadCertificate);
    } else {
        return Ok(());
    }
    finish(&v)
}

/// The `extnID` TLV of one `Extension`.
fn extension_id<'a>(ext: AnyRef<'a>) -> Result<&'a [u8], TlsError> {
    let mut r = SliceReader::new(ext.value()).map_err(bad)?;
    expect_tlv(&mut r, Tag::ObjectIdentifier)
}

/// RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a
/// particular extension." Two instances would let two verifiers read different values
/// (this parser kept the last one), so a repeated `extnID` is
/// [`TlsError::BadCertificate`]. Quadratic in the number of extensions, without
/// allocation; certificates carry about ten.
fn reject_duplicate_extensions(extensions: &[u8]) -> Result<(), TlsError> {
    let mut outer = SliceReader::new(extensions).map_err(bad)?;
    while !outer.is_finished() {
        let id = extension_id(expect(&mut outer, Tag::Sequence)?)?;
        // `outer` now stands after this extension: compare with the ones after it.
        let mut rest = outer.clone();
        while !rest.is_finished() {
            if extension_id(expect(&mut rest, Tag::Sequence)?)? == id {
                return Err(TlsError::BadCertificate);
            }
        }
    }
    Ok(())
}

impl<'a> Certificate<'a> {
    /// Parses a DER `Certificate`. Trailing bytes after it are an error.
    pub(crate) fn from_der(der: &'a [u8]) -> Result<Self, TlsError> {
        let mut outer = SliceReader::new(der).map_err(bad)?;
        let cert = expect(&mut outer, Tag::Sequence)?;
        finish(&outer)?;
        let mut c = SliceReader::new(cert.value()).map_err(bad)?;
        let tbs = expect_tlv(&mut c, Tag::Sequence)?;
        let outer_alg = signature_algorithm(expect(&mut c, Tag::Sequence)?)?;
        let signature: BitStringRef<'a> = c.decode().map_err(bad)?;
        finish(&c)?;

        // tbsCertificate
        let mut t = SliceReader::new(tbs).map_err(bad)?;
        let tbs_body = expect(&mut t, Tag::Sequence)?;
        let mut t = SliceReader::new(tbs_body.value()).map_err(bad)?;
        let mut version = 0u8;
        if next_tag_is(&t, 0xA0) {
            let v = expect_octet(&mut t, 0xA0)?;
            version = Decode::from_der(v.value()).map_err(bad)?;
        }
        let _serial = expect(&mut t, Tag::Integer)?;
        let inner_alg = signature_algorithm(expect(&mut t, Tag::Sequence)?)?;
        if inner_alg != outer_alg {
            return Err(TlsError::BadCertificate);
        }
        let issuer = expect_tlv(&mut t, Tag::Sequence)?;
        let validity = expect(&mut t, Tag::Sequence)?;
        let mut vr = SliceReader::new(validity.value()).map_err(bad)?;
        let not_before = time(&mut vr)?;
        let not_after = time(&mut vr)?;
        finish(&vr)?;
        let subject = expect_tlv(&mut t, Tag::Sequence)?;
        let public_key = public_key(expect(&mut t, Tag::Sequence)?)?;

        let mut parsed = Certificate {
            tbs,
            signature_algorithm: outer_alg,
            signature: signature.as_bytes().ok_or(TlsError::BadCertificate)?,
            issuer,
            subject,
            not_before,
            not_after,
            public_key,
            subject_alt_names: None,
            is_ca: false,
            path_len: None,
            key_usage: None,
            server_auth: None,
        };
        // issuerUniqueID [1], subjectUniqueID [2]: skipped.
        for unique_id in [0x81, 0xA1, 0x82, 0xA2] {
            if next_tag_is(&t, unique_id) {
                t.tlv_bytes().map_err(bad)?;
            }
        }
        if next_tag_is(&t, 0xA3) {
            if version != 2 {
                return Err(TlsError::BadCertificate);
            }
            let wrapper = expect_octet(&mut t, 0xA3)?;
            let mut w = SliceReader::new(wrapper.value()).map_err(bad)?;
            let exts = expect(&mut w, Tag::Sequence)?;
            finish(&w)?;
            reject_duplicate_extensions(exts.value())?;
            let mut e = SliceReader::new(exts.value()).map_err(bad)?;
            while !e.is_finished() {
                extension(&mut parsed, expect(&mut e, Tag::Sequence)?)?;
            }
        }
        finish(&t)?;
        Ok(parsed)
    }
}

/// One entry of a `subjectAltName` this verifier matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AltName<'a> {
    /// `dNSName` (an IA5String).
    Dns(&'a [u8]),
    /// `iPAddress` (4 or 16 octets).
    Ip(&'a [u8]),
    /// Any other form (e-mail, URI, directory name...).
    Other,
}

/// Iterates over the entries of a `GeneralNames` value; yields an error once on
/// malformed input and then stops.
pub(crate) struct AltNames<'a> {
    reader: Option<SliceReader<'a>>,
}

impl<'a> AltNames<'a> {
    /// Starts iterating over the contents of a `GeneralNames` SEQUENCE.
    pub(crate) fn new(general_names: &'a [u8]) -> Self {
        Self {
            reader: SliceReader::new(general_names).ok(),
        }
    }
}

impl<'a> Iterator for AltNames<'a> {
    type Item = Result<AltName<'a>, TlsError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.reader.as_mut()?;
        if r.is_finished() {
            return None;
        }
        match r.decode::<AnyRef<'a>>() {
            Ok(any) => Some(Ok(match u8::from(any.tag()) {
                0x82 => AltName::Dns(any.value()),
                0x87 => AltName::Ip(any.value()),
                _ => AltName::Other,
            })),
            Err(_) => {
                self.reader = None;
                Some(Err(TlsError::BadCertificate))
            }
        }
    }
}
