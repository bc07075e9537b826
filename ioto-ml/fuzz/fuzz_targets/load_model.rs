//! Fuzzes the model loader and the inspection API.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = ioto_ml::Model::parse(data) {
        let _ = model.arena_size();
        for t in 0..model.tensor_count() {
            let _ = model.tensor(t);
        }
        for i in 0..model.operator_count() {
            let _ = model.operator(i);
        }
    }
});
