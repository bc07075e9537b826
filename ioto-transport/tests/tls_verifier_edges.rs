//! Certificate-path edges of the verifier (issue 11, item 4), on certificates made by
//! the `openssl` CLI at run time:
//!
//! * two trust anchors with one name: each is tried (the first no longer decides);
//! * an unparseable extra certificate that the path does not use is skipped;
//! * two intermediates with one name: the one whose key verifies is taken;
//! * a duplicated extension (RFC 5280 §4.2) rejects the certificate, even when the CA
//!   signed it;
//! * refusals over a real handshake (`openssl s_server`), each with its typed error:
//!   a path-length violation, an intermediate without `keyCertSign`, an expired
//!   intermediate, and a leaf that is a CA.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod tls_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ioto_transport::tls::{TlsError, verify_chain};
use tls_common::echo::try_leaf;
use tls_common::{Authority, Leaf, now_unix};

/// Extension sections for the edge cases, appended to each authority's openssl.cnf.
const EXTRA_SECTIONS: &str = r#"
[ sub_ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ no_cert_sign_ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,cRLSign
[ ca_leaf_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[ other_name_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:elsewhere.example
"#;

fn add_sections(authority: &Authority) {
    let cnf = authority.dir.join("openssl.cnf");
    let mut text = std::fs::read_to_string(&cnf).unwrap();
    text.push_str(EXTRA_SECTIONS);
    std::fs::write(&cnf, text).unwrap();
}

/// A root (P-256) with the extra sections.
fn root(base: &Path, name: &str, cn: &str) -> Authority {
    let a = Authority::root(base, name, cn);
    add_sections(&a);
    a
}

/// An intermediate below `parent` with the extension section `ext`, valid for
/// `dates` (or 30 days from now), with its own `openssl ca` set-up.
fn intermediate(
    parent: &Authority,
    base: &Path,
    name: &str,
    cn: &str,
    ext: &str,
    dates: Option<(&str, &str)>,
) -> Authority {
    let issued = parent.issue(name, cn, ext, dates);
    let ca = root(base, &format!("{name}_ca"), cn);
    std::fs::copy(&issued.cert, &ca.cert).unwrap();
    std::fs::copy(&issued.key, &ca.key).unwrap();
    ca
}

/// Concatenates PEM files into one chain file.
fn chain_file(dir: &Path, name: &str, parts: &[&Path]) -> PathBuf {
    let path = dir.join(name);
    let mut text = Vec::new();
    for p in parts {
        text.extend_from_slice(&std::fs::read(p).unwrap());
    }
    std::fs::write(&path, text).unwrap();
    path
}

struct Edges {
    dir: PathBuf,
    ca: Authority,
    impostor: Authority,
    good: Leaf,
    intermediate: Authority,
    twin_intermediate: Authority,
    via_intermediate: Leaf,
    /// pathlen:0 intermediate → sub-CA → leaf.
    via_sub_ca: Leaf,
    path_len_chain: PathBuf,
    via_no_cert_sign: Leaf,
    no_cert_sign: Authority,
    via_expired: Leaf,
    expired_intermediate: Authority,
    ca_leaf: Leaf,
    other_name: Leaf,
}

fn edges() -> &'static Edges {
    static EDGES: OnceLock<Edges> = OnceLock::new();
    EDGES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_verifier_edges_pki");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ca = root(&dir, "ca", "Edge Test CA");
        // Same subject, different key.
        let impostor = root(&dir, "impostor", "Edge Test CA");
        let good = ca.issue("good", "localhost", "server_ext", None);
        let other_name = ca.issue("other_name", "localhost", "other_name_ext", None);
        let intermediate = intermediate(
            &ca,
            &dir,
            "inter",
            "Edge Intermediate",
            "intermediate_ext",
            None,
        );
        // Same subject as `intermediate`, its own key (also issued by the CA).
        let twin_intermediate = self::intermediate(
            &ca,
            &dir,
            "twin",
            "Edge Intermediate",
            "intermediate_ext",
            None,
        );
        let via_intermediate = intermediate.issue("via_inter", "localhost", "server_ext", None);
        // pathlen:0 on `intermediate`, yet a CA below it.
        let sub_ca = self::intermediate(
            &intermediate,
            &dir,
            "sub",
            "Edge Sub CA",
            "sub_ca_ext",
            None,
        );
        let via_sub_ca = sub_ca.issue("via_sub", "localhost", "server_ext", None);
        let path_len_chain = chain_file(
            &dir,
            "path_len_chain.pem",
            &[&sub_ca.cert, &intermediate.cert],
        );
        let no_cert_sign = self::intermediate(
            &ca,
            &dir,
            "no_cert_sign",
            "Edge No CertSign",
            "no_cert_sign_ca_ext",
            None,
        );
        let via_no_cert_sign =
            no_cert_sign.issue("via_no_cert_sign", "localhost", "server_ext", None);
        let expired_intermediate = self::intermediate(
            &ca,
            &dir,
            "expired_inter",
            "Edge Expired Intermediate",
            "intermediate_ext",
            Some(("20200101000000Z", "20210101000000Z")),
        );
        let via_expired =
            expired_intermediate.issue("via_expired", "localhost", "server_ext", None);
        let ca_leaf = ca.issue("ca_leaf", "localhost", "ca_leaf_ext", None);
        Edges {
            dir,
            ca,
            impostor,
            good,
            intermediate,
            twin_intermediate,
            via_intermediate,
            via_sub_ca,
            path_len_chain,
            via_no_cert_sign,
            no_cert_sign,
            via_expired,
            expired_intermediate,
            ca_leaf,
            other_name,
        }
    })
}

