//! X25519 (RFC 7748 §5): Diffie-Hellman on Curve25519 with the Montgomery ladder, in
//! constant time (no branch or index depends on the scalar; conditional swaps are
//! masks). A field element mod p = 2^255 − 19 is sixteen 16-bit limbs held in `i32`s,
//! multiplied into `i64` sums (one `SMLAL` per limb pair on a Cortex-M4; sixteen
//! 34-bit products fit without care).
//!
//! On Cortex-M0/M3 the 64-bit multiplications are not single-cycle instructions
//! (`__aeabi_lmul` / early-terminating `UMULL`), so timing there depends on the
//! operands' magnitudes; on Cortex-M4 and RISC-V with `M` it does not.

/// A field element: `Σ limb[i] · 2^(16 i)`.
type Fe = [i32; 16];
/// A field element's limbs widened for carrying.
type Wide = [i64; 16];

/// Brings every limb into `0..2^16`, folding the carry out of the top limb back into
/// limb 0 (2^256 ≡ 38 mod p). Two calls after a multiplication leave every limb in
/// range (the second one's fold is at most 38).
fn carry(a: &mut Wide) {
    for i in 0..16 {
        let c = a[i] >> 16;
        a[i] -= c << 16;
        if i == 15 {
            a[0] += 38 * c;
        } else {
            a[i + 1] += c;
        }
    }
}

fn add(a: &Fe, b: &Fe) -> Fe {
    core::array::from_fn(|i| a[i] + b[i])
}

fn sub(a: &Fe, b: &Fe) -> Fe {
    core::array::from_fn(|i| a[i] - b[i])
}

fn mul(a: &Fe, b: &Fe) -> Fe {
    let mut t = [0i64; 31];
    for (i, &ai) in a.iter().enumerate() {
        for (j, &bj) in b.iter().enumerate() {
            t[i + j] += i64::from(ai) * i64::from(bj);
        }
    }
    let mut r: Wide = core::array::from_fn(|i| t[i] + if i < 15 { 38 * t[i + 16] } else { 0 });
    carry(&mut r);
    carry(&mut r);
    r.map(|limb| limb as i32)
}

fn square(a: &Fe) -> Fe {
    mul(a, a)
}

/// Swaps `a` and `b` when `bit` is 1, leaves them when it is 0, without a branch.
fn cswap(a: &mut Fe, b: &mut Fe, bit: i32) {
    let mask = -bit;
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        let t = mask & (*x ^ *y);
        *x ^= t;
        *y ^= t;
    }
}

/// `z^(p−2) = z⁻¹` (0 for 0; p − 2 = 2^255 − 21: every exponent bit set but 2 and 4).
fn invert(z: &Fe) -> Fe {
    let mut c = *z;
    for bit in (0..254).rev() {
        c = square(&c);
        if bit != 2 && bit != 4 {
            c = mul(&c, z);
        }
    }
    c
}

/// The canonical little-endian encoding: `a` fully reduced below p.
fn pack(a: &Fe) -> [u8; 32] {
    let mut t: Wide = a.map(i64::from);
    carry(&mut t);
    carry(&mut t);
    carry(&mut t);
    // t < 2^256 now: subtract p up to twice, keeping the difference when it did not
    // borrow.
    for _ in 0..2 {
        let mut m = [0i64; 16];
        let mut borrow = 0;
        for i in 0..16 {
            let limb = match i {
                0 => 0xffed,
                15 => 0x7fff,
                _ => 0xffff,
            };
            let d = t[i] - limb - borrow;
            borrow = (d >> 16) & 1;
            m[i] = d & 0xffff;
        }
        // All ones when there was no borrow (t ≥ p: take t − p), else zero.
        let take = borrow - 1;
        for (x, y) in t.iter_mut().zip(m) {
            *x ^= take & (*x ^ y);
        }
    }
    let mut out = [0u8; 32];
    for (pair, limb) in out.chunks_exact_mut(2).zip(t) {
        pair.copy_from_slice(&(limb as u16).to_le_bytes());
    }
    out
}

/// Decodes a u-coordinate (the top bit is ignored, RFC 7748 §5).
fn unpack(u: &[u8; 32]) -> Fe {
    let mut a: Fe =
        core::array::from_fn(|i| i32::from(u16::from_le_bytes([u[2 * i], u[2 * i + 1]])));
    a[15] &= 0x7fff;
    a
}

/// `X25519(scalar, u)`: the u-coordinate of `scalar · (u, …)`, with the scalar
/// clamped as RFC 7748 §5 requires; the ladder as the RFC writes it.
pub(crate) fn x25519(scalar: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    let mut k = *scalar;
    k[0] &= 248;
    k[31] = (k[31] & 127) | 64;
    // (A − 2) / 4 = 121665.
    let a24: Fe = [0xdb41, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let one: Fe = core::array::from_fn(|i| i32::from(i == 0));
    let x1 = unpack(u);
    let (mut x2, mut z2, mut x3, mut z3) = (one, [0; 16], x1, one);
    let mut swap = 0;
    for t in (0..255).rev() {
        let bit = i32::from((k[t / 8] >> (t % 8)) & 1);
        swap ^= bit;
        cswap(&mut x2, &mut x3, swap);
        cswap(&mut z2, &mut z3, swap);
        swap = bit;
        let a = add(&x2, &z2);
        let aa = square(&a);
        let b = sub(&x2, &z2);
        let bb = square(&b);
        let e = sub(&aa, &bb);
        let c = add(&x3, &z3);
        let d = sub(&x3, &z3);
        let da = mul(&d, &a);
        let cb = mul(&c, &b);
        x3 = square(&add(&da, &cb));
        z3 = mul(&x1, &square(&sub(&da, &cb)));
        x2 = mul(&aa, &bb);
        z2 = mul(&e, &add(&aa, &mul(&a24, &e)));
    }
    cswap(&mut x2, &mut x3, swap);
    cswap(&mut z2, &mut z3, swap);
    pack(&mul(&x2, &invert(&z2)))
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
