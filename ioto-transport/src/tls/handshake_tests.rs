//! The handshake state machine on crafted messages: HelloRetryRequest handling (a
//! cookie is echoed once; a retry asking for any key share — we have no other group —,
//! a second one, or one that changes nothing is refused), ServerHello group and share
//! checks, and messages out of order.

use std::vec::Vec;

use super::super::name::ServerName;
use super::*;

const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn handshake() -> Handshake<'static> {
    let hello = Hello {
        random: [1; 32],
        share: [0; 32],
        server_name: Some("localhost"),
        max_fragment_length: None,
        alpn: None,
    };
    let verifier = Verifier::new(b"", ServerName::parse("localhost").unwrap(), 0);
    Handshake::new([7; 32], hello, verifier)
}

/// A handshake message of type `kind` around `body`.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = std::vec![kind, 0, (body.len() >> 8) as u8, body.len() as u8];
    m.extend_from_slice(body);
    m
}

/// A ServerHello (or, with `HRR_RANDOM`, a HelloRetryRequest) with these extensions.
fn server_hello(random: [u8; 32], exts: &[u8]) -> Vec<u8> {
    let mut b = std::vec![3, 3];
    b.extend_from_slice(&random);
    b.extend_from_slice(&[0, 0x13, 0x01, 0]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&[0, 43, 0, 2, 3, 4]);
    b.extend_from_slice(exts);
    let n = b.len() - 40;
    b[38..40].copy_from_slice(&(n as u16).to_be_bytes());
    message(hello::SERVER_HELLO, &b)
}

/// A key_share extension with `group` and `key`.
fn share(group: u16, key: &[u8]) -> Vec<u8> {
    let mut e = std::vec![0, 51];
    e.extend_from_slice(&((key.len() + 4) as u16).to_be_bytes());
    e.extend_from_slice(&group.to_be_bytes());
    e.extend_from_slice(&(key.len() as u16).to_be_bytes());
    e.extend_from_slice(key);
    e
}

fn first_hello(hs: &mut Handshake<'_>) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    hs.client_hello(&mut w, None).unwrap();
    w.written().to_vec()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_retry_with_a_cookie_echoes_it_and_only_once() {
    let mut hs = handshake();
    let first = first_hello(&mut hs);
    assert!(contains(&first, &[0, 51, 0, 38, 0, 36, 0, 0x1d, 0, 32]));
    let hrr = server_hello(HRR_RANDOM, &[0, 44, 0, 4, 0, 2, 0xc0, 0x0c]);
    assert_eq!(hs.handle(&hrr), Ok(Event::Retry(Some(&[0xc0, 0x0c][..]))));
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    hs.client_hello(&mut w, Some(&[0xc0, 0x0c])).unwrap();
    let second = w.written();
    assert!(contains(second, &[0, 44, 0, 4, 0, 2, 0xc0, 0x0c]));
    // The same share again: the key is kept across the retry.
    let at = first
        .windows(10)
        .position(|w| w == [0, 51, 0, 38, 0, 36, 0, 0x1d, 0, 32]);
    let key = &first[at.unwrap() + 10..][..32];
    assert!(contains(second, key));
    assert_eq!(
        hs.handle(&hrr),
        Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE))
    );
}

#[test]
fn retries_we_cannot_honour_are_illegal_parameter() {
    let illegal = Err(Fatal::protocol(alert::ILLEGAL_PARAMETER));
    // x25519 again (we sent its share), secp256r1 (not offered), nothing at all.
    for exts in [&[0, 51, 0, 2, 0, 0x1d][..], &[0, 51, 0, 2, 0, 0x17], &[]] {
        let mut hs = handshake();
        first_hello(&mut hs);
        assert_eq!(
            hs.handle(&server_hello(HRR_RANDOM, exts)),
            illegal,
            "{exts:?}"
        );
    }
}

#[test]
fn the_server_share_must_be_ours_and_not_low_order() {
    let illegal = Err(Fatal::protocol(alert::ILLEGAL_PARAMETER));
    let cases = [
        share(0x17, &[4; 65]), // a group whose share we did not send
        share(0x1d, &[0; 32]), // a low-order point: all-zero secret
        share(0x1d, &[9; 31]), // a short key
    ];
    for exts in cases {
        let mut hs = handshake();
        first_hello(&mut hs);
        assert_eq!(hs.handle(&server_hello([2; 32], &exts)), illegal);
    }
}

#[test]
fn a_finished_before_certificate_verify_is_missing_certificate() {
    let mut hs = handshake();
    first_hello(&mut hs);
    let server_key = x25519::public_key(&[5; 32]);
    let sh = server_hello([2; 32], &share(0x1d, &server_key));
    assert!(matches!(hs.handle(&sh), Ok(Event::HandshakeKeys(..))));
    // The same secrets on the server's side.
    let shared = x25519::x25519(&[5; 32], &x25519::public_key(&[7; 32]));
    assert_ne!(shared, [0; 32]);
    assert_eq!(hs.handle(&message(8, &[0, 0])), Ok(Event::Next));
    assert_eq!(
        hs.handle(&message(FINISHED, &[0; 32])),
        Err(Fatal::new(
            TlsError::MissingCertificate,
            alert::UNEXPECTED_MESSAGE
        ))
    );
}

#[test]
fn messages_out_of_order_or_malformed_are_refused() {
    let mut hs = handshake();
    assert_eq!(
        hs.handle(&message(8, &[0, 0])),
        Err(Fatal::protocol(alert::UNEXPECTED_MESSAGE))
    );
    // A length that runs past the message.
    assert_eq!(
        hs.handle(&[2, 0, 0, 9, 3]),
        Err(Fatal::protocol(alert::DECODE_ERROR))
    );
}
