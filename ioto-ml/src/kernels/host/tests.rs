//! Every host kernel at every level against the generic kernel on the same record:
//! random shapes (remainders of every vector width), random data and the extremes
//! (all -128, all 127), input offsets from -127 to 128, valid and out-of-range
//! shifts. A level the CPU lacks fails the test (the development machine and CI
//! have them all).
#![allow(clippy::unwrap_used)]

use std::vec;
use std::vec::Vec;

use super::cache::{Cache, Scope, set_op};
use super::requant::{Out, Rq, requant8, requant16};
use super::{Level, conv, depthwise, fc, pool};
use crate::kernels::conv::{ConvParams, Operands};
use crate::kernels::data::{Op, as_i8_mut};
use crate::kernels::fully_connected::FcParams;
use crate::kernels::pool::PoolParams;
use crate::kernels::requant::{ChannelQuant, Requant};
use crate::kernels::{depthwise as generic_dw, fully_connected, im2col};
use crate::record::{Reader, Writer};
use crate::test_rng::XorShift;

/// The levels with host kernels, each required of the CPU.
fn levels() -> [Level; 3] {
    let all = [Level::Avx2, Level::AvxVnni, Level::Avx512Vnni];
    for l in all {
        assert!(l.supported(), "this CPU lacks {}", l.name());
    }
    all
}

struct Rng(XorShift);

impl Rng {
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.0.next_u32() % (hi - lo + 1) as u32) as i32
    }

    /// `n` int8 values: random, or (for `round` 0 and 1) all -128 or all 127.
    fn bytes(&mut self, n: usize, round: usize) -> Vec<i8> {
        (0..n)
            .map(|_| match round {
                0 => -128,
                1 => 127,
                _ => self.0.next_i8(),
            })
            .collect()
    }

    /// A requantization pair: usually valid, sometimes with an out-of-range shift.
    fn quant(&mut self) -> (i32, i32) {
        let m = (self.0.next_i32() & 0x3fff_ffff) | 0x4000_0000;
        let s = if self.range(0, 9) == 0 {
            [-40, -32, 32, 35][self.range(0, 3) as usize]
        } else {
            self.range(-12, 2)
        };
        (m, s)
    }

    /// An input offset (`-zero_point`), the extremes often.
    fn offset(&mut self) -> i32 {
        match self.range(0, 3) {
            0 => -127,
            1 => 128,
            _ => self.range(-127, 128),
        }
    }

    /// `(lo, hi)` of the activation clamp.
    fn clamp(&mut self) -> (i32, i32) {
        if self.range(0, 1) == 0 {
            (-128, 127)
        } else {
            (self.range(-128, 0), self.range(0, 127))
        }
    }
}

/// Record bytes: the parameter words, then `count, multipliers.., shifts..`.
fn record(words: &[i32], quant: &[(i32, i32)]) -> Vec<u8> {
    let mut buf = vec![0u8; 4 * (words.len() + 1 + 2 * quant.len())];
    let mut w = Writer::into(&mut buf);
    w.push_all(words).unwrap();
    w.push(quant.len() as i32).unwrap();
    for &(m, _) in quant {
        w.push(m).unwrap();
    }
    for &(_, s) in quant {
        w.push(s).unwrap();
    }
    buf
}

fn bytes_of(v: &[i8]) -> &[u8] {
    // SAFETY: `i8` and `u8` have the same layout.
    unsafe { core::slice::from_raw_parts(v.as_ptr().cast(), v.len()) }
}

