//! The 16-bit fixed-point real FFT of the micro front end: KISS FFT's `FIXED_POINT=16`
//! arithmetic (Q15 twiddles, every butterfly input divided by the radix with rounding),
//! radix 4 and 2 only (the front end's FFT sizes are powers of two), so that the
//! spectrum equals TensorFlow's bit for bit.

use super::{AudioError, MAX_FFT_SIZE};

/// A Q15 complex number (KISS FFT's `kiss_fft_cpx` with 16-bit scalars).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Cpx {
    /// Real part.
    pub r: i16,
    /// Imaginary part.
    pub i: i16,
}

/// Complex points of the half-size FFT that the real FFT runs.
const MAX_HALF: usize = MAX_FFT_SIZE / 2;
/// Stages of a power-of-two FFT of at most `MAX_HALF` points.
const MAX_STAGES: usize = 8;

/// `32767 / 2` and `32767 / 4`: the Q15 factors that divide a butterfly input by its
/// radix (KISS FFT's `C_FIXDIV`).
const DIV2: i16 = i16::MAX / 2;
const DIV4: i16 = i16::MAX / 4;

/// Rounds a Q30 product sum back to Q15 (`sround`), truncating to 16 bits as C does.
fn sround(x: i32) -> i16 {
    (x.wrapping_add(1 << 14) >> 15) as i16
}

fn smul(a: i16, b: i16) -> i32 {
    i32::from(a) * i32::from(b)
}

fn fixdiv(c: Cpx, k: i16) -> Cpx {
    Cpx {
        r: sround(smul(c.r, k)),
        i: sround(smul(c.i, k)),
    }
}

fn cmul(a: Cpx, b: Cpx) -> Cpx {
    Cpx {
        r: sround(smul(a.r, b.r).wrapping_sub(smul(a.i, b.i))),
        i: sround(smul(a.r, b.i).wrapping_add(smul(a.i, b.r))),
    }
}

fn cadd(a: Cpx, b: Cpx) -> Cpx {
    Cpx {
        r: a.r.wrapping_add(b.r),
        i: a.i.wrapping_add(b.i),
    }
}

fn csub(a: Cpx, b: Cpx) -> Cpx {
    Cpx {
        r: a.r.wrapping_sub(b.r),
        i: a.i.wrapping_sub(b.i),
    }
}

/// `floor(0.5 + 32767 * cos(phase))`, `… sin(phase)` (KISS FFT's fixed-point `kf_cexp`).
fn cexp(phase: f64) -> Cpx {
    let q15 = |v: f64| libm::floor(0.5 + f64::from(i16::MAX) * v) as i16;
    Cpx {
        r: q15(libm::cos(phase)),
        i: q15(libm::sin(phase)),
    }
}

/// A real FFT of `2 * half` points, `half` a power of two in `2..=MAX_HALF`.
pub(super) struct Rfft {
    half: usize,
    /// `(radix, remaining length)` per stage, outermost first (KISS FFT's `factors`).
    stages: [(usize, usize); MAX_STAGES],
    stage_count: usize,
    twiddles: [Cpx; MAX_HALF],
    super_twiddles: [Cpx; MAX_HALF / 2],
}

impl Rfft {
    pub(super) const fn new() -> Self {
        Self {
            half: 0,
            stages: [(0, 0); MAX_STAGES],
            stage_count: 0,
            twiddles: [Cpx { r: 0, i: 0 }; MAX_HALF],
            super_twiddles: [Cpx { r: 0, i: 0 }; MAX_HALF / 2],
        }
    }

    /// Prepares a real FFT of `size` points (a power of two in `4..=MAX_FFT_SIZE`).
    pub(super) fn configure(&mut self, size: usize) -> Result<(), AudioError> {
        if !size.is_power_of_two() || !(4..=MAX_FFT_SIZE).contains(&size) {
            return Err(AudioError::InvalidConfig("fft size"));
        }
        let half = size / 2;
        self.half = half;
        let pi = core::f64::consts::PI;
        for (i, t) in self.twiddles.iter_mut().take(half).enumerate() {
            *t = cexp(-2.0 * pi * i as f64 / half as f64);
        }
        for (i, t) in self.super_twiddles.iter_mut().take(half / 2).enumerate() {
            *t = cexp(-pi * ((i + 1) as f64 / half as f64 + 0.5));
        }
        // Powers of 4 first, then a last 2 (KISS FFT's factoring of a power of two).
        let (mut n, mut count) = (half, 0);
        while n > 1 {
            let p = if n % 4 == 0 { 4 } else { 2 };
            n /= p;
            self.stages[count] = (p, n);
            count += 1;
        }
        self.stage_count = count;
        Ok(())
    }

    /// Points of the real transform.
    pub(super) fn size(&self) -> usize {
        2 * self.half
    }

