//! Host kernels (x86-64) chosen at run time: CONV_2D, DEPTHWISE_CONV_2D, int8
//! FULLY_CONNECTED and pooling on AVX2, AVX-VNNI or AVX-512 VNNI, bit-exact with the generic
//! kernels (tested against them, and the golden suites run with each [`Level`] forced).
//!
//! The instruction set is found once ([`level`]: `is_x86_feature_detected!` with the
//! `std` feature, else what the build targets) and each layer runs a copy of its hot
//! loop compiled for it (`#[target_feature]`), so nothing is dispatched per dot
//! product. At [`Level::Sse2`] (the x86-64 baseline) the generic kernels run, with
//! their SSE2 dot products ([`super::dot`]).
//!
//! The VNNI instruction `vpdpbusd` multiplies unsigned by signed bytes, so the
//! activations go in as `u = x + 128` (`x ^ 0x80`) and each output channel's bias
//! absorbs the difference: `sum((x + off) * w) = sum(u * w) + (off - 128) * sum(w)`,
//! exact in wrapping `i32` arithmetic. Output channels lie across the vector lanes
//! (the weights of a layer are re-laid-out, four reduction values per lane: once per
//! layer with `std`, see `cache`, else per call), so a pixel's channels come out of
//! one register and are requantized together.

#[cfg(any(feature = "std", test))]
pub(crate) mod cache;
mod conv;
mod depthwise;
mod fc;
mod pool;
mod requant;
mod simd;
#[cfg(test)]
mod tests;

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU8, Ordering};

use super::conv::Operands;
use super::data::{Op, as_i8, as_i8_mut};
use super::fully_connected::FcParams;
use super::pool::PoolParams;
use super::requant::ChannelQuant;
use crate::error::Result;

/// The instructions the host kernels use, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// SSE2 (every x86-64): the generic kernels with SSE2 dot products.
    Sse2 = 1,
    /// AVX2: `vpmaddwd` on 256-bit vectors.
    Avx2 = 2,
    /// AVX2 and AVX-VNNI: `vpdpbusd` on 256-bit vectors.
    AvxVnni = 3,
    /// AVX-512 F/BW/VL with VNNI: `vpdpbusd` on 512-bit vectors.
    Avx512Vnni = 4,
}

/// Every level, lowest first.
pub const LEVELS: [Level; 4] = [Level::Sse2, Level::Avx2, Level::AvxVnni, Level::Avx512Vnni];

/// Whether the CPU (with `std`) or the build target (without) has a feature.
macro_rules! has {
    ($($f:tt),+) => {{
        #[cfg(any(feature = "std", test))]
        let yes = $(std::is_x86_feature_detected!($f))&&+;
        #[cfg(not(any(feature = "std", test)))]
        let yes = $(cfg!(target_feature = $f))&&+;
        yes
    }};
}

impl Level {
    /// Whether this CPU (or, without the `std` feature, the build target) has the
    /// level's instructions.
    pub fn supported(self) -> bool {
        match self {
            Level::Sse2 => true,
            Level::Avx2 => has!("avx2"),
            Level::AvxVnni => has!("avx2", "avxvnni"),
            Level::Avx512Vnni => has!("avx2", "avx512f", "avx512bw", "avx512vl", "avx512vnni"),
        }
    }

    /// The level's name, as `IOTO_ML_HOST_KERNEL` takes it.
    pub const fn name(self) -> &'static str {
        match self {
            Level::Sse2 => "sse2",
            Level::Avx2 => "avx2",
            Level::AvxVnni => "avxvnni",
            Level::Avx512Vnni => "avx512vnni",
        }
    }

    fn from_u8(v: u8) -> Option<Level> {
        LEVELS.into_iter().find(|l| *l as u8 == v)
    }
}

/// The level in use; 0 until the first [`level`].
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The level the host kernels use: the highest the CPU supports, found on the first
/// call and kept. With the `std` feature the environment variable
/// `IOTO_ML_HOST_KERNEL` (`sse2`, `avx2`, `avxvnni` or `avx512vnni`) chooses a lower
/// one (for comparisons); a level the CPU lacks is ignored.
pub fn level() -> Level {
    if let Some(l) = Level::from_u8(LEVEL.load(Ordering::Relaxed)) {
        return l;
    }
    let best = LEVELS
        .into_iter()
        .rev()
        .find(|l| l.supported())
        .unwrap_or(Level::Sse2);
    #[cfg(any(feature = "std", test))]
    let best = std::env::var("IOTO_ML_HOST_KERNEL")
        .ok()
        .and_then(|v| LEVELS.into_iter().find(|l| l.name() == v))
        .filter(|l| l.supported())
        .unwrap_or(best);
    LEVEL.store(best as u8, Ordering::Relaxed);
    best
}