fn conv_words(p: &ConvParams) -> Vec<i32> {
    let mut buf = [0u8; 4 * 20];
    let mut w = Writer::into(&mut buf);
    p.write(&mut w).unwrap();
    buf.chunks(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// A random convolution (or depthwise, with depth multiplier `dm`) of valid shape.
fn conv_params(r: &mut Rng, depthwise: Option<i32>) -> ConvParams {
    loop {
        let (k_h, k_w) = (r.range(1, 4), r.range(1, 4));
        let (dil_h, dil_w) = (r.range(1, 2), r.range(1, 2));
        let (stride_h, stride_w) = (r.range(1, 3), r.range(1, 3));
        let (in_h, in_w) = (r.range(1, 9), r.range(1, 9));
        let (pad_h, pad_w) = (r.range(0, k_h / 2 + 1), r.range(0, k_w / 2));
        let out =
            |i: i32, k: i32, d: i32, s: i32, pad: i32| (i + 2 * pad - d * (k - 1) - 1) / s + 1;
        let (out_h, out_w) = (
            out(in_h, k_h, dil_h, stride_h, pad_h),
            out(in_w, k_w, dil_w, stride_w, pad_w),
        );
        if out_h < 1 || out_w < 1 || in_h + 2 * pad_h < dil_h * (k_h - 1) + 1 {
            continue;
        }
        let (in_c, out_c, dm) = match depthwise {
            Some(dm) => {
                let in_c = if r.range(0, 2) == 0 {
                    1
                } else {
                    r.range(1, 5) * 8 / dm.min(8)
                };
                (in_c, in_c * dm, dm)
            }
            None => (r.range(1, 13), r.range(1, 40), 1),
        };
        let (act_min, act_max) = r.clamp();
        return ConvParams {
            batches: r.range(1, 2),
            in_h,
            in_w,
            in_c,
            out_h,
            out_w,
            out_c,
            k_h,
            k_w,
            stride_h,
            stride_w,
            dil_h,
            dil_w,
            pad_h,
            pad_w,
            input_offset: r.offset(),
            output_offset: r.range(-128, 127),
            act_min,
            act_max,
            depth_multiplier: dm,
        };
    }
}

/// Runs `generic` and `host` (on a fresh output each) over the same record and
/// operands (the host kernel also twice with a [`Cache`], which must not change its
/// output); returns both outputs, whether the host kernel took the layer and how many
/// layers the cache holds.
fn both(
    rec: &[u8],
    operands: [&[u8]; 3],
    out_len: usize,
    scratch: usize,
    generic: fn(Op<'_>) -> crate::Result<()>,
    host: impl Fn(&mut Op<'_>, &mut [i8]) -> bool,
) -> (Vec<i8>, Vec<i8>, bool, usize) {
    let (mut want, mut got) = (vec![0u8; out_len], vec![0x55u8; out_len]);
    let mut s = vec![0u8; scratch];
    let op = |output, scratch| Op {
        record: Reader::new(rec, 0),
        inputs: &operands,
        output,
        scratch,
    };
    generic(op(&mut want, &mut s)).unwrap();
    let mut none = [0u8; 0];
    let mut o = op(&mut [], &mut none);
    let took = host(&mut o, as_i8_mut(&mut got));
    // With a cache: the first run makes the layer's entry, the second reuses it.
    let mut cache = Cache::default();
    for _ in 0..2 {
        let _lent = Scope::enter(&mut cache);
        set_op(0);
        let mut again = vec![0x55u8; out_len];
        let mut o = op(&mut [], &mut []);
        assert_eq!(host(&mut o, as_i8_mut(&mut again)), took);
        assert_eq!(again, got, "cached");
    }
    let to_i8 = |v: Vec<u8>| v.into_iter().map(|b| b as i8).collect();
    (to_i8(want), to_i8(got), took, cache.layers())
}

#[test]
fn conv_and_depthwise_equal_the_generic_kernels() {
    let mut r = Rng(XorShift::new(0x1357_9bdf));
    for round in 0..120 {
        let dw = match round % 3 {
            0 => None,
            1 => Some(1),
            _ => Some([8, 16, 2][round / 3 % 3]),
        };
        let p = conv_params(&mut r, dw);
        let k = (p.k_h * p.k_w * if dw.is_some() { 1 } else { p.in_c }) as usize;
        let oc = p.out_c as usize;
        let input = r.bytes((p.batches * p.in_h * p.in_w * p.in_c) as usize, round);
        let filter = r.bytes(k * oc, round % 7);
        let bias: Vec<u8> = if round % 5 == 4 {
            Vec::new()
        } else {
            (0..oc)
                .flat_map(|_| (r.0.next_i32() >> 10).to_le_bytes())
                .collect()
        };
        let quant: Vec<(i32, i32)> = (0..oc).map(|_| r.quant()).collect();
        let rec = record(&conv_words(&p), &quant);
        let operands = [bytes_of(&input), bytes_of(&filter), &bias[..]];
        let out_len = (p.batches * p.out_h * p.out_w * p.out_c) as usize;
        let scratch = im2col::scratch_bytes((p.k_h * p.k_w * p.in_c) as usize).unwrap();
        let generic = if dw.is_some() {
            generic_dw::eval
        } else {
            im2col::eval
        };
        for level in levels() {
            let wide = level == Level::Avx512Vnni;
            let (want, got, took, cached) =
                both(&rec, operands, out_len, scratch, generic, |op, out| {
                    let o = Operands::read(op).unwrap();
                    match dw {
                        None => conv::run(level, &o, false, out),
                        Some(_) => conv::run(level, &o, true, out) || depthwise::run(&o, wide, out),
                    }
                });
            let shape_taken = dw.is_none_or(|m| p.in_c == 1 || m == 1 || m % 8 == 0);
            assert_eq!(took, shape_taken, "{} {dw:?} {p:?}", level.name());
            assert_eq!(cached, usize::from(took), "{} {dw:?}", level.name());
            if took {
                assert_eq!(got, want, "{} round {round} {dw:?} {p:?}", level.name());
            }
        }
    }
}

#[test]
fn fully_connected_equals_the_generic_kernel() {
    let mut r = Rng(XorShift::new(0x2468_ace1));
    for round in 0..150 {
        let accum = if round % 10 == 9 {
            700
        } else {
            r.range(1, 100)
        };
        let (act_min, act_max) = r.clamp();
        let p = FcParams {
            batches: r.range(1, 3),
            accum,
            out_depth: if round % 7 == 6 {
                r.range(33, 80)
            } else {
                r.range(1, 20)
            },
            input_offset: r.offset(),
            filter_offset: 0,
            output_offset: r.range(-128, 127),
            act_min,
            act_max,
            is_float: 0,
        };
        let depth = p.out_depth as usize;
        let input = r.bytes((p.batches * accum) as usize, round);
        let filter = r.bytes(depth * accum as usize, round % 5);
        let bias: Vec<u8> = (0..depth)
            .flat_map(|_| (r.0.next_i32() >> 8).to_le_bytes())
            .collect();
        let quant: Vec<(i32, i32)> = (0..if round % 2 == 0 { depth } else { 1 })
            .map(|_| r.quant())
            .collect();
        let mut words = [0u8; 4 * 9];
        p.write(&mut Writer::into(&mut words)).unwrap();
        let words: Vec<i32> = words
            .chunks(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let rec = record(&words, &quant);
        let operands = [bytes_of(&input), bytes_of(&filter), &bias[..]];
        let out_len = (p.batches as usize) * depth;
        for level in levels() {
            let (want, got, took, cached) = both(
                &rec,
                operands,
                out_len,
                0,
                fully_connected::eval,
                |op, out| {
                    let p = FcParams::read(&mut op.record).unwrap();
                    let q = ChannelQuant::read(&mut op.record).unwrap();
                    fc::run(level, &p, &q, operands, out)
                },
            );
            assert!(took, "{} {p:?}", level.name());
            assert_eq!(cached, 1, "{} {p:?}", level.name());
            assert_eq!(got, want, "{} round {round} {p:?}", level.name());
        }
    }
}

#[test]
fn pooling_equals_the_generic_kernel() {
    let mut r = Rng(XorShift::new(0x0bad_cafe));
    let mut taken = 0;
    for round in 0..80 {
        let (f_h, f_w) = (r.range(1, 4), r.range(1, 4));
        let (stride_h, stride_w) = (r.range(1, 3), r.range(1, 3));
        let (in_h, in_w) = (r.range(f_h, 9), r.range(f_w, 9));
        let (pad_h, pad_w) = (r.range(0, f_h / 2), r.range(0, f_w / 2));
        let (act_min, act_max) = r.clamp();
        let p = PoolParams {
            batches: r.range(1, 2),
            in_h,
            in_w,
            channels: r.range(1, 40),
            out_h: (in_h + 2 * pad_h - f_h) / stride_h + 1,
            out_w: (in_w + 2 * pad_w - f_w) / stride_w + 1,
            f_h,
            f_w,
            stride_h,
            stride_w,
            pad_h,
            pad_w,
            act_min,
            act_max,
            is_avg: round % 2,
        };
        let input = r.bytes(
            (p.batches * in_h * in_w * p.channels) as usize,
            round as usize,
        );
        let mut words = [0u8; 4 * 15];
        p.write(&mut Writer::into(&mut words)).unwrap();
        let out_len = (p.batches * p.out_h * p.out_w * p.channels) as usize;
        let operands = [bytes_of(&input), &[][..], &[][..]];
        let (want, got, took, _) =
            both(&words, operands, out_len, 0, crate::kernels::pool::eval, {
                let input = &input;
                move |_, out| {
                    levels();
                    pool::run(&p, input, out)
                }
            });
        if took {
            taken += 1;
            assert_eq!(got, want, "round {round} {p:?}");
        }
    }
    assert!(
        taken >= 60,
        "the host pooling took only {taken} of 80 layers"
    );
}

/// [`requant8`] and [`requant16`] on one set of accumulators, compiled for AVX-512.
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl")]
fn requant_both(acc: &[i32; 16], pairs: &[(i32, i32); 16], o: &Out) -> ([i8; 16], [i8; 16]) {
    use core::arch::x86_64::{_mm256_loadu_si256, _mm512_loadu_si512};
    let (mut a, mut b) = ([0i8; 16], [0i8; 16]);
    // SAFETY: the loads read the 64 bytes of `acc`; AVX-512 is this function's
    // feature set.
    unsafe {
        let lo = Rq::<8>::new(|j| pairs[j]);
        let hi = Rq::<8>::new(|j| pairs[j + 8]);
        let rq = &Rq::<16>::new(|j| pairs[j]);
        requant8(_mm256_loadu_si256(acc.as_ptr().cast()), &lo, o, &mut a[..8]);
        requant8(
            _mm256_loadu_si256(acc[8..].as_ptr().cast()),
            &hi,
            o,
            &mut a[8..],
        );
        requant16(_mm512_loadu_si512(acc.as_ptr().cast()), rq, o, &mut b);
    }
    (a, b)
}

#[test]
fn requantization_equals_requant_apply() {
    levels();
    let mut r = Rng(XorShift::new(0x5eed_1234));
    let specials = [i32::MIN, i32::MAX, 0, -1, 1, 1 << 30, -(1 << 30)];
    for round in 0..3000 {
        let pairs: [(i32, i32); 16] = core::array::from_fn(|_| {
            let m = match r.range(0, 3) {
                0 => specials[r.range(0, 6) as usize],
                _ => (r.0.next_i32() & 0x3fff_ffff) | 0x4000_0000,
            };
            let s = if round % 4 == 3 {
                r.range(-40, 40)
            } else {
                r.range(-31, 31)
            };
            (m, s)
        });
        let acc: [i32; 16] = core::array::from_fn(|_| match r.range(0, 3) {
            0 => specials[r.range(0, 6) as usize],
            1 => r.0.next_i32() >> 12,
            _ => r.0.next_i32(),
        });
        let (lo, hi) = r.clamp();
        let o = Out {
            offset: r.range(-128, 127),
            lo,
            hi,
        };
        // SAFETY: `levels` checked that the CPU has AVX-512.
        let (a, b) = unsafe { requant_both(&acc, &pairs, &o) };
        let want: [i8; 16] =
            core::array::from_fn(|j| Requant::new(pairs[j], o.offset, o.lo, o.hi).apply(acc[j]));
        assert_eq!(a, want, "requant8 {pairs:?} {acc:?}");
        assert_eq!(b, want, "requant16 {pairs:?} {acc:?}");
    }
}
