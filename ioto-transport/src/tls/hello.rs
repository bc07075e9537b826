//! ClientHello encoding and ServerHello / HelloRetryRequest parsing (RFC 8446 §4.1),
//! sans I/O. The client offers exactly one cipher suite (`TLS_AES_128_GCM_SHA256`),
//! TLS 1.3 only, one group (`x25519`, with its key share), and the signature schemes
//! it can verify.

use super::alert::{self, Fatal};
use super::codec::{Reader, Writer};
use super::error::TlsError;

/// Maximum plaintext fragment length to ask the server for (RFC 6066 §4); the values
/// are the extension's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxFragmentLength {
    /// 512 bytes.
    Bits9 = 1,
    /// 1024 bytes.
    Bits10 = 2,
    /// 2048 bytes.
    Bits11 = 3,
    /// 4096 bytes.
    Bits12 = 4,
}

impl MaxFragmentLength {
    /// The fragment length in bytes.
    pub const fn bytes(self) -> usize {
        256 << self as usize
    }
}

/// Handshake message type `client_hello`.
pub(crate) const CLIENT_HELLO: u8 = 1;
/// Handshake message type `server_hello` (also HelloRetryRequest).
pub(crate) const SERVER_HELLO: u8 = 2;
/// `TLS_AES_128_GCM_SHA256`.
const CIPHER_SUITE: u16 = 0x1301;
/// Named group `x25519`.
pub(crate) const X25519: u16 = 0x001d;
/// The ServerHello.random of a HelloRetryRequest (SHA-256 of "HelloRetryRequest").
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];
/// Extension `server_name`.
const EXT_SERVER_NAME: u16 = 0;
/// Extension `signature_algorithms`.
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
/// Extension `application_layer_protocol_negotiation`.
pub(crate) const EXT_ALPN: u16 = 16;
/// Extension `supported_versions`.
const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// Extension `cookie`.
const EXT_COOKIE: u16 = 44;
/// Extension `key_share`.
const EXT_KEY_SHARE: u16 = 51;

/// What goes into the ClientHello.
pub(crate) struct Hello<'a> {
    /// ClientHello.random.
    pub(crate) random: [u8; 32],
    /// Our X25519 public key.
    pub(crate) share: [u8; 32],
    /// The DNS name for SNI (none for an IP literal).
    pub(crate) server_name: Option<&'a str>,
    /// The record size to ask for.
    pub(crate) max_fragment_length: Option<MaxFragmentLength>,
    /// ALPN protocol names.
    pub(crate) alpn: Option<&'a [&'a [u8]]>,
}

/// Starts an extension of type `kind` (closed by the caller).
fn extension(w: &mut Writer<'_>, kind: u16) -> Result<(usize, usize), TlsError> {
    w.uint(2, usize::from(kind))?;
    w.open(2)
}

/// The signature schemes we verify in CertificateVerify (and, by RFC 8446 §4.2.3, in
/// the certificates): never Ed25519.
fn signature_schemes(w: &mut Writer<'_>) -> Result<(), TlsError> {
    w.put(&[4, 3])?; // ecdsa_secp256r1_sha256
    #[cfg(feature = "tls-p384")]
    w.put(&[5, 3])?; // ecdsa_secp384r1_sha384
    // rsa_pss_rsae_sha256/384/512, rsa_pkcs1_sha256/384/512 (certificates only).
    #[cfg(feature = "tls-rsa")]
    w.put(&[8, 4, 8, 5, 8, 6, 4, 1, 5, 1, 6, 1])?;
    Ok(())
}

