//! Fuzzes loading plus inference with a fixed 64 KiB arena.
#![no_main]

use libfuzzer_sys::fuzz_target;

const ARENA: usize = 64 * 1024;
const MAX_MACS: u64 = 2_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = ioto_ml::Model::parse(data) else {
        return;
    };
    if model.macs() > MAX_MACS {
        return;
    }
    let mut arena = vec![0u8; ARENA];
    let Ok(mut it) = ioto_ml::Interpreter::new(&model, &mut arena) else {
        return;
    };
    for i in 0..model.input_count() {
        if let Ok(input) = it.input_mut(i) {
            for (k, b) in input.iter_mut().enumerate() {
                *b = (k as u8).wrapping_mul(37);
            }
        }
    }
    let _ = it.invoke();
    for i in 0..model.output_count() {
        let _ = it.output(i);
    }
});
