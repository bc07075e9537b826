//! ECDSA signature verification (FIPS 186-5 §6.4.2) on short-Weierstrass curves with
//! `a = −3` (NIST P-256 and P-384), written once on `crypto-bigint`'s constant-modulus
//! Montgomery arithmetic and instantiated per curve by [`ecdsa_curve!`]
//! (`ecdsa_p256.rs`, `ecdsa_p384.rs`).
//!
//! Loop-based, so small: a fraction of the unrolled field code of the `p256`/`p384`
//! crates. Verification only handles public data (key, message, signature), so it is
//! variable-time: Jacobian coordinates, Shamir's simultaneous double-and-add for
//! `u1·G + u2·Q`, one field inversion at the end.

/// Defines, in the invoking module, `verify(key, digest, signature_der)` for the curve
/// with the big-integer type `$uint` (`$len` bytes), field prime `p`, group order `n`,
/// coefficient `b` and base point `(gx, gy)` (big-endian hex).
macro_rules! ecdsa_curve {
    ($uint:ident, $len:expr, p: $p:literal, n: $n:literal, b: $b:literal, gx: $gx:literal, gy: $gy:literal) => {
        use crypto_bigint::modular::constant_mod::{Residue, ResidueParams};
        use crypto_bigint::{Limb, impl_modulus, $uint};

        use super::asn1::ecdsa_signature;
        use super::error::TlsError;

        const LIMBS: usize = $uint::LIMBS;
        /// Bytes in a field element or scalar.
        const LEN: usize = $len;

        // The field prime p and the group order n.
        impl_modulus!(FieldPrime, $uint, $p);
        impl_modulus!(GroupOrder, $uint, $n);
        /// A field element (Montgomery form, compile-time constants for `p`).
        type Fe = Residue<FieldPrime, LIMBS>;
        /// A scalar modulo the group order.
        type Scalar = Residue<GroupOrder, LIMBS>;

        /// The field prime `p`.
        const P: $uint = <FieldPrime as ResidueParams<LIMBS>>::MODULUS;
        /// The group order `n`.
        const N: $uint = <GroupOrder as ResidueParams<LIMBS>>::MODULUS;
        /// The curve coefficient `b` (`a` is −3).
        const B: $uint = $uint::from_be_hex($b);
        /// The base point `G`.
        const GX: $uint = $uint::from_be_hex($gx);
        const GY: $uint = $uint::from_be_hex($gy);

        /// A point in Jacobian coordinates (`x = X/Z²`, `y = Y/Z³`); the point at infinity is
        /// `None` wherever it can occur.
        #[derive(Clone, Copy)]
        struct Point {
            x: Fe,
            y: Fe,
            z: Fe,
        }

        fn is_zero(a: &Fe) -> bool {
            *a == Fe::ZERO
        }

        fn times(a: &Fe, k: u32) -> Fe {
            let mut sum = *a;
            for _ in 1..k {
                sum = sum.add(a);
            }
            sum
        }

        /// `2P` (dbl-2001-b, `a = −3`).
        fn double(p: &Point) -> Option<Point> {
            if is_zero(&p.y) {
                return None;
            }
            let delta = p.z.square();
            let gamma = p.y.square();
            let beta = p.x.mul(&gamma);
            let alpha = times(&p.x.sub(&delta).mul(&p.x.add(&delta)), 3);
            let x = alpha.square().sub(&times(&beta, 8));
            let z = p.y.add(&p.z).square().sub(&gamma).sub(&delta);
            let y = alpha
                .mul(&times(&beta, 4).sub(&x))
                .sub(&times(&gamma.square(), 8));
            Some(Point { x, y, z })
        }

        /// `P + Q` (add-2007-bl), falling back to doubling when `P = Q`.
        fn add(p: &Point, q: &Point) -> Option<Point> {
            let z1z1 = p.z.square();
            let z2z2 = q.z.square();
            let u1 = p.x.mul(&z2z2);
            let u2 = q.x.mul(&z1z1);
            let s1 = p.y.mul(&q.z).mul(&z2z2);
            let s2 = q.y.mul(&p.z).mul(&z1z1);
            let h = u2.sub(&u1);
            let r = times(&s2.sub(&s1), 2);
            if is_zero(&h) {
                return if is_zero(&r) { double(p) } else { None };
            }
            let i = times(&h, 2).square();
            let j = h.mul(&i);
            let v = u1.mul(&i);
            let x = r.square().sub(&j).sub(&times(&v, 2));
            let y = r.mul(&v.sub(&x)).sub(&times(&s1.mul(&j), 2));
            let z = p.z.add(&q.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
            Some(Point { x, y, z })
        }

        fn add_to(acc: Option<Point>, q: Option<&Point>) -> Option<Point> {
            match (acc, q) {
                (Some(a), Some(q)) => add(&a, q),
                (None, Some(q)) => Some(*q),
                (acc, None) => acc,
            }
        }

        /// Loads a big-endian integer of at most `LEN` bytes.
        fn load(bytes: &[u8]) -> Option<$uint> {
            let mut padded = [0u8; LEN];
            padded
                .get_mut(LEN.checked_sub(bytes.len())?..)?
                .copy_from_slice(bytes);
            Some($uint::from_be_slice(&padded))
        }

        /// Whether bit `i` of `k` is set.
        fn bit(k: &$uint, i: usize) -> bool {
            k.as_words()
                .get(i / Limb::BITS)
                .is_some_and(|w| (w >> (i % Limb::BITS)) & 1 == 1)
        }

        /// Parses a SEC1 public key (uncompressed or compressed) and checks it is on the curve.
        fn public_key(sec1: &[u8]) -> Result<Point, TlsError> {
            let bad = TlsError::BadCertificate;
            let (&tag, coords) = sec1.split_first().ok_or(bad)?;
            let x = coords.get(..LEN).and_then(load).ok_or(bad)?;
            if x >= P {
                return Err(bad);
            }
            let x = Fe::new(&x);
            let b = Fe::new(&B);
            let rhs = x.square().mul(&x).sub(&times(&x, 3)).add(&b);
            let y = match (tag, coords.len()) {
                (0x04, n) if n == 2 * LEN => {
                    let y = coords.get(LEN..).and_then(load).ok_or(bad)?;
                    if y >= P {
                        return Err(bad);
                    }
                    Fe::new(&y)
                }
                (0x02 | 0x03, LEN) => {
                    // p ≡ 3 (mod 4): a square root of `rhs` is rhs^((p+1)/4).
                    let root = rhs.pow(&P.wrapping_add(&$uint::ONE).shr_vartime(2));
                    let odd = bit(&root.retrieve(), 0);
                    if odd == (tag == 0x03) {
                        root
                    } else {
                        root.neg()
                    }
                }
                _ => return Err(bad),
            };
            if y.square() != rhs {
                return Err(bad);
            }
            Ok(Point { x, y, z: Fe::ONE })
        }

        /// Parses a DER `ECDSA-Sig-Value` into `(r, s)`, each in `[1, n − 1]`.
        fn signature(der: &[u8]) -> Result<($uint, $uint), TlsError> {
            let (r, s) = ecdsa_signature(der).map_err(|_| TlsError::BadSignature)?;
            let scalar = |v: &[u8]| load(v).filter(|k| *k != $uint::ZERO && *k < N);
            Ok((
                scalar(r).ok_or(TlsError::BadSignature)?,
                scalar(s).ok_or(TlsError::BadSignature)?,
            ))
        }

        /// Verifies a DER ECDSA `signature` of the message digest `digest` (any length: the
        /// leftmost bits of the order's length are used) with the SEC1 public key `key`.
        ///
        /// # Errors
        /// [`TlsError::BadCertificate`] for a key that is malformed or not on the curve,
        /// [`TlsError::BadSignature`] when the signature is malformed or does not verify.
        // Not inlined: its big-integer temporaries would otherwise enlarge the stack frame of
        // every caller, also on handshakes that never use this algorithm.
        #[inline(never)]
        pub(crate) fn verify(
            key: &[u8],
            digest: &[u8],
            signature_der: &[u8],
        ) -> Result<(), TlsError> {
            let q = public_key(key)?;
            let (r, s) = signature(signature_der)?;
            let e = load(digest.get(..LEN).unwrap_or(digest)).ok_or(TlsError::BadSignature)?;
            // s ≠ 0 (mod n), so the inverse exists.
            let (w, _) = Scalar::new(&s).invert();
            let u1 = Scalar::new(&e).mul(&w).retrieve();
            let u2 = Scalar::new(&r).mul(&w).retrieve();

            let g = Point {
                x: Fe::new(&GX),
                y: Fe::new(&GY),
                z: Fe::ONE,
            };
            let g_plus_q = add(&g, &q);
            let mut acc: Option<Point> = None;
            for i in (0..$uint::BITS).rev() {
                acc = acc.as_ref().and_then(double);
                acc = match (bit(&u1, i), bit(&u2, i)) {
                    (true, true) => add_to(acc, g_plus_q.as_ref()),
                    (true, false) => add_to(acc, Some(&g)),
                    (false, true) => add_to(acc, Some(&q)),
                    (false, false) => acc,
                };
            }
            let point = acc.ok_or(TlsError::BadSignature)?;
            let (z_inv, _) = point.z.invert();
            let x = point.x.mul(&z_inv.square()).retrieve();
            // x mod n (x < p < 2n).
            let x = if x >= N { x.wrapping_sub(&N) } else { x };
            if x == r {
                Ok(())
            } else {
                Err(TlsError::BadSignature)
            }
        }
    };
}

pub(crate) use ecdsa_curve;

/// The tests every curve module runs against its RustCrypto crate `$oracle` (the
/// oracle): its keys and signatures verify, tampered ones do not, malformed keys and
/// out-of-range signatures are typed errors.
#[cfg(test)]
macro_rules! oracle_tests {
    ($oracle:ident) => {
        use rand_core::{OsRng, RngCore};
        use $oracle::ecdsa::signature::hazmat::PrehashSigner;
        use $oracle::ecdsa::{Signature, SigningKey, VerifyingKey};

        /// Keys and signatures from the RustCrypto crate of the curve (the oracle) verify with ours, for
        /// digests shorter than, equal to and longer than the order, with both point
        /// encodings; any changed bit of digest or signature does not.
        #[test]
        fn agrees_with_the_oracle_crate() {
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
            let mut off_curve = [0u8; 2 * LEN + 1];
            off_curve.copy_from_slice(good.as_bytes());
            off_curve[2 * LEN] ^= 0x01;
            let mut x_too_big = off_curve;
            x_too_big[2 * LEN] ^= 0x01;
            x_too_big[1..=LEN].fill(0xFF);
            for key in [
                &off_curve[..],
                &x_too_big,
                &good.as_bytes()[..2 * LEN],
                &[0x04],
                &[],
            ] {
                assert_eq!(
                    verify(key, &[0; LEN], &[0x30, 0x06, 2, 1, 1, 2, 1, 1]),
                    Err(TlsError::BadCertificate)
                );
            }
        }

        #[test]
        fn out_of_range_or_malformed_signatures_are_bad() {
            let sk = SigningKey::random(&mut OsRng);
            let key = VerifyingKey::from(&sk).to_encoded_point(false);
            // SEQUENCE { INTEGER n, INTEGER 1 }
            let mut with_n = [0u8; LEN + 8];
            with_n[..5].copy_from_slice(&[0x30, LEN as u8 + 6, 0x02, LEN as u8 + 1, 0x00]);
            for (i, word) in N.as_words().iter().rev().enumerate() {
                let bytes = word.to_be_bytes();
                with_n[5 + i * bytes.len()..5 + (i + 1) * bytes.len()].copy_from_slice(&bytes);
            }
            with_n[LEN + 5..].copy_from_slice(&[0x02, 0x01, 0x01]);
            for sig in [
                &[0x30, 0x06, 2, 1, 0, 2, 1, 1][..], // r = 0
                &with_n,                             // r = n
                &[0x30, 0x06, 2, 1, 1, 2, 1, 1, 0],  // trailing byte
                &[0x30, 0x03, 2, 1, 1],              // s missing
                &[],
            ] {
                assert_eq!(
                    verify(key.as_bytes(), &[7; LEN], sig),
                    Err(TlsError::BadSignature),
                    "{sig:02x?}"
                );
            }
        }
    };
}
#[cfg(test)]
pub(crate) use oracle_tests;
