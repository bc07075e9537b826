//! AVERAGE_POOL_2D and MAX_POOL_2D on the host: per output pixel the window's rows
//! are summed (or maxed) a whole pixel of channels at a time, in AVX2 vectors,
//! instead of one channel at a time across the window; the rounding division and
//! the clamp are the generic kernel's, per channel.

use super::size;
use crate::kernels::pool::PoolParams;

/// The most channels taken.
const MAX_C: usize = 1024;

/// Runs the pooling into `out` with AVX2 (the caller checked the CPU has it);
/// false, having written nothing, for a shape this kernel leaves out (an empty
/// window, which the generic kernel reports, or inconsistent sizes).
pub(super) fn run(p: &PoolParams, input: &[i8], out: &mut [i8]) -> bool {
    let (Some(in_len), Some(out_len), Some(c)) = (
        size(&[p.batches, p.in_h, p.in_w, p.channels]),
        size(&[p.batches, p.out_h, p.out_w, p.channels]),
        size(&[p.channels]),
    ) else {
        return false;
    };
    let fits = |n: i64| i32::try_from(n).is_ok();
    let reach = |o: i32, s: i32, pad: i32| i64::from(o) * i64::from(s) + i64::from(pad).abs();
    if c > MAX_C
        || size(&[p.f_h, p.f_w, p.stride_h, p.stride_w]).is_none()
        || !fits(reach(p.out_h, p.stride_h, p.pad_h) + i64::from(p.in_h))
        || !fits(reach(p.out_w, p.stride_w, p.pad_w) + i64::from(p.in_w))
        || input.len() < in_len
        || out.len() < out_len
    {
        return false;
    }
    let rows = |oy| window(oy, p.stride_h, p.pad_h, p.f_h, p.in_h);
    let cols = |ox| window(ox, p.stride_w, p.pad_w, p.f_w, p.in_w);
    let nonempty = |(_, lo, hi): (i32, i32, i32)| lo < hi;
    if !(0..p.out_h).map(rows).all(nonempty) || !(0..p.out_w).map(cols).all(nonempty) {
        return false;
    }
    // SAFETY: the caller checked that the CPU has AVX2.
    unsafe { layer(p, c, input, out) };
    true
}

/// The window of output row (or column) `o`: its first input row, and the range
/// of filter rows inside the image.
#[inline(always)]
fn window(o: i32, stride: i32, pad: i32, f: i32, extent: i32) -> (i32, i32, i32) {
    let start = o * stride - pad;
    (start, (-start).max(0), f.min(extent - start))
}

/// The layer, compiled for AVX2 (the channel loops vectorize).
#[target_feature(enable = "avx2")]
fn layer(p: &PoolParams, c: usize, input: &[i8], out: &mut [i8]) {
    let mut sum = [0i32; MAX_C];
    let mut max = [i8::MIN; MAX_C];
    let (sum, max) = (&mut sum[..c], &mut max[..c]);
    let mut o = 0;
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let (y0, fy0, fy1) = window(oy, p.stride_h, p.pad_h, p.f_h, p.in_h);
            for ox in 0..p.out_w {
                let (x0, fx0, fx1) = window(ox, p.stride_w, p.pad_w, p.f_w, p.in_w);
                sum.fill(0);
                max.fill(i8::MIN);
                for fy in fy0..fy1 {
                    for fx in fx0..fx1 {
                        // Inside the image: within the `input.len()` `run` checked.
                        let idx = (((b * p.in_h + y0 + fy) * p.in_w + x0 + fx) as usize) * c;
                        let row = &input[idx..idx + c];
                        if p.is_avg != 0 {
                            for (s, &v) in sum.iter_mut().zip(row) {
                                *s = s.wrapping_add(i32::from(v));
                            }
                        } else {
                            for (m, &v) in max.iter_mut().zip(row) {
                                *m = (*m).max(v);
                            }
                        }
                    }
                }
                let count = (fy1 - fy0) * (fx1 - fx0);
                let dst = &mut out[o..o + c];
                for ((d, &s), &m) in dst.iter_mut().zip(sum.iter()).zip(max.iter()) {
                    let v = if p.is_avg != 0 {
                        if s > 0 {
                            (s + count / 2) / count
                        } else {
                            (s - count / 2) / count
                        }
                    } else {
                        i32::from(m)
                    };
                    *d = v.max(p.act_min).min(p.act_max) as i8;
                }
                o += c;
            }
        }
    }
}
