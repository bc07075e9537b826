//! ClientHello bytes and ServerHello / EncryptedExtensions parsing, including the
//! error cases: truncated and oversized lengths, HelloRetryRequest variants.

use super::*;
use std::vec;
use std::vec::Vec;

fn hello() -> Hello<'static> {
    Hello {
        random: [0xaa; 32],
        share: [4; 32],
        server_name: Some("example.com"),
        max_fragment_length: Some(MaxFragmentLength::Bits12),
        alpn: Some(&[b"mqtt"]),
    }
}

/// A ServerHello body with `random` and these extensions.
fn server_hello_body(random: [u8; 32], exts: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.extend_from_slice(&[0, 0x13, 0x01, 0]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(exts);
    b
}

const VERSIONS: [u8; 6] = [0, 43, 0, 2, 3, 4];

fn share_ext() -> Vec<u8> {
    let mut e = vec![0, 51, 0, 69, 0, 0x17, 0, 65];
    e.extend_from_slice(&[4; 65]);
    e
}

#[test]
fn client_hello_carries_what_we_offer() {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    client_hello(&mut w, &hello(), Some(b"ck")).unwrap();
    let m = w.written();
    assert_eq!(m[0], CLIENT_HELLO);
    assert_eq!(usize::from(m[2]) << 8 | usize::from(m[3]), m.len() - 4);
    let has = |needle: &[u8]| m.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"\x00\x00\x00\x10\x00\x0e\x00\x00\x0bexample.com"));
    assert!(has(&[0, 43, 0, 3, 2, 3, 4]));
    assert!(has(&[0, 10, 0, 4, 0, 2, 0, 0x1d]));
    let mut x25519_share = vec![0, 51, 0, 38, 0, 36, 0, 0x1d, 0, 32];
    x25519_share.extend_from_slice(&[4; 32]);
    assert!(has(&x25519_share));
    assert!(has(&[0, 1, 0, 1, 4]));
    assert!(has(b"\x00\x10\x00\x07\x00\x05\x04mqtt"));
    assert!(has(&[0, 44, 0, 4, 0, 2, b'c', b'k']));
    // Never Ed25519 (0x0807).
    assert!(!has(&[8, 7]));
    assert!(m.len() < 512);
    let mut small = [0u8; 64];
    assert_eq!(
        client_hello(&mut Writer::new(&mut small), &hello(), None),
        Err(TlsError::BufferTooSmall)
    );
}

#[test]
fn server_hello_with_a_share_parses() {
    let mut exts = VERSIONS.to_vec();
    exts.extend(share_ext());
    let body = server_hello_body([1; 32], &exts);
    assert_eq!(
        server_hello(&body),
        Ok(ServerHello::Hello(0x17, &[4; 65][..]))
    );
}

#[test]
fn server_hello_errors_are_typed() {
    let illegal = Err(Fatal::protocol(alert::ILLEGAL_PARAMETER));
    let decode = Err(Fatal::protocol(alert::DECODE_ERROR));
    let mut exts = VERSIONS.to_vec();
    exts.extend(share_ext());
    let good = server_hello_body([1; 32], &exts);
    // Every truncation is a decode error, never a panic.
    for n in 0..good.len() {
        let got = server_hello(&good[..n]);
        assert!(got.is_err(), "truncated at {n}");
    }
    assert_eq!(server_hello(&good[..10]), decode);
    // An oversized extension length.
    let mut long = good.clone();
    long[38] = 0xff;
    assert_eq!(server_hello(&long), decode);
    // Another cipher suite (the group is the handshake's to check).
    let mut suite = good.clone();
    suite[36] = 0x02;
    assert_eq!(server_hello(&suite), illegal);
    // No supported_versions: TLS 1.2.
    let tls12 = server_hello_body([1; 32], &share_ext());
    assert_eq!(server_hello(&tls12), Err(Fatal::protocol(70)));
    // No key share.
    let none = server_hello_body([1; 32], &VERSIONS);
    assert_eq!(
        server_hello(&none),
        Err(Fatal::protocol(alert::MISSING_EXTENSION))
    );
}

#[test]
fn hello_retry_requests() {
    // A cookie only: retry with the cookie.
    let mut exts = VERSIONS.to_vec();
    exts.extend_from_slice(&[0, 44, 0, 5, 0, 3, 1, 2, 3]);
    let body = server_hello_body(HRR_RANDOM, &exts);
    assert_eq!(
        server_hello(&body),
        Ok(ServerHello::Retry(None, Some(&[1, 2, 3][..])))
    );
    // A group: the handshake decides whether it can offer a share of it.
    for group in [0x17, 0x1d] {
        let mut exts = VERSIONS.to_vec();
        exts.extend_from_slice(&[0, 51, 0, 2, 0, group]);
        let body = server_hello_body(HRR_RANDOM, &exts);
        assert_eq!(
            server_hello(&body),
            Ok(ServerHello::Retry(Some(u16::from(group)), None))
        );
    }
    // A truncated selected_group.
    let mut exts = VERSIONS.to_vec();
    exts.extend_from_slice(&[0, 51, 0, 1, 0]);
    let body = server_hello_body(HRR_RANDOM, &exts);
    assert_eq!(
        server_hello(&body),
        Err(Fatal::protocol(alert::DECODE_ERROR))
    );
}

#[test]
fn encrypted_extensions_checks_alpn() {
    let offered: &[&[u8]] = &[b"mqtt", b"h2"];
    let ee = |proto: &[u8]| {
        let mut e = vec![0, 0, 0, 16, 0, 0, 0, 0, proto.len() as u8];
        e.extend_from_slice(proto);
        let n = e.len() - 2;
        e[1] = n as u8;
        e[5] = (n - 4) as u8;
        e[7] = (n - 6) as u8;
        e
    };
    assert_eq!(encrypted_extensions(&ee(b"h2"), Some(offered)), Ok(()));
    assert_eq!(
        encrypted_extensions(&ee(b"http/1.1"), Some(offered)),
        Err(Fatal::protocol(alert::ILLEGAL_PARAMETER))
    );
    assert_eq!(encrypted_extensions(&[0, 0], None), Ok(()));
    assert_eq!(
        encrypted_extensions(&[0, 9, 0], None),
        Err(Fatal::protocol(alert::DECODE_ERROR))
    );
}
