//! The TLS 1.3 key schedule for SHA-256 (RFC 8446 §7.1): HMAC (RFC 2104), HKDF
//! (RFC 5869) with outputs of at most one hash block, `HKDF-Expand-Label`,
//! `Derive-Secret`, the Finished MAC (§4.4.4), traffic keys (§7.3) and the KeyUpdate
//! step (§7.2). Pure functions over 32-byte secrets; no state.

use sha2::{Digest as _, Sha256};

/// A 32-byte secret or hash.
pub(crate) type Secret = [u8; 32];

/// HMAC-SHA256 of the concatenation of `parts` under `key` (at most 64 bytes, which
/// every key of the schedule is).
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> Secret {
    let mut block = [0u8; 64];
    for (b, k) in block.iter_mut().zip(key) {
        *b = *k;
    }
    let pad = |byte: u8| {
        let mut h = Sha256::new();
        h.update(block.map(|b| b ^ byte));
        h
    };
    let mut inner = pad(0x36);
    for part in parts {
        inner.update(part);
    }
    let mut outer = pad(0x5c);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `HKDF-Extract(salt, ikm)`.
pub(crate) fn extract(salt: &[u8], ikm: &[u8]) -> Secret {
    hmac(salt, &[ikm])
}

/// `HKDF-Expand-Label(secret, label, context, out.len())` for `out.len()` ≤ 32 (one
/// HMAC block: `T(1)` truncated).
pub(crate) fn expand_label(secret: &Secret, label: &[u8], context: &[u8], out: &mut [u8]) {
    let len = (out.len() as u16).to_be_bytes();
    let t = hmac(
        secret,
        &[
            &len,
            &[6 + label.len() as u8],
            b"tls13 ",
            label,
            &[context.len() as u8],
            context,
            &[1],
        ],
    );
    for (o, b) in out.iter_mut().zip(t) {
        *o = b;
    }
}

/// `Derive-Secret(secret, label, messages)` given the transcript hash of `messages`.
pub(crate) fn derive(secret: &Secret, label: &[u8], hash: &Secret) -> Secret {
    let mut out = [0u8; 32];
    expand_label(secret, label, hash, &mut out);
    out
}

/// The secret of the next stage: `HKDF-Extract(Derive-Secret(secret, "derived", ""),
/// ikm)`.
fn next_stage(secret: &Secret, ikm: &[u8]) -> Secret {
    let empty: Secret = Sha256::digest([]).into();
    extract(&derive(secret, b"derived", &empty), ikm)
}

/// The handshake secret from the (EC)DHE shared secret, without a PSK.
pub(crate) fn handshake_secret(shared: &[u8]) -> Secret {
    let early = extract(&[0; 32], &[0; 32]);
    next_stage(&early, shared)
}

/// The master secret that follows the handshake secret `hs`.
pub(crate) fn master_secret(hs: &Secret) -> Secret {
    next_stage(hs, &[0; 32])
}

/// The Finished `verify_data` for a traffic secret and the transcript hash.
pub(crate) fn finished(base: &Secret, hash: &Secret) -> Secret {
    let mut key = [0u8; 32];
    expand_label(base, b"finished", &[], &mut key);
    hmac(&key, &[hash])
}

/// The next application traffic secret (KeyUpdate).
pub(crate) fn updated(secret: &Secret) -> Secret {
    let mut out = [0u8; 32];
    expand_label(secret, b"traffic upd", &[], &mut out);
    out
}

/// The AES-128-GCM key and IV of a traffic secret.
pub(crate) fn traffic_key(secret: &Secret) -> ([u8; 16], [u8; 12]) {
    let (mut key, mut iv) = ([0u8; 16], [0u8; 12]);
    expand_label(secret, b"key", &[], &mut key);
    expand_label(secret, b"iv", &[], &mut iv);
    (key, iv)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use std::vec::Vec;

    /// `hex` as bytes (test vectors).
    pub(crate) fn unhex<const N: usize>(hex: &str) -> [u8; N] {
        let digits: Vec<u8> = hex
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| (c as char).to_digit(16).unwrap() as u8)
            .collect();
        let bytes: Vec<u8> = digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect();
        bytes.try_into().unwrap()
    }

    // RFC 8448 §3 "Simple 1-RTT Handshake".
    const SHARED: &str = "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d";
    const HELLO_HASH: &str = "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8";

    #[test]
    fn rfc8448_handshake_secrets_and_keys() {
        let hs = handshake_secret(&unhex::<32>(SHARED));
        assert_eq!(
            hs,
            unhex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
        );
        let hello = unhex(HELLO_HASH);
        let c_hs = derive(&hs, b"c hs traffic", &hello);
        let s_hs = derive(&hs, b"s hs traffic", &hello);
        assert_eq!(
            c_hs,
            unhex("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
        );
        assert_eq!(
            s_hs,
            unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
        );
        assert_eq!(
            traffic_key(&s_hs),
            (
                unhex("3fce516009c21727d0f2e4e86ee403bc"),
                unhex("5d313eb2671276ee13000b30")
            )
        );
        assert_eq!(
            traffic_key(&c_hs),
            (
                unhex("dbfaa693d1762c5b666af5d950258d01"),
                unhex("5bd3c71b836e0b76bb73265f")
            )
        );
        let mut fk = [0u8; 32];
        expand_label(&c_hs, b"finished", &[], &mut fk);
        assert_eq!(
            fk,
            unhex("b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4")
        );
        assert_eq!(
            master_secret(&hs),
            unhex("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            hmac(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }
}
