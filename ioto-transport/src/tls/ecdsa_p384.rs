//! ECDSA signature verification on NIST P-384 (FIPS 186-5 §6.4.2), on the shared
//! short-Weierstrass code of [`super::ecdsa`] instead of the `p384` crate.
//!
//! Why: `p384`'s fiat-crypto field and scalar code is fully unrolled for 12 32-bit limbs
//! and costs ≈ 150 KB of flash on a Cortex-M; this verifier is loop-based and a small
//! fraction of that (see the crate README for the measured numbers). Verification only
//! handles public data (key, message, signature), so it is variable-time: Jacobian
//! coordinates with `a = -3`, Shamir's simultaneous double-and-add for `u1·G + u2·Q`,
//! one field inversion at the end.

super::ecdsa::ecdsa_curve!(
    U384,
    48,
    p: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
    n: "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    b: "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
    gx: "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
    gy: "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use p384::ecdsa::signature::hazmat::PrehashSigner;
    use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
    use rand_core::{OsRng, RngCore};

    /// Keys and signatures from the `p384` crate (the oracle) verify with ours, for
    /// digests shorter than, equal to and longer than the order, with both point
    /// encodings; any changed bit of digest or signature does not.
    #[test]
    fn agrees_with_the_p384_crate() {
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
        let mut off_curve = [0u8; 97];
        off_curve.copy_from_slice(good.as_bytes());
        off_curve[96] ^= 0x01;
        let mut x_too_big = off_curve;
        x_too_big[96] ^= 0x01;
        x_too_big[1..49].fill(0xFF);
        for key in [
            &off_curve[..],
            &x_too_big,
            &good.as_bytes()[..96],
            &[0x04],
            &[],
        ] {
            assert_eq!(
                verify(key, &[0; 48], &[0x30, 0x06, 2, 1, 1, 2, 1, 1]),
                Err(TlsError::BadCertificate)
            );
        }
    }

    #[test]
    fn out_of_range_or_malformed_signatures_are_bad() {
        let sk = SigningKey::random(&mut OsRng);
        let key = VerifyingKey::from(&sk).to_encoded_point(false);
        // SEQUENCE { INTEGER n, INTEGER 1 }
        let mut with_n = [0u8; 56];
        with_n[..5].copy_from_slice(&[0x30, 0x36, 0x02, 0x31, 0x00]);
        for (i, word) in N.as_words().iter().rev().enumerate() {
            let bytes = word.to_be_bytes();
            with_n[5 + i * bytes.len()..5 + (i + 1) * bytes.len()].copy_from_slice(&bytes);
        }
        with_n[53..].copy_from_slice(&[0x02, 0x01, 0x01]);
        for sig in [
            &[0x30, 0x06, 2, 1, 0, 2, 1, 1][..], // r = 0
            &with_n,                             // r = n
            &[0x30, 0x06, 2, 1, 1, 2, 1, 1, 0],  // trailing byte
            &[0x30, 0x03, 2, 1, 1],              // s missing
            &[],
        ] {
            assert_eq!(
                verify(key.as_bytes(), &[7; 48], sig),
                Err(TlsError::BadSignature),
                "{sig:02x?}"
            );
        }
    }
}
