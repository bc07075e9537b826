//! Modular exponentiation by a small public exponent for RSA verification: Montgomery
//! multiplication (the CIOS method of Koç, Acar and Kaliski, "Analyzing and Comparing
//! Montgomery Multiplication Algorithms", 1996) on 32-bit limbs in fixed arrays.
//!
//! Only public data passes through here (signature, modulus, exponent), so nothing is
//! constant time. `R = 2^(32·L)` for an `L`-limb modulus; `R² mod n` comes from a
//! few doublings of `R mod n` and Montgomery squarings, not from a long division.

/// The most limbs of a modulus (4096 bits).
pub(crate) const MAX_LIMBS: usize = 128;

/// A number of up to [`MAX_LIMBS`] little-endian 32-bit limbs; only the first `len`
/// of the owning [`Modulus`] are used.
pub(crate) type Limbs = [u32; MAX_LIMBS];

/// An odd modulus with its Montgomery constants.
pub(crate) struct Modulus {
    /// The modulus, little-endian limbs.
    n: Limbs,
    /// Limbs in use.
    len: usize,
    /// `-n⁻¹ mod 2^32`.
    n0_inv: u32,
    /// `R² mod n`.
    r2: Limbs,
}

/// Reads big-endian `bytes` into little-endian limbs; `None` if they need more than
/// [`MAX_LIMBS`].
pub(crate) fn from_be_bytes(bytes: &[u8]) -> Option<Limbs> {
    let mut limbs = [0u32; MAX_LIMBS];
    if bytes.len() > 4 * MAX_LIMBS {
        return None;
    }
    for (i, &b) in bytes.iter().rev().enumerate() {
        limbs[i / 4] |= u32::from(b) << (8 * (i % 4));
    }
    Some(limbs)
}

/// Writes the low `out.len()` bytes of `limbs` big-endian into `out`.
pub(crate) fn to_be_bytes(limbs: &Limbs, out: &mut [u8]) {
    for (i, b) in out.iter_mut().rev().enumerate() {
        *b = limbs.get(i / 4).map_or(0, |l| (l >> (8 * (i % 4))) as u8);
    }
}

/// `a >= b` over the first `len` limbs.
fn ge(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().zip(b).rev() {
        if x != y {
            return x > y;
        }
    }
    true
}