// ---------------------------------------------------------------------------
// The three verifier fixes.

#[test]
fn two_trust_anchors_with_one_name_are_each_tried() {
    let e = edges();
    // The impostor root comes first and has the issuer's name but not its key.
    let mut bundle = e.impostor.pem();
    bundle.extend_from_slice(&e.ca.pem());
    assert_eq!(try_leaf(&e.good, None, &bundle, "localhost"), Ok(()));
    // Offline too, and with only the impostor it is still a bad signature.
    let leaf = e.good.der();
    assert_eq!(
        verify_chain(&bundle, &[&leaf], "localhost", now_unix()),
        Ok(())
    );
    assert_eq!(
        verify_chain(&e.impostor.pem(), &[&leaf], "localhost", now_unix()),
        Err(TlsError::BadSignature)
    );
}

#[test]
fn an_unparseable_unused_extra_certificate_is_skipped() {
    let e = edges();
    let leaf = e.via_intermediate.der();
    let inter = e.intermediate.der();
    // A truncated certificate: a SEQUENCE whose length runs past the end.
    let garbage: &[u8] = &[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00];
    let ca = e.ca.pem();
    assert_eq!(
        verify_chain(&ca, &[&leaf, garbage, &inter], "localhost", now_unix()),
        Ok(())
    );
    // Without the intermediate nothing leads to the CA: the parse error is reported.
    assert_eq!(
        verify_chain(&ca, &[&leaf, garbage], "localhost", now_unix()),
        Err(TlsError::BadCertificate)
    );
}

#[test]
fn of_two_intermediates_with_one_name_the_issuing_one_is_taken() {
    let e = edges();
    let leaf = e.via_intermediate.der();
    let (twin, inter) = (e.twin_intermediate.der(), e.intermediate.der());
    let ca = e.ca.pem();
    assert_eq!(
        verify_chain(&ca, &[&leaf, &twin, &inter], "localhost", now_unix()),
        Ok(())
    );
    assert_eq!(
        verify_chain(&ca, &[&leaf, &twin], "localhost", now_unix()),
        Err(TlsError::BadSignature)
    );
}

/// One DER TLV: (tag, header length, content).
fn tlv(der: &[u8]) -> (u8, usize, &[u8]) {
    let (len, header) = match der[1] {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => (usize::from(der[2]), 3),
        0x82 => (usize::from(u16::from_be_bytes([der[2], der[3]])), 4),
        other => panic!("unexpected DER length byte {other:#x}"),
    };
    (der[0], header, &der[header..header + len])
}

/// The TLVs inside a constructed value.
fn children(mut content: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (_, header, value) = tlv(content);
        let (this, rest) = content.split_at(header + value.len());
        out.push(this);
        content = rest;
    }
    out
}