/// Writes the ClientHello handshake message (with its 4-byte header), with `cookie`
/// echoed after a HelloRetryRequest.
///
/// # Errors
/// [`TlsError::BufferTooSmall`] when it does not fit `w`.
pub(crate) fn client_hello(
    w: &mut Writer<'_>,
    hello: &Hello<'_>,
    cookie: Option<&[u8]>,
) -> Result<(), TlsError> {
    w.put(&[CLIENT_HELLO])?;
    let msg = w.open(3)?;
    w.put(&[3, 3])?;
    w.put(&hello.random)?;
    // Empty legacy_session_id; one cipher suite; null compression.
    w.put(&[0, 0, 2, 0x13, 0x01, 1, 0])?;
    let exts = w.open(2)?;
    if let Some(name) = hello.server_name {
        let e = extension(w, EXT_SERVER_NAME)?;
        let list = w.open(2)?;
        w.put(&[0])?;
        let n = w.open(2)?;
        w.put(name.as_bytes())?;
        w.close(n);
        w.close(list);
        w.close(e);
    }
    w.put(&[0, 43, 0, 3, 2, 3, 4])?; // supported_versions: TLS 1.3
    w.put(&[0, 10, 0, 4, 0, 2, 0, 0x1d])?; // supported_groups: x25519
    let e = extension(w, EXT_SIGNATURE_ALGORITHMS)?;
    let list = w.open(2)?;
    signature_schemes(w)?;
    w.close(list);
    w.close(e);
    // key_share: one x25519 entry.
    w.put(&[0, 51, 0, 38, 0, 36, 0, 0x1d, 0, 32])?;
    w.put(&hello.share)?;
    if let Some(mfl) = hello.max_fragment_length {
        w.put(&[0, 1, 0, 1, mfl as u8])?;
    }
    if let Some(protocols) = hello.alpn {
        let e = extension(w, EXT_ALPN)?;
        let list = w.open(2)?;
        for p in protocols {
            let name = w.open(1)?;
            w.put(p)?;
            w.close(name);
        }
        w.close(list);
        w.close(e);
    }
    if let Some(cookie) = cookie {
        let e = extension(w, EXT_COOKIE)?;
        let c = w.open(2)?;
        w.put(cookie)?;
        w.close(c);
        w.close(e);
    }
    w.close(exts);
    w.close(msg);
    Ok(())
}

/// A parsed ServerHello.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ServerHello<'m> {
    /// A ServerHello with the server's share: its group and public key bytes.
    Hello(u16, &'m [u8]),
    /// A HelloRetryRequest: the group it wants a share of, if any, and its cookie.
    Retry(Option<u16>, Option<&'m [u8]>),
}

/// Parses a ServerHello body (after the 4-byte message header).
///
/// # Errors
/// `decode_error` for a malformed message, `illegal_parameter` for a cipher suite,
/// session id or compression we did not offer, `protocol_version` for a server that
/// does not select TLS 1.3. (Whether the group is acceptable is the handshake's call.)
pub(crate) fn server_hello(body: &[u8]) -> Result<ServerHello<'_>, Fatal> {
    let illegal = Fatal::protocol(alert::ILLEGAL_PARAMETER);
    let mut r = Reader::new(body);
    let version = r.u16()?;
    let retry = r.take(32)? == HRR_RANDOM;
    let session_id = r.vec(1)?;
    let suite = r.u16()?;
    let compression = r.u8()?;
    if version != 0x0303 || !session_id.is_empty() || suite != CIPHER_SUITE || compression != 0 {
        return Err(illegal);
    }
    let mut exts = Reader::new(r.vec(2)?);
    r.finish()?;
    let (mut tls13, mut group, mut share, mut cookie) = (false, None, None, None);
    while !exts.is_empty() {
        let kind = exts.u16()?;
        let mut data = Reader::new(exts.vec(2)?);
        match kind {
            EXT_SUPPORTED_VERSIONS => tls13 = data.u16()? == 0x0304,
            EXT_KEY_SHARE => {
                group = Some(data.u16()?);
                if !retry {
                    share = Some(data.vec(2)?);
                }
            }
            EXT_COOKIE if retry => cookie = Some(data.vec(2)?),
            _ => continue,
        }
        data.finish()?;
    }
    if !tls13 {
        return Err(Fatal::protocol(70)); // protocol_version
    }
    match (retry, group, share) {
        (true, _, _) => Ok(ServerHello::Retry(group, cookie)),
        (false, Some(group), Some(share)) => Ok(ServerHello::Hello(group, share)),
        _ => Err(Fatal::protocol(alert::MISSING_EXTENSION)),
    }
}

/// Checks the EncryptedExtensions body: well-formed, and a selected ALPN protocol is
/// one we offered. The max_fragment_length echo needs no action (our limits already
/// follow what we asked for).
///
/// # Errors
/// `decode_error` for a malformed message, `illegal_parameter` for an ALPN protocol
/// that was not offered.
pub(crate) fn encrypted_extensions(body: &[u8], alpn: Option<&[&[u8]]>) -> Result<(), Fatal> {
    let mut r = Reader::new(body);
    let mut exts = Reader::new(r.vec(2)?);
    r.finish()?;
    while !exts.is_empty() {
        let kind = exts.u16()?;
        let data = exts.vec(2)?;
        if kind == EXT_ALPN {
            let mut list = Reader::new(data);
            let mut names = Reader::new(list.vec(2)?);
            let chosen = names.vec(1)?;
            names.finish()?;
            list.finish()?;
            if !alpn.unwrap_or(&[]).contains(&chosen) {
                return Err(Fatal::protocol(alert::ILLEGAL_PARAMETER));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "hello_tests.rs"]
mod tests;