/// `a -= b` over equal-length slices; returns the borrow.
fn sub_assign(a: &mut [u32], b: &[u32]) -> bool {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(u32::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
    borrow
}

impl Modulus {
    /// Prepares the odd modulus `n` (big-endian, without leading zero bytes). `None`
    /// for an even, zero or too wide modulus.
    pub(crate) fn new(n_be: &[u8]) -> Option<Self> {
        let n = from_be_bytes(n_be)?;
        let len = n_be.len().div_ceil(4);
        if len == 0 || n[0] & 1 == 0 || n[len - 1] == 0 {
            return None;
        }
        // Newton's iteration doubles the correct low bits of n⁻¹ each step (n·n ≡ 1
        // mod 8 for odd n gives 3 bits to start with).
        let mut inv = n[0];
        for _ in 0..4 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        let mut m = Modulus {
            n,
            len,
            n0_inv: inv.wrapping_neg(),
            r2: [0; MAX_LIMBS],
        };
        m.r2 = m.r_squared();
        Some(m)
    }

    /// `x = 2·x mod n` for `x < n`.
    fn double(&self, x: &mut Limbs) {
        let len = self.len;
        let mut carry = 0;
        for limb in &mut x[..len] {
            let top = *limb >> 31;
            *limb = (*limb << 1) | carry;
            carry = top;
        }
        if carry == 1 || ge(&x[..len], &self.n[..len]) {
            sub_assign(&mut x[..len], &self.n[..len]);
        }
    }

    /// `R² mod n`: with `R = 2^(32·len) = 2^(h·2^s)` for odd `h`, the Montgomery form of
    /// `2^h` (`2^h·R mod n`, by doublings) squared `s` times is the form of `R`, i.e.
    /// `R² mod n`.
    fn r_squared(&self) -> Limbs {
        let len = self.len;
        let top_bit = 32 * len - 1 - self.n[len - 1].leading_zeros() as usize;
        // 2^top_bit < n (n is odd and has that bit), then double up to R mod n.
        let mut x = [0u32; MAX_LIMBS];
        x[top_bit / 32] = 1 << (top_bit % 32);
        let r_bits = 32 * len;
        let s = r_bits.trailing_zeros();
        let h = r_bits >> s;
        for _ in top_bit..r_bits + h {
            self.double(&mut x);
        }
        for _ in 0..s {
            x = self.mul(&x, &x);
        }
        x
    }

    /// Montgomery product `a·b·R⁻¹ mod n` of `a, b < n`.
    pub(crate) fn mul(&self, a: &Limbs, b: &Limbs) -> Limbs {
        let len = self.len;
        let n = &self.n[..len];
        // t has len + 2 limbs.
        let mut t = [0u32; MAX_LIMBS + 2];
        for &bi in &b[..len] {
            let mut carry = 0u64;
            for (tj, &aj) in t.iter_mut().zip(&a[..len]) {
                let sum = u64::from(*tj) + u64::from(aj) * u64::from(bi) + carry;
                *tj = sum as u32;
                carry = sum >> 32;
            }
            let sum = u64::from(t[len]) + carry;
            t[len] = sum as u32;
            t[len + 1] = (sum >> 32) as u32;
            let m = t[0].wrapping_mul(self.n0_inv);
            let mut carry = (u64::from(t[0]) + u64::from(m) * u64::from(n[0])) >> 32;
            for j in 1..len {
                let sum = u64::from(t[j]) + u64::from(m) * u64::from(n[j]) + carry;
                t[j - 1] = sum as u32;
                carry = sum >> 32;
            }
            let sum = u64::from(t[len]) + carry;
            t[len - 1] = sum as u32;
            t[len] = t[len + 1] + (sum >> 32) as u32;
        }
        if t[len] != 0 || ge(&t[..len], n) {
            sub_assign(&mut t[..len], n);
        }
        let mut out = [0u32; MAX_LIMBS];
        out[..len].copy_from_slice(&t[..len]);
        out
    }

    /// `base^exponent mod n` for `base < n` and `exponent ≥ 1` (left-to-right
    /// square-and-multiply in the Montgomery domain).
    pub(crate) fn pow(&self, base: &Limbs, exponent: u32) -> Limbs {
        let base = self.mul(base, &self.r2);
        let mut acc = base;
        let top = u32::BITS - 1 - exponent.max(1).leading_zeros();
        for bit in (0..top).rev() {
            acc = self.mul(&acc, &acc);
            if (exponent >> bit) & 1 == 1 {
                acc = self.mul(&acc, &base);
            }
        }
        let mut one = [0u32; MAX_LIMBS];
        one[0] = 1;
        self.mul(&acc, &one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `base^e mod n` with `u128` arithmetic, for moduli below 2^64.
    fn reference_pow(base: u64, mut e: u32, n: u64) -> u64 {
        let n = u128::from(n);
        let mut result = 1u128;
        let mut b = u128::from(base) % n;
        while e > 0 {
            if e & 1 == 1 {
                result = result * b % n;
            }
            b = b * b % n;
            e >>= 1;
        }
        result as u64
    }

    /// A small xorshift generator for test inputs.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn pow_matches_u128_arithmetic_for_one_and_two_limb_moduli() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..2000 {
            let bytes = if round % 2 == 0 { 8 } else { 4 + round % 5 };
            let mask = if bytes == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * bytes)) - 1
            };
            // Odd, with its top byte non-zero so it is `bytes` long.
            let n = (next(&mut state) & mask) | 1 | (0x80u64 << (8 * (bytes - 1)));
            let base = next(&mut state) % n;
            let e = [3u32, 17, 65537, next(&mut state) as u32 | 1][round % 4];
            let be = n.to_be_bytes();
            let m = Modulus::new(&be[8 - bytes..]).expect("odd modulus");
            let b = from_be_bytes(&base.to_be_bytes()).expect("fits");
            let mut out = [0u8; 8];
            to_be_bytes(&m.pow(&b, e), &mut out);
            assert_eq!(
                u64::from_be_bytes(out),
                reference_pow(base, e, n),
                "{base}^{e} mod {n}"
            );
        }
    }

    #[test]
    fn even_zero_and_oversized_moduli_are_refused() {
        assert!(Modulus::new(&[0x80, 0x02]).is_none());
        assert!(Modulus::new(&[]).is_none());
        assert!(Modulus::new(&[0u8; 4]).is_none());
        assert!(Modulus::new(&[0xFFu8; 4 * MAX_LIMBS + 1]).is_none());
    }
}
