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

    super::super::ecdsa::oracle_tests!(p256);

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