    /// The spectrum (bins `0..=size/2`) of the real `input` (`size` samples) into
    /// `out` (`size/2 + 1` bins).
    pub(super) fn forward(&self, input: &[i16], out: &mut [Cpx]) {
        let n = self.half;
        if self.stage_count == 0 || input.len() < 2 * n || out.len() < n + 1 {
            return;
        }
        self.work(&mut out[..n], input, 0, 1, 0);
        // Split the packed transform of even/odd samples into the real spectrum.
        let dc = fixdiv(out[0], DIV2);
        out[0] = Cpx {
            r: dc.r.wrapping_add(dc.i),
            i: 0,
        };
        out[n] = Cpx {
            r: dc.r.wrapping_sub(dc.i),
            i: 0,
        };
        for k in 1..=n / 2 {
            let fpk = fixdiv(out[k], DIV2);
            let mirror = out[n - k];
            let fpnk = fixdiv(
                Cpx {
                    r: mirror.r,
                    i: mirror.i.wrapping_neg(),
                },
                DIV2,
            );
            let f1k = cadd(fpk, fpnk);
            let f2k = csub(fpk, fpnk);
            let tw = cmul(f2k, self.super_twiddles[k - 1]);
            let half_of = |a: i16, b: i32| ((i32::from(a) + b) >> 1) as i16;
            out[k] = Cpx {
                r: half_of(f1k.r, i32::from(tw.r)),
                i: half_of(f1k.i, i32::from(tw.i)),
            };
            out[n - k] = Cpx {
                r: half_of(f1k.r, -i32::from(tw.r)),
                i: half_of(tw.i, -i32::from(f1k.i)),
            };
        }
    }

    /// One decimation-in-time stage (KISS FFT's `kf_work`): `out` (`p * m` points) is
    /// the transform of the complex samples `first, first + stride, …` of `input`
    /// (complex sample `j` is `(input[2j], input[2j+1])`).
    fn work(&self, out: &mut [Cpx], input: &[i16], first: usize, stride: usize, stage: usize) {
        let (p, m) = self.stages[stage];
        if m == 1 {
            for (j, o) in out.iter_mut().take(p).enumerate() {
                let at = 2 * (first + j * stride);
                *o = Cpx {
                    r: input[at],
                    i: input[at + 1],
                };
            }
        } else {
            for j in 0..p {
                self.work(
                    &mut out[j * m..(j + 1) * m],
                    input,
                    first + j * stride,
                    stride * p,
                    stage + 1,
                );
            }
        }
        if p == 4 {
            self.butterfly4(out, stride, m);
        } else {
            self.butterfly2(out, stride, m);
        }
    }

    fn butterfly2(&self, out: &mut [Cpx], stride: usize, m: usize) {
        for k in 0..m {
            let a = fixdiv(out[k], DIV2);
            let b = fixdiv(out[k + m], DIV2);
            let t = cmul(b, self.twiddles[k * stride]);
            out[k + m] = csub(a, t);
            out[k] = cadd(a, t);
        }
    }

    fn butterfly4(&self, out: &mut [Cpx], stride: usize, m: usize) {
        let tw = &self.twiddles;
        for k in 0..m {
            let f0 = fixdiv(out[k], DIV4);
            let f1 = fixdiv(out[k + m], DIV4);
            let f2 = fixdiv(out[k + 2 * m], DIV4);
            let f3 = fixdiv(out[k + 3 * m], DIV4);
            let s0 = cmul(f1, tw[k * stride]);
            let s1 = cmul(f2, tw[2 * k * stride]);
            let s2 = cmul(f3, tw[3 * k * stride]);
            let s5 = csub(f0, s1);
            let f0 = cadd(f0, s1);
            let s3 = cadd(s0, s2);
            let s4 = csub(s0, s2);
            out[k + 2 * m] = csub(f0, s3);
            out[k] = cadd(f0, s3);
            out[k + m] = Cpx {
                r: s5.r.wrapping_add(s4.i),
                i: s5.i.wrapping_sub(s4.r),
            };
            out[k + 3 * m] = Cpx {
                r: s5.r.wrapping_sub(s4.i),
                i: s5.i.wrapping_add(s4.r),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sine at bin 8 of a 64-point FFT lands in bin 8 (and nowhere else beyond the
    /// rounding noise), with the magnitude KISS FFT's scaling gives: the forward
    /// transform divides by N, so amplitude A shows as A/2 at its bin.
    #[test]
    fn tone_lands_in_its_bin() {
        let mut fft = Rfft::new();
        fft.configure(64).ok();
        let mut x = [0i16; 64];
        for (n, v) in x.iter_mut().enumerate() {
            let phase = 2.0 * core::f64::consts::PI * 8.0 * n as f64 / 64.0;
            *v = (16000.0 * libm::cos(phase)) as i16;
        }
        let mut out = [Cpx::default(); 33];
        fft.forward(&x, &mut out);
        for (k, c) in out.iter().enumerate() {
            let mag = libm::sqrt(f64::from(c.r).powi(2) + f64::from(c.i).powi(2));
            if k == 8 {
                assert!((mag - 8000.0).abs() < 8.0, "bin 8: {mag}");
            } else {
                assert!(mag < 4.0, "bin {k}: {mag}");
            }
        }
    }

    #[test]
    fn sizes_outside_the_supported_range_are_errors() {
        let mut fft = Rfft::new();
        for size in [0, 2, 6, 100, 1024] {
            assert!(fft.configure(size).is_err(), "{size}");
        }
        assert!(fft.configure(512).is_ok());
        assert_eq!(fft.size(), 512);
        // 256 complex points: four radix-4 stages.
        assert_eq!(
            &fft.stages[..fft.stage_count],
            &[(4, 64), (4, 16), (4, 4), (4, 1)]
        );
        fft.configure(256).ok();
        assert_eq!(
            &fft.stages[..fft.stage_count],
            &[(4, 32), (4, 8), (4, 2), (2, 1)]
        );
    }
}
