//! The key and signature algorithms of real cloud chains, against a real
//! `openssl s_server -tls1_3` with certificates made by the `openssl` CLI at run time:
//! a P-256 leaf under a P-384 intermediate and root (like Let's Encrypt E5/E6 under
//! ISRG Root X2), a P-384 leaf (CertificateVerify `ecdsa_secp384r1_sha384`), an RSA-2048
//! leaf (`rsa_pss_rsae_sha256`) under an RSA-4096 root, P-256 leaves under an RSA root
//! signed with PKCS#1 v1.5 and with RSASSA-PSS (like cross-signs by ISRG Root X1).
//! Each is accepted (RSA only with the `tls-rsa` feature, P-384 only with `tls-p384`;
//! without them those chains are `UnsupportedAlgorithm`) and rejected with its own error under another root, for
//! another name, and with a flipped signature byte.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod tls_common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ioto_transport::tls::{TlsError, verify_chain};
use tls_common::echo::try_leaf;
use tls_common::{Authority, KeyType, Leaf, Signing, now_unix};

/// The chains under test.
struct AlgPki {
    ec_root: Authority,
    ec_intermediate: Authority,
    p256_via_p384: Leaf,
    p384_leaf: Leaf,
    rsa_root: Authority,
    rsa_leaf: Leaf,
    p256_via_rsa: Leaf,
    p256_via_rsa_pss: Leaf,
    p256_via_p521: Leaf,
    p256_via_rsa_1024: Leaf,
}

const PSS: Signing = Signing {
    md: "sha256",
    sigopts: &["rsa_padding_mode:pss", "rsa_pss_saltlen:digest"],
};

fn pki() -> &'static AlgPki {
    static PKI: OnceLock<AlgPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_algorithms_pki");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let leaf = |ca: &Authority, name: &str| ca.issue(name, "localhost", "server_ext", None);

        let ec_root = Authority::root_with(
            &dir,
            "ec_root",
            "Ioto P-384 Root",
            KeyType::P384,
            Signing::digest("sha384"),
        )
        .issuing(KeyType::P384);
        let mut ec_intermediate = ec_root.intermediate(
            &dir,
            "ec_intermediate",
            "Ioto P-384 Intermediate",
            "intermediate_ext",
        );
        ec_intermediate.issues = KeyType::P256;
        let p256_via_p384 = leaf(&ec_intermediate, "p256_via_p384");
        let p384_leaf = leaf(&ec_root, "p384_leaf");

        let mut rsa_root = Authority::root_with(
            &dir,
            "rsa_root",
            "Ioto RSA-4096 Root",
            KeyType::Rsa(4096),
            Signing::digest("sha384"),
        )
        .issuing(KeyType::Rsa(2048));
        let rsa_leaf = leaf(&rsa_root, "rsa_leaf");
        rsa_root.issues = KeyType::P256;
        rsa_root.signing = Signing::digest("sha256");
        let p256_via_rsa = leaf(&rsa_root, "p256_via_rsa");
        rsa_root.signing = PSS;
        let p256_via_rsa_pss = leaf(&rsa_root, "p256_via_rsa_pss");

        let p521_root = Authority::root_with(
            &dir,
            "p521_root",
            "Ioto P-521 Root",
            KeyType::P521,
            Signing::digest("sha512"),
        );
        let p256_via_p521 = leaf(&p521_root, "p256_via_p521");
        let rsa_1024_root = Authority::root_with(
            &dir,
            "rsa_1024_root",
            "Ioto RSA-1024 Root",
            KeyType::Rsa(1024),
            Signing::digest("sha256"),
        );
        let p256_via_rsa_1024 = leaf(&rsa_1024_root, "p256_via_rsa_1024");
        AlgPki {
            ec_root,
            ec_intermediate,
            p256_via_p384,
            p384_leaf,
            rsa_root,
            rsa_leaf,
            p256_via_rsa,
            p256_via_rsa_pss,
            p256_via_p521,
            p256_via_rsa_1024,
        }
    })
}

