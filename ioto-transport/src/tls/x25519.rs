//! X25519 (RFC 7748 §5): Diffie-Hellman on Curve25519 with the Montgomery ladder, in
//! constant time (no branch or index depends on the scalar; conditional swaps are
//! masks). Field elements mod 2^255 − 19 are 16 signed 64-bit limbs of 16 bits (the
//! TweetNaCl representation: small code, products and sums stay far below 2^63).
//!
//! On Cortex-M0/M3 the 64-bit multiplications are not single-cycle instructions
//! (`__aeabi_lmul` / early-terminating `UMULL`), so timing there depends on the
//! operands' magnitudes; on Cortex-M4 and RISC-V with `M` it does not.

/// A field element: `Σ limb[i] · 2^(16 i)`.
type Fe = [i64; 16];

/// Propagates carries so every limb is below 2^16 again (the top carry wraps ×38).
fn carry(o: &mut Fe) {
    for i in 0..16 {
        o[i] += 1 << 16;
        let c = o[i] >> 16;
        if i < 15 {
            o[i + 1] += c - 1;
        } else {
            o[0] += 38 * (c - 1);
        }
        o[i] -= c << 16;
    }
}

/// Swaps `p` and `q` when `bit` is 1, in constant time.
fn swap(p: &mut Fe, q: &mut Fe, bit: i64) {
    let mask = !(bit - 1);
    for (a, b) in p.iter_mut().zip(q.iter_mut()) {
        let t = mask & (*a ^ *b);
        *a ^= t;
        *b ^= t;
    }
}

/// The canonical little-endian encoding (fully reduced mod p).
fn pack(n: &Fe) -> [u8; 32] {
    let mut t = *n;
    carry(&mut t);
    carry(&mut t);
    carry(&mut t);
    for _ in 0..2 {
        let mut m = [0i64; 16];
        m[0] = t[0] - 0xffed;
        for i in 1..15 {
            m[i] = t[i] - 0xffff - ((m[i - 1] >> 16) & 1);
            m[i - 1] &= 0xffff;
        }
        m[15] = t[15] - 0x7fff - ((m[14] >> 16) & 1);
        let borrow = (m[15] >> 16) & 1;
        m[14] &= 0xffff;
        swap(&mut t, &mut m, 1 - borrow);
    }
    let mut out = [0u8; 32];
    for (pair, limb) in out.chunks_exact_mut(2).zip(t) {
        pair[0] = limb as u8;
        pair[1] = (limb >> 8) as u8;
    }
    out
}

/// Decodes a u-coordinate (the top bit is ignored, RFC 7748 §5).
fn unpack(bytes: &[u8; 32]) -> Fe {
    let mut o = [0i64; 16];
    for (limb, pair) in o.iter_mut().zip(bytes.chunks_exact(2)) {
        *limb = i64::from(pair[0]) | i64::from(pair[1]) << 8;
    }
    o[15] &= 0x7fff;
    o
}

fn add(a: &Fe, b: &Fe) -> Fe {
    core::array::from_fn(|i| a[i] + b[i])
}

fn sub(a: &Fe, b: &Fe) -> Fe {
    core::array::from_fn(|i| a[i] - b[i])
}

fn mul(a: &Fe, b: &Fe) -> Fe {
    let mut t = [0i64; 31];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            t[i + j] += x * y;
        }
    }
    // 2^256 ≡ 38 (mod p).
    for i in 0..15 {
        t[i] += 38 * t[i + 16];
    }
    let mut o = [0i64; 16];
    o.copy_from_slice(&t[..16]);
    carry(&mut o);
    carry(&mut o);
    o
}

/// `a^(p − 2)`, the inverse (0 for 0).
fn invert(a: &Fe) -> Fe {
    let mut c = *a;
    for bit in (0..=253).rev() {
        c = mul(&c, &c);
        if bit != 2 && bit != 4 {
            c = mul(&c, a);
        }
    }
    c
}

/// `X25519(scalar, u)`: the u-coordinate of `scalar · (u, …)`, with the scalar
/// clamped as RFC 7748 §5 requires.
pub(crate) fn x25519(scalar: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    let mut k = *scalar;
    k[0] &= 248;
    k[31] = (k[31] & 127) | 64;
    let x = unpack(u);
    let (mut a, mut b, mut c, mut d) = ([0i64; 16], x, [0i64; 16], [0i64; 16]);
    a[0] = 1;
    d[0] = 1;
    // (A − 2) / 4 = 121665.
    let a24: Fe = [0xdb41, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for i in (0..=254).rev() {
        let bit = i64::from((k[i >> 3] >> (i & 7)) & 1);
        swap(&mut a, &mut b, bit);
        swap(&mut c, &mut d, bit);
        let mut e = add(&a, &c);
        a = sub(&a, &c);
        c = add(&b, &d);
        b = sub(&b, &d);
        d = mul(&e, &e);
        let f = mul(&a, &a);
        a = mul(&c, &a);
        c = mul(&b, &e);
        e = add(&a, &c);
        a = sub(&a, &c);
        b = mul(&a, &a);
        c = sub(&d, &f);
        a = mul(&c, &a24);
        a = add(&a, &d);
        c = mul(&c, &a);
        a = mul(&d, &f);
        d = mul(&b, &x);
        b = mul(&e, &e);
        swap(&mut a, &mut b, bit);
        swap(&mut c, &mut d, bit);
    }
    pack(&mul(&a, &invert(&c)))
}

/// The public key of `secret`: `X25519(secret, 9)`.
pub(crate) fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    let mut nine = [0u8; 32];
    nine[0] = 9;
    x25519(secret, &nine)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::schedule::tests::unhex;
    use super::*;

    #[test]
    fn rfc7748_section_5_2_vectors() {
        let cases = [
            (
                "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
                "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
            ),
            (
                "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
                "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
            ),
        ];
        for (k, u, out) in cases {
            assert_eq!(x25519(&unhex(k), &unhex(u)), unhex::<32>(out));
        }
    }

    #[test]
    fn rfc7748_iterated_1_and_1000() {
        let mut k = [0u8; 32];
        k[0] = 9;
        let mut u = k;
        for i in 1..=1000 {
            let next = x25519(&k, &u);
            u = k;
            k = next;
            if i == 1 {
                assert_eq!(
                    k,
                    unhex::<32>("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
                );
            }
        }
        assert_eq!(
            k,
            unhex::<32>("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
        );
    }

    #[test]
    fn rfc7748_section_6_1_diffie_hellman() {
        let alice = unhex::<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let bob = unhex::<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        let alice_pub = public_key(&alice);
        let bob_pub = public_key(&bob);
        assert_eq!(
            alice_pub,
            unhex::<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            bob_pub,
            unhex::<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        );
        let shared =
            unhex::<32>("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(x25519(&alice, &bob_pub), shared);
        assert_eq!(x25519(&bob, &alice_pub), shared);
    }

    #[test]
    fn a_low_order_point_gives_the_all_zero_secret() {
        // u = 0 (order 4 after clamping): the caller must refuse the zero output.
        assert_eq!(x25519(&[7; 32], &[0; 32]), [0; 32]);
    }
}