/// Makes the host kernels use `level` from now on (tests and benchmarks force each
/// level in turn). Returns `Err(level)`, changing nothing, when the CPU lacks it.
pub fn set_level(level: Level) -> core::result::Result<(), Level> {
    if !level.supported() {
        return Err(level);
    }
    LEVEL.store(level as u8, Ordering::Relaxed);
    Ok(())
}

/// A convolution's eval: `host(level, operands, output)` at AVX2 and above, else
/// (or when it declines, having written nothing) `generic`.
fn convolution(
    mut op: Op<'_>,
    host: impl FnOnce(Level, &Operands<'_>, &mut [i8]) -> bool,
    generic: fn(Op<'_>) -> Result<()>,
) -> Result<()> {
    let level = level();
    if level >= Level::Avx2 {
        let record = op.record;
        let o = Operands::read(&mut op)?;
        if host(level, &o, as_i8_mut(&mut *op.output)) {
            return Ok(());
        }
        op.record = record;
    }
    generic(op)
}

/// CONV_2D: the host kernel at AVX2 and above, else (or for shapes it leaves out)
/// [`super::im2col::eval`].
pub(crate) fn conv_eval(op: Op<'_>) -> Result<()> {
    convolution(
        op,
        |level, o, out| conv::run(level, o, false, out),
        super::im2col::eval,
    )
}

/// DEPTHWISE_CONV_2D: the host kernels at AVX2 and above (one input channel: the
/// convolution's), else (or for shapes they leave out) [`super::depthwise::eval`].
pub(crate) fn depthwise_eval(op: Op<'_>) -> Result<()> {
    let host = |level, o: &Operands<'_>, out: &mut [i8]| {
        conv::run(level, o, true, out) || depthwise::run(o, level == Level::Avx512Vnni, out)
    };
    convolution(op, host, super::depthwise::eval)
}

/// FULLY_CONNECTED: the host kernel for int8 with symmetric weights at AVX2 and
/// above, else [`super::fully_connected::eval`].
pub(crate) fn fc_eval(mut op: Op<'_>) -> Result<()> {
    let level = level();
    if level >= Level::Avx2 {
        let record = op.record;
        let p = FcParams::read(&mut op.record)?;
        if p.is_float == 0 && p.filter_offset == 0 {
            let q = ChannelQuant::read(&mut op.record)?;
            let operands = [op.first()?, op.input(1), op.input(2)];
            if fc::run(level, &p, &q, operands, as_i8_mut(&mut *op.output)) {
                return Ok(());
            }
        }
        op.record = record;
    }
    super::fully_connected::eval(op)
}

/// The elements of `buf`, every one written since it was made.
///
/// # Safety
/// Every element of `buf` is initialized.
#[inline(always)]
unsafe fn assume_init<T>(buf: &[MaybeUninit<T>]) -> &[T] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and the caller guarantees that
    // every element is initialized.
    unsafe { &*(core::ptr::from_ref(buf) as *const [T]) }
}

/// AVERAGE_POOL_2D and MAX_POOL_2D: the host kernel at AVX2 and above, else (or
/// for shapes it leaves out) [`super::pool::eval`].
pub(crate) fn pool_eval(op: Op<'_>) -> Result<()> {
    if level() >= Level::Avx2 {
        let mut record = op.record;
        let p = PoolParams::read(&mut record)?;
        if pool::run(&p, as_i8(op.first()?), as_i8_mut(&mut *op.output)) {
            return Ok(());
        }
    }
    super::pool::eval(op)
}

/// `a * b * ...` of positive `i32` dimensions, `None` if one is not positive or the
/// product overflows.
fn size(dims: &[i32]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| {
        if d <= 0 {
            return None;
        }
        acc.checked_mul(usize::try_from(d).ok()?)
    })
}