/// Encodes one TLV (definite length, DER).
fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// `cert` (DER) with `extra` appended to its extensions, re-signed by `ca` with
/// `openssl dgst` so that only the duplicate can make a verifier refuse it.
fn with_extra_extension(ca: &Authority, cert: &[u8], extra: &[u8], name: &str) -> Vec<u8> {
    let (_, _, outer) = tlv(cert);
    let parts = children(outer);
    let (tbs, algorithm) = (parts[0], parts[1]);
    let (_, _, tbs_content) = tlv(tbs);
    let mut fields = children(tbs_content);
    let exts_wrapper = fields.pop().unwrap();
    assert_eq!(
        exts_wrapper[0], 0xA3,
        "the last TBS field is [3] extensions"
    );
    let (_, _, wrapped) = tlv(exts_wrapper);
    let (_, _, exts) = tlv(wrapped);
    let mut new_exts = exts.to_vec();
    new_exts.extend_from_slice(extra);
    let mut new_tbs_content: Vec<u8> = fields.concat();
    new_tbs_content.extend_from_slice(&encode(0xA3, &encode(0x30, &new_exts)));
    let new_tbs = encode(0x30, &new_tbs_content);

    let tbs_path = ca.dir.join(format!("{name}.tbs"));
    let sig_path = ca.dir.join(format!("{name}.sig"));
    std::fs::write(&tbs_path, &new_tbs).unwrap();
    let status = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&ca.key)
        .arg("-out")
        .arg(&sig_path)
        .arg(&tbs_path)
        .status()
        .unwrap();
    assert!(status.success());
    let mut bits = vec![0u8];
    bits.extend_from_slice(&std::fs::read(&sig_path).unwrap());
    let mut body = new_tbs;
    body.extend_from_slice(algorithm);
    body.extend_from_slice(&encode(0x03, &bits));
    encode(0x30, &body)
}

#[test]
fn a_duplicated_extension_is_rejected_even_when_signed() {
    let e = edges();
    // The leaf names only elsewhere.example; a second subjectAltName for localhost is
    // appended and the CA signs the result.
    let san_localhost = encode(0x30, &encode(0x82, b"localhost"));
    let mut extension = encode(0x06, &[0x55, 0x1D, 0x11]); // 2.5.29.17
    extension.extend_from_slice(&encode(0x04, &san_localhost));
    let extension = encode(0x30, &extension);
    let ca = e.ca.pem();
    let original = e.other_name.der();
    // The unmodified certificate is valid, for its own name only.
    assert_eq!(
        verify_chain(&ca, &[&original], "elsewhere.example", now_unix()),
        Ok(())
    );
    let doubled = with_extra_extension(&e.ca, &original, &extension, "dup_san");
    // openssl itself accepts the signature (so the CA really signed the duplicate).
    let doubled_path = e.dir.join("dup_san.der");
    std::fs::write(&doubled_path, &doubled).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(&e.ca.cert)
        .args(["-partial_chain", "-no_check_time", "-x509_strict"])
        .arg(pem_of(&doubled_path))
        .output()
        .unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !report.contains("signature failure"),
        "openssl: the re-signed certificate's signature must verify: {report}"
    );
    for name in ["localhost", "elsewhere.example"] {
        assert_eq!(
            verify_chain(&ca, &[&doubled], name, now_unix()),
            Err(TlsError::BadCertificate),
            "{name}"
        );
    }
}

/// Converts a DER certificate file to PEM next to it (for `openssl verify`).
fn pem_of(der: &Path) -> PathBuf {
    let pem = der.with_extension("pem");
    let status = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(der)
        .arg("-out")
        .arg(&pem)
        .status()
        .unwrap();
    assert!(status.success());
    pem
}

// ---------------------------------------------------------------------------
// Refusals over a real handshake, each with its typed error.

#[test]
fn a_path_length_violation_is_refused() {
    let e = edges();
    assert_eq!(
        try_leaf(
            &e.via_sub_ca,
            Some(&e.path_len_chain),
            &e.ca.pem(),
            "localhost"
        ),
        Err(TlsError::ChainTooLong)
    );
}

#[test]
fn an_intermediate_without_key_cert_sign_is_refused() {
    let e = edges();
    assert_eq!(
        try_leaf(
            &e.via_no_cert_sign,
            Some(&e.no_cert_sign.cert),
            &e.ca.pem(),
            "localhost"
        ),
        Err(TlsError::BadCertificate)
    );
}

#[test]
fn an_expired_intermediate_is_refused() {
    let e = edges();
    assert_eq!(
        try_leaf(
            &e.via_expired,
            Some(&e.expired_intermediate.cert),
            &e.ca.pem(),
            "localhost"
        ),
        Err(TlsError::Expired)
    );
}

#[test]
fn a_leaf_that_is_a_ca_is_refused() {
    let e = edges();
    assert_eq!(
        try_leaf(&e.ca_leaf, None, &e.ca.pem(), "localhost"),
        Err(TlsError::BadCertificate)
    );
}