/// One chain: the server's leaf, the intermediate it sends, and the root it needs.
struct Case {
    what: &'static str,
    leaf: &'static Leaf,
    chain: Option<&'static Path>,
    root: &'static Authority,
    /// Another root, which must not accept it.
    other_root: &'static Authority,
    /// Whether any signature in it (chain or CertificateVerify) is RSA.
    uses_rsa: bool,
    /// Whether any key in it is P-384 (or any digest SHA-384).
    uses_p384: bool,
    /// Whether the leaf key is RSA.
    rsa_leaf: bool,
    /// The server key is P-384.
    p384_leaf: bool,
}

fn cases() -> Vec<Case> {
    let pki = pki();
    vec![
        Case {
            what: "P-256 leaf / P-384 intermediate / P-384 root",
            leaf: &pki.p256_via_p384,
            chain: Some(pki.ec_intermediate.cert.as_path()),
            root: &pki.ec_root,
            other_root: &pki.rsa_root,
            uses_p384: true,
            uses_rsa: false,
            rsa_leaf: false,
            p384_leaf: false,
        },
        Case {
            what: "P-384 leaf / P-384 root",
            leaf: &pki.p384_leaf,
            chain: None,
            root: &pki.ec_root,
            other_root: &pki.rsa_root,
            uses_p384: true,
            uses_rsa: false,
            rsa_leaf: false,
            p384_leaf: true,
        },
        Case {
            what: "RSA-2048 leaf / RSA-4096 root (sha384WithRSAEncryption)",
            leaf: &pki.rsa_leaf,
            chain: None,
            root: &pki.rsa_root,
            other_root: &pki.ec_root,
            uses_p384: false,
            uses_rsa: true,
            rsa_leaf: true,
            p384_leaf: false,
        },
        Case {
            what: "P-256 leaf / RSA-4096 root (sha256WithRSAEncryption)",
            leaf: &pki.p256_via_rsa,
            chain: None,
            root: &pki.rsa_root,
            other_root: &pki.ec_root,
            uses_p384: false,
            uses_rsa: true,
            rsa_leaf: false,
            p384_leaf: false,
        },
        Case {
            what: "P-256 leaf / RSA-4096 root (RSASSA-PSS)",
            leaf: &pki.p256_via_rsa_pss,
            chain: None,
            root: &pki.rsa_root,
            other_root: &pki.ec_root,
            uses_p384: false,
            uses_rsa: true,
            rsa_leaf: false,
            p384_leaf: false,
        },
    ]
}

/// Whether the case needs an algorithm this build leaves out (RSA without `tls-rsa`,
/// P-384 without `tls-p384`).
fn left_out(case: &Case) -> bool {
    (case.uses_rsa && cfg!(not(feature = "tls-rsa")))
        || (case.uses_p384 && cfg!(not(feature = "tls-p384")))
}

/// What a chain that is otherwise valid gives: accepted, or `UnsupportedAlgorithm`
/// when it needs an algorithm this build leaves out.
fn valid(case: &Case) -> Result<(), TlsError> {
    if left_out(case) {
        Err(TlsError::UnsupportedAlgorithm)
    } else {
        Ok(())
    }
}

/// Under another root: `UnknownCa`, but a chain whose intermediate cannot be checked
/// (a P-384 key without `tls-p384`) stops at that signature.
fn other_root(case: &Case) -> Result<(), TlsError> {
    if case.chain.is_some() && left_out(case) {
        Err(TlsError::UnsupportedAlgorithm)
    } else {
        Err(TlsError::UnknownCa)
    }
}

/// Serves each case and connects trusting `root(case)` for `name`; `expected(case)` is
/// the verdict. Without `tls-rsa` no RSA CertificateVerify scheme is offered, and
/// without `tls-p384` no `ecdsa_secp384r1_sha384`, so a server with such a key refuses
/// the handshake (alert 40, handshake_failure) before any certificate is sent.
fn handshake_each(
    root: impl Fn(&Case) -> &'static Authority,
    name: &str,
    expected: impl Fn(&Case) -> Result<(), TlsError>,
) {
    for case in cases() {
        let got = try_leaf(case.leaf, case.chain, &root(&case).pem(), name);
        let want = if (case.rsa_leaf && cfg!(not(feature = "tls-rsa")))
            || (case.p384_leaf && cfg!(not(feature = "tls-p384")))
        {
            Err(TlsError::Alert(40))
        } else {
            expected(&case)
        };
        assert_eq!(got, want, "{}", case.what);
    }
}

