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
    super::super::ecdsa::oracle_tests!(p384);
}
