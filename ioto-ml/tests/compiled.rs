//! The compile-time path (`codegen::compile` + `compiled::CompiledModel`) against the
//! same committed TFLM goldens as the interpreter, for every model and operator test
//! under `tests/golden`: same bytes. (The generated Rust itself is compiled and run
//! on the three virtual boards by `examples/qemu`'s `ml_compiled` suite.)
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::Engine;
use ioto_ml::compiled::CompiledModel;

/// A compiled model with its activation area.
struct Compiled<'a> {
    model: CompiledModel<'a>,
    activations: Vec<u8>,
}

impl Engine for Compiled<'_> {
    fn input_len(&mut self, i: usize) -> Option<usize> {
        self.model
            .input_mut(&mut self.activations, i)
            .ok()
            .map(|s| s.len())
    }
    fn output_len(&mut self, i: usize) -> Option<usize> {
        self.model
            .output(&self.activations, i)
            .ok()
            .map(<[u8]>::len)
    }
    fn set_input(&mut self, i: usize, data: &[u8]) {
        self.model
            .set_input(&mut self.activations, i, data)
            .unwrap();
    }
    fn invoke(&mut self) -> Result<(), ioto_ml::Error> {
        self.model.invoke(&mut self.activations)
    }
    fn output(&mut self, i: usize) -> Vec<u8> {
        self.model.output(&self.activations, i).unwrap().to_vec()
    }
}

#[test]
fn every_golden_model_and_operator_matches_tflm_when_compiled() {
    let mut names: Vec<String> = std::fs::read_dir(common::golden_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("model.tflite").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 90, "only {} goldens found", names.len());
    for name in &names {
        let bytes = common::read(name, "model.tflite");
        let compiled = ioto_ml::codegen::compile(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let interpreter_model = ioto_ml::Model::parse(&bytes).unwrap();
        assert_eq!(
            compiled.activation_bytes,
            interpreter_model.activation_bytes(),
            "{name}"
        );
        let mut engine = Compiled {
            model: compiled.model(),
            activations: vec![0; compiled.activation_bytes],
        };
        let n = common::run_golden_on(name, &mut engine).unwrap_or_else(|e| panic!("{e}"));
        assert!(n > 0, "{name}: no cases");
    }
}

#[test]
fn generated_code_names_the_kernels_and_sizes() {
    let bytes = common::read("micro_speech_quantized", "model.tflite");
    let code = ioto_ml::codegen::generate(&bytes, "model.tflite").unwrap();
    let model = ioto_ml::Model::parse(&bytes).unwrap();
    assert!(code.contains(&format!(
        "pub const ACTIVATION_BYTES: usize = {};",
        model.activation_bytes()
    )));
    assert!(code.contains(&format!("pub const MACS: u64 = {};", model.macs())));
    // micro_speech is DEPTHWISE_CONV_2D, FULLY_CONNECTED, SOFTMAX (with a RESHAPE).
    for op in ["DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"] {
        assert!(code.contains(&format!("kernels::{op},")), "{op}");
    }
    assert!(!code.contains("kernels::CONV_2D,"));
}

#[test]
fn too_small_an_activation_area_is_an_error() {
    let speech = common::read("micro_speech_quantized", "model.tflite");
    let c = ioto_ml::codegen::compile(&speech).unwrap();
    let mut act = vec![0u8; c.activation_bytes - 1];
    assert!(matches!(
        c.model().invoke(&mut act),
        Err(ioto_ml::Error::ArenaTooSmall { .. })
    ));
    assert!(c.model().input_mut(&mut act[..10], 0).is_err());
    let mut full = vec![0u8; c.activation_bytes];
    assert!(matches!(
        c.model().set_input(&mut full, 0, &[0u8; 3]),
        Err(ioto_ml::Error::SizeMismatch { got: 3, .. })
    ));
}
