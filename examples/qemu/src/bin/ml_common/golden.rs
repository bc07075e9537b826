//! Golden cases of the shared models, run through the interpreter on target and
//! compared byte for byte with TFLM's outputs (the `ml` and `ml_kernels` suites).

use alloc::vec;
use ioto_ml::{Interpreter, Model};

/// A model with its golden cases `$picks`: `(model, inputs, outputs)`.
macro_rules! golden {
    ($name:literal, $picks:expr, $in:literal, $out:literal) => {{
        let (inputs, outputs) = ioto_board_qemu::golden_cases!($name, $picks, $in, $out);
        (ioto_board_qemu::golden_model!($name), inputs, outputs)
    }};
}

/// Runs every golden case given and compares every output byte with TFLM's.
pub fn check((model, inputs, outputs): (&[u8], &[u8], &[u8])) {
    let model = Model::parse(model).expect("model parses");
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(&model, &mut arena).expect("interpreter");
    let in_len = it.input_mut(0).expect("input").len();
    let out_len = it.output(0).expect("output").len();
    let cases = inputs.len() / in_len;
    assert!(cases > 0 && inputs.len() == cases * in_len && outputs.len() == cases * out_len);
    for c in 0..cases {
        it.set_input(0, &inputs[c * in_len..(c + 1) * in_len])
            .expect("set input");
        it.invoke().expect("invoke");
        assert_eq!(
            it.output(0).expect("output"),
            &outputs[c * out_len..(c + 1) * out_len],
            "case {}",
            c
        );
    }
}