#[test]
fn real_world_chains_are_accepted_by_a_tls13_server() {
    handshake_each(|c| c.root, "localhost", valid);
}

#[test]
fn chains_under_another_root_are_unknown_ca() {
    handshake_each(|c| c.other_root, "localhost", other_root);
}

#[test]
fn chains_for_another_name_are_name_mismatch() {
    handshake_each(
        |c| c.root,
        "other.example.com",
        |_| Err(TlsError::NameMismatch),
    );
}

/// Flips the last byte of a DER certificate: the last byte of its signature value.
fn flip_signature(der: &[u8]) -> Vec<u8> {
    let mut flipped = der.to_vec();
    *flipped.last_mut().unwrap() ^= 0x01;
    flipped
}

#[test]
fn a_flipped_signature_byte_is_bad_signature() {
    for case in cases() {
        let leaf = case.leaf.der();
        let intermediate = case.chain.map(tls_common::pem_to_der);
        let root = case.root.der();
        let chain = |leaf: &[u8], intermediate: Option<&[u8]>| {
            let mut certs = vec![leaf.to_vec()];
            certs.extend(intermediate.map(<[u8]>::to_vec));
            let refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
            verify_chain(&root, &refs, "localhost", now_unix())
        };
        assert_eq!(
            chain(&leaf, intermediate.as_deref()),
            valid(&case),
            "{}",
            case.what
        );
        let bad = if left_out(&case) {
            TlsError::UnsupportedAlgorithm
        } else {
            TlsError::BadSignature
        };
        assert_eq!(
            chain(&flip_signature(&leaf), intermediate.as_deref()),
            Err(bad),
            "leaf of {}",
            case.what
        );
        if let Some(intermediate) = &intermediate {
            assert_eq!(
                chain(&leaf, Some(&flip_signature(intermediate))),
                Err(bad),
                "intermediate of {}",
                case.what
            );
        }
    }
}

#[test]
fn unsupported_issuer_keys_are_unsupported_algorithm() {
    let pki = pki();
    for (what, leaf, root) in [
        ("P-521 root", &pki.p256_via_p521, "p521_root"),
        ("RSA-1024 root", &pki.p256_via_rsa_1024, "rsa_1024_root"),
    ] {
        let root_pem = std::fs::read(leaf.cert.parent().unwrap().join("ca.pem")).unwrap();
        let got = try_leaf(leaf, None, &root_pem, "localhost");
        assert_eq!(got, Err(TlsError::UnsupportedAlgorithm), "{what} ({root})");
    }
}

/// Writes the DER chains of this PKI to `examples/qemu/fixtures/tls_algorithms/` for the
/// on-target `tls_algorithms` suite (run by hand with `-- --ignored`; the certificates
/// are valid for 30 days after `now.bin`, which the suite uses as its clock).
#[test]
#[ignore = "regenerates the on-target fixtures"]
fn record_fixture() {
    let pki = pki();
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/qemu/fixtures/tls_algorithms");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, der: Vec<u8>| std::fs::write(dir.join(name), der).unwrap();
    write("p384_root.der", pki.ec_root.der());
    write("p384_intermediate.der", pki.ec_intermediate.der());
    write("p256_via_p384.der", pki.p256_via_p384.der());
    write("p384_leaf.der", pki.p384_leaf.der());
    write("rsa_root.der", pki.rsa_root.der());
    write("rsa_leaf.der", pki.rsa_leaf.der());
    write("p256_via_rsa_pss.der", pki.p256_via_rsa_pss.der());
    std::fs::write(dir.join("now.bin"), now_unix().to_le_bytes()).unwrap();
}
