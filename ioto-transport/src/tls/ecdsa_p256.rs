//! ECDSA signature verification on NIST P-256 (FIPS 186-5 §6.4.2), on the shared
//! short-Weierstrass code of [`super::ecdsa`] instead of the `p256` crate (whose
//! unrolled field and scalar code is several times larger).

super::ecdsa::ecdsa_curve!(
    U256,
    32,
    p: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    n: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    b: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
    gx: "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    gy: "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
    use rand_core::{OsRng, RngCore};

    /// Keys and signatures from the `p384` crate (the oracle) verify with ours, for
    /// digests shorter than, equal to and longer than the order, with both point
    /// encodings; any changed bit of digest or signature does not.
    #[test]
    fn agrees_with_the_p256_crate() {
        for round in 0..12 {
            let sk = SigningKey::random(&mut OsRng);
            let vk = VerifyingKey::from(&sk);
            let mut digest = [0u8; 64];
            OsRng.fill_bytes(&mut digest);
            let digest = &digest[..[32, 48, 64][round % 3]];
            let sig: Signature = sk.sign_prehash(digest).unwrap();
            let der = sig.to_der();
            let key = vk.to_encoded_point(round % 2 == 0);
            assert_eq!(verify(key.as_bytes(), digest, der.as_bytes()), Ok(()));

            let mut other = [0u8; 64];
            let other = &mut other[..digest.len()];
            other.copy_from_slice(digest);
            other[round % digest.len()] ^= 0x10;
            assert_eq!(
                verify(key.as_bytes(), other, der.as_bytes()),
                Err(TlsError::BadSignature)
            );
            let mut tampered = [0u8; 128];
            let tampered = &mut tampered[..der.as_bytes().len()];
            tampered.copy_from_slice(der.as_bytes());
            *tampered.last_mut().unwrap() ^= 0x01;
            assert_eq!(
                verify(key.as_bytes(), digest, tampered),
                Err(TlsError::BadSignature)
            );
            let stranger = VerifyingKey::from(&SigningKey::random(&mut OsRng));
            assert_eq!(
                verify(
                    stranger.to_encoded_point(false).as_bytes(),
                    digest,
                    der.as_bytes()
                ),
                Err(TlsError::BadSignature)
            );
        }
    }

    #[test]
    fn keys_off_the_curve_or_malformed_are_bad_certificates() {
        let vk = VerifyingKey::from(&SigningKey::random(&mut OsRng));
        let good = vk.to_encoded_point(false);
        let mut off_curve = [0u8; 65];
        off_curve.copy_from_slice(good.as_bytes());
        off_curve[64] ^= 0x01;
        let mut x_too_big = off_curve;
        x_too_big[64] ^= 0x01;
        x_too_big[1..33].fill(0xFF);
        for key in [
            &off_curve[..],
            &x_too_big,
            &good.as_bytes()[..64],
            &[0x04],
            &[],
        ] {
            assert_eq!(
                verify(key, &[0; 32], &[0x30, 0x06, 2, 1, 1, 2, 1, 1]),
                Err(TlsError::BadCertificate)
            );
        }
    }

    #[test]
    fn out_of_range_or_malformed_signatures_are_bad() {
        let sk = SigningKey::random(&mut OsRng);
        let key = VerifyingKey::from(&sk).to_encoded_point(false);
        // SEQUENCE { INTEGER n, INTEGER 1 }
        let mut with_n = [0u8; 40];
        with_n[..5].copy_from_slice(&[0x30, 0x26, 0x02, 0x21, 0x00]);
        for (i, word) in N.as_words().iter().rev().enumerate() {
            let bytes = word.to_be_bytes();
            with_n[5 + i * bytes.len()..5 + (i + 1) * bytes.len()].copy_from_slice(&bytes);
        }
        with_n[37..].copy_from_slice(&[0x02, 0x01, 0x01]);
        for sig in [
            &[0x30, 0x06, 2, 1, 0, 2, 1, 1][..], // r = 0
            &with_n,                             // r = n
            &[0x30, 0x06, 2, 1, 1, 2, 1, 1, 0],  // trailing byte
            &[0x30, 0x03, 2, 1, 1],              // s missing
            &[],
        ] {
            assert_eq!(
                verify(key.as_bytes(), &[7; 32], sig),
                Err(TlsError::BadSignature),
                "{sig:02x?}"
            );
        }
    }

    /// `SEQUENCE { INTEGER r, INTEGER s }` for big-endian `r` and `s`.
    fn der(r: &[u8; 32], s: &[u8; 32]) -> std::vec::Vec<u8> {
        // Minimal DER: a 0x00 prefix only when the top bit is set.
        let int = |v: &[u8; 32]| {
            let mut out = if v[0] & 0x80 != 0 {
                std::vec![0x02, 0x21, 0x00]
            } else {
                std::vec![0x02, 0x20]
            };
            out.extend_from_slice(v);
            out
        };
        let (r, s) = (int(r), int(s));
        let mut out = std::vec![0x30, (r.len() + s.len()) as u8];
        out.extend(r);
        out.extend(s);
        out
    }

    /// RFC 6979 §A.2.5: the P-256 key and its SHA-256 signatures of "sample" and
    /// "test" (published values, independent of any implementation here).
    #[test]
    fn rfc6979_p256_sha256_vectors_verify() {
        use super::super::schedule::tests::unhex;
        let key: [u8; 65] = unhex(concat!(
            "04",
            "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
            "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
        ));
        let cases = [
            (
                "af2bdbe1aa9b6ec1e2ade1d694f41fc71a831d0268e9891562113d8a62add1bf",
                "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
                "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
            ),
            (
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
                "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083",
            ),
        ];
        for (digest, r, s) in cases {
            let digest: [u8; 32] = unhex(digest);
            let sig = der(&unhex(r), &unhex(s));
            assert_eq!(verify(&key, &digest, &sig), Ok(()));
            let mut other = digest;
            other[0] ^= 1;
            assert_eq!(verify(&key, &other, &sig), Err(TlsError::BadSignature));
        }
    }
}
