//! Test vectors in flash: pick golden cases out of a vector file at compile time, so
//! only the cases a firmware uses take flash.
//!
//! ```ignore
//! const INPUTS: [u8; 2 * 490] = select(include_bytes!("input.bin"), 490, &[0, 20]);
//! ```

/// Cases `picks` (each `case_len` bytes) of the concatenated cases in `all`, as one
/// array of `N = picks.len() * case_len` bytes. Meant for `const` items: a pick past
/// the end of `all`, or an `N` that does not match, fails the build.
pub const fn select<const N: usize>(all: &[u8], case_len: usize, picks: &[usize]) -> [u8; N] {
    assert!(
        N == picks.len() * case_len,
        "N must be picks.len() * case_len"
    );
    let mut out = [0u8; N];
    let mut k = 0;
    while k < picks.len() {
        let mut i = 0;
        while i < case_len {
            out[k * case_len + i] = all[picks[k] * case_len + i];
            i += 1;
        }
        k += 1;
    }
    out
}

/// The TFLM golden cases `$picks` of set `$name` (`$in` input and `$out` output bytes
/// per case) from `ioto-ml/tests/golden/`, as `(inputs, outputs)` byte slices of which
/// only the picked cases are in flash. For firmware crates at `examples/<name>/` of the
/// Ioto-rs repository (the path is found from the calling crate's directory).
#[macro_export]
macro_rules! golden_cases {
    ($name:literal, $picks:expr, $in:expr, $out:expr) => {{
        const INPUTS: [u8; $picks.len() * $in] = $crate::vectors::select(
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../ioto-ml/tests/golden/",
                $name,
                "/input.bin"
            )),
            $in,
            &$picks,
        );
        const OUTPUTS: [u8; $picks.len() * $out] = $crate::vectors::select(
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../ioto-ml/tests/golden/",
                $name,
                "/output.bin"
            )),
            $out,
            &$picks,
        );
        (INPUTS.as_slice(), OUTPUTS.as_slice())
    }};
}

/// The `.tflite` bytes of golden set `$name` (see [`golden_cases!`](crate::golden_cases)).
#[macro_export]
macro_rules! golden_model {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ioto-ml/tests/golden/",
            $name,
            "/model.tflite"
        ))
        .as_slice()
    };
}
